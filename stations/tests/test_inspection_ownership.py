"""An inspection belongs to whoever made it: a level below never rewrites the level above's inspection.
Dates are plausible, follow-ups are separate dated records, and photos survive a form error."""

import datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from kernel.models import StagedUpload
from kernel.testing import assert_refused
from stations import services
from stations.models import Inspection, InspectionFollowUp, InspectionPhoto, Role, UnitKind
from stations.tests.admin_forms import inspection_change_data
from stations.tests.factories import make_checklist, make_user

pytestmark = pytest.mark.django_db

NOT_YOURS = "该督查由{unit}记录，只有督查人或其上级管理员可以修改，您可以添加整改记录。"


def _photo(name="photo.png", colour=(183, 28, 28)):
    buffer = BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _remove_stored_files():
    yield
    for photo in InspectionPhoto.objects.all():
        photo.image.delete(save=False)
    for staged in StagedUpload.objects.all():
        staged.file.delete(save=False)


@pytest.fixture
def county_inspection(tree, people, reference):
    return services.inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 2),
        met_item_ids=[reference.checklist.items.first().pk],
        note="县督查组",
    )


def test_an_inspection_remembers_the_unit_it_was_made_for(tree, people, county_inspection, reference):
    assert county_inspection.inspector_unit == tree.center
    own = services.inspection_record(
        actor=people.inst_a,
        unit=tree.a2,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 3),
    )
    assert own.inspector_unit == tree.a
    system = services.inspection_record(
        actor=None, unit=tree.b1, checklist=reference.checklist, inspected_on=datetime.date(2026, 11, 3)
    )
    assert (system.inspector, system.inspector_unit) == (None, tree.center)


def test_an_institute_cannot_rewrite_the_countys_inspection(tree, people, county_inspection):
    message = NOT_YOURS.format(unit=tree.center.name)
    every_item = list(county_inspection.results.values_list("item_id", flat=True))
    for call, kwargs in [
        (services.inspection_update, {"inspection": county_inspection, "note": "改了"}),
        (services.inspection_results_set, {"inspection": county_inspection, "met_item_ids": every_item}),
        (services.photos_add, {"inspection": county_inspection, "images": [_photo()]}),
        (services.inspection_delete, {"inspection": county_inspection}),
    ]:
        assert_refused(call, actor=people.inst_a, field=None, message=message, **kwargs)
    county_inspection.refresh_from_db()
    assert (county_inspection.note, str(county_inspection.score)) == ("县督查组", "33.3")
    assert not county_inspection.photos.exists()


def test_an_institutes_inspection_is_changed_by_its_inspector_and_from_above_only(tree, people, reference):
    colleague = make_user("inst_a_colleague", role=Role.INSTITUTE_ADMIN, unit=tree.a)
    inspection = services.inspection_record(
        actor=people.inst_a,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 3),
    )
    services.inspection_update(actor=people.inst_a, inspection=inspection, note="本人补充")
    services.inspection_update(actor=people.county, inspection=inspection, note="县里复核")
    assert_refused(
        services.inspection_update,
        actor=colleague,
        inspection=inspection,
        note="同级改写",
        field=None,
        message=NOT_YOURS.format(unit=tree.a.name),
    )
    assert_refused(
        services.inspection_update,
        actor=people.station_a1,
        inspection=inspection,
        note="下级改写",
        field="unit",
        message="只能督查本单位的下级单位。",
    )
    assert Inspection.objects.get(pk=inspection.pk).note == "县里复核"
    # The querysets say the same as the services.
    assert set(Inspection.objects.changeable_by(people.inst_a)) == {inspection}
    assert set(Inspection.objects.changeable_by(people.county)) == {inspection}
    assert not Inspection.objects.changeable_by(colleague).exists()
    assert not Inspection.objects.changeable_by(people.station_a1).exists()


def test_a_recorded_inspection_is_locked_after_the_configured_days(settings, tree, people, county_inspection):
    settings.INSPECTION_EDIT_DAYS = 10
    Inspection.objects.filter(pk=county_inspection.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=11)
    )
    county_inspection.refresh_from_db()
    assert_refused(
        services.inspection_update,
        actor=people.county,
        inspection=county_inspection,
        note="过期修改",
        field=None,
        message="督查记录在登记 10 天后锁定，不能再修改。",
    )
    superuser = make_user("root", is_superuser=True, is_staff=True)
    services.inspection_update(actor=superuser, inspection=county_inspection, note="系统管理员更正")
    assert Inspection.objects.get(pk=county_inspection.pk).note == "系统管理员更正"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (datetime.date(9999, 12, 31), "日期不能晚于今天。"),
        (datetime.date(1900, 1, 1), "日期不能早于 2018-01-01。"),
    ],
)
def test_an_inspection_date_is_plausible(tree, people, reference, day, message):
    assert_refused(
        services.inspection_record,
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=day,
        field="inspected_on",
        message=message,
    )
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    "phone", ["13812345678", "+86 13812345678", "0599-7821234", "05997821234", "400-123-4567"]
)
def test_mainland_phone_formats_are_accepted(tree, phone):
    unit = services.unit_create(
        actor=None, kind=UnitKind.STATION, name="电话站", parent=tree.a, contact_phone=phone
    )
    assert unit.contact_phone == phone


