"""The records admin: records are decided with the actions and never edited or deleted (a forged change or
delete changes nothing), staff add a record through the service and see its refusals on the fields,
corrections, flags and certificates are decided through their services, trainings and evaluations are
written through theirs, and exports are made and downloaded through a scoped view."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from PIL import Image

from kernel.errors import ApplicationError
from kernel.testing import messages_of
from records import exports, services, trainings
from records.models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    FlagKind,
    IssuerProfile,
    NationalExport,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    Training,
)
from volunteers.models import IdNumberReveal

from .factories import day_at, hours_ago, stored_total, submit, write_record

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:records_servicerecord_changelist"


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def frozen(record) -> dict:
    return {
        "record": ServiceRecord.objects.filter(pk=record.pk).values().get(),
        "events": RecordEvent.objects.filter(record=record).count(),
    }


def split(moment) -> dict:
    local = timezone.localtime(moment)
    return {"0": local.strftime("%Y-%m-%d"), "1": local.strftime("%H:%M:%S")}


def record_form(volunteer, unit, *, start, end, team=None, **changes):
    data = {
        "volunteer": volunteer.pk,
        "unit": unit.pk if unit else "",
        "team": team.pk if team else "",
        "content": "敬老院陪护",
        "started_at_0": split(start)["0"],
        "started_at_1": split(start)["1"],
        "ended_at_0": split(end)["0"],
        "ended_at_1": split(end)["1"],
        "evidence_note": "",
        "RecordEvent_set-TOTAL_FORMS": "0",
    }
    data.update(changes)
    return data


# --- The list -----------------------------------------------------------------------------------------


def test_the_list_names_volunteers_by_number_and_shows_no_phone(client, people, crew):
    submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    client.force_login(people.inst_a)
    response = client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 1
    assert crew.volunteer.number in html and crew.volunteer.phone not in html


def test_no_filter_on_a_volunteers_phone(client, people, crew):
    submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    client.force_login(people.county)
    phone = crew.volunteer.phone
    for lookup in ("volunteer__phone", "volunteer__phone__startswith", "volunteer__id_number_hash"):
        response = client.get(reverse(CHANGELIST), {lookup: phone})
        # Django refuses a lookup the admin does not allow (DisallowedModelAdminLookup).
        assert response.status_code == 400, lookup


def test_the_filters_narrow_the_list(client, tree, people, crew):
    mine = submit(crew.volunteer, start=day_at(3, 9), team=crew.team)
    approved = write_record(crew.member, start=day_at(30, 9), decided_by=crew.leader.user)
    elsewhere = write_record(crew.other, start=day_at(4, 9), decided_by=people.inst_b)
    services.flag_raise(mine, FlagKind.DAY_CAP, detail="测试")
    client.force_login(people.county)

    def listed(**query):
        response = client.get(reverse(CHANGELIST), query)
        assert response.status_code == 200, query
        return {row.pk for row in response.context["cl"].result_list}

    assert listed() == {mine.pk, approved.pk, elsewhere.pk}
    assert listed(status__exact="pending") == {mine.pk}
    assert listed(unit=str(tree.a.pk)) == {mine.pk, approved.pk}
    assert listed(unit=str(tree.b1.pk)) == {elsewhere.pk}
    assert listed(team=str(crew.team.pk)) == {mine.pk}
    assert listed(volunteer=str(crew.member.pk)) == {approved.pk}
    assert listed(flagged="yes") == {mine.pk}
    assert listed(flagged="no") == {approved.pk, elsewhere.pk}
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert listed(service_date__gte=since) == {mine.pk, elsewhere.pk}
    assert listed(unit="abc") == set()


# --- A record is never edited or deleted here ------------------------------------------------------------


@pytest.mark.parametrize("decided", [True, False])
def test_a_forged_change_post_is_refused_and_changes_nothing(client, people, crew, decided):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    if decided:
        services.record_approve(actor=crew.leader.user, record=record)
    before = frozen(record)
    client.force_login(people.county)
    url = reverse("admin:records_servicerecord_change", args=[record.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and b'name="_save"' not in page.content
    data = record_form(
        crew.volunteer,
        crew.team.unit,
        start=record.started_at,
        end=record.ended_at + datetime.timedelta(hours=3),
        content="改过的内容",
        status="approved",
        hours="9",
    )
    response = client.post(url, data)
    assert response.status_code == 403
    assert frozen(record) == before


@pytest.mark.parametrize("decided", [True, False])
def test_a_record_cannot_be_deleted_from_the_admin(client, people, crew, decided):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    if decided:
        services.record_approve(actor=crew.leader.user, record=record)
    before = frozen(record)
    client.force_login(people.county)
    url = reverse("admin:records_servicerecord_delete", args=[record.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"}
    )
    assert response.status_code in {200, 302}
    assert frozen(record) == before


def test_a_records_page_shows_its_audit_trail(client, people, crew):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    services.record_approve(actor=crew.leader.user, record=record)
    client.force_login(people.inst_a)
    response = client.get(reverse("admin:records_servicerecord_change", args=[record.pk]))
    trail = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is RecordEvent)
    actions = [form.original.action for form in trail]
    assert actions == [RecordEvent.Action.CREATED, RecordEvent.Action.APPROVED]
    # Each step says what changed in the record's own words.
    status = ServiceRecord._meta.get_field("status").verbose_name
    expected = f"{status}：{RecordStatus.PENDING.label} → {RecordStatus.APPROVED.label}"
    assert expected in response.content.decode()


# --- Deciding with the actions ---------------------------------------------------------------------------


def test_the_approve_action_decides_through_the_service(client, people, crew):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    client.force_login(people.station_a1)
    response = client.post(reverse(CHANGELIST), {"action": "approve", "_selected_action": [record.pk]})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.APPROVED and record.decided_by == people.station_a1
    assert stored_total(crew.volunteer) == record.hours


def test_a_refusal_of_the_action_is_told_per_record(client, tree, people, crew):
    own = services.record_submit(
        actor=people.station_a1,
        volunteer=crew.volunteer,
        unit=tree.a1,
        content="代录的服务",
        started_at=hours_ago(8),
        ended_at=hours_ago(6),
    )
    other = submit(crew.member, start=hours_ago(5), team=crew.team)
    client.force_login(people.station_a1)
    response = client.post(
        reverse(CHANGELIST), {"action": "approve", "_selected_action": [own.pk, other.pk]}, follow=True
    )
    shown = messages_of(response)
    assert f"{own}：{_('You submitted this record; another approver decides it.')}" in shown
    assert ServiceRecord.objects.get(pk=own.pk).status == RecordStatus.PENDING
    assert ServiceRecord.objects.get(pk=other.pk).status == RecordStatus.APPROVED


def test_the_reject_action_asks_for_the_reason(client, people, crew):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    client.force_login(people.station_a1)
    url = reverse(CHANGELIST)
    page = client.post(url, {"action": "reject", "_selected_action": [record.pk]})
    assert page.status_code == 200 and page.templates[0].name == "admin/records/note_action.html"
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.PENDING
    empty = client.post(url, {"action": "reject", "_selected_action": [record.pk], "post": "yes", "note": ""})
    assert empty.status_code == 200 and empty.context["form"].errors["note"]
    client.post(url, {"action": "reject", "_selected_action": [record.pk], "post": "yes", "note": "时间不符"})
    record.refresh_from_db()
    assert (record.status, record.decision_note) == (RecordStatus.REJECTED, "时间不符")


def test_a_flagged_record_is_approved_from_above_with_a_note(client, people, crew):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    services.flag_raise(record, FlagKind.OVERLAP, detail="与另一条记录重叠")
    client.force_login(people.inst_a)
    url = reverse(CHANGELIST)
    page = client.post(url, {"action": "approve", "_selected_action": [record.pk]})
    assert page.status_code == 200 and "form" in page.context
    response = client.post(
        url, {"action": "approve", "_selected_action": [record.pk], "post": "yes", "note": ""}, follow=True
    )
    assert f"{record}：{_('Say why the flagged record is approved.')}" in messages_of(response)
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.PENDING
    client.post(url, {"action": "approve", "_selected_action": [record.pk], "post": "yes", "note": "已核实"})
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.APPROVED
    assert not RecordFlag.objects.filter(record=record, is_open=True).exists()


# --- Staff add a record on a volunteer's behalf ------------------------------------------------------------


def test_staff_add_a_record_through_the_service(client, tree, people, crew):
    client.force_login(people.station_a1)
    data = record_form(crew.volunteer, tree.a1, start=hours_ago(6), end=hours_ago(4), evidence_photo=_png())
    response = client.post(reverse("admin:records_servicerecord_add"), data)
    assert response.status_code == 302, form_errors(response)
    record = ServiceRecord.objects.get()
    # The photo went through the image intake, and is served to those who see the record only.
    assert record.evidence_photo.name.endswith(".png")
    photo = client.get(reverse("admin:records_servicerecord_evidence", args=[record.pk]))
    assert photo.status_code == 200 and b"".join(photo.streaming_content).startswith(b"\x89PNG")
    assert (record.source, record.status, record.submitted_by) == (
        RecordSource.STAFF,
        RecordStatus.PENDING,
        people.station_a1,
    )
    assert RecordEvent.objects.filter(record=record, action=RecordEvent.Action.CREATED).exists()


def test_a_refusal_of_the_add_form_shows_on_its_field(client, tree, people, crew):
    existing = submit(crew.volunteer, start=hours_ago(6), hours=2, team=crew.team)
    client.force_login(people.station_a1)
    url = reverse("admin:records_servicerecord_add")
    # The service's overlap rule, on the start field.
    data = record_form(crew.volunteer, tree.a1, start=hours_ago(5), end=hours_ago(3))
    response = client.post(url, data)
    assert response.status_code == 200
    expected = services._overlap_message(existing)
    assert form_errors(response)["started_at"] == [expected]
    # The end in the future, on the end field.
    data = record_form(
        crew.volunteer, tree.a1, start=hours_ago(1), end=timezone.now() + datetime.timedelta(hours=2)
    )
    response = client.post(url, data)
    message = _("A service is recorded once it has ended: the end lies in the future.")
    assert form_errors(response)["ended_at"] == [message]
    # A unit outside the area is not a choice at all.
    response = client.post(url, record_form(crew.other, tree.b1, start=hours_ago(9), end=hours_ago(8)))
    assert "unit" in form_errors(response) and "volunteer" in form_errors(response)
    assert ServiceRecord.objects.count() == 1


# --- Corrections --------------------------------------------------------------------------------------------


@pytest.fixture
def correction(crew):
    record = write_record(crew.volunteer, start=day_at(3, 9), team=crew.team, decided_by=crew.leader.user)
    return services.correction_request(
        actor=crew.volunteer.user,
        record=record,
        reason="少记了一小时",
        ended_at=record.ended_at + datetime.timedelta(hours=1),
    )


def test_a_correction_is_accepted_with_the_action(client, people, crew, correction):
    client.force_login(people.station_a1)
    url = reverse("admin:records_correctionrequest_changelist")
    assert client.post(url, {"action": "accept", "_selected_action": [correction.pk]}).status_code == 302
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.ACCEPTED
    assert correction.new_record.supersedes_id == correction.record_id


def test_a_correction_is_refused_with_a_reason(client, people, crew, correction):
    client.force_login(people.station_a1)
    url = reverse("admin:records_correctionrequest_changelist")
    page = client.post(url, {"action": "refuse", "_selected_action": [correction.pk]})
    assert page.status_code == 200 and "form" in page.context
    assert CorrectionRequest.objects.get().status == CorrectionStatus.PENDING
    client.post(
        url, {"action": "refuse", "_selected_action": [correction.pk], "post": "yes", "note": "签到表为准"}
    )
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == (CorrectionStatus.REFUSED, "签到表为准")


def test_a_correction_cannot_be_changed_or_deleted(client, people, correction):
    client.force_login(people.county)
    change = reverse("admin:records_correctionrequest_change", args=[correction.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"reason": "改"}).status_code == 403
    delete = reverse("admin:records_correctionrequest_delete", args=[correction.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CorrectionRequest.objects.get().reason == "少记了一小时"


# --- Review flags ------------------------------------------------------------------------------------------


def test_the_flag_list_shows_open_flags_first_and_clears_with_a_note(client, people, crew):
    first = submit(crew.volunteer, start=hours_ago(9), team=crew.team)
    second = submit(crew.member, start=hours_ago(9), team=crew.team)
    open_flag = services.flag_raise(first, FlagKind.DAY_CAP, detail="一天超过上限")
    cleared = services.flag_raise(second, FlagKind.OVERLAP, detail="重叠")
    services.flag_clear(actor=people.inst_a, flag=cleared, note="已核实")
    client.force_login(people.inst_a)
    url = reverse("admin:records_recordflag_changelist")
    assert [f.pk for f in client.get(url).context["cl"].result_list] == [open_flag.pk]
    everything = client.get(url, {"state": "all"}).context["cl"].result_list
    assert {f.pk for f in everything} == {open_flag.pk, cleared.pk}

    page = client.post(url, {"action": "clear", "_selected_action": [open_flag.pk]})
    assert page.status_code == 200 and "form" in page.context
    client.post(
        url, {"action": "clear", "_selected_action": [open_flag.pk], "post": "yes", "note": "签到属实"}
    )
    open_flag.refresh_from_db()
    assert (open_flag.is_open, open_flag.note, open_flag.cleared_by) == (False, "签到属实", people.inst_a)


def test_a_station_admin_does_not_clear_its_own_stations_flags(client, people, crew):
    record = submit(crew.volunteer, start=hours_ago(9), team=crew.team)
    flag = services.flag_raise(record, FlagKind.DAY_CAP, detail="一天超过上限")
    client.force_login(people.station_a1)
    url = reverse("admin:records_recordflag_changelist")
    response = client.post(
        url,
        {"action": "clear", "_selected_action": [flag.pk], "post": "yes", "note": "我看过了"},
        follow=True,
    )
    assert RecordFlag.objects.get(pk=flag.pk).is_open
    # Not among the flags the station admin reviews (services.may_review: from above its unit only).
    assert messages_of(response) == [_("None of the selected flags is open for your review.")]


# --- Trainings and evaluations ---------------------------------------------------------------------------


def training_form(volunteer, unit, **changes):
    data = {
        "volunteer": volunteer.pk,
        "unit": unit.pk,
        "title": "应急救护培训",
        "organiser": "县红十字会",
        "date": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "hours": "3.5",
    }
    data.update(changes)
    return data


def test_a_training_is_added_and_changed_through_the_service(client, tree, people, crew):
    client.force_login(people.station_a1)
    response = client.post(reverse("admin:records_training_add"), training_form(crew.volunteer, tree.a1))
    assert response.status_code == 302, form_errors(response)
    training = Training.objects.get()
    assert training.entered_by == people.station_a1
    url = reverse("admin:records_training_change", args=[training.pk])
    data = training_form(crew.volunteer, tree.a1, hours="5")
    assert client.post(url, data).status_code == 302
    assert Training.objects.get().hours == 5


def test_a_training_refusal_shows_on_its_field(client, tree, people, crew):
    client.force_login(people.station_a1)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("admin:records_training_add"), training_form(crew.volunteer, tree.a1, date=tomorrow)
    )
    assert form_errors(response)["date"] == [_("A training is recorded once it has taken place.")]
    assert not Training.objects.exists()


def test_an_evaluation_is_saved_through_the_service(client, people, crew):
    client.force_login(people.inst_a)
    year = timezone.localdate().year - 1
    data = {
        "volunteer": crew.member.pk,
        "team": crew.team.pk,
        "year": year,
        "grade": "good",
        "comment": "认真",
    }
    response = client.post(reverse("admin:records_evaluation_add"), data)
    assert response.status_code == 302, form_errors(response)
    evaluation = Evaluation.objects.get()
    url = reverse("admin:records_evaluation_change", args=[evaluation.pk])
    assert client.post(url, {"grade": "excellent", "comment": "优秀"}).status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.year, evaluation.grade, evaluation.comment) == (year, "excellent", "优秀")
    future = {**data, "year": timezone.localdate().year + 1}
    response = client.post(reverse("admin:records_evaluation_add"), future)
    assert form_errors(response)["year"] == [_("A year is evaluated once it has begun.")]


# --- Issuers and certificates -------------------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 60), (200, 0, 0)).save(buffer, format="PNG")
    return SimpleUploadedFile("seal.png", buffer.getvalue(), content_type="image/png")


def test_an_issuer_profile_with_its_seal(client, tree, people):
    client.force_login(people.station_a1)
    data = {"unit": tree.a1.pk, "person_in_charge": "王主任", "handler": "李干事", "contact": "0599-1234567"}
    response = client.post(reverse("admin:records_issuerprofile_add"), {**data, "seal": _png()})
    assert response.status_code == 302, form_errors(response)
    profile = IssuerProfile.objects.get()
    seal = client.get(reverse("admin:records_issuerprofile_seal", args=[profile.pk]))
    assert seal.status_code == 200 and b"".join(seal.streaming_content).startswith(b"\x89PNG")
    change = reverse("admin:records_issuerprofile_change", args=[profile.pk])
    assert client.post(change, {**data, "handler": "赵干事"}).status_code == 302
    profile.refresh_from_db()
    assert profile.handler == "赵干事" and profile.seal  # the seal stays without a new upload


def make_certificate(volunteer, issuer, number="T-2026-000001") -> Certificate:
    certificate = Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        status=CertificateStatus.READY,
        year=2026,
        sequence=int(number.rsplit("-", 1)[-1]),
        number=number,
        issued_at=timezone.now(),
        total_hours=2,
    )
    certificate.pdf.save("c.pdf", ContentFile(b"%PDF-1.4 certificate"), save=True)
    return certificate


def test_a_certificate_is_downloaded_and_revoked_with_a_reason(client, tree, people, crew):
    certificate = make_certificate(crew.volunteer, tree.a1)
    client.force_login(people.inst_a)
    download = client.get(reverse("admin:records_certificate_pdf", args=[certificate.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    change = reverse("admin:records_certificate_change", args=[certificate.pk])
    assert client.post(change, {"number": "X"}).status_code == 403
    url = reverse("admin:records_certificate_changelist")
    page = client.post(url, {"action": "revoke", "_selected_action": [certificate.pk]})
    assert page.status_code == 200 and "form" in page.context
    client.post(
        url, {"action": "revoke", "_selected_action": [certificate.pk], "post": "yes", "note": "记录有误"}
    )
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoke_reason, certificate.revoked_by) == (
        CertificateStatus.REVOKED,
        "记录有误",
        people.inst_a,
    )
    delete = reverse("admin:records_certificate_delete", args=[certificate.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Certificate.objects.filter(pk=certificate.pk).exists()


# --- National exports ---------------------------------------------------------------------------------------


def export_form(unit, **changes):
    data = {
        "unit": unit.pk,
        "period_from": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        "period_to": timezone.localdate().isoformat(),
        "format": "xlsx",
    }
    data.update(changes)
    return data


def test_the_id_number_box_is_offered_only_to_who_may_use_it(client, people):
    client.force_login(people.county)
    assert (
        "with_id_numbers"
        in client.get(reverse("admin:records_nationalexport_add")).context["adminform"].form.fields
    )
    client.force_login(people.station_a1)
    assert (
        "with_id_numbers"
        not in client.get(reverse("admin:records_nationalexport_add")).context["adminform"].form.fields
    )


def test_an_export_is_made_from_the_add_form_and_downloaded(client, tree, people, crew):
    record = write_record(crew.volunteer, start=day_at(3, 9), decided_by=crew.leader.user)
    client.force_login(people.station_a1)
    # A box the form does not offer is ignored, never honoured.
    response = client.post(
        reverse("admin:records_nationalexport_add"), export_form(tree.a1, with_id_numbers="on")
    )
    export = NationalExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:records_nationalexport_change", args=[export.pk])
    assert (export.created_by, export.row_count, export.with_id_numbers) == (people.station_a1, 1, False)
    page = client.get(response["Location"])
    download_url = reverse("admin:records_nationalexport_file", args=[export.pk])
    assert download_url in page.content.decode()
    download = client.get(download_url)
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [header for _key, header in exports.COLUMNS]
    assert rows[1][0] == crew.volunteer.number and rows[1][9] == str(record.pk)
    assert not IdNumberReveal.objects.exists()


def test_a_county_export_with_id_numbers_is_audited_at_each_download(client, tree, people, crew):
    write_record(crew.volunteer, start=day_at(3, 9), decided_by=crew.leader.user)
    client.force_login(people.county)
    data = export_form(tree.center, with_id_numbers="on", format="csv")
    assert client.post(reverse("admin:records_nationalexport_add"), data).status_code == 302
    export = NationalExport.objects.get()
    assert export.with_id_numbers and IdNumberReveal.objects.count() == 1
    download = client.get(reverse("admin:records_nationalexport_file", args=[export.pk]))
    assert download.status_code == 200
    assert IdNumberReveal.objects.count() == 2
    # Someone who may export but not see ID numbers does not get this file.
    client.force_login(people.inst_a)
    assert client.get(reverse("admin:records_nationalexport_file", args=[export.pk])).status_code == 404
    assert IdNumberReveal.objects.count() == 2


def test_an_export_refusal_shows_on_the_form(client, tree, people):
    client.force_login(people.station_a1)
    data = export_form(tree.a1, period_from="2026-05-10", period_to="2026-05-01")
    response = client.post(reverse("admin:records_nationalexport_add"), data)
    assert response.status_code == 200
    assert _("The period ends on or after its first day.") in str(form_errors(response))
    assert not NationalExport.objects.exists()


def test_an_export_cannot_be_changed_or_deleted(client, tree, people):
    export = exports.national_export_create(
        actor=people.station_a1,
        unit=tree.a1,
        period_from=datetime.date(2026, 1, 1),
        period_to=datetime.date(2026, 1, 31),
    )
    client.force_login(people.county)
    change = reverse("admin:records_nationalexport_change", args=[export.pk])
    assert client.post(change, export_form(tree.center)).status_code == 403
    assert (
        client.post(
            reverse("admin:records_nationalexport_delete", args=[export.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert NationalExport.objects.get().unit == tree.a1


def test_the_certificate_revoke_service_is_the_one_called(monkeypatch, client, tree, people, crew):
    """The action hands each row to records.certificates.certificate_revoke and shows its refusal."""
    certificate = make_certificate(crew.volunteer, tree.a1)
    calls = []

    def refuse(*, actor, certificate, reason):
        calls.append((actor, certificate.pk, reason))
        raise ApplicationError("拒绝的原因")

    monkeypatch.setattr("records.certificates.certificate_revoke", refuse)
    client.force_login(people.inst_a)
    url = reverse("admin:records_certificate_changelist")
    response = client.post(
        url,
        {"action": "revoke", "_selected_action": [certificate.pk], "post": "yes", "note": "作废"},
        follow=True,
    )
    assert calls == [(people.inst_a, certificate.pk, "作废")]
    assert f"{certificate}：拒绝的原因" in messages_of(response)
    assert Certificate.objects.get().status == CertificateStatus.READY


def test_the_trainings_service_refuses_a_year_already_given_through_the_admin(client, people, crew):
    trainings.evaluation_save(
        actor=people.inst_a, volunteer=crew.member, team=crew.team, year=2025, grade="good"
    )
    client.force_login(people.inst_a)
    data = {"volunteer": crew.member.pk, "team": crew.team.pk, "year": 2025, "grade": "pass", "comment": ""}
    response = client.post(reverse("admin:records_evaluation_add"), data)
    assert response.status_code == 200
    assert _("This team has already evaluated this volunteer for that year.") in str(form_errors(response))
    assert Evaluation.objects.get().grade == "good"
