"""The activities of the benchmark-scale data (activities.scale, the seed_scale phase after the service
records): the tiny preset's activities and sign-ups keep every rule the services keep, their counts are
the sign-ups', building again adds nothing, and a build cut short resumes to the same rows."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min

from activities import scale
from activities.models import PUBLISHED_STATUSES, Activity, ActivityStatus, Signup, SignupStatus
from stations.models import Unit
from stations.paths import root_id
from volunteers import scale as volunteers_scale

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY"
    ),
]

PRESET = volunteers_scale.PRESETS["tiny"]
NOW = datetime.datetime(*scale._NOW, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def build():
    return volunteers_scale.build("tiny", progress=False, force=True)


def scale_activities():
    return Activity.objects.filter(unit__code__startswith=PRESET.code_prefix)


def scale_signups():
    return Signup.objects.filter(activity__unit__code__startswith=PRESET.code_prefix)


def counts_off() -> int:
    """Scale activities whose stored counts are not the number of their accepted and waitlisted rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM activities_activity a JOIN stations_unit u ON u.id = a.unit_id "
            "WHERE u.code LIKE %s AND (a.accepted_count, a.waitlisted_count) IS DISTINCT FROM ("
            "  (SELECT count(*) FROM activities_signup s WHERE s.activity_id = a.id AND s.status = %s),"
            "  (SELECT count(*) FROM activities_signup s WHERE s.activity_id = a.id AND s.status = %s))",
            [f"{PRESET.code_prefix}%", SignupStatus.ACCEPTED, SignupStatus.WAITLISTED],
        )
        return cursor.fetchone()[0]


def rows() -> dict:
    return {
        "activities": sorted(
            scale_activities().values_list("pk", "status", "accepted_count", "waitlisted_count", "updated_at")
        ),
        "signups": sorted(scale_signups().values_list("pk", "activity_id", "volunteer_id", "status")),
    }


def planned() -> set:
    """(county, start, title, volunteer, status) of every sign-up the plan makes: the same rows whatever
    ids they took."""
    return {
        (code, activity.values[7], activity.values[2], volunteer_id, status)
        for code in PRESET.county_codes()
        for activity in scale.plan(PRESET, code)
        for volunteer_id, status, *_times in activity.signups
    }


def written() -> set:
    return {
        (code[: len(PRESET.code_prefix) + 2], started, title, volunteer_id, status)
        for code, started, title, volunteer_id, status in scale_signups().values_list(
            "activity__unit__code", "activity__started_at", "activity__title", "volunteer_id", "status"
        )
    }


class Cut(Exception):
    """The run stops here."""


