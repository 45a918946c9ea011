"""REST API v1 of service records, corrections, review flags, trainings, evaluations, certificates and a
volunteer's own records and totals: scoped, refusing with the service's field and message and changing
nothing then, never editing or deleting a record, constant in queries, and answering what the schema says."""

import datetime
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext as _

from records import rules, services
from records.models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    Evaluation,
    FlagKind,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    Training,
)
from stations.models import Role
from stations.scoping import forget_scope
from stations.services import role_grant
from stations.tests.factories import make_user
from stations.tests.test_schema import _check, _validator, openapi  # noqa: F401 - openapi is a fixture
from volunteers import crypto
from volunteers.models import Volunteer
from volunteers.tests.factories import make_volunteer

from .factories import day_at, stored_total, submit, write_record

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/service-records/"
CORRECTIONS = "/api/v1/corrections/"
FLAGS = "/api/v1/record-flags/"
TRAININGS = "/api/v1/trainings/"
EVALUATIONS = "/api/v1/evaluations/"
CERTIFICATES = "/api/v1/certificates/"
MY_RECORDS = "/api/v1/me/service-records/"
MY_TOTALS = "/api/v1/me/service-totals/"
LISTS = (RECORDS, CORRECTIONS, FLAGS, TRAININGS, EVALUATIONS, CERTIFICATES, MY_RECORDS)
UNKNOWN_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def rows() -> dict:
    """Everything an endpoint of this API may write."""
    return {
        "records": list(ServiceRecord.objects.order_by("pk").values()),
        "events": list(RecordEvent.objects.order_by("pk").values()),
        "flags": list(RecordFlag.objects.order_by("pk").values()),
        "corrections": list(CorrectionRequest.objects.order_by("pk").values()),
        "trainings": list(Training.objects.order_by("pk").values()),
        "evaluations": list(Evaluation.objects.order_by("pk").values()),
        "certificates": list(Certificate.objects.order_by("pk").values()),
        "totals": list(Volunteer.objects.order_by("pk").values_list("pk", "service_hours")),
    }


def refused(response, field: str, message: str):
    """A 400 naming `field` with exactly `message` (as the caller reads it)."""
    assert response.status_code == 400, (response.status_code, response.content)
    assert response.json() == {field: [message]}, response.json()


def unchanged(call):
    """`call()`'s response, and that it wrote nothing."""
    before = rows()
    response = call()
    assert rows() == before, "a refused call changed what it must leave alone"
    return response


def _rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _ids(response):
    return {row["id"] for row in _rows(response)}


def _pks(objects):
    return {obj.pk for obj in objects}


def _name(prefix, i):
    return prefix + "".join("零一二三四五六七八九"[int(digit)] for digit in str(i))


@pytest.fixture
def world(tree, people, crew):
    """The crew of records/tests/conftest.py, a volunteer of station A2, and records in both townships.

    records.team: the crew's volunteer, on the crew's team (station A1), pending, self-reported;
    records.a1: the crew's member at station A1, no team, approved; records.a2: pending at station A2;
    records.b1: the volunteer of village B1, pending there.
    """
    people.station_b1 = make_user("station_b1", role=Role.STATION_ADMIN, unit=tree.b1)
    people.leader, people.member, people.volunteer = crew.leader.user, crew.member.user, crew.volunteer.user
    a2_volunteer = make_volunteer(tree.a2, "刘甲二", password="A2-volunteer@2026!")
    records = SimpleNamespace(
        team=submit(crew.volunteer, start=day_at(3, 9), team=crew.team),
        a1=write_record(crew.member, start=day_at(4, 9)),
        a2=submit(a2_volunteer, start=day_at(5, 9)),
        b1=submit(crew.other, start=day_at(3, 9)),
    )
    return SimpleNamespace(crew=crew, a2_volunteer=a2_volunteer, records=records)


# --- Each role's view of the records --------------------------------------------------------------------

RECORD_VIEWS = {
    "county": ["team", "a1", "a2", "b1"],
    "viewer": ["team", "a1", "a2", "b1"],
    "inst_a": ["team", "a1", "a2"],
    "station_a1": ["team", "a1"],
    "inst_b": ["b1"],
    "station_b1": ["b1"],
    "leader": ["team"],  # through the team it leads; it holds no unit
    "member": [],
    "volunteer": [],  # a volunteer reads their own under /me/
    "nobody": [],
}


@pytest.mark.parametrize("who", list(RECORD_VIEWS))
def test_each_role_sees_its_own_records(api_client, people, world, who):
    user = getattr(people, who)
    api_client.force_authenticate(user)
    expected = _pks(getattr(world.records, name) for name in RECORD_VIEWS[who])
    assert _ids(api_client.get(RECORDS)) == expected
    assert set(ServiceRecord.objects.visible_to(user).values_list("pk", flat=True)) == expected


def test_the_organiser_named_on_a_record_sees_it(api_client, tree, people, world):
    organiser = make_user("organiser")
    ServiceRecord.objects.filter(pk=world.records.a2.pk).update(organiser=organiser)
    api_client.force_authenticate(organiser)
    assert _ids(api_client.get(RECORDS)) == {world.records.a2.pk}


@pytest.mark.parametrize("url", [*LISTS, MY_TOTALS])
def test_anonymous_gets_401(api_client, world, url):
    assert api_client.get(url).status_code == 401


def test_a_record_row_and_its_detail(api_client, tree, people, world):
    record = world.records.team
    api_client.force_authenticate(people.station_a1)
    detail = api_client.get(f"{RECORDS}{record.pk}/").json()
    volunteer = world.crew.volunteer
    row = {
        "id": record.pk,
        "volunteer": volunteer.pk,
        "volunteer_number": volunteer.number,
        "volunteer_name": "张志愿",
        "unit": tree.a1.pk,
        "unit_name": tree.a1.name,
        "team": world.crew.team.pk,
        "team_name": "甲一村志愿服务队",
        "content": "社区清洁",
        "started_at": record.started_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "ended_at": record.ended_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "service_date": record.service_date.isoformat(),
        "hours": "2.00",
        "source": "self",
        "source_display": str(RecordSource.SELF_REPORTED.label),
        "status": "pending",
        "status_display": str(RecordStatus.PENDING.label),
        "evidence_note": "现场照片已交队长",
        "has_evidence_photo": False,
        "submitted_at": detail["submitted_at"],
        "decided_at": None,
        "decision_note": "",
        "supersedes": None,
        "superseded_by": None,
        "flagged": False,
    }
    assert {key: value for key, value in detail.items() if key not in ("events", "flags")} == row
    assert [event["action"] for event in detail["events"]] == ["created"]
    assert detail["events"][0]["actor_name"] and detail["events"][0]["after"]["hours"] == "2.00"
    assert detail["events"][0]["action_display"] == str(RecordEvent.Action.CREATED.label)
    assert detail["flags"] == []
    listed = {item["id"]: item for item in _rows(api_client.get(RECORDS))}
    assert listed[record.pk] == row


