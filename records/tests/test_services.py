"""Every rule of service records, through the services: submitting, deciding, withdrawing, corrections,
and the database's own guard. Each refusal names its field and the message the user reads, and leaves
every record, audit event, flag, correction and stored total as it was."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.testing import assert_refused_unchanged
from records import services
from records.models import (
    CorrectionRequest,
    CorrectionStatus,
    FlagKind,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from stations.models import Role, UnitKind
from stations.services import role_grant
from stations.tests.factories import make_unit, make_user
from volunteers.models import Volunteer, VolunteerStatus
from volunteers.tests.factories import make_member, make_volunteer

from .factories import day_at, hours_ago, stored_total, submit

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the DELETE guard and the append-only trail are PostgreSQL's"
)


def rows() -> dict:
    """Everything a records service may write."""
    return {
        "records": list(ServiceRecord.objects.order_by("pk").values()),
        "events": list(RecordEvent.objects.order_by("pk").values()),
        "flags": list(RecordFlag.objects.order_by("pk").values()),
        "corrections": list(CorrectionRequest.objects.order_by("pk").values()),
        "totals": list(Volunteer.objects.order_by("pk").values_list("pk", "service_hours")),
    }


def refused(call, /, *args, field, message, **kwargs):
    return assert_refused_unchanged(rows, call, *args, field=field, message=message, **kwargs)


def span(start, end) -> str:
    start, end = timezone.localtime(start), timezone.localtime(end)
    end_text = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text}"


def overlap_message(record) -> str:
    return _("This overlaps the volunteer's service of %(span)s.") % {
        "span": span(record.started_at, record.ended_at)
    }


def day_cap_message(day, total: str, cap: str = "12") -> str:
    return _(
        "On %(day)s the volunteer's services would add up to %(total)s hours, more than the %(cap)s hours "
        "a day allows."
    ) % {"day": f"{day:%Y-%m-%d}", "total": total, "cap": cap}


def decided_message(status) -> str:
    return _("This record has been decided already (%(status)s).") % {"status": status.label}


def assert_totals_match(*volunteers):
    for volunteer in volunteers:
        assert stored_total(volunteer) == services.total_from_records(volunteer.pk), volunteer


def approved(crew, start, hours=2.0, **extra) -> ServiceRecord:
    """A record of the crew's volunteer on the crew's team, approved by its leader."""
    record = submit(crew.volunteer, start=start, hours=hours, team=crew.team, **extra)
    return services.record_approve(actor=crew.leader.user, record=record)


def fresh(record) -> ServiceRecord:
    return ServiceRecord.objects.get(pk=record.pk)


# --- Submitting: times and hours ---------------------------------------------------------------------


@pytest.mark.parametrize("hours", [0, -1])
def test_an_end_not_after_the_start_is_refused(crew, hours):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        hours=hours,
        field="ended_at",
        message=_("The end must be after the start."),
    )


def test_an_end_in_the_future_is_refused(crew):
    refused(
        submit,
        crew.volunteer,
        start=hours_ago(1),
        hours=2,
        field="ended_at",
        message=_("A service is recorded once it has ended: the end lies in the future."),
    )


def test_an_end_a_minute_ahead_of_the_clock_is_still_accepted(crew):
    start = timezone.now() - datetime.timedelta(hours=1)
    record = services.record_submit(
        actor=crew.volunteer.user,
        volunteer=crew.volunteer,
        unit=crew.volunteer.home_unit,
        content="巡河",
        started_at=start,
        ended_at=timezone.now() + datetime.timedelta(minutes=1),
        evidence_note="照片",
    )
    assert record.status == RecordStatus.PENDING and record.hours == Decimal("1.00")


def test_a_service_too_short_to_count_is_refused(crew):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        hours=20 / 60,
        field="ended_at",
        message=_("The service is shorter than %(minutes)s minutes, the least that counts.")
        % {"minutes": 30},
    )


def test_one_service_over_the_day_cap_is_refused(crew):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 6),
        hours=13,
        field="ended_at",
        message=_("One service counts at most %(cap)s hours a day.") % {"cap": 12},
    )


def test_services_of_one_day_summed_over_the_cap_are_refused_and_the_cap_itself_is_allowed(crew):
    first = submit(crew.volunteer, start=day_at(2, 6), hours=8)
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 15),
        hours=5,
        field="ended_at",
        message=day_cap_message(first.service_date, "13"),
    )
    submit(crew.volunteer, start=day_at(2, 15), hours=4)  # 12 hours: exactly the cap
    assert ServiceRecord.objects.filter(volunteer=crew.volunteer).count() == 2


def test_the_day_cap_message_writes_whole_hours_plainly(crew, settings):
    settings.SERVICE_HOURS_DAY_CAP = 24
    submit(crew.volunteer, start=day_at(2, 0), hours=12)
    settings.SERVICE_HOURS_DAY_CAP = 19
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 13),
        hours=8,
        field="ended_at",
        message=day_cap_message(day_at(2, 0).date(), "20", cap="19"),
    )


def test_an_earlier_day_does_not_count_against_the_cap(crew):
    submit(crew.volunteer, start=day_at(3, 8), hours=10)
    record = submit(crew.volunteer, start=day_at(2, 8), hours=10)
    assert record.service_date == day_at(2, 8).date()


# --- Submitting: overlaps ------------------------------------------------------------------------------


def test_an_overlap_with_a_pending_record_is_refused(crew):
    pending = submit(crew.volunteer, start=day_at(2, 9), hours=2)
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 10),
        hours=2,
        field="started_at",
        message=overlap_message(pending),
    )


def test_an_overlap_with_an_approved_record_is_refused_even_when_staff_enter_it(crew, people):
    record = approved(crew, day_at(2, 9))
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 8),
        hours=4,  # around it
        actor=people.station_a1,
        field="started_at",
        message=overlap_message(record),
    )


def test_records_that_only_touch_do_not_overlap(crew):
    submit(crew.volunteer, start=day_at(2, 9), hours=2)
    after = submit(crew.volunteer, start=day_at(2, 11), hours=2)
    before = submit(crew.volunteer, start=day_at(2, 7), hours=2)
    assert after.pk and before.pk


def test_another_volunteers_record_does_not_block(crew):
    submit(crew.member, start=day_at(2, 9), hours=2)
    assert submit(crew.volunteer, start=day_at(2, 9), hours=2).pk


def test_rejected_withdrawn_and_superseded_records_do_not_block(crew, people):
    rejected = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    services.record_reject(actor=crew.leader.user, record=rejected, reason="当天没有活动")
    withdrawn = submit(crew.volunteer, start=day_at(3, 9))
    services.record_withdraw(actor=crew.volunteer.user, record=withdrawn)
    old = approved(crew, day_at(4, 9))
    correction = services.correction_request(
        actor=crew.volunteer.user,
        record=old,
        reason="下午才开始",
        started_at=day_at(4, 14),
        ended_at=day_at(4, 16),
    )
    services.correction_decide(actor=crew.leader.user, correction=correction, accept=True)

    for day in (2, 3, 4):
        assert submit(crew.volunteer, start=day_at(day, 9, 30), hours=1).status == RecordStatus.PENDING
    # The correction itself still counts.
    refused(
        submit,
        crew.volunteer,
        start=day_at(4, 15),
        hours=2,
        field="started_at",
        message=overlap_message(fresh(old).superseded_by),
    )


# --- Submitting: attendance is kept and flagged ---------------------------------------------------------


def attendance(crew, start, hours, **extra):
    return submit(
        crew.volunteer,
        start=start,
        hours=hours,
        team=crew.team,
        actor=None,
        source=RecordSource.ATTENDANCE,
        content="理论宣讲活动",
        **extra,
    )


def test_attendance_that_overlaps_is_kept_and_flagged_not_refused(crew):
    first = submit(crew.volunteer, start=day_at(2, 9), hours=2)
    record = attendance(crew, day_at(2, 10), 2)
    assert record.status == RecordStatus.PENDING and record.source == RecordSource.ATTENDANCE
    flag = RecordFlag.objects.get(record=record)
    assert (flag.kind, flag.other_record, flag.is_open) == (FlagKind.OVERLAP, first, True)
    assert flag.detail == overlap_message(first)
    assert list(record.events.values_list("action", flat=True)) == [
        RecordEvent.Action.CREATED,
        RecordEvent.Action.FLAGGED,
    ]
    assert not RecordFlag.objects.filter(record=first).exists()


def test_attendance_over_the_day_cap_is_kept_and_flagged(crew):
    submit(crew.volunteer, start=day_at(2, 6), hours=8)
    record = attendance(crew, day_at(2, 15), 6)
    flag = RecordFlag.objects.get(record=record)
    assert flag.kind == FlagKind.DAY_CAP and flag.detail == day_cap_message(record.service_date, "14")


def test_attendance_longer_than_the_cap_is_kept_and_flagged(crew):
    record = attendance(crew, day_at(2, 6), 13)
    assert record.hours == Decimal("13.00")
    assert list(record.flags.values_list("kind", flat=True)) == [FlagKind.DAY_CAP]


def test_attendance_is_made_by_check_in_not_by_a_person(crew, people):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        team=crew.team,
        actor=people.station_a1,
        source=RecordSource.ATTENDANCE,
        field="source",
        message=_("Attendance records are made by check-in and check-out."),
    )


# --- Submitting: who, for whom, where --------------------------------------------------------------------


def test_a_self_reported_service_needs_evidence(crew):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        evidence_note="  ",
        field="evidence_note",
        message=_("Add a photo or a note as evidence of the service."),
    )


def test_staff_enter_a_service_in_their_scope_without_evidence(crew, people):
    record = submit(crew.volunteer, start=day_at(2, 9), actor=people.station_a1)
    assert (record.source, record.submitted_by) == (RecordSource.STAFF, people.station_a1)
    assert record.evidence_note == ""


def test_staff_outside_the_unit_may_not_enter_a_service(crew, people):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        actor=people.inst_b,
        field="unit",
        message=_("This unit is outside the area you record services for."),
    )


def test_a_team_leader_enters_a_service_for_the_team(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team, actor=crew.leader.user)
    assert (record.source, record.unit) == (RecordSource.STAFF, crew.team.unit)


def test_a_volunteer_reports_only_for_their_own_teams(crew):
    refused(
        submit,
        crew.other,
        start=day_at(2, 9),
        team=crew.team,
        field="team",
        message=_("Choose one of your own teams, or none."),
    )


def test_a_unit_of_another_county_is_refused(crew):
    elsewhere = make_unit(UnitKind.CENTER, name="将乐县新时代文明实践中心")
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        unit=elsewhere,
        field="unit",
        message=_("This unit belongs to another county."),
    )


@pytest.mark.parametrize("status", [VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT])
def test_an_inactive_volunteers_service_is_refused(crew, people, status):
    Volunteer.objects.filter(pk=crew.volunteer.pk).update(status=status)
    volunteer = Volunteer.objects.get(pk=crew.volunteer.pk)
    for actor in ("self", people.station_a1):
        refused(
            submit,
            volunteer,
            start=day_at(2, 9),
            actor=actor,
            field="volunteer",
            message=_("Only an active volunteer's service is recorded."),
        )


def test_a_team_of_another_unit_and_a_blank_content_are_refused(crew, tree):
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        unit=tree.a2,
        team=crew.team,
        field="team",
        message=_("The team belongs to another unit."),
    )
    refused(
        submit,
        crew.volunteer,
        start=day_at(2, 9),
        content="  ",
        field="content",
        message=_("Say what the service was."),
    )


def test_a_submission_is_in_the_audit_trail_with_what_was_submitted(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), hours=2.5, team=crew.team)
    event = record.events.get()
    assert (event.action, event.actor, event.actor_name) == (
        RecordEvent.Action.CREATED,
        crew.volunteer.user,
        crew.volunteer.name,
    )
    assert event.after == services.snapshot(record) and event.after["hours"] == "2.50"
    assert stored_total(crew.volunteer) == 0  # pending counts nothing yet


# --- Deciding ---------------------------------------------------------------------------------------------


def test_an_approval_adds_the_hours_and_a_rejection_does_not(crew):
    kept = submit(crew.volunteer, start=day_at(2, 9), hours=3, team=crew.team)
    dropped = submit(crew.volunteer, start=day_at(3, 9), hours=2, team=crew.team)
    services.record_approve(actor=crew.leader.user, record=kept)
    services.record_reject(actor=crew.leader.user, record=dropped.pk, reason="照片不是本人")
    kept, dropped = fresh(kept), fresh(dropped)
    assert (kept.status, kept.decided_by, kept.decided_at is not None) == (
        RecordStatus.APPROVED,
        crew.leader.user,
        True,
    )
    assert (dropped.status, dropped.decision_note) == (RecordStatus.REJECTED, "照片不是本人")
    assert stored_total(crew.volunteer) == Decimal("3.00")
    assert_totals_match(crew.volunteer)
    assert kept.events.last().action == RecordEvent.Action.APPROVED
    rejected_event = dropped.events.last()
    assert (rejected_event.action, rejected_event.note) == (RecordEvent.Action.REJECTED, "照片不是本人")


def test_nobody_approves_their_own_service(crew):
    record = submit(crew.leader, start=day_at(2, 9), team=crew.team)
    for call, extra in ((services.record_approve, {}), (services.record_reject, {"reason": "x"})):
        refused(
            call,
            actor=crew.leader.user,
            record=record,
            field=None,
            message=_("Nobody approves their own service."),
            **extra,
        )


def test_the_submitter_does_not_approve_what_they_entered(crew, people):
    record = submit(crew.volunteer, start=day_at(2, 9), actor=people.station_a1)
    refused(
        services.record_approve,
        actor=people.station_a1,
        record=record,
        field=None,
        message=_("You submitted this record; another approver decides it."),
    )
    services.record_approve(actor=people.inst_a, record=record)
    assert_totals_match(crew.volunteer)


def test_a_plain_member_of_the_records_team_does_not_approve_it_even_with_scope(crew, tree):
    admin = make_volunteer(tree.a1, "孙站长")
    role_grant(actor=None, user=admin.user, role=Role.STATION_ADMIN, unit=tree.a1)
    make_member(crew.team, admin)
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_approve,
        actor=admin.user,
        record=record,
        field=None,
        message=_("You are a plain member of this record's team: its leader or a unit admin decides it."),
    )
    # A record of no team, or of another team, is theirs to decide.
    other = submit(crew.volunteer, start=day_at(3, 9))
    services.record_approve(actor=admin.user, record=other)


def test_a_plain_member_without_scope_is_outside_the_area(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_approve,
        actor=crew.member.user,
        record=record,
        field=None,
        message=_("This record is outside the area you approve for."),
    )


def test_an_admin_of_another_township_does_not_approve(crew, people):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    for call, extra in ((services.record_approve, {}), (services.record_reject, {"reason": "x"})):
        refused(
            call,
            actor=people.inst_b,
            record=record,
            field=None,
            message=_("This record is outside the area you approve for."),
            **extra,
        )


def test_a_leader_of_another_team_does_not_approve(crew, tree):
    from volunteers.models import MembershipRole
    from volunteers.tests.factories import make_team

    other_team = make_team(tree.a1, "甲一村文艺队")
    other_leader = make_volunteer(tree.a1, "周队长")
    make_member(other_team, other_leader, role=MembershipRole.LEADER)
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_approve,
        actor=other_leader.user,
        record=record,
        field=None,
        message=_("This record is outside the area you approve for."),
    )


def test_the_organiser_named_on_a_record_approves_it(crew, people):
    organiser = make_user("organiser_b")  # no role anywhere
    record = submit(crew.volunteer, start=day_at(2, 9), actor=None, organiser=organiser)
    services.record_approve(actor=organiser, record=record)
    assert fresh(record).decided_by == organiser


def test_a_staff_account_named_by_the_volunteers_mobile_does_not_approve(crew, tree):
    # The volunteer's own login has another name; a staff login carries their mobile number.
    get_user_model().objects.filter(pk=crew.volunteer.user_id).update(username="zhang-login")
    clerk = make_user(crew.volunteer.phone, role=Role.STATION_ADMIN, unit=tree.a1)
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_approve,
        actor=clerk,
        record=record,
        field=None,
        message=_("Your account shares a mobile number with this record's volunteer or submitter."),
    )


def test_an_approver_whose_volunteer_profile_shares_the_submitters_phone_does_not_approve(crew, tree):
    person = make_volunteer(tree.a1, "钱文书")
    submitter = person.user  # a staff login named by the mobile number…
    approver = make_user("qian_institute", role=Role.INSTITUTE_ADMIN, unit=tree.a)
    Volunteer.objects.filter(pk=person.pk).update(user=approver)  # …and the profile on a second login
    role_grant(actor=None, user=submitter, role=Role.STATION_ADMIN, unit=tree.a1)
    record = submit(crew.volunteer, start=day_at(2, 9), actor=submitter)
    refused(
        services.record_approve,
        actor=approver,
        record=record,
        field=None,
        message=_("Your account shares a mobile number with this record's volunteer or submitter."),
    )


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_an_approved_record_is_not_decided_again(crew, people, decision):
    record = approved(crew, day_at(2, 9))
    call, extra = (
        (services.record_approve, {})
        if decision == "approve"
        else (services.record_reject, {"reason": "重复"})
    )
    refused(
        call,
        actor=people.inst_a,
        record=record,
        field=None,
        message=decided_message(RecordStatus.APPROVED),
        **extra,
    )
    assert_totals_match(crew.volunteer)


def test_a_rejected_or_withdrawn_record_is_not_approved_later(crew, people):
    rejected = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    services.record_reject(actor=crew.leader.user, record=rejected, reason="不实")
    withdrawn = submit(crew.volunteer, start=day_at(3, 9))
    services.record_withdraw(actor=crew.volunteer.user, record=withdrawn)
    for record, status in ((rejected, RecordStatus.REJECTED), (withdrawn, RecordStatus.WITHDRAWN)):
        refused(
            services.record_approve,
            actor=people.inst_a,
            record=record,
            field=None,
            message=decided_message(status),
        )


def test_a_rejection_needs_a_reason(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_reject,
        actor=crew.leader.user,
        record=record,
        reason="   ",
        field="reason",
        message=_("Give the reason for the rejection."),
    )


def test_a_bulk_decision_decides_each_record_and_says_which_were_refused(crew, people):
    mine = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    own = submit(crew.leader, start=day_at(2, 9), team=crew.team)
    again = submit(crew.member, start=day_at(2, 9), team=crew.team)
    outcome = services.records_decide(
        actor=crew.leader.user, ids=[mine.pk, own.pk, again.pk, mine.pk], approve=True
    )
    assert outcome.done == (mine.pk, again.pk)
    assert outcome.refused == ((own.pk, _("Nobody approves their own service.")),)
    assert fresh(own).status == RecordStatus.PENDING
    assert_totals_match(crew.volunteer, crew.leader, crew.member)


# --- A flagged record -------------------------------------------------------------------------------------


def flagged(crew):
    """A pending attendance record with an open overlap flag, on the crew's team."""
    submit(crew.volunteer, start=day_at(2, 9), hours=2)
    record = attendance(crew, day_at(2, 10), 2)
    assert record.flags.filter(is_open=True).exists()
    return record


