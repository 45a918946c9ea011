"""The volunteer record and the team extension of the scoping rule."""

from django.db import connection

from stations.scoping import scope_for
from volunteers.models import MembershipRole, Team, TeamKind, TeamMembership, Volunteer
from volunteers.tests.factories import make_member, make_team, make_volunteer


def test_id_number_is_stored_encrypted_hashed_and_masked(tree):
    volunteer = make_volunteer(tree.a1, id_number="350721199005031238")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM volunteers_volunteer WHERE id = %s", [volunteer.pk])
        raw = " ".join(str(value) for value in cursor.fetchone())
    assert "350721199005031238" not in raw
    assert "199005031238" not in raw
    assert volunteer.id_number_masked == "3507**********1238"
    assert volunteer.number.startswith("ZY")


def test_team_leader_scope_is_its_team_and_sub_teams(tree, people):
    corps = make_team(tree.a, "甲镇志愿服务总队")
    brigade = make_team(tree.a, "甲镇文艺大队", kind=TeamKind.BRIGADE, parent=corps)
    squad = make_team(tree.a1, "甲一村文艺分队", kind=TeamKind.SQUAD, parent=brigade)
    other = make_team(tree.b, "乙镇志愿服务总队")
    leader = make_volunteer(tree.a1, "李队长", password="Leader-pass-2026")
    make_member(brigade, leader, MembershipRole.LEADER)
    member = make_volunteer(tree.a2, "王五")
    make_member(squad, member)
    outsider = make_volunteer(tree.b1, "赵六")
    make_member(other, outsider)

    user = leader.user
    scope = scope_for(user)
    assert not scope.holds_units
    assert set(Team.objects.visible_to(user)) == {brigade, squad}
    assert set(Volunteer.objects.visible_to(user)) == {leader, member}
    assert set(TeamMembership.objects.changeable_by(user).values_list("team", flat=True)) == {
        brigade.pk,
        squad.pk,
    }
    assert not Team.objects.changeable_by(user).exists()
    # Staff are unchanged: the institute admin of B sees none of A's teams or volunteers.
    assert not Team.objects.visible_to(people.inst_b).filter(pk__in=[corps.pk, brigade.pk]).exists()
    assert set(Volunteer.objects.visible_to(people.inst_b)) == {outsider}
