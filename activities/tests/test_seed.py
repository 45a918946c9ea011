"""The activities of the benchmark-scale data (activities.scale, the seed_scale phase after the service
records): the tiny preset's activities and sign-ups keep every rule the services keep, their counts are
the sign-ups', building again adds nothing, and a build cut short resumes to the same rows."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from activities import checkin, scale
from activities.models import (
    PUBLISHED_STATUSES,
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    Signup,
    SignupStatus,
)
from records import rules
from records import services as records_services
from records.models import FlagKind, RecordEvent, RecordSource, RecordStatus, ServiceRecord
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
        "attendance": sorted(
            scale_attendance().values_list("pk", "signup_id", "record_id", "checked_out_at")
        ),
    }


def scale_attendance():
    return Attendance.objects.filter(activity__unit__code__startswith=PRESET.code_prefix)


def planned() -> set:
    """(county, start, title, volunteer, status) of every sign-up the plan makes: the same rows whatever
    ids they took."""
    return {
        (code, activity.values[7], activity.values[2], volunteer_id, status)
        for code in PRESET.county_codes()
        for activity in scale.plan(PRESET, code)
        for volunteer_id, status, *_times in activity.signups
    }


def planned_attendance() -> set:
    """(county, start, volunteer, checked in, checked out, hours) of every attendance the plan makes."""
    return {
        (code, activity.values[7], entry.volunteer_id, entry.checked_in_at, entry.checked_out_at)
        + ((entry.record[2],) if entry.record else (None,))
        for code in PRESET.county_codes()
        for activity in scale.plan(PRESET, code)
        for entry in activity.attendance
    }


def written_attendance() -> set:
    return {
        (code[: len(PRESET.code_prefix) + 2], started, volunteer_id, checked_in, checked_out, hours)
        for code, started, volunteer_id, checked_in, checked_out, hours in scale_attendance().values_list(
            "activity__unit__code",
            "activity__started_at",
            "volunteer_id",
            "checked_in_at",
            "checked_out_at",
            "record__hours",
        )
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


def test_the_recent_and_running_activities_have_attendance_that_made_the_pending_records():
    build()

    attendance = list(
        scale_attendance().select_related("activity", "signup", "record").prefetch_related("record__events")
    )
    assert len(attendance) >= 10
    attended_from = NOW.date() - datetime.timedelta(days=scale._ATTENDED_DAYS)
    system = gettext("system")
    for entry in attendance:
        activity, signup, record = entry.activity, entry.signup, entry.record
        entry.validate_constraints()
        assert signup.activity_id == activity.pk and signup.volunteer_id == entry.volunteer_id
        assert signup.status == SignupStatus.ACCEPTED
        assert activity.started_at - datetime.timedelta(minutes=settings.ACTIVITY_CHECKIN_EARLY_MINUTES) <= (
            entry.checked_in_at
        )
        assert entry.checked_in_at < activity.ended_at and entry.checked_in_at <= NOW
        assert entry.in_method in (AttendanceMethod.QR, AttendanceMethod.ORGANISER)
        if entry.in_method == AttendanceMethod.QR:
            assert entry.in_window == checkin.current_window(entry.checked_in_at.timestamp())
        else:
            assert entry.in_window is None
        if activity.status == ActivityStatus.RUNNING:
            assert entry.checked_out_at is None and record is None and not entry.out_method
            continue
        assert activity.status == ActivityStatus.FINISHED
        assert timezone.localtime(activity.started_at).date() >= attended_from
        assert entry.checked_out_at <= activity.ended_at + datetime.timedelta(
            minutes=settings.ACTIVITY_CHECKOUT_GRACE_MINUTES
        )
        if entry.missed_checkout:
            assert entry.out_method == AttendanceMethod.CLOSED
            assert entry.checked_out_at == activity.ended_at
        # The pending record the services make: the time inside the activity's window, rounded.
        started = max(entry.checked_in_at, activity.started_at)
        ended = min(entry.checked_out_at, activity.ended_at)
        if record is None:  # a stay that counts no hours makes no record
            assert ended <= started or rules.hours_between(started, ended) == 0
            continue
        assert (record.volunteer_id, record.unit_id, record.team_id, record.content) == (
            entry.volunteer_id,
            activity.unit_id,
            None,
            activity.title,
        )
        assert (record.started_at, record.ended_at, record.hours) == (
            started,
            ended,
            rules.hours_between(started, ended),
        )
        assert record.service_date == timezone.localtime(started).date()
        assert (record.status, record.source, record.decided_at) == (
            RecordStatus.PENDING,
            RecordSource.ATTENDANCE,
            None,
        )
        record.validate_constraints()
        assert record.created_at >= entry.checked_out_at and record.created_at <= NOW
        # The trail and the flag as records.services writes them for a record made by nobody.
        events = [(e.action, e.actor_name, e.before, e.after, e.note) for e in record.events.all()]
        created = (RecordEvent.Action.CREATED, system, {}, records_services.snapshot(record), "")
        flags = list(record.flags.values_list("kind", "detail", "is_open"))
        if entry.missed_checkout:
            flagged = (RecordEvent.Action.FLAGGED, system, {}, {}, str(FlagKind.MISSED_CHECKOUT.label))
            assert events == [created, flagged]
            detail = gettext("No check-out: closed at the end of the activity (%(at)s).") % {
                "at": date_format(timezone.localtime(activity.ended_at), "Y-m-d H:i")
            }
            assert flags == [(FlagKind.MISSED_CHECKOUT, detail, True)]
        else:
            assert events == [created] and flags == []
    assert any(entry.activity.status == ActivityStatus.RUNNING for entry in attendance)
    assert any(entry.record_id for entry in attendance)
    assert any(entry.missed_checkout for entry in attendance)
    # Nobody comes twice, and only the accepted come: fewer check-ins than places taken.
    finished = {entry.activity for entry in attendance if entry.record_id}
    for activity in finished:
        assert activity.attendances.count() <= activity.accepted_count


def test_a_second_build_adds_nothing():
    build()
    before = rows()

    result = build()

    assert result.added["activities"] == 0 and rows() == before


@pytest.mark.parametrize("cut_after", ["the first batch", "the first batch with attendance"])
def test_a_build_cut_short_resumes_after_its_last_batch(monkeypatch, cut_after):
    """The first county's activities stop after a batch (each batch is committed, then the bar moves):
    their first, or the first that holds attendance and its records. What is there holds its counts, and
    the next build adds exactly the rest, as planned."""
    add, batches = volunteers_scale.ProgressBar.add, []

    def add_then_stop(bar, added):
        add(bar, added)
        if bar.label == "activities":
            batches.append(added)
            if cut_after == "the first batch" or scale_attendance().filter(record__isnull=False).exists():
                raise Cut

    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add_then_stop)
    with pytest.raises(Cut):
        build()
    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add)
    per_county = scale.activities_total(PRESET)
    cut = scale_activities().count()
    assert 0 < cut == sum(batches) < per_county
    assert scale_signups().exists() and counts_off() == 0
    if cut_after == "the first batch with attendance":
        assert scale_attendance().filter(record__isnull=False).exists()
    assert not volunteers_scale.is_complete("tiny")

    result = build()

    assert result.added["activities"] == PRESET.counties * per_county - cut
    assert volunteers_scale.is_complete("tiny")
    assert counts_off() == 0
    assert written() == planned()
    assert written_attendance() == planned_attendance()
    for code in PRESET.county_codes():  # each county's ids in one run, without a gap or a repeat
        path = Unit.objects.get(code=code).path
        for rows_of_county, total in (
            (scale_activities().filter(unit__path__startswith=path), per_county),
            (scale_signups().filter(activity__unit__path__startswith=path), None),
            (ServiceRecord.objects.filter(attendance__activity__unit__path__startswith=path), None),
        ):
            bounds = rows_of_county.aggregate(first=Min("pk"), last=Max("pk"), n=Count("pk"))
            assert bounds["n"] and bounds["last"] - bounds["first"] + 1 == bounds["n"] == (
                total or bounds["n"]
            )
