"""The rules of the activities services, one refusal or outcome at a time: the sign-up window and who
may sign up, the cancellation deadline, the waitlist, cancelling and publishing an activity, the QR code,
the attendance record, the missed check-out, the offline roster, and who may run or change an activity.
Every refusal names its field and says its message."""

import datetime
import time
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from activities import checkin, services
from activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    OfflineEntry,
    OfflineOutcome,
    Signup,
    SignupStatus,
)
from activities.tests.factories import at, make_activity, sign_up, write_activity
from kernel.errors import ApplicationError
from kernel.models import Notification
from records.models import FlagKind, RecordFlag, RecordSource, RecordStatus, ServiceRecord
from stations.models import UnitKind
from stations.tests.factories import make_unit
from volunteers.models import Volunteer, VolunteerStatus
from volunteers.tests.factories import make_volunteer

pytestmark = pytest.mark.django_db


def refused(call, **kwargs):
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value


def local(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def running(unit, organiser, *, start, hours=4.0, volunteers=()):
    """A running activity written to the table, organised by `organiser`, with accepted volunteers."""
    activity = write_activity(unit, start=start, hours=hours, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    for volunteer in volunteers:
        activity.signups.create(volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    return activity


# --- Sign-up ----------------------------------------------------------------------------------------------


def test_sign_up_before_the_window_opens_is_refused(tree, crew, organiser):
    activity = make_activity(tree.a1, start=at(days=5), signup_opens_at=at(days=1), organisers=[organiser])
    error = refused(sign_up, activity=activity, volunteer=crew.volunteer)
    assert error.field == "activity"
    assert error.message == gettext("Sign-up opens on %(at)s.") % {"at": local(activity.signup_opens_at)}
    assert not Signup.objects.exists()


def test_sign_up_after_the_window_closes_is_refused(tree, crew, organiser):
    activity = make_activity(
        tree.a1,
        start=at(days=5),
        signup_opens_at=at(days=-3),
        signup_closes_at=at(days=-1),
        organisers=[organiser],
    )
    error = refused(sign_up, activity=activity, volunteer=crew.volunteer)
    assert error.field == "activity" and error.message == gettext("Sign-up for this activity has closed.")
    assert not Signup.objects.exists()


def test_sign_up_of_a_volunteer_who_is_not_active_is_refused(tree, crew, organiser):
    activity = make_activity(tree.a1, organisers=[organiser])
    Volunteer.objects.filter(pk=crew.volunteer.pk).update(status=VolunteerStatus.SUSPENDED)
    error = refused(sign_up, activity=activity, volunteer=crew.volunteer)
    assert error.field == "volunteer" and error.message == gettext("Only an active volunteer signs up.")
    activity.refresh_from_db()
    assert not Signup.objects.exists() and activity.accepted_count == 0


def test_sign_up_of_a_volunteer_of_another_county_is_refused(tree, organiser):
    other_center = make_unit(UnitKind.CENTER, name="另一县新时代文明实践中心")
    institute = make_unit(UnitKind.INSTITUTE, other_center, name="丙镇新时代文明实践所")
    station = make_unit(UnitKind.STATION, institute, name="丙一村新时代文明实践站")
    stranger = make_volunteer(station, "钱外县", password="Stranger@2026!")
    activity = make_activity(tree.a1, organisers=[organiser])
    error = refused(sign_up, activity=activity, volunteer=stranger)
    assert error.field == "activity" and error.message == gettext("This activity belongs to another county.")
    assert not Signup.objects.exists()


def test_a_volunteer_signs_up_for_no_one_else(tree, crew, organiser):
    activity = make_activity(tree.a1, organisers=[organiser])
    error = refused(
        services.signup_create, actor=crew.member.user, activity=activity, volunteer=crew.volunteer
    )
    assert error.field == "volunteer" and error.message == gettext("Volunteers sign up for themselves.")


# --- Cancelling a sign-up -------------------------------------------------------------------------------


def test_the_volunteer_cancels_until_the_deadline_the_organiser_after_it(tree, crew, organiser, settings):
    settings.ACTIVITY_CANCEL_HOURS_BEFORE = 2
    activity = make_activity(tree.a1, start=at(1), organisers=[organiser])  # starts in an hour
    signup = sign_up(activity, crew.volunteer)
    error = refused(services.signup_cancel, actor=crew.volunteer.user, signup=signup)
    deadline = activity.started_at - datetime.timedelta(hours=2)
    assert error.field == "signup"
    assert error.message == gettext(
        "Sign-ups are cancelled until %(at)s; please tell the organiser instead."
    ) % {"at": local(deadline)}
    signup.refresh_from_db()
    assert signup.status == SignupStatus.ACCEPTED

    cancelled = services.signup_cancel(actor=organiser, signup=signup)
    assert cancelled.status == SignupStatus.CANCELLED and cancelled.cancelled_by == organiser
    activity.refresh_from_db()
    assert activity.accepted_count == 0


def test_without_a_deadline_the_volunteer_cancels_until_the_start(tree, crew, organiser, settings):
    settings.ACTIVITY_CANCEL_HOURS_BEFORE = 0
    activity = make_activity(tree.a1, start=at(1), organisers=[organiser])
    signup = sign_up(activity, crew.volunteer)
    assert services.signup_cancel(actor=crew.volunteer.user, signup=signup).status == SignupStatus.CANCELLED


def test_promotion_skips_a_waitlisted_volunteer_whose_accepted_sign_ups_now_clash(tree, crew, organiser):
    full = make_activity(tree.a1, title="满员活动", start=at(days=3), capacity=1, organisers=[organiser])
    first = sign_up(full, crew.volunteer)
    clashing = sign_up(full, crew.member)  # waitlisted first…
    next_one = sign_up(full, crew.leader)  # …then this one
    assert (clashing.status, next_one.status) == (SignupStatus.WAITLISTED, SignupStatus.WAITLISTED)
    # Meanwhile the first on the waitlist was accepted for an activity at the same time.
    elsewhere = make_activity(tree.a1, title="同时活动", start=at(1, days=3), organisers=[organiser])
    assert sign_up(elsewhere, crew.member).status == SignupStatus.ACCEPTED

    services.signup_cancel(actor=crew.volunteer.user, signup=first)

    clashing.refresh_from_db()
    next_one.refresh_from_db()
    assert clashing.status == SignupStatus.WAITLISTED
    assert next_one.status == SignupStatus.ACCEPTED and next_one.promoted_at is not None
    full.refresh_from_db()
    assert (full.accepted_count, full.waitlisted_count) == (1, 1)
    assert Notification.objects.filter(user=crew.leader.user).count() == 1
    assert not Notification.objects.filter(user=crew.member.user).exists()


# --- Cancelling and publishing an activity ------------------------------------------------------------


def test_cancelling_an_activity_cancels_every_sign_up_and_tells_each_volunteer_once(
    tree, crew, organiser, people
):
    activity = make_activity(tree.a1, capacity=1, organisers=[organiser])
    accepted = sign_up(activity, crew.volunteer)
    waiting = sign_up(activity, crew.member)
    gone = sign_up(activity, crew.leader)
    services.signup_cancel(actor=crew.leader.user, signup=gone)

    services.activity_cancel(actor=people.station_a1, activity=activity, reason="台风预警")

    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED and activity.cancel_reason == "台风预警"
    assert (activity.accepted_count, activity.waitlisted_count) == (0, 0)
    assert set(Signup.objects.filter(activity=activity).values_list("status", flat=True)) == {
        SignupStatus.CANCELLED
    }
    for volunteer in (crew.volunteer, crew.member):
        notices = Notification.objects.filter(user=volunteer.user)
        assert notices.count() == 1
        assert notices.get().subject == gettext("Cancelled: %(title)s") % {"title": activity.title}
    assert not Notification.objects.filter(user=crew.leader.user).exists()
    assert {accepted.pk, waiting.pk} <= set(Signup.objects.values_list("pk", flat=True))

    error = refused(services.activity_cancel, actor=people.station_a1, activity=activity, reason="再次")
    assert error.field == "status"
    assert error.message == gettext("A finished or cancelled activity is not cancelled.")
    assert Notification.objects.count() == 2


def test_cancelling_needs_a_reason(tree, organiser, people):
    activity = make_activity(tree.a1, organisers=[organiser])
    error = refused(services.activity_cancel, actor=people.station_a1, activity=activity, reason="  ")
    assert error.field == "reason" and error.message == gettext("Give the reason for cancelling.")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


def test_publishing_is_refused_without_the_insurance_confirmed(tree, organiser, people):
    activity = make_activity(tree.a1, organisers=[organiser], needs_insurance=True, publish=False)
    error = refused(services.activity_publish, actor=people.station_a1, activity=activity)
    assert error.field == "needs_insurance"
    assert error.message == gettext(
        "This activity needs insurance for its volunteers: confirm it before publishing."
    )
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DRAFT and activity.published_at is None

    services.activity_confirm_insurance(actor=organiser, activity=activity, note="人保财险 团体意外险")
    assert services.activity_publish(actor=people.station_a1, activity=activity).status == "published"


# --- The QR code ----------------------------------------------------------------------------------------


def test_a_code_past_its_lifetime_is_refused_as_expired(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-1), volunteers=[crew.volunteer])
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3 * checkin.lifetime()):
        old = checkin.token_for(activity.pk)
    error = refused(services.attendance_scan, actor=crew.volunteer.user, activity=activity, token=old)
    assert error.field == "token"
    assert error.message == gettext(
        "This check-in code has expired: scan the code on the organiser's screen again."
    )
    assert not Attendance.objects.exists()


def test_a_code_of_another_activity_or_tampered_is_refused(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-1), volunteers=[crew.volunteer])
    other = running(tree.a1, organiser, start=at(-1))
    cases = {
        checkin.token_for(other.pk): gettext("This code belongs to another activity."),
        checkin.token_for(activity.pk)[:-3] + "abc": gettext("This is not a valid check-in code."),
        "": gettext("This is not a valid check-in code."),
    }
    for token, message in cases.items():
        error = refused(services.attendance_scan, actor=crew.volunteer.user, activity=activity, token=token)
        assert (error.field, error.message) == ("token", message)
    assert not Attendance.objects.exists()


