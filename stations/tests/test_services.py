"""The unit tree's rules: paths, moves, kinds, inspections and role grants."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from kernel.errors import ApplicationError
from stations import services
from stations.models import Inspection, Role, RoleAssignment, Unit, UnitKind
from stations.tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_paths_and_depth_follow_the_tree(tree):
    assert tree.center.depth == 0 and tree.a.depth == 1 and tree.a1.depth == 2 and tree.a1a.depth == 3
    assert tree.a1a.path == tree.center.path + Unit.path_segment(tree.a.pk) + Unit.path_segment(
        tree.a1.pk
    ) + (Unit.path_segment(tree.a1a.pk))
    assert set(Unit.objects.subtree_of(tree.a)) == {tree.a, tree.a1, tree.a2, tree.a1a}
    assert list(Unit.objects.ancestors_of(tree.a1a)) == [tree.center, tree.a, tree.a1]


@pytest.mark.smoke
def test_moving_a_station_rewrites_its_whole_subtree(tree):
    tree.a1.parent = tree.b
    services.unit_save(actor=None, unit=tree.a1)
    point = Unit.objects.get(pk=tree.a1a.pk)
    assert point.path.startswith(tree.b.path) and point.depth == 3
    assert set(Unit.objects.subtree_of(tree.b)) == {tree.b, tree.b1, tree.b1a, tree.a1, point}
    assert set(Unit.objects.subtree_of(tree.a)) == {tree.a, tree.a2}


@pytest.mark.parametrize(
    ("kind", "parent_name", "message"),
    [
        (UnitKind.STATION, "center", "必须隶属于"),
        (UnitKind.INSTITUTE, "a", "必须隶属于"),
        (UnitKind.POINT, None, "请选择"),
    ],
)
def test_a_unit_hangs_only_under_the_kind_above_it(tree, kind, parent_name, message):
    parent = getattr(tree, parent_name) if parent_name else None
    with pytest.raises(ApplicationError) as error:
        services.unit_create(actor=None, kind=kind, name="x", code="X-1", parent=parent)
    assert message in str(error.value.message)
    assert not Unit.objects.filter(code="X-1").exists()


def test_a_point_may_hang_directly_under_an_institute(tree):
    point = services.unit_create(actor=None, kind=UnitKind.POINT, name="镇企业点", code="P-9", parent=tree.a)
    assert point.path.startswith(tree.a.path)


def test_a_unit_cannot_move_under_its_own_station(tree, people):
    tree.a.parent = tree.a1  # refused by the kinds before the cycle check: an institute hangs under a center
    with pytest.raises(ApplicationError):
        services.unit_save(actor=people.county, unit=tree.a)
    assert Unit.objects.get(pk=tree.a.pk).parent_id == tree.center.pk


def test_station_admin_cannot_move_its_station_nor_pick_a_foreign_parent(tree, people):
    station = Unit.objects.get(pk=tree.a1.pk)
    station.parent = tree.b
    with pytest.raises(ApplicationError):
        services.unit_save(actor=people.station_a1, unit=station)
    point = Unit.objects.get(pk=tree.a1a.pk)
    point.parent = tree.b1
    with pytest.raises(ApplicationError):
        services.unit_save(actor=people.station_a1, unit=point)
    assert Unit.objects.get(pk=tree.a1a.pk).parent_id == tree.a1.pk


def test_institute_admin_creates_only_inside_its_subtree(tree, people):
    services.unit_create(actor=people.inst_a, kind=UnitKind.STATION, name="新站", code="A-NEW", parent=tree.a)
    with pytest.raises(ApplicationError):
        services.unit_create(
            actor=people.inst_a, kind=UnitKind.STATION, name="越界站", code="B-NEW", parent=tree.b
        )
    assert not Unit.objects.filter(code="B-NEW").exists()


def test_only_a_superuser_creates_a_center(db):
    user = make_user("someone")
    with pytest.raises(ApplicationError):
        services.unit_create(actor=user, kind=UnitKind.CENTER, name="另一中心", code="C-2")


def test_database_refuses_a_root_that_is_not_a_center(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=tree.a.pk).update(parent=None)


def test_database_refuses_half_coordinates(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=tree.a.pk).update(longitude=117.5, latitude=None)


def test_unit_with_sub_units_cannot_be_deleted(tree, people):
    with pytest.raises(ApplicationError):
        services.unit_delete(actor=people.inst_a, unit=tree.a1)
    services.unit_delete(actor=people.inst_a, unit=tree.a2)
    assert not Unit.objects.filter(pk=tree.a2.pk).exists()


def test_inspection_scores_met_weight_over_total(tree, people, reference):
    items = list(reference.checklist.items.all())
    inspection = services.inspection_record(
        actor=people.inst_a,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 1),
        met_item_ids=[items[0].pk, items[1].pk],
    )
    inspection.refresh_from_db()
    assert (inspection.items_met, inspection.items_total, str(inspection.score)) == (2, 3, "66.7")
    assert inspection.inspector == people.inst_a


def test_nobody_inspects_their_own_unit_or_a_foreign_one(tree, people, reference):
    for actor, unit in [(people.station_a1, tree.a1), (people.inst_a, tree.b1)]:
        with pytest.raises(ApplicationError):
            services.inspection_record(
                actor=actor, unit=unit, checklist=reference.checklist, inspected_on=datetime.date(2026, 11, 1)
            )
    assert not Inspection.objects.exists()


def test_inspection_standard_must_fit_the_unit_kind(tree, people, reference):
    with pytest.raises(ApplicationError) as error:
        services.inspection_record(
            actor=people.inst_a,
            unit=tree.a1a,
            checklist=reference.checklist,
            inspected_on=datetime.date.today(),
        )
    assert error.value.field == "checklist"


def test_admin_role_needs_the_matching_unit_kind_and_makes_staff(tree):
    user = make_user("new_admin")
    with pytest.raises(ApplicationError):
        services.role_grant(actor=None, user=user, role=Role.INSTITUTE_ADMIN, unit=tree.a1)
    services.role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.a1)
    user.refresh_from_db()
    assert user.is_staff


def test_granting_twice_keeps_one_assignment(tree):
    user = make_user("twice")
    services.role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.a1)
    services.role_grant(actor=None, user=user, role=Role.STATION_ADMIN, unit=tree.a1)
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_an_admin_cannot_grant_roles_on_its_own_unit(tree, people):
    user = make_user("peer")
    with pytest.raises(ApplicationError):
        services.role_grant(actor=people.inst_a, user=user, role=Role.INSTITUTE_ADMIN, unit=tree.a)
    services.role_grant(actor=people.inst_a, user=user, role=Role.STATION_ADMIN, unit=tree.a2)


def test_subtree_query_uses_the_path_index_on_postgresql(tree):
    if connection.vendor != "postgresql":
        pytest.skip("the index plan is a PostgreSQL property; set DATABASE_URL to run it")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = Unit.objects.subtree_of(tree.a).only("pk").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    # A range condition on the pattern-ops index, not a whole-index scan with a filter.
    assert "stations_unit_path" in plan and "Index Cond" in plan and "~>=~" in plan, plan


def test_a_station_admin_cannot_re_kind_its_own_station(tree, people):
    station = Unit.objects.get(pk=tree.a2.pk)
    make_user("station_a2", role=Role.STATION_ADMIN, unit=station)
    actor = get_user_model().objects.get(username="station_a2")
    station.kind, station.category = UnitKind.POINT, "school"
    with pytest.raises(ApplicationError):
        services.unit_save(actor=actor, unit=station)
    assert Unit.objects.get(pk=tree.a2.pk).kind == UnitKind.STATION


def test_a_recorded_inspection_keeps_its_unit_and_standard(tree, people, reference):
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.b1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 1),
    )
    moved = Inspection.objects.get(pk=inspection.pk)
    moved.unit = tree.a1
    with pytest.raises(ApplicationError):
        services.inspection_save(actor=people.inst_a, inspection=moved)  # not inst_a's, and not movable
    with pytest.raises(ApplicationError):
        services.inspection_save(actor=people.county, inspection=moved)
    assert Inspection.objects.get(pk=inspection.pk).unit_id == tree.b1.pk


def test_a_past_score_does_not_change_when_the_standard_is_edited(tree, people, reference):
    first = reference.checklist.items.order_by("order").first()
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 1),
        met_item_ids=[first.pk],
    )
    assert str(inspection.score) == "33.3"
    reference.checklist.items.exclude(pk=first.pk).update(weight=1)
    first.weight, first.text = 8, "改过的条目"
    first.save()
    services.inspection_score_refresh(inspection=inspection)
    inspection.refresh_from_db()
    assert str(inspection.score) == "33.3"
    assert inspection.results.get(item=first).item_text != "改过的条目"


def test_revoking_the_last_admin_role_takes_away_admin_access(tree):
    user = make_user("short_lived", role=Role.STATION_ADMIN, unit=tree.a1)
    services.role_grant(actor=None, user=user, role=Role.VOLUNTEER, unit=tree.a1)
    services.role_revoke(
        actor=None, assignment=RoleAssignment.objects.get(user=user, role=Role.STATION_ADMIN)
    )
    user.refresh_from_db()
    assert not user.is_staff
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_a_station_admin_registers_volunteers_at_its_own_station(tree, people):
    user = make_user("new_volunteer")
    services.role_grant(actor=people.station_a1, user=user, role=Role.VOLUNTEER, unit=tree.a1)
    with pytest.raises(ApplicationError):
        services.role_grant(actor=people.station_a1, user=user, role=Role.VOLUNTEER, unit=tree.a2)


def test_an_admin_role_on_the_wrong_kind_of_unit_grants_nothing(tree):
    from stations.scoping import scope_for

    user = make_user("odd_row")
    # A row no service would write (an institute role on the center): the scope must ignore it.
    RoleAssignment.objects.create(user=user, role=Role.STATION_ADMIN, unit=tree.center)
    assert scope_for(user).is_empty


def test_a_unit_with_inspections_is_deactivated_not_deleted(tree, people, reference):
    services.inspection_record(
        actor=people.county,
        unit=tree.a2,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 1),
    )
    with pytest.raises(ApplicationError):
        services.unit_delete(actor=people.inst_a, unit=tree.a2)
    assert Unit.objects.filter(pk=tree.a2.pk).exists()


def test_a_unit_with_an_admin_role_keeps_its_kind(tree, people):
    station = Unit.objects.get(pk=tree.a1.pk)
    Unit.objects.filter(parent=station).delete()
    station.kind, station.category = UnitKind.POINT, "school"
    with pytest.raises(ApplicationError) as error:
        services.unit_save(actor=people.county, unit=station)
    assert error.value.field == "kind"


def test_a_center_with_platforms_is_not_deleted(tree, reference, django_user_model):
    root = django_user_model.objects.create_superuser("root_delete", password="x-pass-1234")
    for unit in (tree.a1a, tree.b1a, tree.a1, tree.a2, tree.b1, tree.a, tree.b):
        RoleAssignment.objects.filter(unit=unit).delete()
        services.unit_delete(actor=root, unit=unit)
    with pytest.raises(ApplicationError):
        services.unit_delete(actor=root, unit=tree.center)
    assert Unit.objects.filter(pk=tree.center.pk).exists()


def test_an_old_inspection_stays_editable_after_its_standard_is_retired(tree, people, reference):
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 3, 5),
    )
    reference.checklist.is_active = False
    reference.checklist.save()
    inspection.note = "补充说明"
    services.inspection_save(actor=people.inst_a, inspection=inspection)
    assert Inspection.objects.get(pk=inspection.pk).note == "补充说明"
    with pytest.raises(ApplicationError):
        services.inspection_record(
            actor=people.county,
            unit=tree.a2,
            checklist=reference.checklist,
            inspected_on=datetime.date.today(),
        )
