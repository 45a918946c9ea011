"""Who sees and who changes teams, memberships and transfers: each role of the two townships, a station
admin, a team leader inside and outside its team, and a plain volunteer (who sees nothing through the
scope; their own rows come from their own pages)."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from stations.scoping import scope_for, scope_rule_of
from volunteers.capabilities import team_grants
from volunteers.models import MembershipRole, Team, TeamMembership, Transfer, Volunteer, VolunteerStatus
from volunteers.tests.factories import make_member, make_volunteer
from volunteers.tests.test_teams import build_teams, fresh
from volunteers.transfers import transfer_request


@pytest.fixture
def world(tree, people):
    teams = build_teams(tree)
    in_squad = make_volunteer(tree.a1, "王五")
    in_other = make_volunteer(tree.b1, "赵六")
    mover = make_volunteer(tree.a1, "钱七")
    other_leader = make_volunteer(tree.b1, "孙八")
    squad_member = make_member(teams.squad, in_squad)
    other_member = make_member(teams.other, in_other)
    other_leadership = make_member(teams.other, other_leader, MembershipRole.LEADER)
    to_team = transfer_request(
        actor=in_squad.user, volunteer=in_squad, to_team=teams.other, from_team=teams.squad
    )
    to_unit = transfer_request(actor=mover.user, volunteer=mover, to_unit=tree.b1)
    return SimpleNamespace(
        **vars(teams),
        in_squad=in_squad,
        in_other=in_other,
        mover=mover,
        squad_member=squad_member,
        other_member=other_member,
        other_leadership=other_leadership,
        to_team=to_team,
        to_unit=to_unit,
        leader_user=fresh(teams.leader.user),
        other_leader_user=fresh(other_leader.user),
        plain=fresh(mover.user),
    )


def test_teams_by_role(world, people):
    w = world
    a_teams = {w.corps, w.brigade, w.squad, w.sibling}
    cases = {
        "county": (people.county, a_teams | {w.other}, a_teams | {w.other}),
        "inst_a": (people.inst_a, a_teams, a_teams),
        "inst_b": (people.inst_b, {w.other}, {w.other}),
        "station_a1": (people.station_a1, {w.squad}, {w.squad}),
        "viewer": (people.viewer, a_teams | {w.other}, set()),
        "leader": (w.leader_user, {w.brigade, w.squad}, set()),
        "plain": (w.plain, set(), set()),
        "nobody": (people.nobody, set(), set()),
    }
    for name, (user, visible, changeable) in cases.items():
        assert set(Team.objects.visible_to(user)) == visible, name
        assert set(Team.objects.changeable_by(user)) == changeable, name


def test_memberships_by_role(world, people):
    w = world
    a_rows = {w.leadership, w.squad_member}
    b_rows = {w.other_member, w.other_leadership}
    cases = {
        "county": (people.county, a_rows | b_rows, a_rows | b_rows),
        "inst_a": (people.inst_a, a_rows, a_rows),
        "inst_b": (people.inst_b, b_rows, b_rows),
        "station_a1": (people.station_a1, {w.squad_member}, {w.squad_member}),
        "viewer": (people.viewer, a_rows | b_rows, set()),
        # Its team and the squad below; never the corps above, the brigade beside or township B.
        "leader": (w.leader_user, a_rows, a_rows),
        "other leader": (w.other_leader_user, b_rows, b_rows),
        "plain": (w.plain, set(), set()),
        "nobody": (people.nobody, set(), set()),
    }
    rule = scope_rule_of(TeamMembership)
    for name, (user, visible, changeable) in cases.items():
        assert set(TeamMembership.objects.visible_to(user)) == visible, name
        assert set(TeamMembership.objects.changeable_by(user)) == changeable, name
        # The rule in Python (what the services check) answers as the SQL does.
        for membership in a_rows | b_rows:
            assert rule.can_change(user, membership) == (membership in changeable), (name, membership)


def test_transfers_are_seen_by_both_sides_and_changed_by_the_receiving_one(world, people):
    w = world
    both = {w.to_team, w.to_unit}
    cases = {
        "county": (people.county, both, both),
        "inst_a": (people.inst_a, both, set()),  # the sending side of both
        "station_a1": (people.station_a1, both, set()),
        "inst_b": (people.inst_b, both, both),  # the receiving side of both
        "viewer": (people.viewer, both, set()),
        "leader": (w.leader_user, {w.to_team}, set()),  # its squad sends
        "other leader": (w.other_leader_user, {w.to_team}, {w.to_team}),  # its team receives
        "plain": (w.plain, set(), set()),
        "nobody": (people.nobody, set(), set()),
    }
    rule = scope_rule_of(Transfer)
    for name, (user, visible, changeable) in cases.items():
        assert set(Transfer.objects.visible_to(user)) == visible, name
        assert set(Transfer.objects.changeable_by(user)) == changeable, name
        for transfer in both:
            assert rule.can_change(user, transfer) == (transfer in changeable), (name, transfer)


def test_a_leader_sees_the_volunteers_of_its_teams_only(world, people):
    w = world
    assert set(Volunteer.objects.visible_to(w.leader_user)) == {w.leader, w.in_squad}
    assert set(Volunteer.objects.visible_to(w.other_leader_user)) == {
        w.in_other,
        w.other_leadership.volunteer,
    }
    assert not Volunteer.objects.changeable_by(w.leader_user).exists()
    assert not Volunteer.objects.visible_to(w.plain).exists()
    assert w.in_other not in set(Volunteer.objects.visible_to(people.inst_a))


@pytest.mark.parametrize("status", [VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT])
def test_a_suspended_or_left_leader_holds_no_team(world, status):
    w = world
    Volunteer.objects.filter(pk=w.leader.pk).update(status=status)
    user = fresh(w.leader.user)
    assert not team_grants(user).exists()
    assert scope_for(user).is_empty
    assert not Team.objects.visible_to(user).exists()
    assert not TeamMembership.objects.changeable_by(user).exists()
    assert not Volunteer.objects.visible_to(user).exists()
    assert not Transfer.objects.visible_to(user).exists()


def test_a_leader_whose_account_is_disabled_holds_no_team(world):
    w = world
    get_user_model().objects.filter(pk=w.leader.user_id).update(is_active=False)
    assert not team_grants(fresh(w.leader.user)).exists()
    assert scope_for(fresh(w.leader.user)).is_empty