def test_a_valid_code_checks_in_then_a_later_one_out_then_nothing(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-2.8), volunteers=[crew.volunteer])
    window = checkin.current_window()
    scan = services.attendance_scan
    user = crew.volunteer.user

    attendance, outcome = scan(
        actor=user, activity=activity, token=checkin.token_for(activity.pk, window=window - 1)
    )
    assert outcome == services.ScanOutcome.CHECKED_IN and attendance.in_window == window - 1
    # Checked in early, before the start: the record counts from the start.
    Attendance.objects.filter(pk=attendance.pk).update(
        checked_in_at=activity.started_at - datetime.timedelta(minutes=30)
    )
    assert scan(actor=user, activity=activity, token=checkin.token_for(activity.pk, window=window - 1))[
        1
    ] == (services.ScanOutcome.UNCHANGED)
    attendance, outcome = scan(
        actor=user, activity=activity, token=checkin.token_for(activity.pk, window=window)
    )
    assert outcome == services.ScanOutcome.CHECKED_OUT
    assert scan(actor=user, activity=activity, token=checkin.token_for(activity.pk, window=window))[1] == (
        services.ScanOutcome.UNCHANGED
    )

    records = ServiceRecord.objects.filter(volunteer=crew.volunteer)
    assert records.count() == 1
    record = records.get()
    # From the start (2 h 48 min ago) until now: rounded down to 2.5 hours.
    assert record.status == RecordStatus.PENDING and record.source == RecordSource.ATTENDANCE
    assert record.hours == Decimal("2.50") and record.started_at == activity.started_at
    assert Attendance.objects.get().record == record