def test_a_flagged_record_is_not_approved_by_its_leader_or_its_units_admin(crew, people):
    record = flagged(crew)
    for actor in (crew.leader.user, people.station_a1):
        refused(
            services.record_approve,
            actor=actor,
            record=record,
            note="核实过",
            field=None,
            message=_("This record is flagged for review: an admin above its unit approves it, with a note."),
        )


def test_a_flagged_record_is_approved_from_one_level_up_with_a_note_that_clears_its_flags(crew, people):
    record = flagged(crew)
    refused(
        services.record_approve,
        actor=people.inst_a,
        record=record,
        note=" ",
        field="note",
        message=_("Say why the flagged record is approved."),
    )
    services.record_approve(actor=people.inst_a, record=record, note="签到记录与照片一致")

    record = fresh(record)
    assert record.status == RecordStatus.APPROVED and record.decision_note == "签到记录与照片一致"
    flag = record.flags.get()
    assert (flag.is_open, flag.cleared_by, flag.note) == (False, people.inst_a, "签到记录与照片一致")
    trail = list(record.events.values_list("action", "actor", "note"))
    assert trail[-2:] == [
        (RecordEvent.Action.FLAG_CLEARED, people.inst_a.pk, "签到记录与照片一致"),
        (RecordEvent.Action.APPROVED, people.inst_a.pk, "签到记录与照片一致"),
    ]
    assert_totals_match(crew.volunteer)


