"""The admin, scoped: a township admin sees and touches only its own subtree, everywhere in the admin."""

import datetime
import json

import pytest
from django.urls import reverse

from stations import services
from stations.models import Inspection, InspectionPhoto, Platform, Role, RoleAssignment, Unit, UnitKind
from stations.tests.admin_forms import inspection_change_data as _inspection_change_data
from stations.tests.admin_forms import unit_form as _unit_form
from stations.tests.factories import TEST_PASSWORD, make_checklist, make_platform, make_unit

pytestmark = pytest.mark.django_db

# Django's own message when a submitted id is not among the choices the form offers (the scoped ones).
INVALID_CHOICE = "请选择有效的选项：所选值不在可选范围内。"


@pytest.fixture
def world(tree, people, reference):
    """Objects of every admin model on both sides of the line between township A and township B."""
    other_center = make_unit(UnitKind.CENTER, name="邻县新时代文明实践中心")
    inspect = lambda unit, checklist: services.inspection_record(  # noqa: E731
        actor=people.county, unit=unit, checklist=checklist, inspected_on=datetime.date(2026, 10, 8)
    )
    inspections = (inspect(tree.a1, reference.checklist), inspect(tree.b1, reference.checklist))
    follow_up = lambda inspection: services.follow_up_add(actor=None, inspection=inspection, note="已整改")  # noqa: E731
    return {
        "unit": (tree.a1, tree.b1),
        "inspection": inspections,
        "inspectionfollowup": tuple(follow_up(inspection) for inspection in inspections),
        "roleassignment": (
            RoleAssignment.objects.get(user=people.station_a1),
            RoleAssignment.objects.get(user=people.inst_b),
        ),
        "platform": (reference.platform, make_platform(other_center, "law", "法律服务平台")),
        "checklist": (reference.checklist, make_checklist(other_center)),
    }


def _changelist(client, model):
    response = client.get(reverse(f"admin:stations_{model}_changelist"))
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize(
    "model", ["unit", "inspection", "inspectionfollowup", "roleassignment", "platform", "checklist"]
)
@pytest.mark.parametrize("who", ["inst_a", "station_a1"])
def test_lists_show_only_own_side_and_the_other_side_is_404(client, people, world, model, who):
    client.force_login(getattr(people, who))
    mine, theirs = world[model]
    rows = _changelist(client, model)
    assert mine in rows
    assert theirs not in rows
    for view in ("change", "delete", "history"):
        url = reverse(f"admin:stations_{model}_{view}", args=[theirs.pk])
        assert client.get(url).status_code == 404, (view, url)
        if view != "history":
            assert client.post(url, {"post": "yes"}).status_code == 404
    assert type(theirs).objects.filter(pk=theirs.pk).exists()


def test_unit_list_of_institute_admin_is_exactly_its_subtree(client, tree, people):
    client.force_login(people.inst_a)
    assert _changelist(client, "unit") == {tree.a, tree.a1, tree.a2, tree.a1a}


def test_unit_list_of_station_admin_is_exactly_its_subtree(client, tree, people):
    client.force_login(people.station_a1)
    assert _changelist(client, "unit") == {tree.a1, tree.a1a}


def test_county_admin_sees_the_whole_county(client, tree, people):
    client.force_login(people.county)
    assert len(_changelist(client, "unit")) == 8


@pytest.mark.parametrize("who", ["inst_a", "station_a1"])
def test_no_foreign_unit_in_any_unit_choice(client, tree, people, world, who):
    client.force_login(getattr(people, who))
    foreign = {tree.b.pk, tree.b1.pk, tree.b1a.pk, tree.center.pk}
    if who == "station_a1":
        foreign |= {tree.a.pk, tree.a2.pk}  # the sibling station and the institute above are not its own
    for model in ("unit", "inspection", "roleassignment", "platform", "checklist"):
        response = client.get(reverse(f"admin:stations_{model}_add"))
        if response.status_code == 403:
            continue
        form = response.context["adminform"].form
        for name, field in form.fields.items():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and queryset.model is Unit:
                assert not foreign & set(queryset.values_list("pk", flat=True)), (model, name)
    # The autocomplete the parent and unit fields use answers from the same scope.
    for model, field in (("unit", "parent"), ("inspection", "unit"), ("roleassignment", "unit")):
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "stations", "model_name": model, "field_name": field, "term": ""},
        )
        assert response.status_code == 200
        ids = {int(row["id"]) for row in json.loads(response.content)["results"]}
        assert ids and not ids & foreign, (model, ids)


