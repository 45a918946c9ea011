"""The foundation of activities: sign-up with its waitlist, the QR check-in, attendance making the
record, the missed check-out and the offline roster, through the services."""

import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext

from activities import checkin, services
from activities.models import ActivityStatus, Attendance, OfflineOutcome, SignupStatus
from activities.tests.factories import at, make_activity, sign_up, write_activity
from kernel.errors import ApplicationError
from kernel.models import Notification
from records.models import FlagKind, RecordFlag, RecordSource, RecordStatus

pytestmark = pytest.mark.django_db


def test_capacity_then_waitlist_then_promotion_in_order(tree, crew, organiser):
    activity = make_activity(tree.a1, capacity=1, organisers=[organiser])
    first = sign_up(activity, crew.volunteer)
    second = sign_up(activity, crew.member)
    third = sign_up(activity, crew.leader)
    assert [first.status, second.status, third.status] == [
        SignupStatus.ACCEPTED,
        SignupStatus.WAITLISTED,
        SignupStatus.WAITLISTED,
    ]
    assert sign_up(activity, crew.volunteer).pk == first.pk  # idempotent
    services.signup_cancel(actor=crew.volunteer.user, signup=first)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == SignupStatus.ACCEPTED and third.status == SignupStatus.WAITLISTED
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (1, 1)
    assert Notification.objects.filter(user=crew.member.user).count() == 1


def test_clash_and_window_are_refused_with_their_messages(tree, crew, organiser):
    one = make_activity(tree.a1, title="上午活动", start=at(days=3), organisers=[organiser])
    other = make_activity(tree.a1, title="重叠活动", start=at(1, days=3), organisers=[organiser])
    sign_up(one, crew.volunteer)
    with pytest.raises(ApplicationError) as refused:
        sign_up(other, crew.volunteer)
    assert refused.value.field == "activity" and "上午活动" in str(refused.value.message)
    closed = make_activity(
        tree.a1,
        start=at(days=5),
        signup_opens_at=at(days=-3),
        signup_closes_at=at(days=-1),
        organisers=[organiser],
    )
    with pytest.raises(ApplicationError) as refused:
        sign_up(closed, crew.volunteer)
    assert refused.value.message == gettext("Sign-up for this activity has closed.")


def test_qr_scan_checks_in_then_out_then_nothing_and_makes_one_record(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-3), hours=4, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    signup = activity.signups.create(
        volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50)
    )
    window = checkin.current_window()
    attendance, outcome = services.attendance_scan(
        actor=crew.volunteer.user, activity=activity, token=checkin.token_for(activity.pk, window=window - 1)
    )
    assert outcome == services.ScanOutcome.CHECKED_IN and attendance.signup == signup
    Attendance.objects.filter(pk=attendance.pk).update(checked_in_at=at(-3))
    same = checkin.token_for(activity.pk, window=window - 1)
    assert (
        services.attendance_scan(actor=crew.volunteer.user, activity=activity, token=same)[1] == "unchanged"
    )
    attendance, outcome = services.attendance_scan(
        actor=crew.volunteer.user, activity=activity, token=checkin.token_for(activity.pk, window=window)
    )
    assert outcome == services.ScanOutcome.CHECKED_OUT
    record = attendance.record
    assert record.source == RecordSource.ATTENDANCE and record.status == RecordStatus.PENDING
    assert record.hours == Decimal("3.00") and record.organiser == organiser
    assert (
        services.attendance_scan(
            actor=crew.volunteer.user, activity=activity, token=checkin.token_for(activity.pk)
        )[1]
        == "unchanged"
    )