def test_no_answer_holds_a_phone_or_an_id_number(api_client, people, world):
    """Every list and detail for every role, searched as text for each volunteer's phone and ID number."""
    secrets = []
    for stored in Volunteer.objects.values("phone", "id_number_encrypted", "id_number_hash"):
        full = crypto.decrypt(stored["id_number_encrypted"])
        secrets += [
            stored["phone"],
            full,
            full[-12:],
            stored["id_number_encrypted"],
            stored["id_number_hash"],
        ]
    for who in RECORD_VIEWS:
        api_client.force_authenticate(getattr(people, who))
        answers = []
        for url in LISTS:
            body = api_client.get(url, {"page_size": 500}).json()
            answers.append(body)
            answers += [api_client.get(f"{url}{row['id']}/").json() for row in body["results"]]
        text = json.dumps(answers, ensure_ascii=False)
        assert not [secret for secret in secrets if secret and secret in text], who


# --- Another township: nothing to read, nothing to change ---------------------------------------------


def test_a_record_of_the_other_township_is_404_for_reading_and_deciding(api_client, people, world):
    record = world.records.team
    api_client.force_authenticate(people.station_b1)
    assert record.pk not in _ids(api_client.get(RECORDS))
    assert api_client.get(f"{RECORDS}{record.pk}/").status_code == 404
    for action, body in (("approve", {"note": "好"}), ("reject", {"reason": "不符"})):
        response = unchanged(lambda a=action, b=body: api_client.post(f"{RECORDS}{record.pk}/{a}/", b))
        assert response.status_code == 404, action
    # The same answers as for a record that does not exist.
    assert api_client.get(f"{RECORDS}99999999/").status_code == 404
    assert api_client.post(f"{RECORDS}99999999/approve/", {}).status_code == 404
    assert api_client.get(f"{RECORDS}99999999999999999999/").status_code == 404


def test_bulk_deciding_a_foreign_record_refuses_it_as_one_that_does_not_exist(api_client, people, world):
    api_client.force_authenticate(people.station_b1)
    body = {"ids": [world.records.team.pk, 99_999_999], "decision": "approve"}
    response = unchanged(lambda: api_client.post(f"{RECORDS}decide/", body, format="json"))
    assert response.status_code == 200
    missing = _("This record no longer exists; reload the page.")
    assert response.json() == {
        "done": [],
        "refused": [
            {"id": world.records.team.pk, "message": missing},
            {"id": 99_999_999, "message": missing},
        ],
    }


def _foreign_filters(tree, world):
    crew = world.crew
    return [
        (RECORDS, "subtree_of", tree.a.pk),
        (RECORDS, "subtree_of", tree.a1.pk),
        (RECORDS, "team", crew.team.pk),
        (RECORDS, "volunteer", crew.volunteer.pk),
        (TRAININGS, "volunteer", crew.volunteer.pk),
        (EVALUATIONS, "team", crew.team.pk),
    ]


def test_filtering_by_a_foreign_id_is_a_400_that_reveals_nothing(api_client, tree, people, world):
    """Another township's id is refused exactly as an id that does not exist: same status, same body."""
    api_client.force_authenticate(people.station_b1)
    for url, param, pk in _foreign_filters(tree, world):
        foreign = api_client.get(url, {param: pk})
        missing = api_client.get(url, {param: 99_999_999})
        assert foreign.status_code == missing.status_code == 400, (url, param)
        assert foreign.json() == missing.json() == {param: [_(UNKNOWN_CHOICE)]}, (url, param)
        assert str(pk) not in foreign.content.decode()


def test_a_team_leader_filters_by_its_team_but_names_no_unit(api_client, tree, people, world):
    api_client.force_authenticate(people.leader)
    assert _ids(api_client.get(RECORDS, {"team": world.crew.team.pk})) == {world.records.team.pk}
    refused(api_client.get(RECORDS, {"subtree_of": tree.a1.pk}), "subtree_of", _(UNKNOWN_CHOICE))


# --- Filters and ordering ---------------------------------------------------------------------------


def test_record_filters(api_client, tree, people, world):
    records = world.records
    services.flag_raise(records.a2, FlagKind.OVERLAP, detail="与另一记录重叠")
    api_client.force_authenticate(people.county)

    def ids(**params):
        return _ids(api_client.get(RECORDS, params))

    assert ids(status="approved") == {records.a1.pk}
    assert ids(status="pending") == _pks([records.team, records.a2, records.b1])
    assert ids(subtree_of=tree.a.pk) == _pks([records.team, records.a1, records.a2])
    assert ids(subtree_of=tree.a2.pk) == {records.a2.pk}
    assert ids(team=world.crew.team.pk) == {records.team.pk}
    assert ids(volunteer=world.crew.member.pk) == {records.a1.pk}
    assert ids(date_from=records.a1.service_date.isoformat()) == _pks([records.team, records.a1, records.b1])
    assert ids(date_to=records.a1.service_date.isoformat()) == _pks([records.a1, records.a2])
    assert ids(flagged="true") == {records.a2.pk}
    assert ids(flagged="false", subtree_of=tree.a.pk) == _pks([records.team, records.a1])


@pytest.mark.parametrize(
    ("who", "unit"), [("inst_a", "a"), ("inst_a", "a1"), ("station_a1", "a1"), ("county", "b")]
)
def test_a_subtree_the_caller_holds_lists_what_the_scope_and_the_filter_give(
    api_client, tree, people, world, who, unit
):
    """A held subtree is read as that subtree alone (the faster query): the same rows as the caller's scope
    narrowed by the filter, a record naming the caller as organiser elsewhere left out, other filters kept."""
    user, root = getattr(people, who), getattr(tree, unit)
    ServiceRecord.objects.filter(pk=world.records.b1.pk).update(organiser=user)
    api_client.force_authenticate(user)
    scoped = ServiceRecord.objects.visible_to(user).filter(unit__path__startswith=root.path)
    assert _ids(api_client.get(RECORDS, {"subtree_of": root.pk})) == set(scoped.values_list("pk", flat=True))
    pending = scoped.filter(status=RecordStatus.PENDING).values_list("pk", flat=True)
    assert _ids(api_client.get(RECORDS, {"subtree_of": root.pk, "status": "pending"})) == set(pending)
    assert scoped.exists()


def test_a_volunteer_of_another_township_who_served_here_may_be_filtered_by(api_client, tree, people, world):
    """Volunteers are filtered by when the caller sees them, or sees a record of theirs."""
    other = world.crew.other
    served = write_record(other, start=day_at(9, 9), unit=tree.a1)
    api_client.force_authenticate(people.station_a1)
    assert not Volunteer.objects.visible_to(people.station_a1).filter(pk=other.pk).exists()
    assert _ids(api_client.get(RECORDS, {"volunteer": other.pk})) == {served.pk}


def test_records_come_latest_service_first_and_order_by_request(api_client, people, world):
    records = world.records
    api_client.force_authenticate(people.inst_a)
    latest_first = [records.team.pk, records.a1.pk, records.a2.pk]
    assert [row["id"] for row in _rows(api_client.get(RECORDS))] == latest_first
    assert [row["id"] for row in _rows(api_client.get(RECORDS, {"ordering": "started_at"}))] == latest_first[
        ::-1
    ]
    by_id = sorted(latest_first, reverse=True)
    assert [row["id"] for row in _rows(api_client.get(RECORDS, {"ordering": "-id"}))] == by_id