def test_institute_admin_adds_a_station_under_its_own_institute(client, tree, people):
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:stations_unit_add"), _unit_form(parent=tree.a.pk))
    assert response.status_code == 302
    station = Unit.objects.get(code="NEW-1")
    assert station.path.startswith(tree.a.path) and station.depth == 2


@pytest.mark.parametrize("who", ["inst_a", "station_a1"])
def test_cannot_create_under_the_other_township(client, tree, people, who):
    client.force_login(getattr(people, who))
    kind = UnitKind.STATION if who == "inst_a" else UnitKind.POINT  # all a station admin may add
    response = client.post(reverse("admin:stations_unit_add"), _unit_form(parent=tree.b.pk, kind=kind))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"parent": [INVALID_CHOICE]}
    assert not Unit.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize(
    ("who", "unit_name", "target_name"), [("inst_a", "a1", "b"), ("station_a1", "a1a", "b1")]
)
def test_cannot_move_anything_under_the_other_township(client, tree, people, who, unit_name, target_name):
    client.force_login(getattr(people, who))
    unit, target = getattr(tree, unit_name), getattr(tree, target_name)
    url = reverse("admin:stations_unit_change", args=[unit.pk])
    response = client.post(url, _unit_form(unit, parent=target.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"parent": [INVALID_CHOICE]}
    assert Unit.objects.get(pk=unit.pk).path == unit.path


def test_station_admin_edits_its_station_but_not_its_place(client, tree, people):
    client.force_login(people.station_a1)
    url = reverse("admin:stations_unit_change", args=[tree.a1.pk])
    response = client.get(url)
    assert "parent" not in response.context["adminform"].form.fields  # read-only: decided from above
    data = _unit_form(tree.a1, address="甲一村村委会二楼", contact_phone="0599-7000001")
    data.pop("parent")
    data.pop("kind")
    assert client.post(url, data).status_code == 302
    station = Unit.objects.get(pk=tree.a1.pk)
    assert station.address == "甲一村村委会二楼" and station.parent_id == tree.a.pk


def test_station_admin_cannot_delete_its_own_station(client, tree, people):
    client.force_login(people.station_a1)
    response = client.post(reverse("admin:stations_unit_delete", args=[tree.a1.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Unit.objects.filter(pk=tree.a1.pk).exists()


def test_institute_admin_cannot_change_the_center_platforms(client, people, world):
    client.force_login(people.inst_a)
    platform = world["platform"][0]
    url = reverse("admin:stations_platform_change", args=[platform.pk])
    assert client.get(url).status_code == 200  # readable: it is the county's platform
    response = client.post(
        url, {"center": platform.center_id, "name": "改名", "code": "x", "responsible_department": "y"}
    )
    assert response.status_code == 403
    assert Platform.objects.get(pk=platform.pk).name == "理论宣讲平台"


def _inspection_add_data(unit, reference):
    return {
        "unit": unit.pk,
        "checklist": reference.checklist.pk,
        "inspected_on": "2026-11-02",
        "note": "",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
    }


def test_inspection_is_added_then_ticked_and_scored(client, tree, people, reference):
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:stations_inspection_add"), _inspection_add_data(tree.a2, reference))
    assert response.status_code == 302
    inspection = Inspection.objects.get(unit=tree.a2)
    assert inspection.inspector == people.inst_a
    data = _inspection_change_data(inspection, **{"results-0-met": "on", "results-1-met": "on"})
    response = client.post(reverse("admin:stations_inspection_change", args=[inspection.pk]), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    inspection.refresh_from_db()
    assert (inspection.items_met, str(inspection.score)) == (2, "66.7")


def test_institute_admin_cannot_inspect_the_other_township(client, tree, people, reference):
    client.force_login(people.inst_a)
    response = client.post(reverse("admin:stations_inspection_add"), _inspection_add_data(tree.b1, reference))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"unit": [INVALID_CHOICE]}
    assert not Inspection.objects.exists()


def test_users_without_an_admin_role_see_no_admin_models(client, people, tree):
    people.nobody.is_staff = True
    people.nobody.save()
    client.force_login(people.nobody)
    assert client.get(reverse("admin:stations_unit_changelist")).status_code == 403
    assert client.get(reverse("admin:stations_unit_change", args=[tree.a1.pk])).status_code == 404


def test_only_superusers_grant_roles_in_the_admin(client, people, tree):
    client.force_login(people.inst_a)
    url = reverse("admin:stations_roleassignment_add")
    assert client.get(url).status_code == 403
    response = client.post(url, {"user": people.nobody.pk, "role": Role.STATION_ADMIN, "unit": tree.a2.pk})
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=people.nobody).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/group/",
        "/admin/authtoken/tokenproxy/",
        "/admin/stations/platform/add/",
        "/admin/stations/checklist/add/",
        "/admin/stations/roleassignment/add/",
    ],
)
def test_institute_admin_has_no_access_to_groups_tokens_or_county_reference_data(client, people, url):
    # Accounts it manages itself (stations/tests/test_admin_accounts.py); groups and tokens are not scoped.
    client.force_login(people.inst_a)
    assert client.get(url).status_code == 403


def test_inspection_list_filters_offer_only_visible_standards(client, people, world):
    client.force_login(people.inst_a)
    response = client.get(reverse("admin:stations_inspection_changelist"))
    html = response.content.decode()
    own, foreign = world["checklist"]
    assert own.name in html and foreign.name not in html


def _png(width=8, height=8):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (width, height), (183, 28, 28)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def uploaded_photos():
    """Deletes the evidence photos a test uploads into the protected storage."""
    yield
    for photo in InspectionPhoto.objects.all():
        photo.image.delete(save=False)


def test_evidence_photo_upload_and_refusal_of_a_non_image(client, tree, people, reference, uploaded_photos):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(people.inst_a)
    inspection = services.inspection_record(
        actor=people.inst_a,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 2),
    )
    url = reverse("admin:stations_inspection_change", args=[inspection.pk])
    fake = SimpleUploadedFile("sign.png", b"not an image at all", content_type="image/png")
    response = client.post(url, _inspection_change_data(inspection, add_photos=[fake]))
    assert response.status_code == 200 and not inspection.photos.exists()
    assert response.context["adminform"].form.errors["add_photos"] == [
        "sign.png: 该文件不是图片，请上传以下格式之一的照片：JPEG, PNG, WebP。"
    ]
    photo = SimpleUploadedFile("sign.png", _png(), content_type="image/png")
    response = client.post(url, _inspection_change_data(inspection, add_photos=[photo]))
    assert response.status_code == 302
    stored = inspection.photos.get()
    assert stored.image.storage.exists(stored.image.name)
    assert "sign" not in stored.image.name  # a random name, not the uploader's

    # The photo is served to those whose scope holds the station, and to nobody else.
    assert stored.image.url.startswith("/protected/inspections/")
    for user, status in [
        (people.inst_a, 200),
        (people.station_a1, 200),
        (people.county, 200),
        (people.inst_b, 404),
    ]:
        client.force_login(user)
        response = client.get(stored.image.url)
        assert response.status_code == status, user
        if status == 200:
            # What is served is the stored file: the intake's re-encoding, not the uploaded bytes.
            with stored.image.open("rb") as handle:
                assert b"".join(response.streaming_content) == handle.read()
    client.logout()
    assert client.get(stored.image.url).status_code == 302  # to the login page
    client.force_login(people.county)
    assert client.get("/protected/inspections/2026/11/missing.png").status_code == 404
    assert client.get("/media/" + stored.image.name).status_code == 404  # never under the public media


