"""The scoping rule itself: roles → subtrees with capabilities → one filter, the same in SQL and Python."""

import random

import pytest

from kernel.testing import assert_refused
from stations.models import Inspection, Platform, Role, RoleAssignment, Unit, UnitKind
from stations.paths import root_id
from stations.scoping import ROLE_CAPABILITIES, Capability, can, forget_scope, require, scope_for
from stations.services import inspection_record, role_grant
from stations.tests.factories import make_unit, make_user

pytestmark = pytest.mark.django_db


def test_several_roles_add_up_to_several_subtrees(tree):
    user = make_user("two_hats", role=Role.STATION_ADMIN, unit=tree.a1)
    role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.b1)
    assert set(Unit.objects.visible_to(user)) == {tree.a1, tree.a1a, tree.b1, tree.b1a}


def test_a_role_inside_another_adds_nothing(tree, people):
    role_grant(actor=None, user=people.inst_a, role=Role.STATION_ADMIN, unit=tree.a1)
    forget_scope(people.inst_a)
    assert scope_for(people.inst_a).roots == (tree.a.path,)


def test_a_viewer_sees_the_county_and_may_change_nothing(tree, people):
    viewer = people.viewer
    assert set(Unit.objects.visible_to(viewer)) == set(Unit.objects.all())
    assert not Unit.objects.changeable_by(viewer).exists()
    for capability in vars(Capability).values():
        if isinstance(capability, str) and "." in capability:
            assert not can(viewer, capability, tree.a1), capability


def test_capabilities_follow_the_role_where_it_is_held(tree, people):
    """A viewer on the county who administers one station changes only that station."""
    user = make_user("mixed", role=Role.VIEWER, unit=tree.center)
    role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.b1)
    assert set(Unit.objects.changeable_by(user)) == {tree.b1, tree.b1a}
    assert can(user, Capability.UNITS_VIEW_CONTACTS, tree.b1a)
    assert not can(user, Capability.UNITS_VIEW_CONTACTS, tree.a1)
    assert can(user, Capability.INSPECTIONS_RECORD, tree.b1a, below=True)
    assert not can(user, Capability.INSPECTIONS_RECORD, tree.b1, below=True)


def test_only_county_admins_hold_reference_data(tree, people, reference):
    assert set(Platform.objects.changeable_by(people.county)) == {reference.platform}
    for who in ("inst_a", "station_a1", "viewer"):
        user = getattr(people, who)
        assert set(Platform.objects.visible_to(user)) == {reference.platform}, who
        assert not Platform.objects.changeable_by(user).exists(), who


def test_an_unknown_or_misplaced_role_row_grants_nothing(tree, people):
    # Rows no service would write: a role that no longer exists, a station role on the center.
    RoleAssignment.objects.create(user=people.nobody, role="team_leader", unit=tree.a1)
    RoleAssignment.objects.create(user=people.nobody, role=Role.STATION_ADMIN, unit=tree.center)
    assert scope_for(people.nobody).is_empty
    assert not Unit.objects.visible_to(people.nobody).exists()


def test_a_deactivated_unit_stops_granting_its_subtree(tree, people):
    Unit.objects.filter(pk=tree.a1.pk).update(is_active=False)
    assert scope_for(people.station_a1).is_empty


def test_scope_is_one_query_and_remembered_for_the_request(tree, people, django_assert_num_queries):
    forget_scope(people.inst_a)
    with django_assert_num_queries(1):
        scope_for(people.inst_a)
        scope_for(people.inst_a)


def test_related_models_are_scoped_by_their_declared_unit(tree, people, reference):
    for unit in (tree.a1, tree.b1):
        inspection_record(actor=None, unit=unit, checklist=reference.checklist, inspected_on="2026-11-01")
    assert [i.unit for i in Inspection.objects.visible_to(people.inst_a)] == [tree.a1]
    # Inspections are changed from above: the station admin sees its own and changes none. What the
    # system recorded belongs to the center: the county changes it, the institute below does not.
    assert Inspection.objects.visible_to(people.station_a1).count() == 1
    assert not Inspection.objects.changeable_by(people.station_a1).exists()
    assert not Inspection.objects.changeable_by(people.inst_a).exists()
    assert Inspection.objects.changeable_by(people.county).count() == 2
    own = inspection_record(
        actor=people.inst_a, unit=tree.a2, checklist=reference.checklist, inspected_on="2026-11-01"
    )
    assert list(Inspection.objects.changeable_by(people.inst_a)) == [own]


def test_below_leaves_out_the_users_own_units(tree, people):
    scope = scope_for(people.inst_a)
    assert set(Unit.objects.filter(scope.q(below=True))) == {tree.a1, tree.a2, tree.a1a}
    assert scope.contains(tree.a) and not scope.contains(tree.a, below=True)
    assert scope.contains(tree.a1, below=True)


def test_require_refuses_with_the_field_and_message(tree, people):
    assert_refused(
        lambda: require(people.inst_a, Capability.UNITS_CHANGE, tree.b1, field="parent"),
        field="parent",
        message="该单位不在您的管理范围内。",
    )
    require(None, Capability.UNITS_DELETE, tree.center, below=True)  # the system itself is not scoped


def _random_tree(rng, centers=2):
    units = []
    for c in range(centers):
        center = make_unit(UnitKind.CENTER, name=f"中心{c}")
        units.append(center)
        for _i in range(rng.randint(1, 3)):
            institute = make_unit(UnitKind.INSTITUTE, center)
            units.append(institute)
            for _s in range(rng.randint(0, 3)):
                station = make_unit(UnitKind.STATION, institute)
                units.append(station)
                units += [make_unit(UnitKind.POINT, station) for _p in range(rng.randint(0, 2))]
            if rng.random() < 0.5:
                units.append(make_unit(UnitKind.POINT, institute))
    return units


@pytest.mark.parametrize("seed", range(4))
def test_the_sql_and_python_forms_of_a_scope_agree(db, seed):
    """For random trees and random role sets, `q()` in the database and `contains()` in Python select the
    same units, for seeing and for each capability, with and without `below`."""
    rng = random.Random(seed)
    units = _random_tree(rng)
    holdable = [u for u in units if u.kind != UnitKind.POINT]
    kinds = {Role.COUNTY_ADMIN: "center", Role.INSTITUTE_ADMIN: "institute", Role.STATION_ADMIN: "station"}
    capabilities = [None, *sorted({c for caps in ROLE_CAPABILITIES.values() for c in caps})]
    for n in range(6):
        user = make_user(f"u{seed}-{n}")
        for unit in rng.sample(holdable, k=rng.randint(0, 3)):
            role = rng.choice([r for r, kind in kinds.items() if kind == unit.kind] + [Role.VIEWER])
            role_grant(actor=None, user=user, role=role, unit=unit)
        scope = scope_for(user)
        for capability in capabilities:
            for below in (False, True):
                in_sql = set(Unit.objects.filter(scope.q(capability=capability, below=below)))
                in_python = {u for u in units if scope.contains(u, capability=capability, below=below)}
                assert in_sql == in_python, (seed, n, capability, below)
        # Reference data: read under every center the user works in, changed on the centers they hold.
        assert set(scope.center_ids()) == {root_id(u.path) for u in units if scope.contains(u)}
        assert set(scope.center_ids(Capability.REFERENCE_CHANGE)) == {
            u.pk
            for u in units
            if u.kind == UnitKind.CENTER and scope.contains(u, capability=Capability.REFERENCE_CHANGE)
        }