def test_a_scan_needs_a_volunteer_account_and_an_accepted_sign_up(tree, crew, organiser, people):
    activity = running(tree.a1, organiser, start=at(-1), volunteers=[crew.volunteer])
    token = checkin.token_for(activity.pk)
    error = refused(services.attendance_scan, actor=people.station_a1, activity=activity, token=token)
    assert error.field == "volunteer"
    assert error.message == gettext("Sign in with your volunteer account to check in.")
    error = refused(services.attendance_scan, actor=crew.member.user, activity=activity, token=token)
    assert error.field == "volunteer"
    assert error.message == gettext("Only volunteers accepted for this activity check in.")
    assert not Attendance.objects.exists()


# --- The attendance record --------------------------------------------------------------------------------


def test_attendance_makes_one_pending_record_clamped_to_the_window_and_rounded_down(tree, crew, organiser):
    # Ended an hour ago (inside the check-out grace); one came early and left late, one came late.
    activity = running(tree.a1, organiser, start=at(-5), hours=4, volunteers=[crew.volunteer, crew.member])
    came_late = activity.started_at + datetime.timedelta(hours=1, minutes=12)
    entries = [
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-5.5)},
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "out", "at": at(-0.5)},
        {"key": uuid.uuid4(), "volunteer": crew.member.pk, "action": "in", "at": came_late},
        {"key": uuid.uuid4(), "volunteer": crew.member.pk, "action": "out", "at": at(-0.5)},
    ]
    answers = services.attendance_sync(actor=organiser, activity=activity, entries=entries)
    assert [answer.outcome for answer in answers] == [OfflineOutcome.APPLIED] * 4

    early = ServiceRecord.objects.get(volunteer=crew.volunteer)
    assert early.hours == Decimal("4.00") and early.status == RecordStatus.PENDING
    assert (early.started_at, early.ended_at) == (activity.started_at, activity.ended_at)
    late = ServiceRecord.objects.get(volunteer=crew.member)
    assert late.hours == Decimal("2.50")  # 2 h 48 min
    # Checking out again changes nothing and makes no second record.
    again = {"key": uuid.uuid4(), "volunteer": crew.member.pk, "action": "out", "at": at(-0.2)}
    assert services.attendance_sync(actor=organiser, activity=activity, entries=[again])[0].outcome == (
        OfflineOutcome.UNCHANGED
    )
    assert ServiceRecord.objects.count() == 2