def test_station_admin_is_fenced_from_its_sibling_station(client, tree, people):
    client.force_login(people.station_a1)
    for view in ("change", "delete", "history"):
        assert client.get(reverse(f"admin:stations_unit_{view}", args=[tree.a2.pk])).status_code == 404
    response = client.post(
        reverse("admin:stations_unit_add"), _unit_form(kind=UnitKind.POINT, parent=tree.a2.pk)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"parent": [INVALID_CHOICE]}
    response = client.post(
        reverse("admin:stations_unit_change", args=[tree.a1a.pk]), _unit_form(tree.a1a, parent=tree.a2.pk)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"parent": [INVALID_CHOICE]}
    assert not Unit.objects.filter(code="NEW-1").exists()
    assert Unit.objects.get(pk=tree.a1a.pk).parent_id == tree.a1.pk
    institutes = client.get(reverse("admin:stations_unit_changelist")).context["cl"].filter_specs
    assert all(
        tree.a.name not in str(spec.lookup_choices) for spec in institutes if hasattr(spec, "lookup_choices")
    )


@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", "99999999999999999999", "%00", "²", "-1"])
def test_odd_institute_filter_values_answer_without_error(client, people, tree, value):
    client.force_login(people.county)
    for model in ("unit", "inspection", "roleassignment"):
        response = client.get(reverse(f"admin:stations_{model}_changelist"), {"institute": value})
        # Not an institute this user sees: an empty list, the same as for an institute without rows.
        assert response.status_code == 200, (model, value)
        assert list(response.context["cl"].result_list) == [], (model, value)


