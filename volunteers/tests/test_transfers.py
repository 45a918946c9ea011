"""Transfers (关系转接): who asks, only the receiving side decides, what moves on approval, and that two
decisions at once cannot both apply."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.testing import assert_refused_unchanged
from stations import services as unit_services
from stations.models import Role, UnitKind
from stations.scoping import forget_scope
from stations.tests.factories import make_unit, make_user
from volunteers import selectors
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    PrivacyNotice,
    Team,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
    VolunteerStatus,
)
from volunteers.teams import team_update
from volunteers.tests.factories import make_member, make_team, make_volunteer
from volunteers.tests.test_teams import build_teams, fresh, han_name
from volunteers.transfers import transfer_cancel, transfer_decide, transfer_request

RECEIVING_SIDE = "Only the receiving side (the unit or team the volunteer moves to) decides a transfer."
DECIDED = "This transfer has already been decided or withdrawn."


@pytest.fixture
def teams(tree):
    return build_teams(tree)


def snapshot():
    return (
        list(Transfer.objects.order_by("pk").values()),
        list(TeamMembership.objects.order_by("pk").values()),
        list(Volunteer.objects.order_by("pk").values("pk", "home_unit", "status")),
    )


def refused(call, *, field, message, **kwargs):
    return assert_refused_unchanged(snapshot, call, field=field, message=_(str(message)), **kwargs)


# --- Moving to another home unit ------------------------------------------------------------------


def test_a_volunteer_asks_and_the_receiving_institute_approves(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1, reason="搬家")
    assert (transfer.kind, transfer.from_unit, transfer.to_unit, transfer.status, transfer.requested_by) == (
        TransferKind.UNIT,
        tree.a1,
        tree.b1,
        TransferStatus.PENDING,
        volunteer.user,
    )
    decided = transfer_decide(actor=people.inst_b, transfer=transfer, approve=True)
    assert (decided.status, decided.decided_by) == (TransferStatus.APPROVED, people.inst_b)
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.b1
    # The history is kept: the row stays, and the volunteer's number and account move with them.
    assert list(selectors.transfers_for_volunteer(volunteer)) == [decided]
    assert Volunteer.objects.get(pk=volunteer.pk).number == volunteer.number


def test_a_transfer_approved_by_the_sending_side_is_refused(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=people.inst_a, volunteer=volunteer, to_unit=tree.b1)
    for actor in (people.inst_a, people.station_a1, people.viewer, people.nobody):
        for approve in (True, False):
            refused(
                transfer_decide,
                field=None,
                message=RECEIVING_SIDE,
                actor=actor,
                transfer=transfer,
                approve=approve,
                note="不同意",
            )
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.PENDING


def test_a_move_inside_one_institute_is_decided_by_the_receiving_station_or_above(tree, people):
    volunteer = make_volunteer(tree.a2, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.a1a)
    refused(
        transfer_decide,
        field=None,
        message=RECEIVING_SIDE,
        actor=people.inst_b,
        transfer=transfer,
        approve=True,
    )
    transfer_decide(actor=people.station_a1, transfer=transfer, approve=True)
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.a1a


def test_a_rejection_needs_a_reason_and_moves_nothing(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1)
    refused(
        transfer_decide,
        field="note",
        message=_("Give the reason for rejecting."),
        actor=people.inst_b,
        transfer=transfer,
        approve=False,
        note="  ",
    )
    rejected = transfer_decide(actor=people.inst_b, transfer=transfer, approve=False, note=" 本站名额已满 ")
    assert (rejected.status, rejected.decision_note) == (TransferStatus.REJECTED, "本站名额已满")
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.a1
    refused(
        transfer_decide, field=None, message=DECIDED, actor=people.inst_b, transfer=rejected, approve=True
    )
    # Decided, the volunteer may ask again.
    assert transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1).status == "pending"


def test_who_may_ask_for_a_transfer(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    other = make_volunteer(tree.a1, "赵六")
    for actor in (other.user, people.inst_b, people.viewer, people.nobody):
        refused(
            transfer_request,
            field="volunteer",
            message=_("Only the volunteer or the admins of their unit may ask for a transfer."),
            actor=actor,
            volunteer=volunteer,
            to_unit=tree.b1,
        )
    transfer = transfer_request(actor=people.station_a1, volunteer=volunteer, to_unit=tree.b1)
    assert transfer.requested_by == people.station_a1


def test_what_a_unit_transfer_asks_for(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    ask = dict(actor=volunteer.user, volunteer=volunteer)
    refused(transfer_request, field="to_unit", message=_("Choose the unit or the team to move to."), **ask)
    refused(
        transfer_request,
        field="to_unit",
        message=_("The volunteer already belongs to this unit."),
        to_unit=tree.a1,
        **ask,
    )
    unit_services.unit_update(actor=None, unit=tree.b1a, is_active=False)
    tree.b1a.refresh_from_db()
    refused(
        transfer_request,
        field="to_unit",
        message=_("This unit is no longer active; choose another."),
        to_unit=tree.b1a,
        **ask,
    )
    refused(
        transfer_request,
        field="to_team",
        message=_("Choose the team to move to."),
        to_unit=tree.b1,
        from_team=make_team(tree.a),
        **ask,
    )


def test_a_transfer_stays_in_the_volunteers_county(tree, people):
    # Service domains and teams are each county's own: a move to another county is refused.
    center = make_unit(UnitKind.CENTER, name="邻县新时代文明实践中心")
    institute = make_unit(UnitKind.INSTITUTE, center, name="邻县丙镇新时代文明实践所")
    station = make_unit(UnitKind.STATION, institute, name="邻县丙一村新时代文明实践站")
    team = make_team(institute, "邻县丙镇总队")
    volunteer = make_volunteer(tree.a1, "王五")
    for actor in (volunteer.user, people.county):
        ask = dict(actor=actor, volunteer=volunteer)
        refused(
            transfer_request,
            field="to_team",
            message=_("Choose a team of the volunteer's own county."),
            to_team=team,
            **ask,
        )
        for unit in (center, institute, station):
            refused(
                transfer_request,
                field="to_unit",
                message=_("Choose a unit of the volunteer's own county."),
                to_unit=unit,
                **ask,
            )
    assert not Transfer.objects.exists()
    # One asked before the rule is not approved either.
    neighbour = make_user("neighbour", role=Role.COUNTY_ADMIN, unit=center)
    for kind, to_unit, to_team, field, message in (
        (TransferKind.UNIT, station, None, "to_unit", _("Choose a unit of the volunteer's own county.")),
        (TransferKind.TEAM, institute, team, "to_team", _("Choose a team of the volunteer's own county.")),
    ):
        transfer = Transfer.objects.create(
            volunteer=volunteer,
            kind=kind,
            from_unit=tree.a1,
            to_unit=to_unit,
            to_team=to_team,
            requested_by=volunteer.user,
        )
        refused(
            transfer_decide, field=field, message=message, actor=neighbour, transfer=transfer, approve=True
        )
        Transfer.objects.filter(pk=transfer.pk).update(status=TransferStatus.CANCELLED)
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.a1
    assert not TeamMembership.objects.filter(volunteer=volunteer).exists()


def test_one_pending_transfer_per_volunteer(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1)
    refused(
        transfer_request,
        field=None,
        message=_("This volunteer already has a transfer waiting for a decision."),
        actor=people.inst_a,
        volunteer=volunteer,
        to_unit=tree.a2,
    )


@pytest.mark.parametrize("status", [VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT])
def test_only_active_volunteers_are_transferred(tree, people, status):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1)
    Volunteer.objects.filter(pk=volunteer.pk).update(status=status)
    message = _("Only an active volunteer can be transferred.")
    refused(
        transfer_decide,
        field="volunteer",
        message=message,
        actor=people.inst_b,
        transfer=transfer,
        approve=True,
    )
    transfer_cancel(actor=volunteer.user, transfer=transfer)
    refused(
        transfer_request,
        field="volunteer",
        message=message,
        actor=people.inst_a,
        volunteer=volunteer,
        to_unit=tree.b1,
    )


# --- Moving to another team -----------------------------------------------------------------------


def test_a_team_transfer_is_decided_by_the_receiving_teams_leader(tree, teams, people):
    volunteer = make_volunteer(tree.a1, "王五")
    in_squad = make_member(teams.squad, volunteer)
    other_leader = make_volunteer(tree.b1, "乙队长")
    make_member(teams.other, other_leader, MembershipRole.LEADER)
    transfer = transfer_request(
        actor=volunteer.user, volunteer=volunteer, to_team=teams.other, from_team=teams.squad
    )
    assert (transfer.kind, transfer.from_unit, transfer.to_unit, transfer.from_team, transfer.to_team) == (
        TransferKind.TEAM,
        tree.a1,
        tree.b,
        teams.squad,
        teams.other,
    )
    # The sending team's leader and the sending unit's admin do not decide.
    for actor in (fresh(teams.leader.user), people.inst_a):
        refused(
            transfer_decide, field=None, message=RECEIVING_SIDE, actor=actor, transfer=transfer, approve=True
        )
    transfer_decide(actor=fresh(other_leader.user), transfer=transfer, approve=True)
    in_squad.refresh_from_db()
    assert (in_squad.status, in_squad.left_on) == (MembershipStatus.LEFT, timezone.localdate())
    joined = TeamMembership.objects.get(team=teams.other, volunteer=volunteer)
    assert (joined.status, joined.role, joined.joined_on) == ("active", "member", timezone.localdate())
    # A team move leaves the home unit as it was.
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.a1


def test_a_team_transfer_without_a_team_to_leave_only_joins(tree, teams, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=people.station_a1, volunteer=volunteer, to_team=teams.sibling)
    transfer_decide(actor=people.inst_a, transfer=transfer, approve=True)
    assert TeamMembership.objects.get(team=teams.sibling, volunteer=volunteer).status == "active"


def test_what_a_team_transfer_asks_for(tree, teams, people):
    volunteer = make_volunteer(tree.a1, "王五")
    make_member(teams.squad, volunteer)
    ask = dict(actor=volunteer.user, volunteer=volunteer)
    refused(
        transfer_request,
        field="to_unit",
        message=_("A move to a team goes to the team's own unit."),
        to_team=teams.other,
        to_unit=tree.b1,
        **ask,
    )
    refused(
        transfer_request,
        field="to_team",
        message=_("Choose a team other than the one the volunteer leaves."),
        to_team=teams.squad,
        from_team=teams.squad,
        **ask,
    )
    refused(
        transfer_request,
        field="from_team",
        message=_("The volunteer is not a member of this team."),
        to_team=teams.other,
        from_team=teams.brigade,
        **ask,
    )
    refused(
        transfer_request,
        field="to_team",
        message=_("This volunteer already belongs to this team or has asked to join it."),
        to_team=teams.squad,
        **ask,
    )
    team_update(actor=people.inst_b, team=teams.other, is_active=False)
    refused(
        transfer_request,
        field="to_team",
        message=_("This team is no longer active."),
        to_team=teams.other,
        **ask,
    )


def test_a_leader_who_moves_away_leaves_the_role_behind(tree, teams, people):
    leader = fresh(teams.leader.user)
    transfer = transfer_request(
        actor=leader, volunteer=teams.leader, to_team=teams.sibling, from_team=teams.brigade
    )
    refused(
        transfer_decide,
        field=None,
        message=RECEIVING_SIDE,
        actor=leader,
        transfer=transfer,
        approve=True,
    )
    transfer_decide(actor=people.inst_a, transfer=transfer, approve=True)
    teams.leadership.refresh_from_db()
    assert (teams.leadership.status, teams.leadership.role) == (MembershipStatus.LEFT, MembershipRole.LEADER)
    assert not Team.objects.visible_to(fresh(leader)).exists()


def test_nobody_decides_their_own_transfer(tree, teams):
    volunteer = make_volunteer(tree.a1, "赵六")
    make_member(teams.brigade, volunteer, MembershipRole.LEADER)
    own = transfer_request(actor=volunteer.user, volunteer=volunteer, to_team=teams.squad)
    # 赵六 leads the brigade, hence the squad under it: the receiving side, but it is their own move.
    refused(
        transfer_decide,
        field=None,
        message=_("You cannot decide your own transfer."),
        actor=fresh(volunteer.user),
        transfer=own,
        approve=True,
    )
    transfer_decide(actor=fresh(teams.leader.user), transfer=own, approve=True)


# --- Withdrawing ----------------------------------------------------------------------------------


def test_the_volunteer_or_the_requester_withdraws_while_it_waits(tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=people.station_a1, volunteer=volunteer, to_unit=tree.b1)
    for actor in (people.inst_b, people.inst_a, make_volunteer(tree.a1, "赵六").user):
        refused(
            transfer_cancel,
            field=None,
            message=_("Only the volunteer or whoever asked may withdraw this transfer."),
            actor=actor,
            transfer=transfer,
        )
    assert transfer_cancel(actor=volunteer.user, transfer=transfer).status == TransferStatus.CANCELLED
    refused(transfer_cancel, field=None, message=DECIDED, actor=people.station_a1, transfer=transfer)
    refused(
        transfer_decide, field=None, message=DECIDED, actor=people.inst_b, transfer=transfer, approve=True
    )
    again = transfer_request(actor=people.station_a1, volunteer=volunteer, to_unit=tree.b1)
    assert transfer_cancel(actor=people.station_a1, transfer=again).status == TransferStatus.CANCELLED
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit == tree.a1


# --- Reads ----------------------------------------------------------------------------------------


def test_transfers_to_decide_are_the_receiving_sides(tree, teams, people, django_assert_num_queries):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1)
    assert list(selectors.transfers_to_decide(people.inst_b)) == [transfer]
    assert list(selectors.transfers_to_decide(people.county)) == [transfer]
    for actor in (people.inst_a, people.station_a1, people.viewer, volunteer.user, teams.leader.user):
        assert list(selectors.transfers_to_decide(actor)) == []

    def read(user):
        forget_scope(user)
        with django_assert_num_queries(2):  # the scope, then the list
            return [
                (t.volunteer.name, t.from_unit.name, t.to_unit.name, t.to_team and t.to_team.name)
                for t in selectors.transfers_to_decide(user)
            ]

    assert len(read(people.inst_b)) == 1
    for i in range(49):
        other = make_volunteer(tree.a2, han_name(i))
        transfer_request(
            actor=other.user,
            volunteer=other,
            to_team=teams.other if i % 2 else None,
            to_unit=None if i % 2 else tree.b1,
        )
    assert len(read(people.inst_b)) == 50


def test_transfers_for_volunteer_query_count_for_1_and_50(tree, people, django_assert_num_queries):
    volunteer = make_volunteer(tree.a1, "王五")

    def read():
        with django_assert_num_queries(1):
            return [
                (t.from_unit.name, t.to_unit.name, t.status)
                for t in selectors.transfers_for_volunteer(volunteer)
            ]

    transfer_cancel(
        actor=volunteer.user,
        transfer=transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1),
    )
    assert len(read()) == 1
    for _i in range(49):
        transfer_cancel(
            actor=volunteer.user,
            transfer=transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1),
        )
    assert len(read()) == 50


# --- Two decisions at once (real PostgreSQL) ------------------------------------------------------


def _race(first, second):
    """Run `first` in a transaction held open for a moment, and `second` while it is open; return what
    each raised."""
    started = threading.Event()
    errors = []

    def run(target):
        try:
            target()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    def hold():
        try:
            with transaction.atomic():
                first()
                started.set()
                time.sleep(0.5)
        finally:
            started.set()

    def follow():
        started.wait()
        second()

    threads = [threading.Thread(target=run, args=(target,)) for target in (hold, follow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.fixture
def notice_in_force(db):
    # A transactional test's database is emptied after each such test, the migration's notice with it.
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(
            version="2026-1", title="隐私政策", body="……", effective_from=timezone.localdate()
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL) to race")
def test_an_approval_and_a_rejection_at_once_do_not_both_apply(notice_in_force, tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    transfer = transfer_request(actor=volunteer.user, volunteer=volunteer, to_unit=tree.b1)
    inst_b, county = people.inst_b.pk, people.county.pk

    users = get_user_model().objects

    errors = _race(
        lambda: transfer_decide(
            actor=users.get(pk=inst_b),
            transfer=Transfer(pk=transfer.pk, volunteer_id=volunteer.pk),
            approve=True,
        ),
        lambda: transfer_decide(
            actor=users.get(pk=county),
            transfer=Transfer(pk=transfer.pk, volunteer_id=volunteer.pk),
            approve=False,
            note="不同意",
        ),
    )
    assert [str(error) for error in errors] == [_(DECIDED)]
    stored = Transfer.objects.get(pk=transfer.pk)
    assert (stored.status, stored.decided_by_id) == (TransferStatus.APPROVED, inst_b)
    assert Volunteer.objects.get(pk=volunteer.pk).home_unit_id == tree.b1.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL) to race")
def test_two_requests_at_once_make_one_transfer(notice_in_force, tree, people):
    volunteer = make_volunteer(tree.a1, "王五")
    inst_a = people.inst_a.pk

    users = get_user_model().objects
    errors = _race(
        lambda: transfer_request(
            actor=users.get(pk=inst_a), volunteer=Volunteer(pk=volunteer.pk), to_unit=tree.b1
        ),
        lambda: transfer_request(
            actor=users.get(pk=inst_a), volunteer=Volunteer(pk=volunteer.pk), to_unit=tree.a2
        ),
    )
    assert [str(error) for error in errors] == [
        _("This volunteer already has a transfer waiting for a decision.")
    ]
    assert Transfer.objects.filter(volunteer=volunteer).count() == 1
