"""Township B's admins cannot see, decide, download or export township A's records, corrections, flags,
trainings, evaluations, issuers, certificates or exports through any admin page (list, change, history,
delete, actions with forged ids, downloads, autocomplete), and every list of the records admin reads a
constant number of queries."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records import exports, services, trainings
from records.models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    FlagKind,
    NationalExport,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
)
from stations.models import Role
from stations.scoping import forget_scope
from stations.tests.factories import make_user
from volunteers.tests.factories import make_member, make_volunteer

from .factories import day_at, write_record

pytestmark = pytest.mark.django_db

MODELS = [
    "servicerecord",
    "correctionrequest",
    "recordflag",
    "training",
    "evaluation",
    "issuerprofile",
    "certificate",
    "nationalexport",
]


@pytest.fixture
def station_b1(tree):
    return make_user("station_b1", role=Role.STATION_ADMIN, unit=tree.b1)


def make_certificate(volunteer, issuer, sequence=1) -> Certificate:
    certificate = Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        status=CertificateStatus.READY,
        year=2026,
        sequence=sequence,
        number=f"{issuer.code}-2026-{sequence:06d}",
        issued_at=timezone.now(),
        total_hours=2,
    )
    certificate.pdf.save("c.pdf", ContentFile(b"%PDF-1.4 certificate"), save=True)
    return certificate


@pytest.fixture
def township_a(tree, people, crew):
    leader = crew.leader.user
    pending = write_record(crew.volunteer, start=day_at(2, 9), team=crew.team, status=RecordStatus.PENDING)
    approved = write_record(crew.member, start=day_at(3, 9), team=crew.team, decided_by=leader)
    correction = services.correction_request(actor=crew.member.user, record=approved, reason="时间记错")
    flag = services.flag_raise(pending, FlagKind.DAY_CAP, detail="超过上限")
    training = trainings.training_create(
        actor=people.station_a1,
        volunteer=crew.volunteer,
        unit=tree.a1,
        title="急救培训",
        organiser="红十字会",
        date=timezone.localdate() - datetime.timedelta(days=1),
        hours=2,
    )
    evaluation = trainings.evaluation_save(
        actor=people.inst_a, volunteer=crew.member, team=crew.team, year=2025, grade="good"
    )
    issuer = trainings.issuer_profile_save(
        actor=people.station_a1, unit=tree.a1, person_in_charge="王主任", handler="李干事", contact="0599-1"
    )
    certificate = make_certificate(crew.volunteer, tree.a1)
    export = exports.national_export_create(
        actor=people.station_a1,
        unit=tree.a1,
        period_from=timezone.localdate() - datetime.timedelta(days=30),
        period_to=timezone.localdate(),
    )
    return {
        "servicerecord": pending,
        "approved": approved,
        "correctionrequest": correction,
        "recordflag": flag,
        "training": training,
        "evaluation": evaluation,
        "issuerprofile": issuer,
        "certificate": certificate,
        "nationalexport": export,
    }


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["station_b1", "inst_b"])
def test_another_townships_admin_cannot_reach_the_rows(client, people, station_b1, township_a, model, who):
    obj = township_a[model]
    client.force_login(station_b1 if who == "station_b1" else people.inst_b)
    response = client.get(reverse(f"admin:records_{model}_changelist"))
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    for view in ("change", "history", "delete"):
        response = client.get(reverse(f"admin:records_{model}_{view}", args=[obj.pk]))
        assert response.status_code in {302, 403, 404}, view
    # Their own admins do see them.
    client.force_login(people.inst_a)
    query = {"state": "all"} if model == "recordflag" else {}
    response = client.get(reverse(f"admin:records_{model}_changelist"), query)
    assert obj.pk in [row.pk for row in response.context["cl"].result_list]
    assert client.get(reverse(f"admin:records_{model}_change", args=[obj.pk])).status_code == 200


def _post_action(client, model, action, ids, **extra):
    data = {"action": action, "_selected_action": ids, "post": "yes", "note": "越权尝试", **extra}
    return client.post(reverse(f"admin:records_{model}_changelist"), data)


def test_actions_with_forged_ids_change_nothing(client, people, station_b1, township_a):
    client.force_login(station_b1)
    record, correction = township_a["servicerecord"], township_a["correctionrequest"]
    flag, certificate = township_a["recordflag"], township_a["certificate"]
    for action in ("approve", "reject"):
        assert _post_action(client, "servicerecord", action, [record.pk]).status_code == 302
    for action in ("accept", "refuse"):
        _post_action(client, "correctionrequest", action, [correction.pk])
    _post_action(client, "recordflag", "clear", [flag.pk])
    _post_action(client, "certificate", "revoke", [certificate.pk])
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.PENDING
    assert CorrectionRequest.objects.get(pk=correction.pk).status == CorrectionStatus.PENDING
    assert RecordFlag.objects.get(pk=flag.pk).is_open
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.READY
    assert ServiceRecord.objects.count() == 2


def test_a_viewer_reaches_no_records_admin(client, people, township_a):
    # A viewer (dashboards, other systems) holds no admin role: the admin sends them to its login page.
    client.force_login(people.viewer)
    record = township_a["servicerecord"]
    for model in MODELS:
        response = client.get(reverse(f"admin:records_{model}_changelist"))
        assert response.status_code == 302 and "/login/" in response["Location"], model
    assert _post_action(client, "servicerecord", "approve", [record.pk]).status_code == 302
    assert ServiceRecord.objects.get(pk=record.pk).status == RecordStatus.PENDING
    export = township_a["nationalexport"]
    response = client.get(reverse("admin:records_nationalexport_file", args=[export.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_files_of_another_township_are_404(client, people, station_b1, township_a):
    client.force_login(station_b1)
    urls = [
        reverse("admin:records_nationalexport_file", args=[township_a["nationalexport"].pk]),
        reverse("admin:records_certificate_pdf", args=[township_a["certificate"].pk]),
        reverse("admin:records_issuerprofile_seal", args=[township_a["issuerprofile"].pk]),
        reverse("admin:records_servicerecord_evidence", args=[township_a["servicerecord"].pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.force_login(people.inst_a)
    assert client.get(urls[0]).status_code == 200 and client.get(urls[1]).status_code == 200


def test_an_export_of_another_subtree_is_refused(client, tree, station_b1, township_a):
    client.force_login(station_b1)
    before = NationalExport.objects.count()
    data = {
        "unit": tree.a1.pk,
        "period_from": "2026-01-01",
        "period_to": timezone.localdate().isoformat(),
        "format": "xlsx",
    }
    response = client.post(reverse("admin:records_nationalexport_add"), data)
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert NationalExport.objects.count() == before
    # The unit is not even offered.
    page = client.get(reverse("admin:records_nationalexport_add"))
    offered = {
        choice.value for choice, _label in page.context["adminform"].form.fields["unit"].choices if choice
    }
    assert offered == {tree.b1.pk}


def test_a_record_added_for_another_townships_volunteer_is_refused(client, tree, station_b1, crew):
    client.force_login(station_b1)
    start = timezone.localtime(timezone.now() - datetime.timedelta(hours=5))
    end = start + datetime.timedelta(hours=2)
    data = {
        "volunteer": crew.volunteer.pk,
        "unit": tree.a1.pk,
        "team": crew.team.pk,
        "content": "越权代录",
        "started_at_0": f"{start:%Y-%m-%d}",
        "started_at_1": f"{start:%H:%M:%S}",
        "ended_at_0": f"{end:%Y-%m-%d}",
        "ended_at_1": f"{end:%H:%M:%S}",
    }
    response = client.post(reverse("admin:records_servicerecord_add"), data)
    assert response.status_code == 200
    assert {"volunteer", "unit", "team"} <= set(response.context["adminform"].form.errors)
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize(
    ("model", "field_name"),
    [
        ("servicerecord", "volunteer"),
        ("servicerecord", "team"),
        ("training", "volunteer"),
        ("evaluation", "team"),
    ],
)
def test_autocomplete_offers_only_ones_own(client, tree, people, station_b1, crew, model, field_name):
    client.force_login(station_b1)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "records", "model_name": model, "field_name": field_name, "term": ""},
    )
    assert response.status_code == 200
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert crew.volunteer.pk not in ids and crew.team.pk not in ids
    if field_name == "volunteer":
        assert crew.other.pk in ids


# --- Constant queries ------------------------------------------------------------------------------------


def _add_rows(tree, people, crew, model, first, last):
    """Rows of `model`'s list (and what they hang on), numbered `first` to `last`."""
    units = [tree.center, tree.a, tree.b, tree.a1, tree.a2, tree.b1, tree.a1a, tree.b1a]
    if model == "issuerprofile":
        for unit in units[first : min(last, len(units))]:
            trainings.issuer_profile_save(
                actor=None, unit=unit, person_in_charge="主任", handler="干事", contact="0599-1"
            )
        return
    for i in range(first, last):
        name = "志愿者" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12]
        volunteer = make_volunteer(tree.a1, name)
        make_member(crew.team, volunteer)
        if model in {"servicerecord", "recordflag", "correctionrequest", "nationalexport"}:
            pending = write_record(volunteer, start=day_at(2, 9), team=crew.team, status=RecordStatus.PENDING)
            approved = write_record(
                volunteer, start=day_at(3, 9), team=crew.team, decided_by=crew.leader.user
            )
            services.correction_request(actor=people.station_a1, record=approved, reason="核对")
            services.flag_raise(pending, FlagKind.DAY_CAP, detail="超过上限")
        if model == "training":
            trainings.training_create(
                actor=people.station_a1,
                volunteer=volunteer,
                unit=tree.a1,
                title="急救培训",
                organiser="红十字会",
                date=timezone.localdate(),
                hours=2,
            )
        if model == "evaluation":
            trainings.evaluation_save(
                actor=people.inst_a, volunteer=volunteer, team=crew.team, year=2025, grade="good"
            )
        if model == "certificate":
            make_certificate(volunteer, tree.a1, sequence=i + 1)
        if model == "nationalexport":
            exports.national_export_create(
                actor=people.station_a1,
                unit=tree.a1,
                period_from=timezone.localdate() - datetime.timedelta(days=30),
                period_to=timezone.localdate(),
            )


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_the_rows(client, tree, people, crew, model):
    client.force_login(people.county)
    url = reverse(f"admin:records_{model}_changelist")

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"state": "all"} if model == "recordflag" else {})
            assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    _add_rows(tree, people, crew, model, 0, 1)
    count()  # the first page of a session also reads the county's name, which is then cached
    few, few_rows = count()
    _add_rows(tree, people, crew, model, 1, 50)
    many, many_rows = count()
    assert many_rows > few_rows, (model, few_rows, many_rows)
    assert many == few, (model, few, many)
