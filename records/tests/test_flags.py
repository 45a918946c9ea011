"""Review flags: what the checks at submission cannot see (records written at once, by two organisers),
found late by the scan, which is safe to run again; the week limits of a volunteer and of an approver;
approvals through an account linked by phone; the review list, scoped; and who clears a flag, with what."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.testing import assert_refused_unchanged
from records import rules, selectors, services
from records.models import FlagKind, RecordEvent, RecordFlag, RecordSource, RecordStatus, ServiceRecord
from stations.models import Role
from stations.tests.factories import make_user
from volunteers.models import PrivacyNotice, Volunteer

from .factories import day_at, submit, write_record

pytestmark = pytest.mark.django_db


def flag_rows() -> dict:
    return {
        "flags": list(RecordFlag.objects.order_by("pk").values()),
        "events": list(RecordEvent.objects.order_by("pk").values()),
        "records": list(ServiceRecord.objects.order_by("pk").values()),
        "totals": list(Volunteer.objects.order_by("pk").values_list("pk", "service_hours")),
    }


def kinds(record) -> list[str]:
    return sorted(RecordFlag.objects.filter(record=record).values_list("kind", flat=True))


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def last_week_monday() -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7)


def span(record) -> str:
    start, end = timezone.localtime(record.started_at), timezone.localtime(record.ended_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


# --- Found late by the scan ------------------------------------------------------------------------------


def test_an_overlap_written_by_two_organisers_at_once_is_flagged_by_the_scan_once(crew, tree):
    # Each organiser's check saw no other record: both rows went in at the same moment.
    first = write_record(
        crew.volunteer, start=day_at(2, 9), hours=3, unit=tree.a1, status=RecordStatus.PENDING
    )
    second = write_record(crew.volunteer, start=day_at(2, 10), hours=2, unit=tree.a2)
    apart = write_record(crew.volunteer, start=day_at(2, 14), hours=2, status=RecordStatus.PENDING)
    assert not RecordFlag.objects.exists()

    assert services.flags_scan() == 2

    one, two = RecordFlag.objects.get(record=first), RecordFlag.objects.get(record=second)
    assert (one.kind, one.other_record, one.is_open) == (FlagKind.OVERLAP, second, True)
    assert (two.kind, two.other_record) == (FlagKind.OVERLAP, first)
    assert one.detail == _("This overlaps the volunteer's service of %(span)s.") % {"span": span(second)}
    assert kinds(apart) == []
    assert first.events.get().action == RecordEvent.Action.FLAGGED

    before = flag_rows()
    assert services.flags_scan() == 0
    assert flag_rows() == before


def test_the_scan_ignores_rejected_withdrawn_and_superseded_records(crew):
    write_record(crew.volunteer, start=day_at(2, 9), hours=2, status=RecordStatus.REJECTED)
    write_record(crew.volunteer, start=day_at(2, 9), hours=2, status=RecordStatus.WITHDRAWN)
    old = write_record(crew.volunteer, start=day_at(3, 9), hours=2, team=crew.team)
    correction = services.correction_request(
        actor=crew.volunteer.user,
        record=old,
        reason="时间不对",
        started_at=day_at(3, 13),
        ended_at=day_at(3, 15),
    )
    services.correction_decide(actor=crew.leader.user, correction=correction, accept=True)
    write_record(crew.volunteer, start=day_at(3, 9, 30), hours=1)  # where the old one was
    write_record(crew.volunteer, start=day_at(2, 9), hours=2)

    assert services.flags_scan() == 0
    assert not RecordFlag.objects.exists()


def test_a_day_over_the_cap_written_at_once_is_flagged_by_the_scan_once(crew, tree):
    write_record(crew.volunteer, start=day_at(2, 6), hours=8, unit=tree.a1)
    last = write_record(
        crew.volunteer, start=day_at(2, 15), hours=6, unit=tree.a2, status=RecordStatus.PENDING
    )
    write_record(crew.volunteer, start=day_at(3, 6), hours=8)  # another day, under the cap

    assert services.flags_scan() == 1

    flag = RecordFlag.objects.get()
    assert (flag.record, flag.kind) == (last, FlagKind.DAY_CAP)
    assert flag.detail == _(
        "On %(day)s the volunteer's services would add up to %(total)s hours, more than the %(cap)s hours "
        "a day allows."
    ) % {"day": f"{last.service_date:%Y-%m-%d}", "total": "14", "cap": "12"}
    before = flag_rows()
    assert services.flags_scan() == 0
    assert flag_rows() == before


def test_the_scan_looks_only_at_records_changed_since(crew):
    write_record(crew.volunteer, start=day_at(2, 9), hours=3, status=RecordStatus.PENDING)
    write_record(crew.volunteer, start=day_at(2, 10), hours=3, status=RecordStatus.PENDING)
    assert services.flags_scan(since=timezone.now() + datetime.timedelta(minutes=1)) == 0
    assert services.flags_scan() == 2


@pytest.fixture
def notice_in_force(db):
    # A transactional test before this one emptied the database, the migration's privacy notice with it.
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(
            version="2026-1", title="隐私政策", body="……", effective_from=timezone.localdate()
        )


@pytest.mark.django_db(transaction=True)
def test_the_flags_scan_task_runs_the_scan(notice_in_force, crew):
    from records import tasks

    write_record(crew.volunteer, start=day_at(2, 9), hours=3, status=RecordStatus.PENDING)
    write_record(crew.volunteer, start=day_at(2, 10), hours=3, status=RecordStatus.PENDING)
    tasks.flags_scan.apply()
    assert RecordFlag.objects.filter(kind=FlagKind.OVERLAP).count() == 2


# --- Approvals through a linked account --------------------------------------------------------------------


def test_an_approval_through_an_account_linked_by_phone_is_found_by_the_scan(crew, tree):
    # Approved before the logins were linked (the staff login took the volunteer's number later).
    get_user_model().objects.filter(pk=crew.volunteer.user_id).update(username="zhang-login")
    clerk = make_user(crew.volunteer.phone, role=Role.STATION_ADMIN, unit=tree.a1)
    linked = write_record(crew.volunteer, start=day_at(2, 9), decided_by=clerk)
    clean = write_record(crew.volunteer, start=day_at(3, 9), decided_by=crew.leader.user)
    by_system = write_record(crew.volunteer, start=day_at(4, 9))

    assert services.flags_scan() == 1

    flag = RecordFlag.objects.get()
    assert (flag.record, flag.kind) == (linked, FlagKind.LINKED_ACCOUNT)
    assert flag.detail == _(
        "Approved by an account that shares a mobile number with the volunteer or submitter."
    )
    assert kinds(clean) == kinds(by_system) == []
    assert services.flags_scan() == 0


def test_the_scan_finds_an_approver_linked_to_the_submitter(crew, tree):
    submitter, approver = linked_logins(tree)
    record = submit(crew.volunteer, start=day_at(2, 9), actor=submitter)
    ServiceRecord.objects.filter(pk=record.pk).update(
        status=RecordStatus.APPROVED, decided_by=approver, decided_at=timezone.now()
    )
    assert services.flags_scan() == 1
    assert kinds(record) == [FlagKind.LINKED_ACCOUNT]


def linked_logins(tree):
    """A staff login named by a mobile number (the submitter) and a second login that holds the volunteer
    profile with that number (the approver)."""
    from stations.services import role_grant
    from volunteers.tests.factories import make_volunteer

    person = make_volunteer(tree.a1, "钱文书")
    submitter = person.user
    approver = make_user("qian_institute", role=Role.INSTITUTE_ADMIN, unit=tree.a)
    Volunteer.objects.filter(pk=person.pk).update(user=approver)
    role_grant(actor=None, user=submitter, role=Role.STATION_ADMIN, unit=tree.a1)
    return submitter, approver


# --- The week limits ----------------------------------------------------------------------------------------


def test_a_volunteer_over_the_week_limit_is_flagged_at_submission(crew):
    monday = last_week_monday()
    with override_settings(SERVICE_FLAG_VOLUNTEER_WEEK_HOURS=5):
        first = submit(crew.volunteer, start=at(monday, 9), hours=3)
        second = submit(crew.volunteer, start=at(monday + datetime.timedelta(days=6), 9), hours=3)
        next_week = submit(crew.volunteer, start=at(monday + datetime.timedelta(days=7), 9), hours=3)
        other = submit(crew.member, start=at(monday, 9), hours=3)
    assert kinds(first) == [] and kinds(next_week) == [] and kinds(other) == []
    flag = RecordFlag.objects.get(record=second)
    assert flag.kind == FlagKind.VOLUNTEER_WEEK
    assert flag.detail == _("%(total)s hours in the week of %(monday)s.") % {
        "total": "6",
        "monday": f"{monday:%Y-%m-%d}",
    }


def test_a_week_limit_counts_no_rejected_or_withdrawn_record(crew):
    monday = last_week_monday()
    with override_settings(SERVICE_FLAG_VOLUNTEER_WEEK_HOURS=5):
        dropped = submit(crew.volunteer, start=at(monday, 9), hours=4, team=crew.team)
        services.record_reject(actor=crew.leader.user, record=dropped, reason="不实")
        later = submit(crew.volunteer, start=at(monday + datetime.timedelta(days=1), 9), hours=4)
    assert kinds(later) == []


def test_by_default_forty_hours_a_week_pass_and_more_are_flagged(crew):
    monday = last_week_monday()
    records = [
        submit(crew.volunteer, start=at(monday + datetime.timedelta(days=day), 8), hours=10)
        for day in range(4)
    ]
    assert all(kinds(record) == [] for record in records)
    fifth = submit(crew.volunteer, start=at(monday + datetime.timedelta(days=4), 8), hours=1)
    assert kinds(fifth) == [FlagKind.VOLUNTEER_WEEK]
    assert fifth.flags.get().detail == _("%(total)s hours in the week of %(monday)s.") % {
        "total": "41",
        "monday": monday.strftime("%Y-%m-%d"),
    }


def test_an_approver_over_the_week_limit_flags_the_approval_that_went_over(crew):
    records = [submit(crew.volunteer, start=day_at(day, 9), hours=2, team=crew.team) for day in (1, 2, 3)]
    with override_settings(SERVICE_FLAG_APPROVER_WEEK_HOURS=3):
        for record in records:
            services.record_approve(actor=crew.leader.user, record=record)
    # One flag for the week's review, on the approval that crossed the line; the next ones are in its week.
    assert kinds(records[0]) == kinds(records[2]) == []
    assert kinds(records[1]) == [FlagKind.APPROVER_WEEK]
    monday, _sunday = rules.week_bounds(timezone.localdate())
    flag = records[1].flags.get()
    assert flag.detail == _("%(name)s approved %(total)s hours in the week of %(monday)s.") % {
        "name": "李队长",
        "total": "4",
        "monday": f"{monday:%Y-%m-%d}",
    }
    # The approvals stand and count: a reviewer looks at them.
    assert all(ServiceRecord.objects.get(pk=r.pk).status == RecordStatus.APPROVED for r in records)
    assert Volunteer.objects.get(pk=crew.volunteer.pk).service_hours == Decimal("6.00")
    event = records[1].events.filter(action=RecordEvent.Action.FLAGGED).get()
    assert event.actor == crew.leader.user


def test_an_approver_week_counts_only_their_own_approvals(crew, people):
    first = submit(crew.volunteer, start=day_at(1, 9), hours=2, team=crew.team)
    second = submit(crew.volunteer, start=day_at(2, 9), hours=2, team=crew.team)
    with override_settings(SERVICE_FLAG_APPROVER_WEEK_HOURS=3):
        services.record_approve(actor=crew.leader.user, record=first)
        services.record_approve(actor=people.station_a1, record=second)
    assert not RecordFlag.objects.exists()


# --- The review list ---------------------------------------------------------------------------------------


def overlap_flagged(volunteer, unit, day=2):
    """A pending attendance record that overlaps the volunteer's own report: flagged on arrival."""
    submit(volunteer, start=day_at(day, 9), hours=2, unit=unit)
    return submit(
        volunteer,
        start=day_at(day, 10),
        hours=2,
        unit=unit,
        actor=None,
        source=RecordSource.ATTENDANCE,
    )