@pytest.mark.parametrize("phone", ["12345", "1381234567", "phone me", "0599-1234", "23812345678"])
def test_other_phone_numbers_are_refused_on_their_field(tree, phone):
    assert_refused(
        services.unit_create,
        actor=None,
        kind=UnitKind.STATION,
        name="电话站",
        parent=tree.a,
        contact_phone=phone,
        field="contact_phone",
        message="请填写手机号（如 13812345678）或带区号的固定电话（如 0599-7821234）。",
    )


def test_a_contact_person_is_a_name(tree):
    assert_refused(
        services.unit_create,
        actor=None,
        kind=UnitKind.STATION,
        name="联系人站",
        parent=tree.a,
        contact_person="12345",
        field="contact_person",
        message="请填写姓名（至少两个字，不含数字）。",
    )


# --- Follow-ups -----------------------------------------------------------------------------------------


def test_the_station_adds_a_follow_up_and_the_inspection_stays(tree, people, county_inspection):
    follow_up = services.follow_up_add(
        actor=people.station_a1, inspection=county_inspection, note="已补齐学习书籍。", photos=[_photo()]
    )
    assert follow_up.author == people.station_a1 and follow_up.photos.count() == 1
    county_inspection.refresh_from_db()
    assert (
        county_inspection.note == "县督查组" and not county_inspection.photos.filter(follow_up=None).exists()
    )
    assert_refused(
        services.follow_up_add,
        actor=people.inst_b,
        inspection=county_inspection,
        note="越界",
        field="inspection",
        message="只有被督查单位及其上级单位的管理员可以添加整改记录。",
    )
    assert list(InspectionFollowUp.objects.visible_to(people.inst_b)) == []
    assert list(InspectionFollowUp.objects.visible_to(people.inst_a)) == [follow_up]


# --- The admin ----------------------------------------------------------------------------------------