def test_a_flagged_record_can_still_be_rejected_by_its_leader(crew):
    record = flagged(crew)
    services.record_reject(actor=crew.leader.user, record=record, reason="与另一条重复")
    assert fresh(record).status == RecordStatus.REJECTED


# --- Withdrawing -----------------------------------------------------------------------------------------


def test_only_the_volunteer_withdraws_and_only_while_pending(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(
        services.record_withdraw,
        actor=crew.leader.user,
        record=record,
        field=None,
        message=_("Only the volunteer withdraws their own record."),
    )
    services.record_withdraw(actor=crew.volunteer.user, record=record)
    assert fresh(record).status == RecordStatus.WITHDRAWN
    refused(
        services.record_withdraw,
        actor=crew.volunteer.user,
        record=record,
        field=None,
        message=_("Only a record waiting for approval can be withdrawn."),
    )


# --- Corrections -----------------------------------------------------------------------------------------


def ask(crew, record, **changes):
    changes.setdefault("reason", "实际服务了三小时")
    return services.correction_request(actor=crew.volunteer.user, record=record, **changes)


def test_a_correction_is_asked_for_by_the_volunteer_or_staff_of_the_unit_only(crew, people):
    record = approved(crew, day_at(2, 9))
    message = _("Only the volunteer, or staff of the organising unit, asks for a correction of this record.")
    for actor in (crew.member.user, people.inst_b, None):
        refused(
            services.correction_request,
            actor=actor,
            record=record,
            reason="时长不对",
            field=None,
            message=message,
        )
    correction = services.correction_request(actor=people.station_a1, record=record, reason="代为申请")
    assert correction.requested_by == people.station_a1 and correction.status == CorrectionStatus.PENDING


def test_a_pending_record_is_not_corrected(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    refused(ask, crew, record, field=None, message=_("Only an approved or rejected record is corrected."))


def test_a_correction_needs_a_reason_and_times_that_hold(crew):
    record = approved(crew, day_at(2, 9))
    refused(ask, crew, record, reason=" ", field="reason", message=_("Say what is wrong with the record."))
    refused(
        ask,
        crew,
        record,
        ended_at=day_at(2, 8),
        field="ended_at",
        message=_("The end must be after the start."),
    )


def test_a_second_pending_correction_of_a_record_is_refused(crew):
    record = approved(crew, day_at(2, 9))
    ask(crew, record)
    refused(ask, crew, record, field=None, message=_("A correction of this record is already waiting."))


def test_a_correction_is_decided_in_scope_and_not_by_its_requester(crew, people):
    record = approved(crew, day_at(2, 9))
    by_staff = services.correction_request(
        actor=people.station_a1, record=record, reason="签退时间记错", ended_at=day_at(2, 12)
    )
    refused(
        services.correction_decide,
        actor=people.inst_b,
        correction=by_staff,
        accept=True,
        field=None,
        message=_("This record is outside the area you approve for."),
    )
    refused(
        services.correction_decide,
        actor=people.station_a1,
        correction=by_staff,
        accept=True,
        field=None,
        message=_("You asked for this correction; another approver decides it."),
    )
    refused(
        services.correction_decide,
        actor=crew.volunteer.user,
        correction=by_staff,
        accept=True,
        field=None,
        message=_("Nobody approves their own service."),
    )


def test_a_refused_correction_needs_a_reason_and_leaves_the_record(crew):
    record = approved(crew, day_at(2, 9))
    correction = ask(crew, record, ended_at=day_at(2, 12))
    refused(
        services.correction_decide,
        actor=crew.leader.user,
        correction=correction,
        accept=False,
        note="",
        field="note",
        message=_("Give the reason for the refusal."),
    )
    before = ServiceRecord.objects.filter(pk=record.pk).values().get()
    services.correction_decide(
        actor=crew.leader.user, correction=correction, accept=False, note="签退表为11点"
    )
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == (CorrectionStatus.REFUSED, "签退表为11点")
    assert correction.new_record is None
    assert ServiceRecord.objects.filter(pk=record.pk).values().get() == before
    assert record.events.last().action == RecordEvent.Action.CORRECTION_REFUSED
    assert stored_total(crew.volunteer) == Decimal("2.00")
    refused(
        services.correction_decide,
        actor=crew.leader.user,
        correction=correction,
        accept=True,
        field=None,
        message=_("This correction has been decided already."),
    )


def test_an_accepted_correction_supersedes_the_old_record_which_stays_byte_for_byte(crew):
    old = approved(crew, day_at(2, 9))
    before = ServiceRecord.objects.filter(pk=old.pk).values().get()
    correction = ask(crew, old, content="社区清洁和垃圾分类宣传", ended_at=day_at(2, 12))

    services.correction_decide(actor=crew.leader.user, correction=correction, accept=True, note="核对签退表")

    assert ServiceRecord.objects.filter(pk=old.pk).values().get() == before
    correction.refresh_from_db()
    new = correction.new_record
    assert correction.status == CorrectionStatus.ACCEPTED and correction.decided_by == crew.leader.user
    assert (new.supersedes, new.source, new.status, new.hours) == (
        old,
        RecordSource.CORRECTION,
        RecordStatus.APPROVED,
        Decimal("3.00"),
    )
    assert (new.content, new.started_at, new.ended_at) == (
        "社区清洁和垃圾分类宣传",
        old.started_at,
        day_at(2, 12),
    )
    assert (new.unit, new.team, new.decided_by, new.submitted_by) == (
        old.unit,
        old.team,
        crew.leader.user,
        crew.volunteer.user,
    )
    # The total moves by the difference: 2 h out, 3 h in.
    assert stored_total(crew.volunteer) == Decimal("3.00")
    assert_totals_match(crew.volunteer)
    superseded = old.events.last()
    assert superseded.action == RecordEvent.Action.SUPERSEDED
    assert superseded.before["hours"] == "2.00" and superseded.after["hours"] == "3.00"
    assert superseded.after["record"] == new.pk
    created = new.events.get()
    assert created.action == RecordEvent.Action.CREATED and created.before == services.snapshot(old)
    assert list(old.events.values_list("action", flat=True)) == [
        RecordEvent.Action.CREATED,
        RecordEvent.Action.APPROVED,
        RecordEvent.Action.CORRECTION_REQUESTED,
        RecordEvent.Action.SUPERSEDED,
    ]


def test_a_correction_down_takes_hours_off_the_total(crew):
    old = approved(crew, day_at(2, 9), hours=4)
    correction = ask(crew, old, reason="中途离开了", ended_at=day_at(2, 10, 30))
    services.correction_decide(actor=crew.leader.user, correction=correction, accept=True)
    assert stored_total(crew.volunteer) == Decimal("1.50")
    assert_totals_match(crew.volunteer)


def test_an_accepted_correction_of_a_rejected_record_adds_its_hours(crew):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    services.record_reject(actor=crew.leader.user, record=record, reason="没有签到")
    approved(crew, day_at(3, 9))
    correction = ask(crew, record, reason="签到表上有我")
    services.correction_decide(actor=crew.leader.user, correction=correction, accept=True)
    assert stored_total(crew.volunteer) == Decimal("4.00")
    assert_totals_match(crew.volunteer)


def test_a_superseded_record_is_not_corrected_again(crew):
    old = approved(crew, day_at(2, 9))
    services.correction_decide(
        actor=crew.leader.user, correction=ask(crew, old, ended_at=day_at(2, 12)), accept=True
    )
    refused(
        ask,
        crew,
        fresh(old),
        field=None,
        message=_("This record has been corrected already; ask about the newer one."),
    )
    # The newer record is corrected like any other.
    assert ask(crew, fresh(old).superseded_by).status == CorrectionStatus.PENDING


def test_an_accepted_correction_still_keeps_the_overlap_and_day_cap_rules(crew):
    old = approved(crew, day_at(2, 9))
    neighbour = approved(crew, day_at(2, 12))
    overlapping = ask(crew, old, ended_at=day_at(2, 13))
    refused(
        services.correction_decide,
        actor=crew.leader.user,
        correction=overlapping,
        accept=True,
        field="started_at",
        message=overlap_message(neighbour),
    )
    services.correction_decide(
        actor=crew.leader.user, correction=overlapping, accept=False, note="与下午重复"
    )
    approved(crew, day_at(2, 15), hours=6)
    long = ask(crew, old, started_at=day_at(2, 6), ended_at=day_at(2, 12))
    refused(
        services.correction_decide,
        actor=crew.leader.user,
        correction=long,
        accept=True,
        field="ended_at",
        message=day_cap_message(old.service_date, "14"),
    )


# --- The database's own guard --------------------------------------------------------------------------


def decided_records(crew):
    record = approved(crew, day_at(2, 9))
    rejected = submit(crew.volunteer, start=day_at(3, 9), team=crew.team)
    services.record_reject(actor=crew.leader.user, record=rejected, reason="不实")
    withdrawn = submit(crew.volunteer, start=day_at(4, 9))
    services.record_withdraw(actor=crew.volunteer.user, record=withdrawn)
    return [record, fresh(rejected), fresh(withdrawn)]


def test_a_decided_record_is_never_updated_in_the_database(crew):
    for record in decided_records(crew):
        before = ServiceRecord.objects.filter(pk=record.pk).values().get()
        for change in ({"hours": Decimal("9")}, {"status": RecordStatus.PENDING}, {"content": "改"}):
            with pytest.raises(IntegrityError), transaction.atomic():
                ServiceRecord.objects.filter(pk=record.pk).update(**change)
        with pytest.raises(IntegrityError), transaction.atomic():
            record.content = "改过的内容"
            record.save()
        assert ServiceRecord.objects.filter(pk=record.pk).values().get() == before
    assert_totals_match(crew.volunteer)


def test_a_pending_record_may_still_change_in_the_database(crew):
    record = submit(crew.volunteer, start=day_at(2, 9))
    ServiceRecord.objects.filter(pk=record.pk).update(content="改过")
    assert fresh(record).content == "改过"


@postgres_only
def test_a_decided_record_is_never_deleted_in_the_database(crew):
    for record in decided_records(crew):
        with pytest.raises(IntegrityError), transaction.atomic():
            ServiceRecord.objects.filter(pk=record.pk).delete()
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM records_servicerecord WHERE id = %s", [record.pk])
        assert ServiceRecord.objects.filter(pk=record.pk).exists()


@postgres_only
def test_the_audit_trail_is_never_changed_or_deleted(crew):
    record = approved(crew, day_at(2, 9))
    events = list(RecordEvent.objects.filter(record=record).order_by("pk").values())
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordEvent.objects.filter(record=record).update(note="改写")
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordEvent.objects.filter(record=record).delete()
    assert list(RecordEvent.objects.filter(record=record).order_by("pk").values()) == events


def test_a_record_that_ends_before_it_starts_is_unstorable(crew):
    start = day_at(2, 9)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.create(
            volunteer=crew.volunteer,
            unit=crew.volunteer.home_unit,
            content="写入",
            started_at=start,
            ended_at=start,
            service_date=start.date(),
            hours=0,
            source=RecordSource.STAFF,
        )