def test_the_review_list_is_scoped_to_the_reviewers_units(crew, people, tree):
    in_a = overlap_flagged(crew.volunteer, tree.a1)
    in_b = overlap_flagged(crew.other, tree.b1)
    flag_a, flag_b = in_a.flags.get(), in_b.flags.get()

    assert list(selectors.flags_to_review(people.inst_a)) == [flag_a]
    assert list(selectors.flags_to_review(people.inst_b)) == [flag_b]
    assert set(selectors.flags_to_review(people.county)) == {flag_a, flag_b}
    assert list(selectors.flags_to_review(people.station_a1)) == [flag_a]
    assert list(selectors.flags_to_review(crew.volunteer.user)) == []
    assert list(selectors.flags_to_review(people.nobody)) == []
    assert list(selectors.flags_to_review(None)) == []


def test_the_review_list_holds_open_flags_of_current_records_only(crew, people, tree):
    open_one = overlap_flagged(crew.volunteer, tree.a1, day=2)
    cleared = overlap_flagged(crew.volunteer, tree.a1, day=3)
    services.flag_clear(actor=people.inst_a, flag=cleared.flags.get(), note="核实无误")
    rejected = overlap_flagged(crew.volunteer, tree.a1, day=4)
    services.record_reject(actor=people.station_a1, record=rejected, reason="重复")
    withdrawn = overlap_flagged(crew.volunteer, tree.a1, day=5)
    ServiceRecord.objects.filter(pk=withdrawn.pk).update(
        status=RecordStatus.WITHDRAWN, decided_at=timezone.now()
    )

    assert [flag.record for flag in selectors.flags_to_review(people.inst_a)] == [open_one]