def test_a_missed_check_out_is_closed_at_the_end_and_flagged_once(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-8), hours=3, volunteers=[crew.volunteer])
    signup = Signup.objects.get()
    Attendance.objects.create(
        activity=activity,
        volunteer=crew.volunteer,
        signup=signup,
        checked_in_at=activity.started_at + datetime.timedelta(minutes=30),
        in_method="qr",
    )
    assert services.activities_advance() == {"running": 0, "finished": 1}
    attendance = Attendance.objects.get()
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.FINISHED and activity.finished_at is not None
    assert attendance.missed_checkout and attendance.checked_out_at == activity.ended_at
    assert attendance.record.hours == Decimal("2.50") and attendance.record.status == RecordStatus.PENDING
    assert RecordFlag.objects.filter(record=attendance.record, kind=FlagKind.MISSED_CHECKOUT).count() == 1

    assert services.activities_advance() == {"running": 0, "finished": 0}
    assert services.activities_advance() == {"running": 0, "finished": 0}
    assert ServiceRecord.objects.count() == 1 and RecordFlag.objects.count() == 1
    assert Attendance.objects.get().checked_out_at == activity.ended_at


def test_advance_starts_a_published_activity_that_has_begun(tree, organiser):
    activity = write_activity(tree.a1, start=at(-1), hours=3, status=ActivityStatus.PUBLISHED)
    assert services.activities_advance() == {"running": 1, "finished": 0}
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.RUNNING
    assert services.activities_advance() == {"running": 0, "finished": 0}


# --- The offline roster ---------------------------------------------------------------------------------


def test_offline_entries_outside_the_window_or_in_the_future_are_refused(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.volunteer])
    early = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-30)}
    future = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(0.5)}
    answers = services.attendance_sync(actor=organiser, activity=activity, entries=[early, future])
    assert [answer.outcome for answer in answers] == [OfflineOutcome.REFUSED] * 2
    assert answers[0].message == gettext("This entry's time lies outside the activity's check-in window.")
    assert answers[1].message == gettext("This entry's time lies in the future: check the phone's clock.")
    assert not Attendance.objects.exists()
    # Sent again: the same entries, the same answers, nothing new.
    again = services.attendance_sync(actor=organiser, activity=activity, entries=[early, future])
    assert [answer.pk for answer in again] == [answer.pk for answer in answers]
    assert OfflineEntry.objects.count() == 2 and not Attendance.objects.exists()