def test_the_tiny_preset_builds_activities_and_sign_ups_that_keep_the_rules():
    result = build()

    per_county = scale.activities_total(PRESET)
    assert result.added["activities"] == per_county * PRESET.counties == scale_activities().count() == 20
    assert counts_off() == 0
    activities = list(scale_activities().select_related("unit", "domain"))
    statuses = {activity.status for activity in activities}
    assert statuses == set(ActivityStatus.values)
    for activity in activities:
        activity.validate_constraints()
        assert activity.domain.center_id == root_id(activity.unit.path)
        assert activity.started_at < activity.ended_at and activity.title and activity.venue
        assert activity.signup_opens_at < activity.signup_closes_at <= activity.ended_at
        assert activity.accepted_count <= activity.capacity
        assert activity.created_at <= NOW and activity.updated_at <= NOW
        if activity.waitlisted_count:  # a waitlist only behind a full activity
            assert activity.accepted_count == activity.capacity
        if activity.status in PUBLISHED_STATUSES and activity.needs_insurance:
            assert activity.insurance_confirmed_at and activity.insurance_note
        if activity.status == ActivityStatus.DRAFT:
            assert activity.published_at is None and not activity.signups.exists()
        else:
            assert activity.created_at <= activity.published_at <= NOW
        if activity.status == ActivityStatus.FINISHED:
            assert activity.ended_at < activity.finished_at <= NOW
        elif activity.status == ActivityStatus.RUNNING:
            assert activity.started_at <= NOW < activity.ended_at
        elif activity.status == ActivityStatus.CANCELLED:
            assert activity.published_at < activity.cancelled_at < activity.started_at < NOW
            assert activity.cancel_reason and activity.accepted_count == activity.waitlisted_count == 0
            assert not activity.signups.exclude(status=SignupStatus.CANCELLED).exists()
        else:
            assert activity.started_at > NOW
            assert activity.started_at < NOW + datetime.timedelta(days=scale._FUTURE_DAYS + 1)
    # Full ones, with and without a waitlist, and ones below their places; coming ones taking sign-ups
    # now, and ones whose sign-up has not opened yet.
    assert any(a.accepted_count == a.capacity and a.waitlisted_count for a in activities)
    assert any(a.accepted_count == a.capacity and not a.waitlisted_count for a in activities)
    assert any(0 < a.accepted_count < a.capacity for a in activities)
    coming = [a for a in activities if a.status == ActivityStatus.PUBLISHED]
    assert any(a.signup_opens_at <= NOW < a.signup_closes_at and a.accepted_count for a in coming)
    assert any(a.signup_opens_at > NOW and not a.signups.exists() for a in coming)

    # Sign-ups: of the county's volunteers registered by then, in the queue of the sign-up window.
    signups = scale_signups().select_related("activity__unit", "volunteer__home_unit")
    assert signups.count() > 100
    assert {s.status for s in signups} == set(SignupStatus.values)
    for signup in signups:
        activity = signup.activity
        signup.validate_constraints()
        assert root_id(signup.volunteer.home_unit.path) == root_id(activity.unit.path)
        assert signup.volunteer.registered_on <= signup.queued_at.date()
        assert activity.signup_opens_at <= signup.queued_at < min(activity.signup_closes_at, NOW)
        assert signup.created_at == signup.queued_at <= signup.updated_at <= NOW
        if signup.promoted_at is not None:  # moved up, and maybe cancelled since
            assert signup.status != SignupStatus.WAITLISTED and signup.promoted_at > signup.queued_at
            assert signup.cancelled_at is None or signup.cancelled_at >= signup.promoted_at
        if signup.status == SignupStatus.CANCELLED:
            assert signup.queued_at < signup.cancelled_at <= NOW
        else:
            assert signup.cancelled_at is None
    # The first in the queue hold the places: nobody accepted signed up after someone still waiting,
    # unless moved up from the waitlist.
    for activity in activities:
        waiting = activity.signups.filter(status=SignupStatus.WAITLISTED).aggregate(first=Min("queued_at"))
        if waiting["first"]:
            assert not activity.signups.filter(
                status=SignupStatus.ACCEPTED, promoted_at__isnull=True, queued_at__gt=waiting["first"]
            ).exists()
    # Nobody holds two sign-ups on one day.
    days = (
        scale_signups()
        .values("volunteer_id", "activity__started_at__date")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not days.exists()


def test_a_second_build_adds_nothing():
    build()
    before = rows()

    result = build()

    assert result.added["activities"] == 0 and rows() == before


def test_a_build_cut_short_resumes_after_its_last_batch(monkeypatch):
    """The first county's activities stop after their first batch (each batch is committed, then the bar
    moves): what is there holds its counts, and the next build adds exactly the rest, as planned."""
    add, batches = volunteers_scale.ProgressBar.add, []

    def add_then_stop(bar, added):
        add(bar, added)
        if bar.label == "activities":
            batches.append(added)
            raise Cut

    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add_then_stop)
    with pytest.raises(Cut):
        build()
    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add)
    per_county = scale.activities_total(PRESET)
    cut = scale_activities().count()
    assert 0 < cut == batches[0] < per_county
    assert scale_signups().exists() and counts_off() == 0
    assert not volunteers_scale.is_complete("tiny")

    result = build()

    assert result.added["activities"] == PRESET.counties * per_county - cut
    assert volunteers_scale.is_complete("tiny")
    assert counts_off() == 0
    assert written() == planned()
    for code in PRESET.county_codes():  # each county's ids in one run, without a gap or a repeat
        path = Unit.objects.get(code=code).path
        for rows_of_county, total in (
            (scale_activities().filter(unit__path__startswith=path), per_county),
            (scale_signups().filter(activity__unit__path__startswith=path), None),
        ):
            bounds = rows_of_county.aggregate(first=Min("pk"), last=Max("pk"), n=Count("pk"))
            assert bounds["last"] - bounds["first"] + 1 == bounds["n"] == (total or bounds["n"])