def test_a_nul_in_the_query_is_a_400(client, people, tree):
    client.force_login(people.county)
    assert client.get(reverse("admin:stations_unit_changelist") + "?q=%00").status_code == 400
    assert client.get("/api/v1/units/?search=%00").status_code == 400


def test_half_coordinates_are_a_form_error_in_chinese(client, people, tree):
    client.force_login(people.inst_a)
    response = client.post(
        reverse("admin:stations_unit_add"), _unit_form(parent=tree.a.pk, longitude="117.8")
    )
    assert response.status_code == 200
    assert "经度和纬度须同时填写或同时留空" in response.content.decode()


def test_superuser_granting_a_role_on_the_wrong_kind_gets_a_form_error(
    client, tree, people, django_user_model
):
    admin = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    client.force_login(admin)
    url = reverse("admin:stations_roleassignment_add")
    response = client.post(url, {"user": people.nobody.pk, "role": Role.INSTITUTE_ADMIN, "unit": tree.a1.pk})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"unit": ["文明实践所管理员只能设在文明实践所。"]}
    response = client.post(url, {"user": people.nobody.pk, "role": Role.STATION_ADMIN, "unit": tree.a1.pk})
    assert response.status_code == 302
    people.nobody.refresh_from_db()
    assert people.nobody.is_staff
    assignment = RoleAssignment.objects.get(user=people.nobody)
    # Assignments are granted and revoked, never edited into another one.
    assert (
        client.post(reverse("admin:stations_roleassignment_change", args=[assignment.pk]), {}).status_code
        == 403
    )
    response = client.post(
        reverse("admin:stations_roleassignment_delete", args=[assignment.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    people.nobody.refresh_from_db()
    assert not people.nobody.is_staff


def test_deleting_a_unit_with_sub_units_shows_why_and_keeps_it(client, tree, people):
    client.force_login(people.inst_a)
    url = reverse("admin:stations_unit_delete", args=[tree.a1.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert "有下级单位的单位不能删除" in response.content.decode()
    assert Unit.objects.filter(pk=tree.a1.pk).exists()
    response = client.post(reverse("admin:stations_unit_delete", args=[tree.a2.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Unit.objects.filter(pk=tree.a2.pk).exists()


def test_a_role_row_of_the_wrong_kind_can_still_be_revoked(client, tree, people, django_user_model):
    odd = RoleAssignment.objects.create(user=people.nobody, role=Role.STATION_ADMIN, unit=tree.center)
    client.force_login(django_user_model.objects.create_superuser("root2", password=TEST_PASSWORD))
    response = client.post(reverse("admin:stations_roleassignment_delete", args=[odd.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=odd.pk).exists()


def test_deleting_a_center_with_platforms_is_refused_with_a_message(
    client, tree, reference, django_user_model
):
    client.force_login(django_user_model.objects.create_superuser("root3", password=TEST_PASSWORD))
    url = reverse("admin:stations_unit_delete", args=[tree.center.pk])
    response = client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200 and "有下级单位的单位不能删除" in response.content.decode()
    assert Unit.objects.filter(pk=tree.center.pk).exists()


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"path": "/protected/inspections/%00.png"},
        {"path": "/admin/", "HTTP_AUTHORIZATION": "Token abc\x00"},
        {"path": "/api/v1/units/", "HTTP_AUTHORIZATION": "Token abc\x00"},
    ],
)
def test_a_nul_anywhere_in_the_request_is_a_400(client, people, request_kwargs):
    client.force_login(people.county)
    kwargs = dict(request_kwargs)
    assert client.get(kwargs.pop("path"), **kwargs).status_code == 400


def test_a_nul_in_a_cookie_is_a_400(client, db):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/admin/").status_code == 400