def test_a_replayed_entry_returns_the_same_entry_and_applies_once(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.volunteer])
    entry = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1)}
    first = services.attendance_sync(actor=organiser, activity=activity, entries=[entry])[0]
    second = services.attendance_sync(actor=organiser, activity=activity, entries=[entry])[0]
    assert first.pk == second.pk and second.outcome == OfflineOutcome.APPLIED
    assert OfflineEntry.objects.count() == 1 and Attendance.objects.count() == 1


def test_an_entry_key_of_another_roster_is_refused(tree, crew, organiser, people):
    activity = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.volunteer])
    other = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.member])
    entry = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1)}
    services.attendance_sync(actor=organiser, activity=activity, entries=[entry])
    error = refused(services.attendance_sync, actor=organiser, activity=other, entries=[entry])
    assert error.field == "key" and error.message == gettext("This entry was sent for another roster.")


# --- Who may change or run an activity ---------------------------------------------------------------------


def test_a_user_of_another_township_changes_and_runs_nothing(tree, crew, organiser, people):
    activity = make_activity(tree.a1, organisers=[organiser])
    signup = sign_up(activity, crew.volunteer)
    draft = make_activity(tree.a1, title="草稿活动", organisers=[organiser], publish=False)
    outsider = people.inst_b
    outside = gettext("This activity is outside the area you administer.")

    error = refused(services.activity_cancel, actor=outsider, activity=activity, reason="不办了")
    assert (error.field, error.message) == ("status", outside)
    error = refused(services.activity_publish, actor=outsider, activity=draft)
    assert (error.field, error.message) == ("status", outside)
    error = refused(services.activity_update, actor=outsider, activity=activity, title="改名")
    assert (error.field, error.message) == ("activity", outside)
    error = refused(services.signup_cancel, actor=outsider, signup=signup)
    assert (error.field, error.message) == ("signup", gettext("You do not organise this activity."))

    activity.refresh_from_db()
    draft.refresh_from_db()
    signup.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED and activity.title == "社区环境整治"
    assert draft.status == ActivityStatus.DRAFT
    assert signup.status == SignupStatus.ACCEPTED and activity.accepted_count == 1


def test_a_user_of_another_township_marks_no_attendance(tree, crew, organiser, people):
    activity = running(tree.a1, organiser, start=at(-1), volunteers=[crew.volunteer])
    entry = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-0.5)}
    run = gettext("You do not organise this activity.")
    error = refused(
        services.attendance_mark,
        actor=people.inst_b,
        activity=activity,
        volunteer=crew.volunteer,
        action="in",
    )
    assert (error.field, error.message) == ("activity", run)
    error = refused(services.attendance_sync, actor=people.inst_b, activity=activity, entries=[entry])
    assert (error.field, error.message) == ("activity", run)
    error = refused(services.activity_finish, actor=people.inst_b, activity=activity)
    assert (error.field, error.message) == ("status", run)
    assert not Attendance.objects.exists() and not OfflineEntry.objects.exists()
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.RUNNING


def test_a_station_admin_does_not_change_an_activity_of_the_institute(tree, people):
    activity = make_activity(tree.a, title="所级活动", organisers=[people.inst_a])
    outside = gettext("This activity is outside the area you administer.")
    error = refused(services.activity_update, actor=people.station_a1, activity=activity, capacity=5)
    assert (error.field, error.message) == ("activity", outside)
    error = refused(services.activity_cancel, actor=people.station_a1, activity=activity, reason="取消")
    assert (error.field, error.message) == ("status", outside)
    error = refused(
        services.activity_create,
        actor=people.station_a1,
        unit=tree.a,
        title="越级活动",
        venue="所里",
        started_at=at(days=2),
        ended_at=at(3, days=2),
        capacity=5,
    )
    assert (error.field, error.message) == ("unit", gettext("This unit is outside the area you administer."))
    activity.refresh_from_db()
    assert activity.capacity == 20 and activity.status == ActivityStatus.PUBLISHED
    assert Activity.objects.count() == 1


