"""The unit tree's rules: paths, moves, kinds, inspections and role grants."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from kernel.testing import assert_refused
from stations import services
from stations.models import Inspection, Role, RoleAssignment, Unit, UnitKind
from stations.tests.factories import make_user

OUTSIDE = "该单位不在您的管理范围内。"
FROM_ABOVE = "本单位的隶属关系和类型由上级决定。"

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
    services.unit_update(actor=None, unit=tree.a1, parent=tree.b)
    point = Unit.objects.get(pk=tree.a1a.pk)
    assert point.path.startswith(tree.b.path) and point.depth == 3
    assert set(Unit.objects.subtree_of(tree.b)) == {tree.b, tree.b1, tree.b1a, tree.a1, point}
    assert set(Unit.objects.subtree_of(tree.a)) == {tree.a, tree.a2}


@pytest.mark.parametrize(
    ("kind", "parent_name", "message"),
    [
        (UnitKind.STATION, "center", "文明实践站必须隶属于文明实践所。"),
        (UnitKind.INSTITUTE, "a", "文明实践所必须隶属于文明实践中心。"),
        (UnitKind.POINT, None, "请选择上级单位。"),
    ],
)
def test_a_unit_hangs_only_under_the_kind_above_it(tree, kind, parent_name, message):
    parent = getattr(tree, parent_name) if parent_name else None
    assert_refused(
        services.unit_create,
        field="parent",
        message=message,
        actor=None,
        kind=kind,
        name="x",
        code="X-1",
        parent=parent,
    )
    assert not Unit.objects.filter(code="X-1").exists()


def test_a_point_may_hang_directly_under_an_institute(tree):
    point = services.unit_create(actor=None, kind=UnitKind.POINT, name="镇企业点", code="P-9", parent=tree.a)
    assert point.path.startswith(tree.a.path)


def test_a_unit_cannot_move_under_its_own_station(tree, people):
    # Refused by the kinds before the cycle check: an institute hangs under a center.
    assert_refused(
        services.unit_update,
        field="parent",
        message="文明实践所必须隶属于文明实践中心。",
        actor=people.county,
        unit=tree.a,
        parent=tree.a1,
    )
    assert Unit.objects.get(pk=tree.a.pk).parent_id == tree.center.pk


def test_station_admin_cannot_move_its_station_nor_pick_a_foreign_parent(tree, people):
    assert_refused(
        services.unit_update,
        field="parent",
        message=FROM_ABOVE,
        actor=people.station_a1,
        unit=tree.a1,
        parent=tree.b,
    )
    assert_refused(
        services.unit_update,
        field="parent",
        message=OUTSIDE,
        actor=people.station_a1,
        unit=tree.a1a,
        parent=tree.b1,
    )
    assert Unit.objects.get(pk=tree.a1a.pk).parent_id == tree.a1.pk


def test_institute_admin_creates_only_inside_its_subtree(tree, people):
    services.unit_create(actor=people.inst_a, kind=UnitKind.STATION, name="新站", code="A-NEW", parent=tree.a)
    assert_refused(
        services.unit_create,
        field="parent",
        message=OUTSIDE,
        actor=people.inst_a,
        kind=UnitKind.STATION,
        name="越界站",
        code="B-NEW",
        parent=tree.b,
    )
    assert not Unit.objects.filter(code="B-NEW").exists()


def test_only_a_superuser_creates_a_center(db):
    user = make_user("someone")
    assert_refused(
        services.unit_create,
        field="kind",
        message="只有系统管理员可以创建文明实践中心。",
        actor=user,
        kind=UnitKind.CENTER,
        name="另一中心",
        code="C-2",
    )


def test_database_refuses_a_root_that_is_not_a_center(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=tree.a.pk).update(parent=None)


def test_database_refuses_half_coordinates(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=tree.a.pk).update(longitude=117.5, latitude=None)


def test_unit_with_sub_units_cannot_be_deleted(tree, people):
    assert_refused(
        services.unit_delete,
        field=None,
        message="有下级单位的单位不能删除，请先移走或删除其下级单位。",
        actor=people.inst_a,
        unit=tree.a1,
    )
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
        assert_refused(
            services.inspection_record,
            field="unit",
            message="只能督查本单位的下级单位。",
            actor=actor,
            unit=unit,
            checklist=reference.checklist,
            inspected_on=datetime.date(2026, 11, 1),
        )
    assert not Inspection.objects.exists()


def test_inspection_standard_must_fit_the_unit_kind(tree, people, reference):
    assert_refused(
        services.inspection_record,
        field="checklist",
        message="该标准适用于文明实践站，不适用于此单位。",
        actor=people.inst_a,
        unit=tree.a1a,
        checklist=reference.checklist,
        inspected_on=datetime.date.today(),
    )


def test_admin_role_needs_the_matching_unit_kind_and_makes_staff(tree):
    user = make_user("new_admin")
    assert_refused(
        services.role_grant,
        field="unit",
        message="文明实践所管理员只能设在文明实践所。",
        actor=None,
        user=user,
        role=Role.INSTITUTE_ADMIN,
        unit=tree.a1,
    )
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
    assert_refused(
        services.role_grant,
        field="unit",
        message="您不能在该单位授予角色。",
        actor=people.inst_a,
        user=user,
        role=Role.INSTITUTE_ADMIN,
        unit=tree.a,
    )
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
    make_user("station_a2", role=Role.STATION_ADMIN, unit=tree.a2)
    actor = get_user_model().objects.get(username="station_a2")
    assert_refused(
        services.unit_update,
        field="kind",
        message=FROM_ABOVE,
        actor=actor,
        unit=tree.a2,
        kind=UnitKind.POINT,
        category="school",
    )
    assert Unit.objects.get(pk=tree.a2.pk).kind == UnitKind.STATION


def test_a_recorded_inspection_keeps_its_unit_and_standard(tree, people, reference):
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.b1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 1),
    )
    assert_refused(  # not inst_a's to touch at all
        services.inspection_update,
        field="unit",
        message="只能督查本单位的下级单位。",
        actor=people.inst_a,
        inspection=inspection,
        unit=tree.a1,
    )
    assert_refused(
        services.inspection_update,
        field="unit",
        message="已记录的督查不能更改单位和建设标准，请另行新建督查。",
        actor=people.county,
        inspection=inspection,
        unit=tree.a1,
    )
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
    services.role_grant(actor=None, user=user, role=Role.VIEWER, unit=tree.a1)
    services.role_revoke(
        actor=None, assignment=RoleAssignment.objects.get(user=user, role=Role.STATION_ADMIN)
    )
    user.refresh_from_db()
    assert not user.is_staff
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_an_institute_admin_grants_a_viewer_below_but_not_on_its_own_institute(tree, people):
    user = make_user("new_viewer")
    services.role_grant(actor=people.inst_a, user=user, role=Role.VIEWER, unit=tree.a1)
    user.refresh_from_db()
    assert not user.is_staff  # a viewer reads the API; the admin is for those who administer
    assert_refused(
        services.role_grant,
        field="unit",
        message="您不能在该单位授予角色。",
        actor=people.inst_a,
        user=user,
        role=Role.VIEWER,
        unit=tree.a,
    )
    assert_refused(  # a station admin grants nothing
        services.role_grant,
        field="unit",
        message="您不能在该单位授予角色。",
        actor=people.station_a1,
        user=user,
        role=Role.VIEWER,
        unit=tree.a1,
    )


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
    assert_refused(
        services.unit_delete,
        field=None,
        message="该单位已有相关记录，不能删除，请改为停用。",
        actor=people.inst_a,
        unit=tree.a2,
    )
    assert Unit.objects.filter(pk=tree.a2.pk).exists()


def test_a_unit_with_an_admin_role_keeps_its_kind(tree, people):
    Unit.objects.filter(parent=tree.a1).delete()
    assert_refused(
        services.unit_update,
        field="kind",
        message="已有角色授权或督查记录的单位不能更改类型。",
        actor=people.county,
        unit=tree.a1,
        kind=UnitKind.POINT,
        category="school",
    )


def test_a_center_with_platforms_is_not_deleted(tree, reference, django_user_model):
    root = django_user_model.objects.create_superuser("root_delete", password="x-pass-1234")
    for unit in (tree.a1a, tree.b1a, tree.a1, tree.a2, tree.b1, tree.a, tree.b):
        RoleAssignment.objects.filter(unit=unit).delete()
        services.unit_delete(actor=root, unit=unit)
    assert_refused(
        services.unit_delete,
        field=None,
        message="该单位已有相关记录，不能删除，请改为停用。",
        actor=root,
        unit=tree.center,
    )
    assert Unit.objects.filter(pk=tree.center.pk).exists()


def test_an_old_inspection_stays_editable_after_its_standard_is_retired(tree, people, reference):
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 3, 5),
    )
    services.checklist_update(actor=people.county, checklist=reference.checklist, is_active=False)
    services.inspection_update(actor=people.county, inspection=inspection, note="补充说明")
    assert Inspection.objects.get(pk=inspection.pk).note == "补充说明"
    assert_refused(
        services.inspection_record,
        field="checklist",
        message="该建设标准已停用。",
        actor=people.county,
        unit=tree.a2,
        checklist=reference.checklist,
        inspected_on=datetime.date.today(),
    )
