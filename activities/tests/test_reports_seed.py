"""Reports in the seeded data: seed_demo's (drawn photos through the intake, some published, a second run
adding nothing) and seed_scale's phase (four in five finished activities reported, about a third
published, photo rows on shared placeholders, resumable and adding nothing the second time)."""

import pytest
from django.db import connection

from activities import demo_data, scale_reports
from activities.models import ActivityReport, ActivityReportPhoto, ActivityStatus
from volunteers import scale as volunteers_scale

from .factories import at, write_activity
from .test_reports import _remove_stored_files  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

PRESET = volunteers_scale.PRESETS["tiny"]


def test_the_demo_reports_are_made_once_with_photos_some_published(tree, people, organiser):
    for title, *_rest in demo_data.REPORTS:
        activity = write_activity(tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED, title=title)
        activity.organiser_links.create(user=organiser)
    assert demo_data._reports(tree.a1, people.station_a1, organiser) == 2
    assert demo_data._reports(tree.a1, people.station_a1, organiser) == 0
    reports = list(ActivityReport.objects.order_by("activity__title"))
    assert sorted(report.is_published for report in reports) == [False, True]
    assert ActivityReportPhoto.objects.count() == sum(len(spec[3]) for spec in demo_data.REPORTS)
    assert all(photo.thumbnail and photo.width == 1200 for photo in ActivityReportPhoto.objects.all())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY")
def test_the_scale_phase_reports_most_finished_activities_and_a_second_run_adds_nothing():
    result = volunteers_scale.build("tiny", progress=False, force=True)
    expected = scale_reports.reports_total(PRESET) * PRESET.counties
    reports = ActivityReport.objects.filter(activity__unit__code__startswith=PRESET.code_prefix)
    assert result.added["activity reports"] == expected == reports.count() > 0
    finished = reports.model.activity.field.related_model.objects.filter(
        unit__code__startswith=PRESET.code_prefix, status=ActivityStatus.FINISHED
    )
    assert finished.count() == scale_reports.finished_total(PRESET) * PRESET.counties
    assert all(
        report.activity.status == ActivityStatus.FINISHED for report in reports.select_related("activity")
    )
    assert set(ActivityReportPhoto.objects.filter(report__in=reports).values_list("image", flat=True)) <= set(
        scale_reports.PLACEHOLDERS
    )
    again = volunteers_scale.build("tiny", progress=False, force=True)
    assert again.added["activity reports"] == 0 and reports.count() == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY")
def test_a_scale_run_cut_short_resumes_to_the_same_reports(monkeypatch):
    volunteers_scale.build("tiny", progress=False, force=True)
    reports = ActivityReport.objects.filter(activity__unit__code__startswith=PRESET.code_prefix)
    whole = set(reports.values_list("activity_id", "text", "people_served", "published_at"))
    kept = sorted(whole)[: len(whole) // 2]
    reports.exclude(activity_id__in=[row[0] for row in kept]).delete()
    again = volunteers_scale.build("tiny", progress=False, force=True)
    assert again.added["activity reports"] == len(whole) - len(kept)
    assert set(reports.values_list("activity_id", "text", "people_served", "published_at")) == whole