def test_the_record_list_walks_every_page_by_cursor_through_equal_start_times(
    api_client, tree, people, world
):
    """An activity's check-in gives many records one start time: the cursor walks them without a gap."""
    start = day_at(20, 9)
    for i in range(7):
        write_record(make_volunteer(tree.a2, _name("同时", i)), start=start, unit=tree.a2)
    api_client.force_authenticate(people.inst_a)
    expected = list(
        ServiceRecord.objects.visible_to(people.inst_a)
        .order_by("-started_at", "-id")
        .values_list("pk", flat=True)
    )
    for ordering in ("", "started_at"):
        seen, url = [], f"{RECORDS}?page_size=3" + (f"&ordering={ordering}" if ordering else "")
        while url:
            body = api_client.get(url).json()
            assert "count" not in body
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        assert seen == (expected if not ordering else expected[::-1]), ordering


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (RECORDS, {"status": "asleep"}, "status"),
        (RECORDS, {"subtree_of": "abc"}, "subtree_of"),
        (RECORDS, {"subtree_of": "99999999999999999999"}, "subtree_of"),
        (RECORDS, {"team": "-1"}, "team"),
        (RECORDS, {"volunteer": "x"}, "volunteer"),
        (RECORDS, {"date_from": "yesterday"}, "date_from"),
        (RECORDS, {"date_to": "2026-13-01"}, "date_to"),
        (RECORDS, {"flagged": "maybe"}, "flagged"),
        (RECORDS, {"ordering": "volunteer__phone"}, "ordering"),
        (RECORDS, {"page_size": "0"}, "page_size"),
        (RECORDS, {"page_size": "501"}, "page_size"),
        (CORRECTIONS, {"status": "lost"}, "status"),
        (FLAGS, {"kind": "alien"}, "kind"),
        (TRAININGS, {"date_from": "soon"}, "date_from"),
        (EVALUATIONS, {"grade": "A+"}, "grade"),
        (EVALUATIONS, {"year": "last"}, "year"),
        (CERTIFICATES, {"status": "lost"}, "status"),
        (MY_RECORDS, {"page_size": "many"}, "page_size"),
    ],
)
def test_invalid_filter_values_are_a_400_with_the_field(api_client, people, world, url, params, field):
    api_client.force_authenticate(people.county)
    response = api_client.get(url, params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


# --- Entering a record on a volunteer's behalf ---------------------------------------------------------


def _entry(volunteer, unit=None, team=None, **changes):
    start = day_at(6, 14)
    body = {
        "volunteer": volunteer.pk,
        "content": "敬老院陪护",
        "started_at": start.isoformat(),
        "ended_at": (start + datetime.timedelta(hours=3)).isoformat(),
        "evidence_note": "签到表已存档",
    }
    if unit is not None:
        body["unit"] = unit.pk
    if team is not None:
        body["team"] = team.pk
    body.update(changes)
    return body


def test_station_staff_enter_a_record_for_a_volunteer(api_client, tree, people, world):
    volunteer = world.crew.volunteer
    api_client.force_authenticate(people.station_a1)
    response = api_client.post(RECORDS, _entry(volunteer, tree.a1), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    record = ServiceRecord.objects.get(pk=body["id"])
    assert (record.volunteer, record.unit, record.submitted_by) == (volunteer, tree.a1, people.station_a1)
    assert (body["status"], body["source"], body["hours"]) == ("pending", "staff", "3.00")
    assert [event["action"] for event in body["events"]] == ["created"]
    assert stored_total(volunteer) == 0  # pending: nothing counted yet


def test_a_team_leader_enters_a_record_on_its_team(api_client, people, world):
    crew = world.crew
    api_client.force_authenticate(people.leader)
    response = api_client.post(RECORDS, _entry(crew.member, team=crew.team), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["team"], response.json()["unit"]) == (crew.team.pk, crew.team.unit_id)


def test_entering_a_record_refused_by_the_service_answers_its_field_and_message(
    api_client, tree, people, world
):
    crew = world.crew
    api_client.force_authenticate(people.station_a1)
    future = timezone.now() + datetime.timedelta(hours=2)
    cases = [
        (
            _entry(crew.volunteer, tree.a1, ended_at=future.isoformat()),
            "ended_at",
            _("A service is recorded once it has ended: the end lies in the future."),
        ),
        (
            _entry(crew.volunteer, tree.a1, started_at=day_at(6, 17).isoformat()),
            "ended_at",
            _("The end must be after the start."),
        ),
        (_entry(crew.volunteer, tree.a1, content="  "), "content", _("Say what the service was.")),
        (_entry(crew.volunteer), "unit", _("Choose the unit that organised the service.")),
        (
            _entry(
                crew.volunteer,
                tree.a1,
                started_at=day_at(3, 10).isoformat(),
                ended_at=day_at(3, 12).isoformat(),
            ),
            "started_at",
            services._overlap_message(world.records.team),
        ),
    ]
    for body, field, message in cases:
        refused(unchanged(lambda b=body: api_client.post(RECORDS, b, format="json")), field, message)
    # Staff who see the unit but do not record services there: the service's refusal.
    api_client.force_authenticate(people.viewer)
    refused(
        unchanged(lambda: api_client.post(RECORDS, _entry(crew.volunteer, tree.a1), format="json")),
        "unit",
        _("This unit is outside the area you record services for."),
    )


def test_entering_a_record_names_only_units_teams_and_volunteers_the_caller_may_name(
    api_client, tree, people, world
):
    crew = world.crew
    api_client.force_authenticate(people.station_b1)
    for body, field, pk in (
        (_entry(crew.other, tree.a1), "unit", tree.a1.pk),
        (_entry(crew.other, team=crew.team), "team", crew.team.pk),
    ):
        foreign = unchanged(lambda b=body: api_client.post(RECORDS, b, format="json"))
        missing = api_client.post(RECORDS, {**body, field: 99_999_999}, format="json")
        assert foreign.status_code == missing.status_code == 400, field
        assert set(foreign.json()) == set(missing.json()) == {field}
        assert foreign.json()[field][0].replace(str(pk), "N") == missing.json()[field][0].replace(
            "99999999", "N"
        )
    # A volunteer of another county cannot be named at all.
    api_client.force_authenticate(people.station_a1)
    from stations.models import UnitKind
    from stations.tests.factories import make_unit

    elsewhere = make_volunteer(make_unit(UnitKind.CENTER, name="邻县中心"), "钱邻县")
    response = unchanged(lambda: api_client.post(RECORDS, _entry(elsewhere, tree.a1), format="json"))
    assert response.status_code == 400 and set(response.json()) == {"volunteer"}


# --- Deciding -------------------------------------------------------------------------------------------


def test_a_team_leader_approves_its_teams_record(api_client, people, world):
    record = world.records.team
    api_client.force_authenticate(people.leader)
    response = api_client.post(f"{RECORDS}{record.pk}/approve/", {"note": "属实"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decision_note"]) == ("approved", "属实") and body["decided_at"]
    assert [event["action"] for event in body["events"]] == ["created", "approved"]
    assert stored_total(world.crew.volunteer) == Decimal("2.00")


def test_station_staff_reject_with_the_reason(api_client, people, world):
    record = world.records.team
    api_client.force_authenticate(people.station_a1)
    refused(
        unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/reject/", {"reason": " "}, format="json")),
        "reason",
        _("Give the reason for the rejection."),
    )
    response = api_client.post(f"{RECORDS}{record.pk}/reject/", {"reason": "无签到记录"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "无签到记录")


def test_nobody_approves_their_own_record(api_client, people, world):
    crew = world.crew
    own = submit(crew.leader, start=day_at(8, 9), team=crew.team)
    api_client.force_authenticate(people.leader)
    assert own.pk in _ids(api_client.get(RECORDS))  # seen, as a record of its team
    response = unchanged(lambda: api_client.post(f"{RECORDS}{own.pk}/approve/", {}, format="json"))
    refused(response, "non_field_errors", _("Nobody approves their own service."))


def test_a_plain_member_of_the_team_is_refused_even_as_station_staff(api_client, tree, people, world):
    record = world.records.team
    member = people.member
    role_grant(actor=None, user=member, role=Role.STATION_ADMIN, unit=tree.a1)
    forget_scope(member)
    api_client.force_authenticate(member)
    response = unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/approve/", {}, format="json"))
    refused(
        response,
        "non_field_errors",
        _("You are a plain member of this record's team: its leader or a unit admin decides it."),
    )


def test_a_plain_member_without_a_role_does_not_even_see_the_record(api_client, people, world):
    record = world.records.team
    api_client.force_authenticate(people.member)
    response = unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/approve/", {}, format="json"))
    assert response.status_code == 404


def test_a_viewer_sees_but_does_not_approve(api_client, people, world):
    record = world.records.team
    api_client.force_authenticate(people.viewer)
    response = unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/approve/", {}, format="json"))
    refused(response, "non_field_errors", _("This record is outside the area you approve for."))


def test_a_decided_record_is_not_decided_again(api_client, people, world):
    record = world.records.a1
    api_client.force_authenticate(people.station_a1)
    response = unchanged(
        lambda: api_client.post(f"{RECORDS}{record.pk}/reject/", {"reason": "重复"}, format="json")
    )
    refused(
        response,
        "non_field_errors",
        _("This record has been decided already (%(status)s).") % {"status": RecordStatus.APPROVED.label},
    )


def test_a_flagged_record_is_approved_from_one_level_up_with_a_note(api_client, people, world):
    record = world.records.team
    services.flag_raise(record, FlagKind.OVERLAP, detail="与另一记录重叠")
    api_client.force_authenticate(people.station_a1)
    refused(
        unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/approve/", {}, format="json")),
        "non_field_errors",
        _("This record is flagged for review: an admin above its unit approves it, with a note."),
    )
    api_client.force_authenticate(people.inst_a)
    refused(
        unchanged(lambda: api_client.post(f"{RECORDS}{record.pk}/approve/", {}, format="json")),
        "note",
        _("Say why the flagged record is approved."),
    )
    response = api_client.post(f"{RECORDS}{record.pk}/approve/", {"note": "已核实"}, format="json")
    assert response.status_code == 200
    assert response.json()["flagged"] is False
    assert [flag["is_open"] for flag in response.json()["flags"]] == [False]


def test_bulk_decisions_say_what_was_done_and_why_the_rest_was_not(api_client, people, world):
    records, crew = world.records, world.crew
    own = submit(crew.leader, start=day_at(8, 9), team=crew.team)
    other = submit(crew.member, start=day_at(9, 9), team=crew.team)
    api_client.force_authenticate(people.leader)
    body = {"ids": [records.team.pk, own.pk, records.a2.pk, other.pk, records.team.pk], "decision": "approve"}
    response = api_client.post(f"{RECORDS}decide/", body, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "done": [records.team.pk, other.pk],
        "refused": [
            {"id": own.pk, "message": _("Nobody approves their own service.")},
            {"id": records.a2.pk, "message": _("This record no longer exists; reload the page.")},
        ],
    }
    assert ServiceRecord.objects.get(pk=own.pk).status == RecordStatus.PENDING
    assert ServiceRecord.objects.get(pk=records.a2.pk).status == RecordStatus.PENDING
    assert stored_total(crew.volunteer) == Decimal("2.00") and stored_total(crew.member) == Decimal(
        "2.00"
    ) + (records.a1.hours)


def test_bulk_rejection_needs_the_reason_before_anything_is_tried(api_client, people, world):
    api_client.force_authenticate(people.inst_a)
    body = {"ids": [world.records.team.pk, world.records.a2.pk], "decision": "reject", "reason": " "}
    response = unchanged(lambda: api_client.post(f"{RECORDS}decide/", body, format="json"))
    refused(response, "reason", _("Give the reason for the rejection."))
    body["reason"] = "凭证不足"
    response = api_client.post(f"{RECORDS}decide/", body, format="json")
    assert response.json() == {"done": [world.records.team.pk, world.records.a2.pk], "refused": []}
    assert set(ServiceRecord.objects.filter(pk__in=body["ids"]).values_list("status", flat=True)) == {
        "rejected"
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "decision": "approve"}, "ids"),
        ({"ids": ["x"], "decision": "approve"}, "ids"),
        ({"ids": [1], "decision": "maybe"}, "decision"),
        ({"ids": [2**64], "decision": "approve"}, "ids"),
        ({"ids": list(range(1, 502)), "decision": "approve"}, "ids"),
    ],
)
def test_bulk_input_of_the_wrong_shape_is_a_400(api_client, people, world, body, field):
    api_client.force_authenticate(people.inst_a)
    response = unchanged(lambda: api_client.post(f"{RECORDS}decide/", body, format="json"))
    assert response.status_code == 400 and set(response.json()) == {field}


# --- Never edited, never deleted --------------------------------------------------------------------


@pytest.mark.parametrize("which", ["a1", "team"])  # approved, pending
def test_a_record_is_never_edited_or_deleted_through_the_api(api_client, people, world, which):
    record = getattr(world.records, which)
    api_client.force_authenticate(people.county)
    detail = f"{RECORDS}{record.pk}/"
    body = {"content": "改过的内容", "hours": "9.00", "status": "approved"}
    for method in ("put", "patch", "delete"):
        response = unchanged(lambda m=method: getattr(api_client, m)(detail, body, format="json"))
        assert response.status_code == 405, method
    for method in ("put", "patch", "delete"):
        assert (
            unchanged(lambda m=method: getattr(api_client, m)(RECORDS, body, format="json")).status_code
            == 405
        )
    assert api_client.get(detail).json()["content"] == record.content


@pytest.mark.parametrize("url", [CORRECTIONS, FLAGS, CERTIFICATES, MY_RECORDS])
def test_nothing_else_is_deleted_or_edited_in_place_either(api_client, people, world, url):
    crew = world.crew
    correction = CorrectionRequest.objects.create(
        record=world.records.a1, requested_by=people.member, reason="时长不对"
    )
    flag = RecordFlag.objects.create(record=world.records.a1, kind=FlagKind.DAY_CAP)
    certificate = Certificate.objects.create(volunteer=crew.member, issuer=crew.team.unit)
    pk = {
        CORRECTIONS: correction.pk,
        FLAGS: flag.pk,
        CERTIFICATES: certificate.pk,
        MY_RECORDS: world.records.a1.pk,
    }
    api_client.force_authenticate(people.member if url == MY_RECORDS else people.county)
    for method in ("put", "patch", "delete"):
        response = unchanged(lambda m=method: getattr(api_client, m)(f"{url}{pk[url]}/", {"reason": "x"}))
        assert response.status_code == 405, method


# --- Corrections ---------------------------------------------------------------------------------------


def test_a_volunteer_asks_for_a_correction_and_the_organising_station_accepts_it(
    api_client, tree, people, world
):
    record = world.records.a1  # the crew member's, approved
    api_client.force_authenticate(people.member)
    new_end = record.ended_at + datetime.timedelta(hours=1)
    body = {"record": record.pk, "reason": "签退时间记错了", "ended_at": new_end.isoformat()}
    response = api_client.post(CORRECTIONS, body, format="json")
    assert response.status_code == 201, response.content
    correction = response.json()
    assert (correction["status"], correction["record"], correction["volunteer"]) == (
        "pending",
        record.pk,
        world.crew.member.pk,
    )
    assert _ids(api_client.get(CORRECTIONS)) == {correction["id"]}  # the volunteer reads their own
    api_client.force_authenticate(people.inst_a)
    assert correction["id"] in _ids(api_client.get(CORRECTIONS))
    response = api_client.post(
        f"{CORRECTIONS}{correction['id']}/accept/", {"note": "已核对签到表"}, format="json"
    )
    assert response.status_code == 200, response.content
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["new_record"]
    new = api_client.get(f"{RECORDS}{accepted['new_record']}/").json()
    assert (new["supersedes"], new["hours"], new["status"]) == (record.pk, "3.00", "approved")
    assert api_client.get(f"{RECORDS}{record.pk}/").json()["superseded_by"] == new["id"]
    assert stored_total(world.crew.member) == Decimal("3.00")


def test_a_correction_is_refused_with_the_reason(api_client, people, world):
    correction = CorrectionRequest.objects.create(
        record=world.records.a1, requested_by=people.member, reason="不对"
    )
    api_client.force_authenticate(people.station_a1)
    url = f"{CORRECTIONS}{correction.pk}/refuse/"
    refused(
        unchanged(lambda: api_client.post(url, {}, format="json")),
        "note",
        _("Give the reason for the refusal."),
    )
    response = api_client.post(url, {"note": "与签到表一致"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "refused")
    refused(
        unchanged(lambda: api_client.post(url, {"note": "再次"}, format="json")),
        "non_field_errors",
        _("This correction has been decided already."),
    )


def test_correction_requests_refused_by_the_service(api_client, people, world):
    api_client.force_authenticate(people.member)
    refused(
        unchanged(
            lambda: api_client.post(
                CORRECTIONS, {"record": world.records.a1.pk, "reason": " "}, format="json"
            )
        ),
        "reason",
        _("Say what is wrong with the record."),
    )
    api_client.force_authenticate(people.volunteer)  # their own record, still pending
    refused(
        unchanged(
            lambda: api_client.post(
                CORRECTIONS, {"record": world.records.team.pk, "reason": "错"}, format="json"
            )
        ),
        "non_field_errors",
        _("Only an approved or rejected record is corrected."),
    )


def test_corrections_of_the_other_township_are_neither_read_nor_asked_for_nor_decided(
    api_client, people, world
):
    correction = CorrectionRequest.objects.create(
        record=world.records.a1, requested_by=people.member, reason="不对"
    )
    api_client.force_authenticate(people.station_b1)
    assert correction.pk not in _ids(api_client.get(CORRECTIONS))
    assert api_client.get(f"{CORRECTIONS}{correction.pk}/").status_code == 404
    for action, body in (("accept", {"note": "好"}), ("refuse", {"note": "不"})):
        response = unchanged(
            lambda a=action, b=body: api_client.post(f"{CORRECTIONS}{correction.pk}/{a}/", b)
        )
        assert response.status_code == 404, action
    # Asking for a correction of a record one does not see: as for a record that does not exist.
    foreign = unchanged(lambda: api_client.post(CORRECTIONS, {"record": world.records.a1.pk, "reason": "错"}))
    missing = api_client.post(CORRECTIONS, {"record": 99_999_999, "reason": "错"})
    assert foreign.status_code == missing.status_code == 400
    assert set(foreign.json()) == set(missing.json()) == {"record"}
    assert foreign.json()["record"][0].replace(str(world.records.a1.pk), "N") == missing.json()["record"][
        0
    ].replace("99999999", "N")


# --- Review flags --------------------------------------------------------------------------------------


def test_flags_to_review_are_scoped_and_cleared_from_one_level_up(api_client, people, world):
    flag = services.flag_raise(world.records.a1, FlagKind.DAY_CAP, detail="超过每日上限")
    services.flag_raise(world.records.b1, FlagKind.OVERLAP, detail="重叠")
    api_client.force_authenticate(people.station_a1)
    listed = _rows(api_client.get(FLAGS))
    assert [row["id"] for row in listed] == [flag.pk]
    assert (listed[0]["record"], listed[0]["kind"], listed[0]["volunteer_name"]) == (
        world.records.a1.pk,
        "day_cap",
        "王队员",
    )
    url = f"{FLAGS}{flag.pk}/clear/"
    refused(
        unchanged(lambda: api_client.post(url, {"note": "看过"}, format="json")),
        "non_field_errors",
        _("Flags are cleared by an admin above the record's unit."),
    )
    api_client.force_authenticate(people.station_b1)
    assert flag.pk not in _ids(api_client.get(FLAGS))
    assert unchanged(lambda: api_client.post(url, {"note": "看过"}, format="json")).status_code == 404
    api_client.force_authenticate(people.inst_a)
    refused(
        unchanged(lambda: api_client.post(url, {}, format="json")), "note", _("Say what the review found.")
    )
    response = api_client.post(url, {"note": "当天确有两场活动"}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_open"], response.json()["id"]) == (False, flag.pk)
    assert flag.pk not in _ids(api_client.get(FLAGS))  # reviewed: off the list


def test_flags_filter_by_kind(api_client, people, world):
    day_cap = services.flag_raise(world.records.a1, FlagKind.DAY_CAP, detail="超过每日上限")
    services.flag_raise(world.records.a2, FlagKind.OVERLAP, detail="重叠")
    api_client.force_authenticate(people.inst_a)
    assert _ids(api_client.get(FLAGS, {"kind": "day_cap"})) == {day_cap.pk}


# --- Trainings and evaluations -----------------------------------------------------------------------


def _training(volunteer, unit, **changes):
    body = {
        "volunteer": volunteer.pk,
        "unit": unit.pk,
        "title": "应急救护培训",
        "organiser": "县红十字会",
        "date": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "hours": "4.0",
    }
    return {**body, **changes}


def test_trainings_are_recorded_changed_and_read_by_their_volunteer(api_client, tree, people, world):
    volunteer = world.crew.volunteer
    api_client.force_authenticate(people.station_a1)
    response = api_client.post(TRAININGS, _training(volunteer, tree.a1), format="json")
    assert response.status_code == 201, response.content
    training = response.json()
    assert (training["hours"], training["volunteer_name"], training["unit"]) == ("4.0", "张志愿", tree.a1.pk)
    response = api_client.patch(f"{TRAININGS}{training['id']}/", {"hours": "6"}, format="json")
    assert (response.status_code, response.json()["hours"]) == (200, "6.0")
    put = {"title": "心肺复苏培训", "organiser": "县医院", "date": training["date"], "hours": "2.5"}
    response = api_client.put(f"{TRAININGS}{training['id']}/", put, format="json")
    assert response.status_code == 200 and response.json()["title"] == "心肺复苏培训"
    assert unchanged(lambda: api_client.delete(f"{TRAININGS}{training['id']}/")).status_code == 405
    api_client.force_authenticate(people.volunteer)
    assert _ids(api_client.get(TRAININGS)) == {training["id"]}
    refused(
        unchanged(lambda: api_client.patch(f"{TRAININGS}{training['id']}/", {"hours": "9"}, format="json")),
        "unit",
        _("This training was recorded by a unit outside the area you record trainings for."),
    )


def test_trainings_refused_by_the_service(api_client, tree, people, world):
    volunteer = world.crew.volunteer
    api_client.force_authenticate(people.station_a1)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    refused(
        unchanged(
            lambda: api_client.post(TRAININGS, _training(volunteer, tree.a1, date=tomorrow), format="json")
        ),
        "date",
        _("A training is recorded once it has taken place."),
    )
    refused(
        unchanged(
            lambda: api_client.post(TRAININGS, _training(volunteer, tree.a1, hours="0"), format="json")
        ),
        "hours",
        _("A training lasts more than 0 and at most 200 hours."),
    )
    api_client.force_authenticate(people.viewer)
    refused(
        unchanged(lambda: api_client.post(TRAININGS, _training(volunteer, tree.a1), format="json")),
        "unit",
        _("This unit is outside the area you record trainings for."),
    )


def test_trainings_of_the_other_township_are_neither_read_nor_changed(api_client, tree, people, world):
    training = Training.objects.create(
        volunteer=world.crew.volunteer,
        unit=tree.a1,
        title="培训",
        organiser="站",
        date=day_at(5, 9).date(),
        hours=2,
    )
    api_client.force_authenticate(people.station_b1)
    assert training.pk not in _ids(api_client.get(TRAININGS))
    assert api_client.get(f"{TRAININGS}{training.pk}/").status_code == 404
    body = {"title": "改", "organiser": "改", "date": "2026-01-01", "hours": "1"}
    for method in ("put", "patch"):
        response = unchanged(
            lambda m=method: getattr(api_client, m)(f"{TRAININGS}{training.pk}/", body, format="json")
        )
        assert response.status_code == 404, method
    # Nor recorded for a volunteer they neither see nor had serve with them.
    foreign = unchanged(
        lambda: api_client.post(TRAININGS, _training(world.crew.volunteer, tree.b1), format="json")
    )
    assert foreign.status_code == 400 and set(foreign.json()) == {"volunteer"}


def test_a_team_leader_evaluates_its_members_yearly(api_client, people, world):
    crew = world.crew
    year = timezone.localdate().year - 1
    api_client.force_authenticate(people.leader)
    body = {
        "volunteer": crew.member.pk,
        "team": crew.team.pk,
        "year": year,
        "grade": "good",
        "comment": "积极",
    }
    response = api_client.post(EVALUATIONS, body, format="json")
    assert response.status_code == 201, response.content
    evaluation = response.json()
    assert (evaluation["grade"], evaluation["team_name"], evaluation["year"]) == (
        "good",
        "甲一村志愿服务队",
        year,
    )
    response = api_client.patch(f"{EVALUATIONS}{evaluation['id']}/", {"grade": "excellent"}, format="json")
    assert response.status_code == 200
    assert (response.json()["grade"], response.json()["comment"]) == ("excellent", "积极")
    response = api_client.put(f"{EVALUATIONS}{evaluation['id']}/", {"grade": "pass"}, format="json")
    assert (response.json()["grade"], response.json()["comment"]) == ("pass", "")
    assert unchanged(lambda: api_client.delete(f"{EVALUATIONS}{evaluation['id']}/")).status_code == 405
    api_client.force_authenticate(people.member)
    assert _ids(api_client.get(EVALUATIONS)) == {evaluation["id"]}  # shown to the volunteer


def test_evaluations_refused_by_the_service(api_client, people, world):
    crew = world.crew
    api_client.force_authenticate(people.leader)
    body = {"volunteer": crew.leader.pk, "team": crew.team.pk, "year": 2025, "grade": "good"}
    refused(
        unchanged(lambda: api_client.post(EVALUATIONS, body, format="json")),
        "volunteer",
        _("Nobody evaluates themselves."),
    )
    body = {"volunteer": crew.member.pk, "team": crew.team.pk, "year": 1999, "grade": "good"}
    refused(
        unchanged(lambda: api_client.post(EVALUATIONS, body, format="json")),
        "year",
        _("Give a year from 2000 to 2100."),
    )


def test_evaluations_of_the_other_township_are_neither_read_nor_changed(api_client, people, world):
    crew = world.crew
    evaluation = Evaluation.objects.create(volunteer=crew.member, team=crew.team, year=2025, grade="good")
    api_client.force_authenticate(people.station_b1)
    assert evaluation.pk not in _ids(api_client.get(EVALUATIONS))
    response = unchanged(
        lambda: api_client.patch(f"{EVALUATIONS}{evaluation.pk}/", {"grade": "fail"}, format="json")
    )
    assert response.status_code == 404
    body = {"volunteer": crew.member.pk, "team": crew.team.pk, "year": 2024, "grade": "fail"}
    response = unchanged(lambda: api_client.post(EVALUATIONS, body, format="json"))
    assert response.status_code == 400 and set(response.json()) == {"volunteer", "team"}


# --- Certificates -------------------------------------------------------------------------------------


def _issued(volunteer, issuer, sequence=1, **fields):
    return Certificate.objects.create(
        volunteer=volunteer,
        issuer=issuer,
        status=CertificateStatus.READY,
        year=2026,
        sequence=sequence,
        number=f"TEST-{issuer.pk}-{sequence:05d}",
        issued_at=timezone.now(),
        pdf=f"certificates/test-{sequence}.pdf",
        **fields,
    )


def test_a_volunteer_asks_for_a_certificate_of_their_approved_service(api_client, tree, people, world):
    api_client.force_authenticate(people.member)
    response = api_client.post(CERTIFICATES, {"issuer": tree.a1.pk}, format="json")
    assert response.status_code == 201, response.content
    certificate = response.json()
    assert (certificate["status"], certificate["volunteer"], certificate["issuer"]) == (
        "requested",
        world.crew.member.pk,
        tree.a1.pk,
    )
    assert certificate["download_url"] is None and certificate["number"] is None
    assert _ids(api_client.get(CERTIFICATES)) == {certificate["id"]}
    refused(
        unchanged(lambda: api_client.post(CERTIFICATES, {"issuer": tree.a1.pk}, format="json")),
        "issuer",
        _("A certificate from %(unit)s is already being prepared; it will be ready shortly.")
        % {"unit": tree.a1},
    )


def test_certificate_requests_refused_by_the_service(api_client, tree, people, world):
    api_client.force_authenticate(people.volunteer)  # no approved record yet
    refused(
        unchanged(lambda: api_client.post(CERTIFICATES, {"issuer": tree.b1.pk}, format="json")),
        "issuer",
        _(
            "This unit cannot certify your service: ask the practice center of your county or a unit that "
            "organised your service."
        ),
    )
    api_client.force_authenticate(people.nobody)  # no volunteer of their own
    refused(
        unchanged(lambda: api_client.post(CERTIFICATES, {"issuer": tree.a1.pk}, format="json")),
        "volunteer",
        _("Choose the volunteer."),
    )


def test_staff_revoke_an_issued_certificate_with_the_reason(api_client, tree, people, world):
    certificate = _issued(world.crew.member, tree.a1)
    api_client.force_authenticate(people.station_a1)
    listed = _rows(api_client.get(CERTIFICATES))
    assert [row["id"] for row in listed] == [certificate.pk]
    assert listed[0]["download_url"] == f"/records/certificates/{certificate.pk}/download/"
    url = f"{CERTIFICATES}{certificate.pk}/revoke/"
    refused(
        unchanged(lambda: api_client.post(url, {"reason": ""}, format="json")),
        "reason",
        _("Give the reason for revoking."),
    )
    response = api_client.post(url, {"reason": "记录有误，已更正"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["revoke_reason"]) == ("revoked", "记录有误，已更正")
    # The volunteer reads it, and may not revoke it.
    api_client.force_authenticate(people.member)
    assert _ids(api_client.get(CERTIFICATES)) == {certificate.pk}
    refused(
        unchanged(lambda: api_client.post(url, {"reason": "不要了"}, format="json")),
        "non_field_errors",
        _("This certificate is outside the area you administer."),
    )


def test_certificates_of_the_other_township_are_neither_read_nor_revoked(api_client, tree, people, world):
    certificate = _issued(world.crew.member, tree.a1)
    api_client.force_authenticate(people.station_b1)
    assert certificate.pk not in _ids(api_client.get(CERTIFICATES))
    assert api_client.get(f"{CERTIFICATES}{certificate.pk}/").status_code == 404
    response = unchanged(lambda: api_client.post(f"{CERTIFICATES}{certificate.pk}/revoke/", {"reason": "x"}))
    assert response.status_code == 404


# --- A volunteer's own records and totals -----------------------------------------------------------


def test_my_records_are_my_own_only(api_client, people, world):
    crew = world.crew
    second = write_record(crew.volunteer, start=day_at(10, 9), status=RecordStatus.REJECTED)
    api_client.force_authenticate(people.volunteer)
    listed = _rows(api_client.get(MY_RECORDS))
    assert [row["id"] for row in listed] == [world.records.team.pk, second.pk]
    assert [row["status"] for row in listed] == ["pending", "rejected"]
    detail = api_client.get(f"{MY_RECORDS}{second.pk}/").json()
    assert detail["id"] == second.pk and "events" in detail
    assert api_client.get(f"{MY_RECORDS}{world.records.a1.pk}/").status_code == 404  # the member's
    api_client.force_authenticate(people.inst_a)  # staff, no volunteer: nothing of their own
    assert _rows(api_client.get(MY_RECORDS)) == []


def test_my_totals_say_hours_stars_progress_and_what_waits(api_client, settings, people, world):
    settings.SERVICE_STAR_THRESHOLDS = [3, 10, 20]
    crew = world.crew
    services.record_approve(actor=people.leader, record=world.records.team)
    write_record(crew.volunteer, start=day_at(10, 9), hours=2)
    submit(crew.volunteer, start=day_at(11, 9), hours=1)
    api_client.force_authenticate(people.volunteer)
    response = api_client.get(MY_TOTALS)
    assert response.status_code == 200
    stars = rules.stars_for(Decimal("4.00"))
    assert response.json() == {
        "hours": "4.00",
        "star_level": 1,
        "next_level": 2,
        "next_threshold": 10,
        "hours_to_next": "6.00",
        "percent": stars.percent,
        "pending_count": 1,
    }
    assert stars.percent == 14
    api_client.force_authenticate(people.inst_a)
    assert api_client.get(MY_TOTALS).status_code == 404


# --- Constant queries -----------------------------------------------------------------------------------


def _grow(url, count, tree, people, crew, *, first=0):
    """`count` more rows of one list, all inside station A1, each of them seen by inst_a."""
    volunteer = crew.volunteer
    for i in range(first, first + count):
        if url == RECORDS:  # on the crew's team, approved; one in five flagged
            record = write_record(volunteer, start=day_at(30 + i, 9), team=crew.team)
            if i % 5 == 0:
                RecordFlag.objects.create(record=record, kind=FlagKind.DAY_CAP)
        elif url == MY_RECORDS:  # every status, some flagged
            status = (RecordStatus.APPROVED, RecordStatus.PENDING, RecordStatus.REJECTED)[i % 3]
            record = write_record(volunteer, start=day_at(30 + i, 9), status=status)
            if i % 5 == 0:
                RecordFlag.objects.create(record=record, kind=FlagKind.DAY_CAP)
        elif url == CORRECTIONS:
            record = write_record(volunteer, start=day_at(30 + i, 9))
            CorrectionRequest.objects.create(record=record, requested_by=volunteer.user, reason=f"更正{i}")
        elif url == FLAGS:
            record = write_record(volunteer, start=day_at(30 + i, 9), status=RecordStatus.PENDING)
            RecordFlag.objects.create(record=record, kind=FlagKind.OVERLAP, detail="重叠")
        elif url == TRAININGS:
            Training.objects.create(
                volunteer=volunteer,
                unit=tree.a1,
                title=f"培训{i}",
                organiser="站",
                date=day_at(30 + i, 9).date(),
                hours=2,
            )
        elif url == EVALUATIONS:
            Evaluation.objects.create(volunteer=volunteer, team=crew.team, year=2000 + i, grade="good")
        elif url == CERTIFICATES:
            if i % 2:
                _issued(volunteer, tree.a1, sequence=i + 1)
            else:
                Certificate.objects.create(volunteer=volunteer, issuer=tree.a1)


FIRST = {
    RECORDS: lambda tree, crew: write_record(crew.volunteer, start=day_at(29, 9), team=crew.team),
    MY_RECORDS: lambda tree, crew: write_record(crew.volunteer, start=day_at(29, 9)),
}


@pytest.mark.parametrize(
    ("url", "params", "who"),
    [
        (RECORDS, {}, "inst_a"),
        (RECORDS, {"subtree_of": "a"}, "inst_a"),  # the benchmarked request
        (
            RECORDS,
            {"status": "approved", "team": "team", "flagged": "false", "date_from": "2000-01-01"},
            "station_a1",
        ),
        (RECORDS, {}, "leader"),
        (CORRECTIONS, {}, "inst_a"),
        (FLAGS, {}, "inst_a"),
        (TRAININGS, {}, "inst_a"),
        (EVALUATIONS, {}, "inst_a"),
        (CERTIFICATES, {}, "inst_a"),
        (CERTIFICATES, {}, "volunteer"),
        (MY_RECORDS, {}, "volunteer"),
    ],
)
def test_lists_take_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, crew, django_assert_num_queries, url, params, who
):
    people.leader, people.volunteer = crew.leader.user, crew.volunteer.user
    user = getattr(people, who)
    if url in FIRST:
        FIRST[url](tree, crew)
    else:
        _grow(url, 1, tree, people, crew)
    values = {"a": tree.a.pk, "team": crew.team.pk}
    params = {key: values.get(value, value) for key, value in params.items()}
    api_client.force_authenticate(user)

    def get():
        forget_scope(user)
        return _rows(api_client.get(url, {"page_size": 50, **params}))

    with CaptureQueriesContext(connection) as one:
        first = get()
    assert len(first) == 1
    _grow(url, 80, tree, people, crew, first=1)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


# --- Schema --------------------------------------------------------------------------------------------


def test_every_answer_matches_the_schema(api_client, tree, people, world, openapi):  # noqa: F811
    crew, records = world.crew, world.records
    flag = services.flag_raise(records.a2, FlagKind.OVERLAP, detail="重叠")
    correction = CorrectionRequest.objects.create(
        record=records.a1, requested_by=people.member, reason="不对"
    )
    training = Training.objects.create(
        volunteer=crew.volunteer,
        unit=tree.a1,
        title="培训",
        organiser="站",
        date=day_at(5, 9).date(),
        hours=2,
    )
    evaluation = Evaluation.objects.create(volunteer=crew.member, team=crew.team, year=2025, grade="good")
    certificate = _issued(crew.member, tree.a1)
    Certificate.objects.create(volunteer=crew.member, issuer=tree.a)
    api_client.force_authenticate(people.inst_a)
    details = {
        RECORDS: records.a1.pk,
        CORRECTIONS: correction.pk,
        TRAININGS: training.pk,
        EVALUATIONS: evaluation.pk,
        CERTIFICATES: certificate.pk,
    }
    for url, pk in details.items():
        _check(openapi, url, api_client.get(url).json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}{pk}/").json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}99999999/").json(), "404")
    _check(openapi, FLAGS, api_client.get(FLAGS).json())
    _check(openapi, RECORDS, api_client.get(RECORDS, {"status": "asleep"}).json(), "400")
    # The writes, as each answers.
    _check_write(
        openapi, f"{FLAGS}{{id}}/clear/", "post", api_client.post(f"{FLAGS}{flag.pk}/clear/", {"note": "可"})
    )
    approve = f"{RECORDS}{{id}}/approve/"
    decided = api_client.post(f"{RECORDS}{records.a2.pk}/approve/", {"note": "已核实"}, format="json")
    assert decided.status_code == 200
    _check_write(openapi, approve, "post", decided)
    refusal = api_client.post(f"{RECORDS}{records.a2.pk}/approve/", {}, format="json")
    _check_write(openapi, approve, "post", refusal, "400")
    bulk = api_client.post(
        f"{RECORDS}decide/", {"ids": [records.team.pk, records.b1.pk], "decision": "approve"}
    )
    _check_write(openapi, f"{RECORDS}decide/", "post", bulk)
    assert len(bulk.json()["refused"]) == 1
    created = api_client.post(RECORDS, _entry(crew.member, tree.a1), format="json")
    _check_write(openapi, RECORDS, "post", created, "201")
    _check_write(
        openapi,
        f"{CORRECTIONS}{{id}}/refuse/",
        "post",
        api_client.post(f"{CORRECTIONS}{correction.pk}/refuse/", {"note": "一致"}),
    )
    _check_write(
        openapi,
        f"{TRAININGS}{{id}}/",
        "patch",
        api_client.patch(f"{TRAININGS}{training.pk}/", {"hours": "3"}, format="json"),
    )
    _check_write(
        openapi,
        f"{CERTIFICATES}{{id}}/revoke/",
        "post",
        api_client.post(f"{CERTIFICATES}{certificate.pk}/revoke/", {"reason": "错"}),
    )
    api_client.force_authenticate(people.member)
    _check(openapi, MY_RECORDS, api_client.get(MY_RECORDS).json())
    _check(openapi, f"{MY_RECORDS}{{id}}/", api_client.get(f"{MY_RECORDS}{records.a1.pk}/").json())
    _check(openapi, MY_TOTALS, api_client.get(MY_TOTALS).json())
    api_client.force_authenticate(people.leader)
    body = {"volunteer": crew.member.pk, "team": crew.team.pk, "year": 2024, "grade": "good"}
    _check_write(openapi, EVALUATIONS, "post", api_client.post(EVALUATIONS, body, format="json"), "201")


def _check_write(openapi_schema, path, method, response, status="200"):
    assert str(response.status_code) == status, (path, response.status_code, response.content)
    validator = _validator(openapi_schema, path, method=method, status=status)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, errors


def test_the_schema_documents_the_endpoints_their_filters_and_no_personal_numbers(openapi):  # noqa: F811
    paths = openapi["paths"]
    for url in (RECORDS, CORRECTIONS, TRAININGS, EVALUATIONS, CERTIFICATES, MY_RECORDS):
        assert url in paths and f"{url}{{id}}/" in paths, url
    assert FLAGS in paths and MY_TOTALS in paths
    parameters = {parameter["name"] for parameter in paths[RECORDS]["get"]["parameters"]}
    assert {
        "status",
        "subtree_of",
        "team",
        "volunteer",
        "date_from",
        "date_to",
        "flagged",
        "ordering",
    } <= parameters
    assert {"cursor", "page_size"} <= parameters
    # No record endpoint edits or deletes.
    assert set(paths[f"{RECORDS}{{id}}/"]) == {"get"}
    assert set(paths[RECORDS]) == {"get", "post"}
    for action in ("approve", "reject"):
        assert set(paths[f"{RECORDS}{{id}}/{action}/"]) == {"post"}
    for name, schema in openapi["components"]["schemas"].items():
        properties = set(schema.get("properties", {}))
        assert not {"phone", "id_number", "id_number_encrypted", "id_number_hash"} & properties, name
    # The one number shown whole, to the dispatcher and the serving team only, says that it is masked
    # for everyone else (residents/tests/test_api.py proves it).
    resident_phone = openapi["components"]["schemas"]["ServiceRequest"]["properties"]["resident_phone"]
    assert "Masked" in resident_phone["description"]
