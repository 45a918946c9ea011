"""The scoping rule itself: roles → subtrees → one filter."""

import pytest

from stations.models import Inspection, Role, Unit
from stations.scoping import scope_for
from stations.services import inspection_record, role_grant
from stations.tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_several_roles_add_up_to_several_subtrees(tree):
    user = make_user("two_hats", role=Role.STATION_ADMIN, unit=tree.a1)

    role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.b1)
    visible = set(scope_for(user).filter(Unit.objects.all()))
    assert visible == {tree.a1, tree.a1a, tree.b1, tree.b1a}


def test_a_role_inside_another_adds_nothing(tree, people):

    role_grant(actor=None, user=people.inst_a, role=Role.STATION_ADMIN, unit=tree.a1)
    people.inst_a.__dict__.pop("_practice_scope", None)
    assert scope_for(people.inst_a).roots == (tree.a.path,)


def test_volunteer_and_team_leader_roles_administer_nothing(tree, people):

    role_grant(actor=None, user=people.nobody, role=Role.TEAM_LEADER, unit=tree.a1)
    assert scope_for(people.volunteer).is_empty and scope_for(people.nobody).is_empty


def test_a_deactivated_unit_stops_granting_its_subtree(tree, people):
    Unit.objects.filter(pk=tree.a1.pk).update(is_active=False)
    assert scope_for(people.station_a1).is_empty


def test_scope_is_one_query_and_remembered_for_the_request(tree, people, django_assert_num_queries):
    people.inst_a.__dict__.pop("_practice_scope", None)
    with django_assert_num_queries(1):
        scope_for(people.inst_a)
        scope_for(people.inst_a)


def test_scope_filters_related_models_by_their_unit(tree, people, reference):

    for unit in (tree.a1, tree.b1):
        inspection_record(actor=None, unit=unit, checklist=reference.checklist, inspected_on="2026-11-01")
    visible = scope_for(people.inst_a).filter(Inspection.objects.all(), "unit")
    assert [i.unit for i in visible] == [tree.a1]


def test_strict_scope_leaves_out_the_users_own_units(tree, people):
    scope = scope_for(people.inst_a)
    assert set(Unit.objects.filter(scope.strict_q())) == {tree.a1, tree.a2, tree.a1a}
    assert scope.contains(tree.a) and not scope.contains_strictly(tree.a) and scope.contains_strictly(tree.a1)
