"""Every admin is scoped by its model's rule, writes only through services, and never answers 500."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kernel.admin_site import SuperuserOnlyAdmin
from kernel.testing import assert_refused
from stations import services
from stations.admin_scoping import ScopedInline, ScopedModelAdmin
from stations.models import Inspection, Platform, Role, RoleAssignment, Unit, UnitKind
from stations.scoping import forget_scope
from stations.tests.admin_forms import unit_form as _unit_form
from stations.tests.factories import TEST_PASSWORD, make_checklist, make_platform, make_unit

pytestmark = pytest.mark.django_db


def _registered():
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()]


def test_every_admin_outside_auth_is_scoped_or_for_superusers_only():
    for model, model_admin in _registered():
        if model._meta.app_label == "auth":
            continue
        assert isinstance(model_admin, ScopedModelAdmin | SuperuserOnlyAdmin), model
        for inline in model_admin.inlines:
            if isinstance(model_admin, ScopedModelAdmin):
                assert issubclass(inline, ScopedInline), inline


def test_every_scoped_admin_writes_through_services():
    """A scoped admin that can add or change saves through a service, and so do its editable inlines."""
    for model, model_admin in _registered():
        if not isinstance(model_admin, ScopedModelAdmin):
            continue
        assert type(model_admin).save_model is not ScopedModelAdmin.save_model, model
        if model_admin.inlines:
            assert type(model_admin).save_formset is not ScopedModelAdmin.save_formset, model


@pytest.fixture
def both_sides(tree, people, reference):
    other = make_unit(UnitKind.CENTER, name="邻县中心")

    def inspect(unit, checklist):
        return services.inspection_record(
            actor=None, unit=unit, checklist=checklist, inspected_on=datetime.date(2026, 10, 8)
        )

    inspect(tree.a1, reference.checklist)
    inspect(tree.b1, reference.checklist)
    make_platform(other, "law")
    make_checklist(other)


@pytest.mark.parametrize("who", ["inst_a", "station_a1", "county"])
def test_each_changelist_is_exactly_what_the_model_rule_shows(client, people, both_sides, who):
    user = getattr(people, who)
    client.force_login(user)
    for model, model_admin in _registered():
        if not isinstance(model_admin, ScopedModelAdmin):
            continue
        response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        assert response.status_code == 200, model
        shown = {obj.pk for obj in response.context["cl"].result_list}
        assert shown == set(model.objects.visible_to(user).values_list("pk", flat=True)), (who, model)


@pytest.mark.parametrize("who", ["inst_a", "station_a1"])
def test_superuser_only_admins_are_closed_to_scoped_staff(client, people, who):
    client.force_login(getattr(people, who))
    for model, model_admin in _registered():
        if isinstance(model_admin, SuperuserOnlyAdmin):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(
    "model", ["unit", "inspection", "inspectionfollowup", "platform", "checklist", "roleassignment"]
)
def test_changelist_queries_do_not_grow_with_the_rows(client, tree, people, reference, model):
    client.force_login(people.county)
    url = reverse(f"admin:stations_{model}_changelist")

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add_rows(first, last):
        for i in range(first, last):
            point = make_unit(UnitKind.POINT, tree.a1, name=f"点{i}")
            inspection = services.inspection_record(
                actor=None, unit=point, checklist=reference.point_checklist, inspected_on="2026-11-01"
            )
            services.follow_up_add(actor=people.station_a1, inspection=inspection, note=f"整改{i}")
            make_platform(tree.center, f"p{i}")
            make_checklist(tree.center, UnitKind.POINT)
            RoleAssignment.objects.create(user=people.nobody, role=Role.VIEWER, unit=point)

    add_rows(0, 1)  # one row of each, so a prefetch that runs only for rows is counted on both sides
    count()  # the first page of a session also reads the county's name, which is then cached
    few = count()
    add_rows(1, 50)
    many = count()
    assert many == few, (model, few, many)


def test_the_unit_changelist_counts_once(client, tree, people):
    client.force_login(people.county)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:stations_unit_changelist"))
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts


REVERSE_RELATIONS = [
    ("stations", "unit", "children"),
    ("stations", "unit", "inspections"),
    ("stations", "unit", "roles"),
    ("stations", "unit", "platforms"),
    ("stations", "unit", "checklists"),
    ("stations", "checklist", "inspections"),
    ("stations", "checklist", "items"),
    ("auth", "user", "inspections"),
    ("auth", "user", "roles"),
    ("stations", "unit", "no_such_field"),
    ("stations", "unit", "name"),  # a field, but not a relation the admin serves
]


@pytest.mark.parametrize(("app_label", "model_name", "field_name"), REVERSE_RELATIONS)
@pytest.mark.parametrize("who", ["county", "inst_a"])
def test_autocomplete_serves_only_the_fields_it_is_for(
    client, people, app_label, model_name, field_name, who
):
    client.force_login(getattr(people, who))
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code == 403


def test_autocomplete_still_serves_the_declared_fields(client, tree, people):
    client.force_login(people.inst_a)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "stations", "model_name": "unit", "field_name": "parent", "term": "甲"},
    )
    assert response.status_code == 200
    assert {int(row["id"]) for row in response.json()["results"]} <= {tree.a.pk, tree.a1.pk, tree.a2.pk}


def test_a_refusal_only_the_service_sees_is_a_form_error(client, tree, people):
    """The form is valid (a point may hang under an institute), but the locked check in the service finds
    sub-units: the page shows the refusal on the field, and nothing is written."""
    client.force_login(people.county)
    url = reverse("admin:stations_unit_change", args=[tree.a1.pk])
    data = _unit_form(tree.a1, kind=UnitKind.POINT, category="school", name="改了名")
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"kind": ["有下级单位的单位不能更改类型。"]}
    unit = Unit.objects.get(pk=tree.a1.pk)
    assert (unit.kind, unit.name) == (UnitKind.STATION, tree.a1.name)


def test_an_admin_cannot_deactivate_its_own_root(client, tree, people):
    assert_refused(
        services.unit_update,
        field="is_active",
        message="只有上级管理员才能停用或启用本单位。",
        actor=people.inst_a,
        unit=tree.a,
        is_active=False,
    )
    # The admin does not offer it either, and a forged field changes nothing.
    client.force_login(people.inst_a)
    url = reverse("admin:stations_unit_change", args=[tree.a.pk])
    assert "is_active" not in client.get(url).context["adminform"].form.fields
    data = _unit_form(tree.a, is_active="")
    data.pop("kind"), data.pop("parent")
    assert client.post(url, data).status_code == 302
    assert Unit.objects.get(pk=tree.a.pk).is_active
    # Below its own institute it may.
    services.unit_update(actor=people.inst_a, unit=tree.a2, is_active=False)
    assert not Unit.objects.get(pk=tree.a2.pk).is_active


def test_free_text_has_a_length_limit(client, tree, people):
    assert_refused(
        services.unit_update,
        field="highlight",
        message="最多填写 500 个字（当前 3000000 个）。",
        actor=people.inst_a,
        unit=tree.a1,
        highlight="亮" * 3_000_000,
    )
    client.force_login(people.inst_a)
    data = _unit_form(tree.a1, highlight="亮" * 501)
    response = client.post(reverse("admin:stations_unit_change", args=[tree.a1.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"highlight": ["最多填写 500 个字（当前 501 个）。"]}
    assert Unit.objects.get(pk=tree.a1.pk).highlight == ""


def test_platforms_are_written_through_the_service_by_the_county_only(client, tree, people, reference):
    client.force_login(people.county)
    url = reverse("admin:stations_platform_add")
    data = {
        "center": tree.center.pk,
        "name": "健身体育平台",
        "code": "sport",
        "responsible_department": "体育局",
    }
    assert client.post(url, {**data, "order": 3, "is_active": "on"}).status_code == 302
    assert Platform.objects.get(code="sport").responsible_department == "体育局"
    assert_refused(
        services.platform_create,
        field="center",
        message="只有本中心的县级管理员才能修改其服务平台和建设标准。",
        actor=people.inst_a,
        center=tree.center,
        name="x",
        code="x",
        responsible_department="y",
    )


def test_checklist_items_are_written_through_services(client, tree, people, reference):
    client.force_login(people.county)
    checklist = reference.checklist
    items = list(checklist.items.order_by("order"))
    url = reverse("admin:stations_checklist_change", args=[checklist.pk])
    data = {
        "name": checklist.name,
        "unit_kind": checklist.unit_kind,
        "description": "",
        "is_active": "on",
        "items-TOTAL_FORMS": str(len(items) + 1),
        "items-INITIAL_FORMS": str(len(items)),
        f"items-{len(items)}-order": "9",
        f"items-{len(items)}-text": "有宣传栏",
        f"items-{len(items)}-weight": "2",
    }
    for i, item in enumerate(items):
        data |= {
            f"items-{i}-id": item.pk,
            f"items-{i}-checklist": checklist.pk,
            f"items-{i}-order": item.order,
        }
        data |= {f"items-{i}-text": item.text, f"items-{i}-weight": item.weight}
    data["items-0-text"] = "有统一标识牌"
    data["items-1-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert list(checklist.items.order_by("order").values_list("text", flat=True)) == [
        "有统一标识牌",
        items[2].text,
        "有宣传栏",
    ]


def test_a_used_checklist_item_is_kept_with_a_message(tree, people, reference):
    item = reference.checklist.items.first()
    services.inspection_record(
        actor=None, unit=tree.a1, checklist=reference.checklist, inspected_on="2026-11-01"
    )
    assert_refused(
        services.checklist_item_remove,
        field=None,
        message="该条目已用于督查评分，不能删除，可修改其内容或分值。",
        actor=people.county,
        item=item,
    )


def test_results_are_set_through_the_service_and_only_from_above(tree, people, reference):
    items = list(reference.checklist.items.order_by("order"))
    inspection = services.inspection_record(
        actor=people.inst_a, unit=tree.a1, checklist=reference.checklist, inspected_on="2026-11-01"
    )
    services.inspection_results_set(
        actor=people.inst_a, inspection=inspection, met_item_ids=[items[0].pk], notes={items[0].pk: "有"}
    )
    assert str(Inspection.objects.get(pk=inspection.pk).score) == "33.3"
    assert_refused(
        services.inspection_results_set,
        field="unit",
        message="只能督查本单位的下级单位。",
        actor=people.station_a1,
        inspection=inspection,
        met_item_ids=[i.pk for i in items],
    )
    other = make_checklist(tree.center)
    assert_refused(
        services.inspection_results_set,
        field="met_item_ids",
        message="部分条目不属于该建设标准。",
        actor=people.inst_a,
        inspection=inspection,
        met_item_ids=[other.items.first().pk],
    )


def test_role_grants_in_the_admin_go_through_the_service(client, tree, people, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root9", password=TEST_PASSWORD))
    response = client.post(
        reverse("admin:stations_roleassignment_add"),
        {"user": people.nobody.pk, "role": Role.VIEWER, "unit": tree.a1a.pk},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "unit": ["数据查看员只能设在文明实践中心、文明实践所、文明实践站。"]
    }


@pytest.mark.parametrize(
    ("method", "url_name", "data"),
    [
        ("get", "admin:stations_unit_add", {"parent": "abc"}),
        ("get", "admin:stations_unit_add", {"parent": "99999999999999999999"}),
        ("get", "admin:stations_inspection_add", {"unit": "abc"}),
        ("post", "admin:stations_unit_add", {"parent": "abc", "kind": "station", "name": "x", "code": "X"}),
    ],
)
def test_a_value_that_is_not_an_id_in_an_autocomplete_field_is_no_500(
    client, people, reference, method, url_name, data
):
    client.force_login(people.inst_a)  # with a standard to inspect against, so the add page is offered
    response = getattr(client, method)(reverse(url_name), data)
    assert response.status_code == 200
    if method == "post":
        assert response.context["adminform"].form.errors["parent"] == [
            "请选择有效的选项：所选值不在可选范围内。"
        ]


def test_the_admin_masks_a_phone_the_user_may_not_see(client, tree, people):
    """A viewer of the county who administers station B1 (so may use the admin) opens station A1."""
    Unit.objects.filter(pk__in=[tree.a1.pk, tree.b1.pk]).update(contact_phone="13812345678")
    mixed = services.role_grant(actor=None, user=people.nobody, role=Role.VIEWER, unit=tree.center).user
    services.role_grant(actor=None, user=mixed, role=Role.STATION_ADMIN, unit=tree.b1)
    client.force_login(mixed)
    foreign = client.get(reverse("admin:stations_unit_change", args=[tree.a1.pk])).content.decode()
    assert "138****5678" in foreign and "13812345678" not in foreign
    own = client.get(reverse("admin:stations_unit_change", args=[tree.b1.pk])).content.decode()
    assert 'value="13812345678"' in own


def test_a_forged_item_cannot_reach_another_centers_standard(tree, people):
    other = make_checklist(make_unit(UnitKind.CENTER, name="邻县中心"))
    item = other.items.first()
    item.checklist_id = make_checklist(tree.center).pk  # what a caller claims, not what is stored
    for call, kwargs in [
        (services.checklist_item_update, {"text": "改"}),
        (services.checklist_item_remove, {}),
    ]:
        assert_refused(
            call,
            field=None,
            message="只有本中心的县级管理员才能修改其服务平台和建设标准。",
            actor=people.county,
            item=item,
            **kwargs,
        )
    assert other.items.filter(pk=item.pk, text=item.text).exists()


def test_a_revoke_checks_the_role_as_stored_not_as_the_caller_read_it(tree, people):
    assignment = RoleAssignment.objects.get(user=people.station_a1)
    services.unit_update(actor=None, unit=tree.a1, parent=tree.b)  # the station moves to township B
    assert_refused(
        services.role_revoke,
        field="unit",
        message="您不能撤销该单位上的角色。",
        actor=people.inst_a,
        assignment=assignment,
    )
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_a_duplicate_code_that_slips_past_the_check_is_a_field_refusal(tree):
    from kernel.services import model_save

    twin = Unit(kind=UnitKind.POINT, name="双胞胎", code=tree.a1a.code, parent=tree.a1, path="~twin", depth=3)
    assert_refused(model_save, twin, field="code", message="已存在相同编码的单位。")


def test_a_deactivated_unit_is_not_inspected(tree, people, reference):
    services.unit_update(actor=people.inst_a, unit=tree.a2, is_active=False)
    assert_refused(
        services.inspection_record,
        field="unit",
        message="该单位已停用。",
        actor=people.inst_a,
        unit=tree.a2,
        checklist=reference.checklist,
        inspected_on="2026-11-01",
    )


def test_setting_results_takes_the_same_queries_for_3_items_and_for_30(tree, people, reference):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(checklist):
        inspection = services.inspection_record(
            actor=None, unit=tree.a1, checklist=checklist, inspected_on="2026-11-01"
        )
        met = list(checklist.items.values_list("pk", flat=True))
        forget_scope(people.county)  # what the system recorded belongs to the center
        with CaptureQueriesContext(connection) as queries:
            services.inspection_results_set(actor=people.county, inspection=inspection, met_item_ids=met)
        assert Inspection.objects.get(pk=inspection.pk).items_met == len(met)
        return len(queries)

    many = make_checklist(tree.center, UnitKind.STATION, items=[f"条目{i}" for i in range(30)])
    assert queries_for(reference.checklist) == queries_for(many)