def test_the_review_list_costs_the_same_queries_for_one_flag_and_for_many(
    crew, people, tree, django_assert_num_queries
):
    overlap_flagged(crew.volunteer, tree.a1, day=2)

    def read():
        return [
            (flag.record.volunteer.name, flag.record.unit.name, flag.record.team, flag.other_record)
            for flag in selectors.flags_to_review(people.inst_a)
        ]

    people.inst_a = get_user_model().objects.get(pk=people.inst_a.pk)
    with django_assert_num_queries(2):  # the scope, then the flags with their rows
        assert len(read()) == 1
    for day in range(3, 14):
        overlap_flagged(crew.volunteer, tree.a1, day=day)
    people.inst_a = get_user_model().objects.get(pk=people.inst_a.pk)
    with django_assert_num_queries(2):
        assert len(read()) == 12


# --- Clearing a flag ---------------------------------------------------------------------------------------


def test_a_flag_is_cleared_from_one_level_up_with_a_note(crew, people, tree):
    record = overlap_flagged(crew.volunteer, tree.a1)
    flag = record.flags.get()
    message = _("Flags are cleared by an admin above the record's unit.")
    for actor in (people.station_a1, crew.leader.user, people.inst_b, crew.volunteer.user):
        assert_refused_unchanged(
            flag_rows, services.flag_clear, actor=actor, flag=flag, note="看过了", field=None, message=message
        )
    assert_refused_unchanged(
        flag_rows,
        services.flag_clear,
        actor=people.inst_a,
        flag=flag,
        note="  ",
        field="note",
        message=_("Say what the review found."),
    )

    services.flag_clear(actor=people.inst_a, flag=flag, note="两次签到为同一活动，已核实")

    flag.refresh_from_db()
    assert (flag.is_open, flag.cleared_by, flag.note) == (False, people.inst_a, "两次签到为同一活动，已核实")
    assert flag.cleared_at is not None
    event = record.events.last()
    assert (event.action, event.actor, event.note) == (
        RecordEvent.Action.FLAG_CLEARED,
        people.inst_a,
        "两次签到为同一活动，已核实",
    )
    assert_refused_unchanged(
        flag_rows,
        services.flag_clear,
        actor=people.county,
        flag=flag,
        note="再看",
        field=None,
        message=_("This flag has been cleared already."),
    )
    # Cleared, the record is its station's to approve again.
    services.record_approve(actor=people.station_a1, record=record)
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.APPROVED


def test_a_cleared_flag_is_not_raised_again_by_the_scan(crew, people):
    write_record(crew.volunteer, start=day_at(2, 9), hours=3, status=RecordStatus.PENDING)
    write_record(crew.volunteer, start=day_at(2, 10), hours=3, status=RecordStatus.PENDING)
    services.flags_scan()
    for flag in RecordFlag.objects.all():
        services.flag_clear(actor=people.inst_a, flag=flag, note="同一活动的两段")
    assert services.flags_scan() == 0
    assert not RecordFlag.objects.filter(is_open=True).exists()


def test_the_county_admin_clears_a_flag_on_a_record_of_the_center(crew, people, tree):
    record = overlap_flagged(crew.volunteer, tree.center)
    services.flag_clear(actor=people.county, flag=record.flags.get(), note="县里核实")
    assert not record.flags.filter(is_open=True).exists()