def test_the_institute_admin_sees_the_countys_inspection_read_only(client, tree, people, county_inspection):
    client.force_login(people.inst_a)
    url = reverse("admin:stations_inspection_change", args=[county_inspection.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html and 'name="inspected_on"' not in html
    assert NOT_YOURS.format(unit=tree.center.name) in html
    assert reverse("admin:stations_inspectionfollowup_add") + f"?inspection={county_inspection.pk}" in html
    data = inspection_change_data(county_inspection, **{f"results-{i}-met": "on" for i in range(3)})
    assert client.post(url, data).status_code == 403
    county_inspection.refresh_from_db()
    assert str(county_inspection.score) == "33.3"
    # The other township does not even learn that it exists.
    client.force_login(people.inst_b)
    assert client.get(url).status_code == 404


def test_a_follow_up_is_added_in_the_admin_with_photos(client, tree, people, county_inspection):
    client.force_login(people.station_a1)
    add = reverse("admin:stations_inspectionfollowup_add")
    response = client.get(add, {"inspection": county_inspection.pk})
    assert response.status_code == 200
    response = client.post(
        add,
        {"inspection": county_inspection.pk, "note": "已整改。", "add_photos": [_photo(), _photo("b.png")]},
    )
    assert response.status_code == 302
    follow_up = InspectionFollowUp.objects.get()
    assert follow_up.photos.count() == 2 and not StagedUpload.objects.exists()
    client.force_login(people.inst_b)
    response = client.post(add, {"inspection": county_inspection.pk, "note": "越界"})
    assert response.status_code == 200 and InspectionFollowUp.objects.count() == 1


def test_photos_survive_a_form_error_without_being_picked_again(client, tree, people, reference):
    client.force_login(people.inst_a)
    add = reverse("admin:stations_inspection_add")
    data = {"unit": tree.a1.pk, "checklist": reference.checklist.pk, "inspected_on": "9999-12-31", "note": ""}
    response = client.post(add, {**data, "add_photos": [_photo("门牌.png"), _photo("书架.png", (0, 90, 0))]})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"inspected_on": ["日期不能晚于今天。"]}
    kept = [str(pk) for pk in StagedUpload.objects.filter(owner=people.inst_a).values_list("pk", flat=True)]
    assert len(kept) == 2
    html = response.content.decode()
    for pk in kept:
        assert f'value="{pk}" checked' in html and reverse("staged-upload", args=[pk]) in html
        assert client.get(reverse("staged-upload", args=[pk])).status_code == 200
    # Nobody else can see or claim them.
    client.force_login(people.county)
    assert client.get(reverse("staged-upload", args=[kept[0]])).status_code == 404
    client.force_login(people.inst_a)
    response = client.post(add, {**data, "inspected_on": "2026-11-20", "kept_photos": kept})
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.photos.count() == 2 and not StagedUpload.objects.exists()


def test_a_kept_photo_of_someone_else_is_ignored(client, tree, people, reference):
    theirs = services_staged(people.county)
    client.force_login(people.inst_a)
    data = {"unit": tree.a1.pk, "checklist": reference.checklist.pk, "inspected_on": "2026-11-20", "note": ""}
    response = client.post(
        reverse("admin:stations_inspection_add"), {**data, "kept_photos": [str(theirs.pk), "x"]}
    )
    assert response.status_code == 302
    assert not Inspection.objects.get().photos.exists()
    assert StagedUpload.objects.filter(pk=theirs.pk).exists()


def services_staged(owner):
    from kernel.uploads import staged_upload_create

    return staged_upload_create(owner=owner, upload=_photo())


def test_a_station_admin_with_nothing_to_inspect_is_not_offered_to_add(client, tree, people, reference):
    services.checklist_update(actor=None, checklist=reference.point_checklist, is_active=False)
    client.force_login(people.station_a1)
    assert client.get(reverse("admin:stations_inspection_add")).status_code == 403
    assert (
        reverse("admin:stations_inspection_add")
        not in client.get(reverse("admin:stations_inspection_changelist")).content.decode()
    )
    services.checklist_update(actor=None, checklist=reference.point_checklist, is_active=True)  # its point's
    assert client.get(reverse("admin:stations_inspection_add")).status_code == 200


def test_the_inspection_unit_choices_are_inspectable_units_with_their_township(
    client, tree, people, reference
):
    make_checklist(tree.center, UnitKind.INSTITUTE, items=("有场所",))
    client.force_login(people.inst_a)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "stations", "model_name": "inspection", "field_name": "unit", "term": ""},
    )
    results = {row["text"] for row in response.json()["results"]}
    # Its stations and their point (a point standard exists), not itself, not the other township.
    assert results == {"甲一村站（甲镇所）", "甲二村站（甲镇所）", "甲一小学实践点（甲镇所）"}


# --- The unit add form ----------------------------------------------------------------------------------


def test_the_add_form_starts_under_ones_own_unit_with_a_generated_code(client, tree, people):
    client.force_login(people.inst_a)
    response = client.get(reverse("admin:stations_unit_add"))
    form = response.context["adminform"].form
    assert form.initial["parent"] == tree.a.pk and form.initial["kind"] == UnitKind.STATION
    assert form.initial["code"] == f"{tree.a.code}-001"
    assert [value for value, _label in form.fields["kind"].choices if value] == ["station", "point"]
    client.force_login(people.station_a1)
    form = client.get(reverse("admin:stations_unit_add")).context["adminform"].form
    assert [value for value, _label in form.fields["kind"].choices if value] == ["point"]
    assert form.initial["parent"] == tree.a1.pk


def test_the_placement_answers_only_for_ones_own_units(client, tree, people):
    client.force_login(people.inst_a)
    url = reverse("admin:stations_unit_placement")
    assert client.get(url, {"parent": tree.a.pk}).json() == {
        "kinds": [["station", "文明实践站"], ["point", "文明实践点"]],
        "code": f"{tree.a.code}-001",
    }
    assert client.get(url, {"parent": tree.a1.pk, "kind": "point"}).json()["code"] == f"{tree.a1.code}-01"
    for foreign in (tree.b.pk, tree.center.pk, "abc", "9" * 30):
        assert client.get(url, {"parent": foreign}).json() == {"kinds": [], "code": ""}


def test_a_unit_added_without_a_code_gets_the_next_one(client, tree, people):
    from stations.tests.admin_forms import unit_form

    client.force_login(people.inst_a)
    for expected in ("001", "002"):
        response = client.post(
            reverse("admin:stations_unit_add"), unit_form(parent=tree.a.pk, code="", name="新站")
        )
        assert response.status_code == 302
        assert tree.a.children.filter(code=f"{tree.a.code}-{expected}").exists()
