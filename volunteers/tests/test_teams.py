"""Teams, membership and the team-leader role: every rule, each refusal with its field and message and
nothing changed; the team reads at constant query counts."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.testing import assert_refused_unchanged
from stations.scoping import forget_scope, scope_for
from volunteers import selectors
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamType,
    Volunteer,
    VolunteerStatus,
)
from volunteers.services import volunteer_update
from volunteers.teams import (
    leader_appoint,
    leader_revoke,
    membership_add,
    membership_decide,
    membership_end,
    membership_request,
    team_create,
    team_update,
)
from volunteers.tests.factories import make_member, make_team, make_volunteer

OUTSIDE = "This team is outside the teams you lead or administer."
LEADERS_FROM_ABOVE = "Team leaders are appointed by the unit's admins or by the leaders of a team above."
PARENT_ABOVE = "The parent team must be on the team's own unit or on a unit above it."


def build_teams(tree):
    """甲镇总队 (on A) › 文艺大队 (on A, led by 李队长) › 甲一村分队 (on A1); 宣讲大队 (on A2) beside it;
    乙镇总队 on B."""
    corps = make_team(tree.a, "甲镇志愿服务总队")
    brigade = make_team(tree.a, "甲镇文艺大队", kind=TeamKind.BRIGADE, parent=corps)
    squad = make_team(tree.a1, "甲一村文艺分队", kind=TeamKind.SQUAD, parent=brigade)
    sibling = make_team(tree.a2, "甲镇宣讲大队", kind=TeamKind.BRIGADE, parent=corps)
    other = make_team(tree.b, "乙镇志愿服务总队")
    leader = make_volunteer(tree.a1, "李队长")
    leadership = make_member(brigade, leader, MembershipRole.LEADER)
    return SimpleNamespace(
        corps=corps,
        brigade=brigade,
        squad=squad,
        sibling=sibling,
        other=other,
        leader=leader,
        leadership=leadership,
    )


@pytest.fixture
def teams(tree):
    return build_teams(tree)


def han_name(i: int) -> str:
    """A name of Chinese characters for the i-th made-up volunteer (names hold no digits)."""
    return "队员" + chr(0x4E00 + i)


def fresh(user):
    """The account as a new request would load it (no remembered scope)."""
    return get_user_model().objects.get(pk=user.pk)


def snapshot():
    return (
        list(Team.objects.order_by("pk").values()),
        list(TeamMembership.objects.order_by("pk").values()),
    )


def refused(call, *, field, message, **kwargs):
    return assert_refused_unchanged(snapshot, call, field=field, message=_(str(message)), **kwargs)


# --- Teams ----------------------------------------------------------------------------------------


def test_unit_admin_updates_and_deactivates_a_team(teams, people):
    team = team_update(
        actor=people.inst_a, team=teams.squad, name=" 甲一村宣讲分队 ", team_type=TeamType.THEORY
    )
    assert (team.name, team.team_type) == ("甲一村宣讲分队", TeamType.THEORY)
    team_update(actor=people.station_a1, team=teams.squad, is_active=False)
    assert not Team.objects.get(pk=teams.squad.pk).is_active


def test_only_staff_of_the_teams_unit_change_it(teams, people):
    message = _("Only the admins of the team's unit may change the team.")
    for actor in (people.inst_b, people.station_a1, people.viewer, teams.leader.user):
        refused(team_update, field=None, message=message, actor=actor, team=teams.brigade, name="改名")


def test_a_team_with_active_sub_teams_is_not_deactivated(teams, people):
    refused(
        team_update,
        field="is_active",
        message=_("Deactivate the team's sub-teams first."),
        actor=people.inst_a,
        team=teams.brigade,
        is_active=False,
    )
    team_update(actor=people.inst_a, team=teams.squad, is_active=False)
    team_update(actor=people.inst_a, team=teams.brigade, is_active=False)
    refused(
        team_update,
        field="is_active",
        message=_("The parent team is not active."),
        actor=people.inst_a,
        team=teams.squad,
        is_active=True,
    )


def test_a_team_hangs_only_under_a_team_of_its_own_unit_or_above(tree, teams, people):
    below = make_team(tree.a1, "甲一村总队")
    cases = [
        (people.inst_a, TeamKind.BRIGADE, tree.a, teams.other),  # township B's corps, beside A
        (people.county, TeamKind.BRIGADE, tree.a1, teams.other),  # nobody crosses, not even the county
        (people.county, TeamKind.BRIGADE, tree.a, below),  # a corps on a unit below the team's own
        (people.inst_a, TeamKind.SQUAD, tree.a1, teams.sibling),  # a brigade on the station beside
    ]
    for actor, kind, unit, parent in cases:
        refused(
            team_create,
            field="parent",
            message=PARENT_ABOVE,
            actor=actor,
            kind=kind,
            name="借道大队",
            unit=unit,
            parent=parent,
        )
    # Its own unit, and a unit above it, take it.
    assert team_create(
        actor=people.inst_a, kind=TeamKind.BRIGADE, name="甲镇大队", unit=tree.a, parent=teams.corps
    )
    assert team_create(
        actor=people.station_a1, kind=TeamKind.SQUAD, name="甲一村分队", unit=tree.a1a, parent=teams.brigade
    )


def test_a_leader_of_another_township_never_holds_its_members(tree, teams, people):
    b_leader = make_volunteer(tree.b1, "乙队长")
    make_member(teams.other, b_leader, MembershipRole.LEADER)
    a_member = make_volunteer(tree.a1, "甲队员")
    with pytest.raises(ApplicationError):
        team_create(
            actor=people.inst_a, kind=TeamKind.BRIGADE, name="借道大队", unit=tree.a, parent=teams.other
        )
    brigade = team_create(
        actor=people.inst_a, kind=TeamKind.BRIGADE, name="甲镇大队", unit=tree.a, parent=teams.corps
    )
    membership_add(actor=people.inst_a, team=brigade, volunteer=a_member)
    user = fresh(b_leader.user)
    assert set(Team.objects.visible_to(user)) == {teams.other}
    assert set(Volunteer.objects.visible_to(user)) == {b_leader}


def test_team_domain_is_of_its_own_county(teams, people):
    from stations.models import UnitKind
    from stations.tests.factories import make_platform, make_unit

    elsewhere = make_platform(make_unit(UnitKind.CENTER, name="另一县中心"), "culture", "文化服务平台")
    refused(
        team_update,
        field="domain",
        message=_("Choose a service domain of the team's own county."),
        actor=people.county,
        team=teams.corps,
        domain=elsewhere,
    )


# --- Asking to join -------------------------------------------------------------------------------


def test_a_volunteer_asks_to_join_and_a_second_ask_is_refused(tree, teams):
    volunteer = make_volunteer(tree.a2, "王五")
    membership = membership_request(actor=volunteer.user, team=teams.squad, volunteer=volunteer)
    assert (membership.status, membership.role, membership.joined_on) == (
        MembershipStatus.PENDING,
        MembershipRole.MEMBER,
        None,
    )
    refused(
        membership_request,
        field=None,
        message=_("This volunteer already belongs to this team or has asked to join it."),
        actor=volunteer.user,
        team=teams.squad,
        volunteer=volunteer,
    )


def test_nobody_asks_to_join_for_someone_else(tree, teams, people):
    volunteer = make_volunteer(tree.a2, "王五")
    other = make_volunteer(tree.a2, "赵六")
    for actor in (other.user, people.inst_a):
        refused(
            membership_request,
            field="volunteer",
            message=_("You may ask to join a team only for yourself."),
            actor=actor,
            team=teams.squad,
            volunteer=volunteer,
        )


@pytest.mark.parametrize("status", [VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT])
def test_suspended_or_left_volunteers_cannot_join(tree, teams, people, status):
    volunteer = make_volunteer(tree.a2, "王五")
    volunteer.status = status
    volunteer.save(update_fields=["status"])
    message = _("Only an active volunteer can join a team.")
    refused(
        membership_request,
        field="volunteer",
        message=message,
        actor=volunteer.user,
        team=teams.squad,
        volunteer=volunteer,
    )
    refused(
        membership_add,
        field="volunteer",
        message=message,
        actor=people.inst_a,
        team=teams.squad,
        volunteer=volunteer,
    )


def test_an_inactive_team_takes_no_one(tree, teams, people):
    team_update(actor=people.inst_a, team=teams.squad, is_active=False)
    volunteer = make_volunteer(tree.a2, "王五")
    refused(
        membership_request,
        field="team",
        message=_("This team is no longer active."),
        actor=volunteer.user,
        team=teams.squad,
        volunteer=volunteer,
    )


# --- Deciding -------------------------------------------------------------------------------------


def test_a_leader_admits_to_its_sub_team_and_rejects_with_a_reason(tree, teams):
    first, second = make_volunteer(tree.a2, "王五"), make_volunteer(tree.b1, "赵六")
    asked = membership_request(actor=first.user, team=teams.squad, volunteer=first)
    also = membership_request(actor=second.user, team=teams.brigade, volunteer=second)
    leader = fresh(teams.leader.user)

    admitted = membership_decide(actor=leader, membership=asked, approve=True)
    assert (admitted.status, admitted.joined_on, admitted.decided_by) == (
        MembershipStatus.ACTIVE,
        timezone.localdate(),
        leader,
    )
    rejected = membership_decide(actor=leader, membership=also, approve=False, note=" 名额已满 ")
    assert (rejected.status, rejected.note) == (MembershipStatus.REJECTED, "名额已满")
    refused(
        membership_decide,
        field=None,
        message=_("This request has already been decided."),
        actor=leader,
        membership=rejected,
        approve=True,
    )
    # Turned down once, the volunteer may ask again.
    assert membership_request(actor=second.user, team=teams.brigade, volunteer=second).status == "pending"


@pytest.mark.parametrize("where", ["corps", "sibling", "other"])
def test_a_team_leader_acting_outside_its_team_is_refused(tree, teams, where):
    """A parent team, a team beside its own, another township's team: none is the leader's."""
    team = getattr(teams, where)
    volunteer = make_volunteer(tree.a2, "王五")
    asked = membership_request(actor=volunteer.user, team=team, volunteer=volunteer)
    member = make_member(team, make_volunteer(tree.a2, "钱七"))
    leader = fresh(teams.leader.user)
    refused(membership_decide, field="team", message=OUTSIDE, actor=leader, membership=asked, approve=True)
    refused(membership_end, field="team", message=OUTSIDE, actor=leader, membership=member)
    refused(
        membership_add,
        field="team",
        message=OUTSIDE,
        actor=leader,
        team=team,
        volunteer=make_volunteer(tree.a2, "孙八"),
    )
    refused(leader_appoint, field="role", message=LEADERS_FROM_ABOVE, actor=leader, membership=member)


def test_staff_decide_in_their_units_subtree_only(tree, teams, people):
    volunteer = make_volunteer(tree.a2, "王五")
    to_squad = membership_request(actor=volunteer.user, team=teams.squad, volunteer=volunteer)
    to_corps = membership_request(actor=volunteer.user, team=teams.corps, volunteer=volunteer)
    for actor in (people.inst_b, people.viewer):
        refused(
            membership_decide, field="team", message=OUTSIDE, actor=actor, membership=to_squad, approve=True
        )
    # The station admin holds A1 (the squad's unit), not A (the corps').
    refused(
        membership_decide,
        field="team",
        message=OUTSIDE,
        actor=people.station_a1,
        membership=to_corps,
        approve=True,
    )
    assert membership_decide(actor=people.station_a1, membership=to_squad, approve=True).status == "active"
    assert membership_decide(actor=people.inst_a, membership=to_corps, approve=True).status == "active"


def test_nobody_decides_their_own_request(teams):
    leader = fresh(teams.leader.user)
    asked = membership_request(actor=leader, team=teams.squad, volunteer=teams.leader)
    refused(
        membership_decide,
        field=None,
        message=_("You cannot decide your own request."),
        actor=leader,
        membership=asked,
        approve=True,
    )


def test_an_approval_still_checks_the_volunteer(tree, teams, people):
    volunteer = make_volunteer(tree.a2, "王五")
    asked = membership_request(actor=volunteer.user, team=teams.squad, volunteer=volunteer)
    volunteer.status = VolunteerStatus.SUSPENDED
    volunteer.save(update_fields=["status"])
    refused(
        membership_decide,
        field="volunteer",
        message=_("Only an active volunteer can join a team."),
        actor=people.inst_a,
        membership=asked,
        approve=True,
    )


# --- Adding and ending ----------------------------------------------------------------------------


def test_a_leader_adds_members_directly_and_a_waiting_request_is_admitted(tree, people, teams):
    leader = fresh(teams.leader.user)
    # Staff add a volunteer of their own area directly; a leader admits those who asked.
    direct = membership_add(actor=people.inst_a, team=teams.squad, volunteer=make_volunteer(tree.a2, "赵六"))
    assert (direct.status, direct.role, direct.decided_by) == ("active", "member", people.inst_a)
    volunteer = make_volunteer(tree.a2, "王五")
    asked = membership_request(actor=volunteer.user, team=teams.brigade, volunteer=volunteer)
    added = membership_add(actor=leader, team=teams.brigade, volunteer=volunteer)
    assert added.pk == asked.pk and added.status == MembershipStatus.ACTIVE
    refused(
        membership_add,
        field=None,
        message=_("This volunteer already belongs to this team or has asked to join it."),
        actor=leader,
        team=teams.brigade,
        volunteer=volunteer,
    )


def test_a_volunteer_leaves_and_a_leader_removes(tree, teams):
    leaving, removed = make_volunteer(tree.a2, "王五"), make_volunteer(tree.a2, "赵六")
    own = make_member(teams.squad, leaving)
    other = make_member(teams.squad, removed)
    left = membership_end(actor=leaving.user, membership=own)
    assert (left.status, left.left_on) == (MembershipStatus.LEFT, timezone.localdate())
    gone = membership_end(actor=fresh(teams.leader.user), membership=other, note="长期未参加活动")
    assert (gone.status, gone.note) == (MembershipStatus.LEFT, "长期未参加活动")
    refused(
        membership_end,
        field=None,
        message=_("This volunteer is no longer in this team."),
        actor=leaving.user,
        membership=left,
    )
    # A volunteer ends only their own membership.
    stranger = make_member(teams.squad, make_volunteer(tree.a2, "钱七"))
    refused(membership_end, field="team", message=OUTSIDE, actor=leaving.user, membership=stranger)


def test_a_leader_beside_another_cannot_remove_it(tree, teams):
    co_leader = make_volunteer(tree.a1, "周副队长")
    co_leadership = make_member(teams.brigade, co_leader, MembershipRole.LEADER)
    refused(
        membership_end,
        field="role",
        message=LEADERS_FROM_ABOVE,
        actor=fresh(teams.leader.user),
        membership=co_leadership,
    )
    # Stepping down oneself is leaving: the role goes with it.
    membership_end(actor=co_leader.user, membership=co_leadership)
    assert not scope_for(co_leader.user).tree_grants


# --- Leaders --------------------------------------------------------------------------------------


def test_leaders_are_appointed_from_above_only(tree, teams, people):
    squad_member = make_member(teams.squad, make_volunteer(tree.a1, "吴九"))
    brigade_member = make_member(teams.brigade, make_volunteer(tree.a1, "郑十"))
    leader = fresh(teams.leader.user)
    # Never of its own team: nobody grants a role beside their own.
    refused(leader_appoint, field="role", message=LEADERS_FROM_ABOVE, actor=leader, membership=brigade_member)
    refused(
        leader_appoint,
        field="role",
        message=LEADERS_FROM_ABOVE,
        actor=people.inst_b,
        membership=brigade_member,
    )
    refused(
        membership_add,
        field="role",
        message=LEADERS_FROM_ABOVE,
        actor=leader,
        team=teams.brigade,
        volunteer=make_volunteer(tree.a1, "冯十一"),
        role=MembershipRole.LEADER,
    )
    # A sub-team's leader: yes.
    appointed = leader_appoint(actor=leader, membership=squad_member)
    assert appointed.role == MembershipRole.LEADER
    # The unit's admin appoints on the team's own unit.
    assert leader_appoint(actor=people.inst_a, membership=brigade_member).role == MembershipRole.LEADER


def test_appointing_and_revoking_change_the_leaders_scope_at_once(tree, teams, people):
    volunteer = make_volunteer(tree.a1, "吴九")
    user = volunteer.user
    membership = make_member(teams.squad, volunteer)
    membership.volunteer = volunteer  # the caller's objects, whose scope is remembered
    assert not Team.objects.visible_to(user).exists()
    leader_appoint(actor=teams.leader.user, membership=membership)
    assert set(Team.objects.visible_to(user)) == {teams.squad}
    leader_revoke(actor=people.station_a1, membership=membership)
    assert not Team.objects.visible_to(user).exists()
    assert TeamMembership.objects.get(pk=membership.pk).role == MembershipRole.MEMBER


def test_only_admitted_members_lead_and_revoking_needs_a_leader(tree, teams, people):
    volunteer = make_volunteer(tree.a2, "王五")
    asked = membership_request(actor=volunteer.user, team=teams.squad, volunteer=volunteer)
    refused(
        leader_appoint,
        field=None,
        message=_("Only an admitted member can be made team leader."),
        actor=people.inst_a,
        membership=asked,
    )
    refused(
        leader_appoint,
        field=None,
        message=_("This member already leads the team."),
        actor=people.inst_a,
        membership=teams.leadership,
    )
    member = make_member(teams.squad, make_volunteer(tree.a1, "吴九"))
    refused(
        leader_revoke,
        field=None,
        message=_("This member does not lead the team."),
        actor=people.inst_a,
        membership=member,
    )
    refused(
        leader_revoke,
        field="role",
        message=LEADERS_FROM_ABOVE,
        actor=fresh(teams.leader.user),
        membership=teams.leadership,
    )


def test_membership_add_as_leader_by_the_unit_admin(tree, teams, people):
    volunteer = make_volunteer(tree.a1, "吴九")
    membership = membership_add(
        actor=people.station_a1, team=teams.squad, volunteer=volunteer, role=MembershipRole.LEADER
    )
    assert (membership.role, membership.status) == (MembershipRole.LEADER, MembershipStatus.ACTIVE)
    assert set(Team.objects.visible_to(fresh(volunteer.user))) == {teams.squad}


# --- Reads ----------------------------------------------------------------------------------------


def test_teams_led_by_and_team_tree_in_path_order(tree, teams, people):
    leader = fresh(teams.leader.user)
    assert list(selectors.teams_led_by(leader)) == [teams.brigade]
    assert list(selectors.team_tree(leader)) == [teams.brigade, teams.squad]
    rows = list(selectors.team_tree(people.inst_a))
    assert rows == [teams.corps, teams.brigade, teams.squad, teams.sibling]
    assert [row.member_count for row in rows] == [0, 1, 0, 0]
    assert list(selectors.team_tree(people.inst_a, root=teams.brigade)) == [teams.brigade, teams.squad]
    assert list(selectors.team_tree(people.inst_b, root=teams.brigade)) == []
    assert list(selectors.team_tree(people.nobody)) == []


def test_team_members_and_pending_joins(tree, teams, people):
    members = [make_member(teams.squad, make_volunteer(tree.a1, han_name(i))) for i in range(2)]
    volunteer = make_volunteer(tree.b1, "赵六")
    asked = membership_request(actor=volunteer.user, team=teams.squad, volunteer=volunteer)
    leader = fresh(teams.leader.user)
    assert set(selectors.team_members(leader, teams.squad)) == set(members)
    assert list(selectors.pending_joins(leader, teams.squad)) == [asked]
    assert list(selectors.pending_joins(people.inst_b, teams.squad)) == []
    assert list(selectors.team_members(people.inst_b, teams.squad)) == []
    assert list(selectors.pending_joins(people.viewer, teams.squad)) == []  # sees, decides nothing


def _grow_team(tree, team, count, status=MembershipStatus.ACTIVE):
    for i in range(count):
        volunteer = make_volunteer(tree.a1, han_name(i))
        TeamMembership.objects.create(team=team, volunteer=volunteer, status=status)


def test_team_reads_query_count_for_1_and_50_rows(tree, people, django_assert_num_queries):
    corps = make_team(tree.a, "甲镇志愿服务总队")
    leader = make_volunteer(tree.a1, "李队长")
    make_member(corps, leader, MembershipRole.LEADER)

    def read_all(user):
        forget_scope(user)
        with django_assert_num_queries(1 + 4):  # the scope, then one query per list
            tree_rows = [
                (t.name, t.unit.name, t.parent_id, t.member_count) for t in selectors.team_tree(user)
            ]
            members = [
                (m.volunteer.name, m.volunteer.home_unit.name) for m in selectors.team_members(user, corps)
            ]
            pending = [(m.volunteer.name, m.team.name) for m in selectors.pending_joins(user, corps)]
            led = [t.unit.name for t in selectors.teams_led_by(user)]
        return len(tree_rows), len(members), len(pending), len(led)

    assert read_all(leader.user) == (1, 1, 0, 1)
    brigades = [make_team(tree.a1, f"大队{i}", kind=TeamKind.BRIGADE, parent=corps) for i in range(49)]
    assert brigades
    _grow_team(tree, corps, 49)
    _grow_team(tree, corps, 50, MembershipStatus.PENDING)
    assert read_all(leader.user) == (50, 50, 50, 1)
    assert read_all(people.inst_a)[:3] == (50, 50, 50)


def test_nobody_adds_a_volunteer_from_outside_their_area(tree, people):
    from django.utils.translation import gettext

    from kernel.errors import ApplicationError
    from volunteers.teams import membership_add

    team = make_team(tree.a, "甲镇志愿服务总队")
    outsider = make_volunteer(tree.b1, "乙镇人")
    with pytest.raises(ApplicationError) as refusal:
        membership_add(actor=people.inst_a, team=team, volunteer=outsider)
    assert refusal.value.field == "volunteer"
    assert str(refusal.value.message) == gettext(
        "This volunteer is outside your area: ask them to request to join the team."
    )
    assert not TeamMembership.objects.filter(volunteer=outsider).exists()


def test_a_volunteer_who_leaves_leaves_every_team(tree, teams, people):
    pending = membership_request(actor=teams.leader.user, team=teams.sibling, volunteer=teams.leader)
    other = make_member(teams.brigade, make_volunteer(tree.a1, "王五"))
    volunteer_update(actor=people.inst_a, volunteer=teams.leader, status=VolunteerStatus.LEFT)
    for membership in (teams.leadership, pending):
        membership.refresh_from_db()
        assert (membership.status, membership.left_on) == (MembershipStatus.LEFT, timezone.localdate())
    other.refresh_from_db()
    assert (other.status, other.left_on) == (MembershipStatus.ACTIVE, None)
    assert scope_for(fresh(teams.leader.user)).is_empty


def test_a_suspended_volunteer_keeps_the_memberships_but_not_the_role(tree, teams, people):
    volunteer_update(actor=people.inst_a, volunteer=teams.leader, status=VolunteerStatus.SUSPENDED)
    teams.leadership.refresh_from_db()
    assert teams.leadership.status == MembershipStatus.ACTIVE
    assert scope_for(fresh(teams.leader.user)).is_empty
    # Active again, the role is back.
    volunteer_update(actor=people.inst_a, volunteer=teams.leader, status=VolunteerStatus.ACTIVE)
    assert set(Team.objects.visible_to(fresh(teams.leader.user))) == {teams.brigade, teams.squad}