def test_the_organiser_of_another_activity_does_not_run_this_one(tree, crew, organiser):
    mine = running(tree.a1, organiser, start=at(-1), volunteers=[crew.volunteer])
    someone = make_volunteer(tree.a1, "吴组织", password="Someone@2026!").user
    theirs = running(tree.a1, someone, start=at(-1), volunteers=[crew.member])
    run = gettext("You do not organise this activity.")
    error = refused(
        services.attendance_mark, actor=organiser, activity=theirs, volunteer=crew.member, action="in"
    )
    assert (error.field, error.message) == ("activity", run)
    error = refused(services.activity_confirm_insurance, actor=organiser, activity=theirs, note="保险")
    assert (error.field, error.message) == ("activity", run)
    assert not Attendance.objects.exists()
    # Their own activity they run.
    assert services.attendance_mark(
        actor=organiser, activity=mine, volunteer=crew.volunteer, action="in"
    ) == (OfflineOutcome.APPLIED)


# --- The waitlist, further ----------------------------------------------------------------------------


def test_signing_up_again_after_cancelling_goes_to_the_end_of_the_queue(tree, crew, organiser):
    activity = make_activity(tree.a1, capacity=1, organisers=[organiser])
    first = sign_up(activity, crew.volunteer)
    services.signup_cancel(actor=crew.volunteer.user, signup=first)
    taken = sign_up(activity, crew.member)
    again = sign_up(activity, crew.volunteer)
    assert again.pk == first.pk and again.status == SignupStatus.WAITLISTED and again.cancelled_at is None
    assert taken.status == SignupStatus.ACCEPTED and again.queued_at > taken.queued_at
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (1, 1)
    assert Signup.objects.filter(activity=activity).count() == 2


def test_more_places_move_the_waitlist_up_in_its_order(tree, crew, organiser, people):
    activity = make_activity(tree.a1, capacity=1, organisers=[organiser])
    signups = [sign_up(activity, v) for v in (crew.volunteer, crew.member, crew.leader)]
    services.activity_update(actor=people.station_a1, activity=activity, capacity=2)
    statuses = [Signup.objects.get(pk=s.pk).status for s in signups]
    assert statuses == [SignupStatus.ACCEPTED, SignupStatus.ACCEPTED, SignupStatus.WAITLISTED]
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (2, 1)
    assert Notification.objects.filter(user=crew.member.user).count() == 1
    error = refused(services.activity_update, actor=people.station_a1, activity=activity, capacity=1)
    assert error.field == "capacity"
    assert error.message == gettext(
        "%(count)d volunteers are accepted already: give at least that many places."
    ) % {"count": 2}


def test_a_stay_too_short_to_count_makes_no_record(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.volunteer])
    entries = [
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1)},
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "out", "at": at(-0.75)},
    ]
    answers = services.attendance_sync(actor=organiser, activity=activity, entries=entries)
    assert [answer.outcome for answer in answers] == [OfflineOutcome.APPLIED] * 2
    attendance = Attendance.objects.get()
    assert attendance.checked_out_at == entries[1]["at"] and attendance.record is None
    assert not ServiceRecord.objects.exists()


def test_a_check_out_before_the_check_in_is_refused(tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-2), hours=4, volunteers=[crew.volunteer])
    entries = [
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "out", "at": at(-1.5)},
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1)},
        {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "out", "at": at(-1.25)},
    ]
    answers = services.attendance_sync(actor=organiser, activity=activity, entries=entries)
    assert [answer.outcome for answer in answers] == [
        OfflineOutcome.REFUSED,
        OfflineOutcome.APPLIED,
        OfflineOutcome.REFUSED,
    ]
    assert answers[0].message == gettext("This volunteer has not checked in.")
    assert answers[2].message == gettext("The check-out must be after the check-in.")
    assert Attendance.objects.get().checked_out_at is None