def test_tokens_forged_expired_or_of_another_activity_are_refused(tree, crew):
    activity = write_activity(tree.a1, start=at(-1), status=ActivityStatus.RUNNING)
    other = write_activity(tree.a1, start=at(-1), status=ActivityStatus.RUNNING, title="另一个")
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    cases = {
        checkin.token_for(other.pk): gettext("This code belongs to another activity."),
        checkin.token_for(activity.pk)[:-2] + "xx": gettext("This is not a valid check-in code."),
    }
    for token, message in cases.items():
        with pytest.raises(ApplicationError) as refused:
            services.attendance_scan(actor=crew.volunteer.user, activity=activity, token=token)
        assert refused.value.message == message


def test_missed_checkout_closes_at_the_end_and_flags(tree, crew, organiser, settings):
    activity = write_activity(tree.a1, start=at(-8), hours=3, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    signup = activity.signups.create(
        volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50)
    )
    Attendance.objects.create(
        activity=activity, volunteer=crew.volunteer, signup=signup, checked_in_at=at(-8), in_method="qr"
    )
    assert services.activities_advance()["finished"] == 1
    attendance = Attendance.objects.get()
    assert attendance.missed_checkout and attendance.checked_out_at == activity.ended_at
    assert RecordFlag.objects.filter(record=attendance.record, kind=FlagKind.MISSED_CHECKOUT).exists()
    assert services.activities_advance()["finished"] == 0


def test_offline_entries_apply_once_with_their_time(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-2), hours=4, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    entry = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1.5)}
    first = services.attendance_sync(actor=organiser, activity=activity, entries=[entry])
    again = services.attendance_sync(actor=organiser, activity=activity, entries=[entry])
    assert first[0].pk == again[0].pk and first[0].outcome == OfflineOutcome.APPLIED and first[0].arrived_late
    assert Attendance.objects.get().checked_in_at == entry["at"]
    early = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "out", "at": at(-30)}
    refused = services.attendance_sync(actor=organiser, activity=activity, entries=[early])[0]
    assert refused.outcome == OfflineOutcome.REFUSED
    assert refused.message == gettext("This entry's time lies outside the activity's check-in window.")


def test_organisers_see_their_activity_whatever_their_scope(tree, crew, organiser, people):
    activity = make_activity(tree.a1, organisers=[organiser])
    from activities.models import Activity

    assert list(Activity.objects.visible_to(organiser)) == [activity]
    assert list(Activity.objects.visible_to(people.inst_b)) == []
    assert list(Activity.objects.visible_to(people.inst_a)) == [activity]


def test_a_begun_activity_is_finished_not_cancelled(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-1), hours=3, status=ActivityStatus.RUNNING)
    with pytest.raises(ApplicationError) as refused:
        services.activity_cancel(actor=None, activity=activity, reason="下雨")
    assert refused.value.field == "status"
    assert refused.value.message == gettext("An activity that has begun is finished, not cancelled.")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.RUNNING


def test_a_suspended_volunteer_is_not_promoted(tree, crew, organiser):
    from volunteers.models import VolunteerStatus

    activity = make_activity(tree.a1, capacity=1, organisers=[organiser])
    first = sign_up(activity, crew.volunteer)
    suspended = sign_up(activity, crew.member)
    waiting = sign_up(activity, crew.leader)
    type(crew.member).objects.filter(pk=crew.member.pk).update(status=VolunteerStatus.SUSPENDED)
    services.signup_cancel(actor=crew.volunteer.user, signup=first)
    suspended.refresh_from_db()
    waiting.refresh_from_db()
    assert (suspended.status, waiting.status) == (SignupStatus.WAITLISTED, SignupStatus.ACCEPTED)


def test_an_unknown_volunteer_in_a_batch_takes_nothing(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-2), hours=4, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    good = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1)}
    unknown = {"key": uuid.uuid4(), "volunteer": 987654, "action": "in", "at": at(-1)}
    with pytest.raises(ApplicationError) as refused:
        services.attendance_sync(actor=organiser, activity=activity, entries=[good, unknown])
    assert refused.value.message == gettext("There is no such volunteer.")
    assert not Attendance.objects.exists()
