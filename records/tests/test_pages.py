"""The records' phone pages: my service (total, stars, records), logging a service with a photo, a record's
page (facts, photo, audit trail, corrections) for its volunteer and for whoever's scope holds it, the
approval queue with its filters and bulk decisions, trainings and evaluations, and certificates. Each
refusal is the service's message, on its field, with nothing changed."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, ngettext
from PIL import Image

from conftest import login
from records import certificates, services
from records.models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    FlagKind,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
    Training,
)
from records.tests.fonts import needs_cjk_font
from records.views import decides_records
from stations.models import Role
from stations.tests.factories import make_user
from volunteers.models import Volunteer

from .factories import day_at, stored_total, submit, write_record

pytestmark = pytest.mark.django_db

MINE = "/records/"
NEW = "/records/new/"
QUEUE = "/records/queue/"


def record_url(record) -> str:
    return reverse("records:record", args=[record.pk])


def photo_url(record) -> str:
    return reverse("records:evidence-photo", args=[record.pk])


def png(color=(200, 30, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "现场.png"
    return buffer


def moment_fields(name: str, moment: datetime.datetime) -> dict:
    local = timezone.localtime(moment)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M")}


def service_form(organising_unit, start, hours=2, **changes) -> dict:
    data = {
        "unit": str(organising_unit.pk),
        "content": "社区清洁",
        **moment_fields("started_at", start),
        **moment_fields("ended_at", start + datetime.timedelta(hours=hours)),
        "evidence_note": "队长在场",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def field_errors(response, field: str) -> list[str]:
    form = response.context["form"]
    return [str(error) for error in form.errors.get(field, [])]


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def snapshot_records():
    return sorted(
        ServiceRecord.objects.values_list("pk", "status", "decided_by_id", "hours", "content", "started_at")
    )


@pytest.fixture
def station_b1(tree):
    return make_user("station_b1", role=Role.STATION_ADMIN, unit=tree.b1)


# --- Menu -------------------------------------------------------------------------------------------


def test_the_menu_shows_my_service_to_volunteers_and_approvals_to_deciders(client, crew, people):
    page = login(client, crew.volunteer.user).get("/volunteer/me/").content.decode()
    assert 'id="nav-records"' in page and 'id="nav-approvals"' not in page
    page = login(client, crew.leader.user).get("/volunteer/me/").content.decode()
    assert 'id="nav-records"' in page and 'id="nav-approvals"' in page
    # Staff without a volunteer of their own: the approvals, none of the volunteers' own pages.
    page = login(client, people.inst_a).get(QUEUE).content.decode()
    assert 'id="nav-approvals"' in page and 'id="nav-me"' not in page and 'id="nav-records"' not in page


def test_who_decides_records(crew, people, station_b1):
    assert (
        decides_records(crew.leader.user) and decides_records(people.inst_a) and decides_records(station_b1)
    )
    assert not decides_records(crew.volunteer.user) and not decides_records(crew.member.user)
    assert not decides_records(people.nobody)
    # An organiser named on a record decides it, without any role.
    organiser = make_user("organiser")
    submit(crew.volunteer, start=day_at(2, 9), organiser=organiser)
    assert decides_records(organiser)


# --- My service -------------------------------------------------------------------------------------


def test_my_service_shows_the_total_the_stars_and_each_status(client, tree, crew):
    volunteer = crew.volunteer
    approved = write_record(volunteer, start=day_at(6, 9), hours=3)
    rejected = write_record(volunteer, start=day_at(5, 9), status=RecordStatus.REJECTED)
    pending = submit(volunteer, start=day_at(1, 9), content="敬老院陪伴")
    flagged = submit(volunteer, start=day_at(2, 9), content="防汛值守")
    RecordFlag.objects.create(record=flagged, kind=FlagKind.VOLUNTEER_WEEK, detail="本周 50 小时")
    Volunteer.objects.filter(pk=volunteer.pk).update(service_hours=Decimal("150"))

    response = login(client, volunteer.user).get(MINE)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'id="total-hours">150<', page)
    assert "★" in page and gettext("No star yet") not in page
    stars = response.context["stars"]
    assert (stars.level, stars.next_level, stars.hours_to_next, stars.percent) == (1, 2, Decimal(150), 25)
    assert 'aria-valuenow="25"' in page
    for record in (approved, rejected, pending, flagged):
        assert record_url(record) in page
    assert escape(gettext("Flagged for review")) in page
    assert str(RecordStatus.REJECTED.label) in page and "不符合" in page  # the reason of the rejection
    assert str(RecordStatus.PENDING.label) in page
    assert response.context["totals"].pending_count == 2


def test_a_superseded_record_says_so_in_my_list(client, crew):
    old = write_record(
        crew.volunteer, start=day_at(3, 9), hours=2, team=crew.team, decided_by=crew.leader.user
    )
    request = CorrectionRequest.objects.create(record=old, requested_by=crew.volunteer.user, reason="多记")
    services.correction_decide(
        actor=crew.leader.user,
        correction=request,
        accept=True,
        ended_at=old.started_at + datetime.timedelta(hours=1),
    )
    rows = {row.pk: row for row in login(client, crew.volunteer.user).get(MINE).context["records"]}
    assert rows[old.pk].badge == "superseded"
    new = ServiceRecord.objects.get(supersedes=old)
    assert rows[new.pk].badge == RecordStatus.APPROVED


def test_my_pages_are_for_volunteers(client, people):
    assert client.get(MINE).status_code == 302  # to the login
    for url in (MINE, NEW, "/records/trainings/", "/records/certificates/"):
        assert login(client, people.nobody).get(url).status_code == 404


# --- Logging a service ------------------------------------------------------------------------------


def test_the_log_form_offers_the_county_units_and_my_teams(client, tree, crew):
    response = login(client, crew.volunteer.user).get(NEW)
    form = response.context["form"]
    units = {pk for pk, _label in _flat(form.fields["unit"].choices) if pk}
    assert {tree.a1.pk, tree.a2.pk, tree.b1.pk, tree.a1a.pk} <= units and tree.center.pk not in units
    assert list(form.fields["team"].queryset) == [crew.team]
    page = response.content.decode()
    assert 'type="date"' in page and 'type="time"' in page and 'enctype="multipart/form-data"' in page


def _flat(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from label
        else:
            yield value, label


def test_a_volunteer_logs_a_service_with_a_photo(client, tree, crew):
    start = day_at(1, 9)
    data = service_form(
        tree.a1, start, hours=2.5, team=str(crew.team.pk), evidence_note="", evidence_photo=png()
    )
    response = login(client, crew.volunteer.user).post(NEW, data)
    record = ServiceRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == record_url(record)
    assert (record.status, record.hours, record.team, record.unit) == (
        RecordStatus.PENDING,
        Decimal("2.5"),
        crew.team,
        tree.a1,
    )
    assert record.started_at == start and record.submitted_by == crew.volunteer.user
    assert record.evidence_photo.name.endswith(".png")

    page = client.get(record_url(record)).content.decode()
    assert photo_url(record) in page and escape(str(RecordStatus.PENDING.label)) in page
    photo = client.get(photo_url(record))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert photo["Cache-Control"].startswith("private") and photo["X-Content-Type-Options"] == "nosniff"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"content": ""}, "content", "Say what the service was."),
        ({"evidence_note": ""}, "evidence_note", "Add a photo or a note as evidence of the service."),
        ({"started_at_1": "", "started_at_0": ""}, "started_at", "Give the start of the service."),
        ({"unit": ""}, "unit", "Choose the unit that organised the service."),
    ],
)
def test_the_services_refusals_show_on_their_field(client, tree, crew, changes, field, message):
    data = service_form(tree.a1, day_at(1, 9), **changes)
    response = login(client, crew.volunteer.user).post(NEW, data)
    assert response.status_code == 200
    assert field_errors(response, field) == [gettext(message)]
    assert not ServiceRecord.objects.exists()


def test_a_future_end_an_overlap_and_the_day_cap_are_refused_on_the_end_or_start(client, tree, crew):
    client = login(client, crew.volunteer.user)
    future = timezone.now() + datetime.timedelta(hours=3)
    response = client.post(NEW, service_form(tree.a1, future))
    assert field_errors(response, "ended_at") == [
        gettext("A service is recorded once it has ended: the end lies in the future.")
    ]
    first = submit(crew.volunteer, start=day_at(2, 9), hours=3)
    before = snapshot_records()
    response = client.post(NEW, service_form(tree.a1, day_at(2, 10)))
    from records.services import _overlap_message

    assert field_errors(response, "started_at") == [_overlap_message(first)]
    response = client.post(NEW, service_form(tree.a1, day_at(2, 13), hours=10))
    assert field_errors(response, "ended_at") == [
        gettext(
            "On %(day)s the volunteer's services would add up to %(total)s hours, more than the %(cap)s "
            "hours a day allows."
        )
        % {"day": day_at(2, 13).strftime("%Y-%m-%d"), "total": "13", "cap": 12}
    ]
    assert snapshot_records() == before


def test_a_team_of_someone_else_or_a_photo_that_is_no_image_is_refused(client, tree, crew):
    from volunteers.tests.factories import make_team

    other_team = make_team(tree.a1, "甲一村文艺队")
    client = login(client, crew.volunteer.user)
    response = client.post(NEW, service_form(tree.a1, day_at(1, 9), team=str(other_team.pk)))
    # Not one of my teams: not even a choice.
    assert "team" in response.context["form"].errors
    bad = io.BytesIO(b"<?php echo 1; ?>")
    bad.name = "photo.jpg"
    response = client.post(NEW, service_form(tree.a1, day_at(1, 9), evidence_photo=bad))
    assert response.status_code == 200 and field_errors(response, "evidence_photo")
    assert gettext("Pick the photo again: a page that comes back with an error does not keep it.") in (
        response.content.decode()
    )
    assert not ServiceRecord.objects.exists()


# --- A record's page --------------------------------------------------------------------------------


def test_a_record_and_its_photo_are_for_its_volunteer_and_those_whose_scope_holds_it(
    client, tree, crew, people, station_b1
):
    record = submit(crew.volunteer, start=day_at(1, 9), team=crew.team, evidence_photo=png())
    for user in (crew.volunteer.user, crew.leader.user, people.inst_a, people.station_a1, people.county):
        login(client, user)
        assert client.get(record_url(record)).status_code == 200, user
        assert client.get(photo_url(record)).status_code == 200, user
    for user in (crew.other.user, crew.member.user, people.inst_b, station_b1, people.nobody):
        login(client, user)
        assert client.get(record_url(record)).status_code == 404, user
        assert client.get(photo_url(record)).status_code == 404, user
    # A record without a photo, and one that does not exist.
    plain = submit(crew.volunteer, start=day_at(2, 9))
    login(client, crew.volunteer.user)
    assert client.get(photo_url(plain)).status_code == 404
    assert client.get("/records/999999/").status_code == 404


def test_the_record_page_shows_the_audit_trail(client, crew):
    record = submit(crew.volunteer, start=day_at(1, 9), team=crew.team)
    login(client, crew.leader.user).post(record_url(record), {"action": "approve", "note": "属实"})
    response = login(client, crew.volunteer.user).get(record_url(record))
    trail = response.context["trail"]
    assert [step["event"].action for step in trail] == ["created", "approved"]
    assert trail[1]["event"].actor_name == services._actor_name(crew.leader.user)
    assert trail[1]["event"].actor_name in response.content.decode()
    assert trail[1]["changes"] == [
        {
            "field": str(ServiceRecord._meta.get_field("status").verbose_name),
            "before": str(RecordStatus.PENDING.label),
            "after": str(RecordStatus.APPROVED.label),
        }
    ]
    assert "属实" in response.content.decode()


def test_the_volunteer_withdraws_a_pending_record(client, crew):
    record = submit(crew.volunteer, start=day_at(1, 9))
    client = login(client, crew.volunteer.user)
    assert 'id="withdraw"' in client.get(record_url(record)).content.decode()
    response = client.post(record_url(record), {"action": "withdraw"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN
    # Once withdrawn there is nothing to withdraw, and a second POST is refused with the message.
    response = client.post(record_url(record), {"action": "withdraw"}, follow=True)
    assert gettext("Only a record waiting for approval can be withdrawn.") in page_messages(response)


def test_the_team_leader_approves_and_rejects_on_the_record_page(client, crew):
    first = submit(crew.volunteer, start=day_at(1, 9), team=crew.team, hours=3)
    second = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    client = login(client, crew.leader.user)
    page = client.get(record_url(first)).content.decode()
    assert 'id="approve"' in page and 'id="reject"' in page
    assert client.post(record_url(first), {"action": "approve"}).status_code == 302
    assert stored_total(crew.volunteer) == Decimal(3)

    before = snapshot_records()
    response = client.post(record_url(second), {"action": "reject", "reason": ""})
    assert response.status_code == 200
    assert [str(e) for e in response.context["forms"].decision.errors["reason"]] == [
        gettext("Give the reason for the rejection.")
    ]
    assert snapshot_records() == before
    client.post(record_url(second), {"action": "reject", "reason": "时间不符"})
    second.refresh_from_db()
    assert (second.status, second.decision_note) == (RecordStatus.REJECTED, "时间不符")


def test_the_volunteer_cannot_decide_their_own_record_through_its_page(client, crew):
    record = submit(crew.leader, start=day_at(1, 9), team=crew.team)
    client = login(client, crew.leader.user)
    assert 'id="approve"' not in client.get(record_url(record)).content.decode()
    before = snapshot_records()
    response = client.post(record_url(record), {"action": "approve"})
    assert response.status_code == 200
    assert [str(e) for e in response.context["forms"].decision.non_field_errors()] == [
        gettext("Nobody approves their own service.")
    ]
    assert snapshot_records() == before


def test_a_correction_is_asked_for_and_accepted_through_the_pages(client, crew):
    record = submit(crew.volunteer, start=day_at(3, 9), team=crew.team, hours=2)
    login(client, crew.leader.user).post(record_url(record), {"action": "approve"})
    assert stored_total(crew.volunteer) == Decimal(2)

    client = login(client, crew.volunteer.user)
    page = client.get(record_url(record)).content.decode()
    assert 'id="correction-form"' in page
    # Without a reason: the service's message on its field, nothing asked.
    data = {
        "action": "correction",
        "reason": "",
        "content": record.content,
        **moment_fields("started_at", record.started_at),
        **moment_fields("ended_at", record.ended_at + datetime.timedelta(hours=1)),
    }
    response = client.post(record_url(record), data)
    assert [str(e) for e in response.context["forms"].correction.errors["reason"]] == [
        gettext("Say what is wrong with the record.")
    ]
    assert not CorrectionRequest.objects.exists()
    data["reason"] = "实际服务到 12 点"
    assert client.post(record_url(record), data).status_code == 302
    correction = CorrectionRequest.objects.get()
    # Only what changed is asked for: the end, not the start or the content.
    assert (correction.started_at, correction.ended_at, correction.content) == (
        None,
        record.ended_at + datetime.timedelta(hours=1),
        "",
    )

    client = login(client, crew.leader.user)
    queue = client.get(QUEUE)
    assert [c.pk for c in queue.context["corrections"]] == [correction.pk]
    page = client.get(record_url(record)).content.decode()
    assert f'id="decide-correction-{correction.pk}"' in page
    prefix = f"correction-{correction.pk}"
    decide = {
        "action": "correction_decide",
        "correction": str(correction.pk),
        "decision": "accept",
        f"{prefix}-content": record.content,
        **{f"{prefix}-{k}": v for k, v in moment_fields("started_at", record.started_at).items()},
        **{
            f"{prefix}-{k}": v
            for k, v in moment_fields("ended_at", record.ended_at + datetime.timedelta(minutes=30)).items()
        },
        f"{prefix}-note": "按签到表核对",
    }
    assert client.post(record_url(record), decide).status_code == 302
    correction.refresh_from_db()
    new = correction.new_record
    assert correction.status == CorrectionStatus.ACCEPTED and new.supersedes == record
    assert new.hours == Decimal("2.5") and stored_total(crew.volunteer) == Decimal("2.5")

    # Both records show the chain, the old one the link to the one that counts now.
    response = login(client, crew.volunteer.user).get(record_url(record))
    assert response.context["superseded_by"].pk == new.pk
    assert [link.pk for link in response.context["chain"]] == [record.pk, new.pk]
    assert record_url(new) in response.content.decode()
    assert 'id="correction-form"' not in response.content.decode()
    assert [link.pk for link in client.get(record_url(new)).context["chain"]] == [record.pk, new.pk]


def test_a_correction_refused_without_a_note_shows_the_message(client, crew):
    record = write_record(crew.volunteer, start=day_at(3, 9), team=crew.team, decided_by=crew.leader.user)
    correction = CorrectionRequest.objects.create(
        record=record, requested_by=crew.volunteer.user, reason="错"
    )
    client = login(client, crew.leader.user)
    prefix = f"correction-{correction.pk}"
    data = {"action": "correction_decide", "correction": str(correction.pk), "decision": "refuse"}
    response = client.post(record_url(record), {**data, f"{prefix}-note": ""})
    form = dict(response.context["decide_forms"])[CorrectionRequest.objects.get()]
    assert [str(e) for e in form.errors["note"]] == [gettext("Give the reason for the refusal.")]
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    client.post(record_url(record), {**data, f"{prefix}-note": "与签到表一致"})
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == (CorrectionStatus.REFUSED, "与签到表一致")
    assert not ServiceRecord.objects.filter(supersedes=record).exists()


def test_nobody_decides_a_correction_of_a_record_they_cannot_see(client, crew, station_b1):
    record = write_record(crew.volunteer, start=day_at(3, 9), team=crew.team, decided_by=crew.leader.user)
    correction = CorrectionRequest.objects.create(
        record=record, requested_by=crew.volunteer.user, reason="错"
    )
    data = {"action": "correction_decide", "correction": str(correction.pk), "decision": "refuse"}
    response = login(client, station_b1).post(record_url(record), data)
    assert response.status_code == 404
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


# --- The approval queue -----------------------------------------------------------------------------


def test_the_queue_is_a_404_to_whoever_decides_nothing(client, crew, people):
    assert client.get(QUEUE).status_code == 302  # to the login
    for user in (crew.volunteer.user, crew.member.user, people.nobody):
        assert login(client, user).get(QUEUE).status_code == 404, user
        assert login(client, user).post(QUEUE, {"records": ["1"], "action": "approve"}).status_code == 404


def test_the_leader_sees_the_team_records_but_not_their_own(client, crew, tree):
    mine = submit(crew.leader, start=day_at(1, 9), team=crew.team)
    theirs = submit(crew.volunteer, start=day_at(1, 9), team=crew.team)
    outside = submit(crew.other, start=day_at(1, 9), unit=tree.b1)
    response = login(client, crew.leader.user).get(QUEUE)
    assert [record.pk for record in response.context["records"]] == [theirs.pk]
    page = response.content.decode()
    assert crew.volunteer.number in page and crew.volunteer.phone not in page
    assert record_url(mine) not in page and record_url(outside) not in page


def test_self_approval_through_a_forged_queue_post_is_refused_with_the_message(client, crew):
    mine = submit(crew.leader, start=day_at(1, 9), team=crew.team)
    before = snapshot_records()
    response = login(client, crew.leader.user).post(
        QUEUE, {"records": [str(mine.pk)], "action": "approve"}, follow=True
    )
    messages = page_messages(response)
    assert (
        f"{crew.leader.name} · {mine.service_date:%Y-%m-%d} · {mine.content}: "
        + gettext("Nobody approves their own service.")
        in messages
    )
    assert snapshot_records() == before


def test_a_station_admin_of_b_neither_sees_nor_decides_the_records_of_a(client, tree, crew, station_b1):
    a_record = submit(crew.volunteer, start=day_at(1, 9))
    b_record = submit(crew.other, start=day_at(1, 9), unit=tree.b1)
    client = login(client, station_b1)
    response = client.get(QUEUE)
    assert [record.pk for record in response.context["records"]] == [b_record.pk]
    assert crew.volunteer.name not in response.content.decode()
    before = snapshot_records()
    response = client.post(QUEUE, {"records": [str(a_record.pk)], "action": "approve"}, follow=True)
    messages = page_messages(response)
    # Named by its number only: the name of A's volunteer is not told to B.
    assert f"#{a_record.pk}: " + gettext("This record is outside the area you approve for.") in messages
    assert crew.volunteer.name not in response.content.decode()
    assert snapshot_records() == before
    # Nor through the record's page.
    assert client.post(record_url(a_record), {"action": "approve"}).status_code == 404
    assert snapshot_records() == before


def test_bulk_approve_and_reject(client, crew):
    records = [submit(crew.volunteer, start=day_at(days, 9), team=crew.team) for days in (1, 2, 3, 4)]
    client = login(client, crew.leader.user)
    response = client.post(
        QUEUE,
        {"records": [str(r.pk) for r in records[:3]], "action": "approve", "note": "核实"},
        follow=True,
    )
    assert ngettext("%(count)d record approved.", "%(count)d records approved.", 3) % {
        "count": 3
    } in page_messages(response)
    assert [r.pk for r in response.context["records"]] == [records[3].pk]
    assert stored_total(crew.volunteer) == Decimal(6)
    assert set(ServiceRecord.objects.filter(status="approved").values_list("decision_note", flat=True)) == {
        "核实"
    }

    # Rejecting needs the reason: each record refused with the service's message, none decided.
    before = snapshot_records()
    response = client.post(QUEUE, {"records": [str(records[3].pk)], "action": "reject"}, follow=True)
    messages = page_messages(response)
    label = f"{crew.volunteer.name} · {records[3].service_date:%Y-%m-%d} · {records[3].content}"
    assert f"{label}: " + gettext("Give the reason for the rejection.") in messages
    assert snapshot_records() == before
    response = client.post(
        QUEUE, {"records": [str(records[3].pk)], "action": "reject", "reason": "重复登记"}, follow=True
    )
    assert ngettext("%(count)d record rejected.", "%(count)d records rejected.", 1) % {
        "count": 1
    } in page_messages(response)
    records[3].refresh_from_db()
    assert (records[3].status, records[3].decision_note) == (RecordStatus.REJECTED, "重复登记")


def test_a_mixed_bulk_says_how_many_were_decided_and_why_the_others_were_not(client, crew):
    good = submit(crew.volunteer, start=day_at(1, 9), team=crew.team)
    decided = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    services.record_approve(actor=crew.leader.user, record=decided)
    response = login(client, crew.leader.user).post(
        QUEUE, {"records": [str(good.pk), str(decided.pk), "abc"], "action": "approve"}, follow=True
    )
    messages = page_messages(response)
    assert ngettext("%(count)d record approved.", "%(count)d records approved.", 1) % {"count": 1} in messages
    status = str(RecordStatus.APPROVED.label)
    assert any(
        message.endswith(gettext("This record has been decided already (%(status)s).") % {"status": status})
        for message in messages
    )
    nothing = login(client, crew.leader.user).post(QUEUE, {"action": "approve"}, follow=True)
    assert gettext("Tick the records to decide first.") in page_messages(nothing)


def test_a_flagged_record_is_approved_from_one_level_up_with_a_note(client, crew, people):
    record = submit(crew.volunteer, start=day_at(1, 9), team=crew.team)
    RecordFlag.objects.create(record=record, kind=FlagKind.DAY_CAP, detail="当天 13 小时")
    client = login(client, crew.leader.user)
    # Not offered to the team leader, who can never approve it; a forged POST is refused with the reason.
    assert record not in client.get(QUEUE).context["records"]
    response = client.post(QUEUE, {"records": [str(record.pk)], "action": "approve"}, follow=True)
    assert any(
        message.endswith(
            gettext("This record is flagged for review: an admin above its unit approves it, with a note.")
        )
        for message in page_messages(response)
    )
    client = login(client, people.inst_a)
    page = client.get(QUEUE).content.decode()
    assert "当天 13 小时" in page and escape(str(FlagKind.DAY_CAP.label)) in page
    response = client.post(QUEUE, {"records": [str(record.pk)], "action": "approve"}, follow=True)
    assert any(
        message.endswith(gettext("Say why the flagged record is approved."))
        for message in page_messages(response)
    )
    client.post(QUEUE, {"records": [str(record.pk)], "action": "approve", "note": "已核实考勤"})
    record.refresh_from_db()
    assert record.status == RecordStatus.APPROVED and not RecordFlag.objects.filter(is_open=True).exists()


def test_the_queue_filters(client, tree, crew, people):
    at_a1 = submit(crew.volunteer, start=day_at(1, 9), team=crew.team)
    at_a2 = submit(crew.member, start=day_at(5, 9), unit=tree.a2, content="图书整理")
    flagged = submit(crew.leader, start=day_at(3, 9), unit=tree.a1a, content="课后辅导")
    RecordFlag.objects.create(record=flagged, kind=FlagKind.OVERLAP, detail="与另一记录重叠")
    client = login(client, people.inst_a)

    def listed(**params):
        response = client.get(QUEUE, params)
        assert response.status_code == 200
        return {record.pk for record in response.context["records"]}

    assert listed() == {at_a1.pk, at_a2.pk, flagged.pk}
    assert listed(unit=tree.a1.pk) == {at_a1.pk, flagged.pk}  # the subtree: station A1 and its point
    assert listed(unit=tree.a2.pk) == {at_a2.pk}
    assert listed(team=crew.team.pk) == {at_a1.pk}
    assert listed(q=crew.member.name[:1]) == {at_a2.pk}
    assert listed(q=crew.volunteer.number) == {at_a1.pk}
    assert listed(flagged="yes") == {flagged.pk}
    assert listed(flagged="no") == {at_a1.pk, at_a2.pk}
    assert listed(date_from=day_at(4, 0).date().isoformat()) == {at_a1.pk, flagged.pk}
    assert listed(date_to=day_at(4, 0).date().isoformat()) == {at_a2.pk}
    # A unit outside the approver's scope is no choice: the filter is refused, not widened.
    response = client.get(QUEUE, {"unit": tree.b1.pk})
    assert "unit" in response.context["form"].errors


def test_the_queue_pages_by_50(client, crew):
    for index in range(51):
        write_record(crew.volunteer, start=day_at(index + 1, 9), team=crew.team, status=RecordStatus.PENDING)
    client = login(client, crew.leader.user)
    first = client.get(QUEUE)
    assert len(first.context["records"]) == 50 and first.context["page"].paginator.count == 51
    assert len(client.get(QUEUE, {"page": 2}).context["records"]) == 1


# --- Queries ----------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # the first request after the login also stores the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_queue_queries_are_the_same_for_1_and_50_rows(client, crew, people, django_assert_num_queries):
    first = write_record(crew.volunteer, start=day_at(1, 9), team=crew.team, status=RecordStatus.PENDING)
    RecordFlag.objects.create(record=first, kind=FlagKind.OVERLAP, detail="重叠")
    client = login(client, people.inst_a)
    one = _queries(client, QUEUE)
    for index in range(49):
        record = write_record(
            crew.volunteer, start=day_at(index + 2, 9), team=crew.team, status=RecordStatus.PENDING
        )
        RecordFlag.objects.create(record=record, kind=FlagKind.DAY_CAP, detail="超上限")
    assert len(client.get(QUEUE).context["records"]) == 50
    with django_assert_num_queries(one):
        client.get(QUEUE)


def test_my_records_queries_are_the_same_for_1_and_50_rows(client, crew, django_assert_num_queries):
    write_record(crew.volunteer, start=day_at(1, 9), team=crew.team)
    client = login(client, crew.volunteer.user)
    one = _queries(client, MINE)
    for index in range(49):
        status = [RecordStatus.APPROVED, RecordStatus.PENDING, RecordStatus.REJECTED][index % 3]
        write_record(
            crew.volunteer, start=day_at(index + 2, 9), team=crew.team if index % 2 else None, status=status
        )
    assert len(client.get(MINE).context["records"]) == 50
    with django_assert_num_queries(one):
        client.get(MINE)


# --- Trainings and evaluations ------------------------------------------------------------------------


def test_my_trainings_and_evaluations(client, tree, crew):
    Training.objects.create(
        volunteer=crew.volunteer,
        unit=tree.a1,
        title="急救培训",
        organiser="县红十字会",
        date=day_at(30, 9).date(),
        hours=Decimal("4.0"),
    )
    Training.objects.create(
        volunteer=crew.other,
        unit=tree.b1,
        title="别人的培训",
        organiser="乙镇",
        date=day_at(30, 9).date(),
        hours=2,
    )
    Evaluation.objects.create(
        volunteer=crew.volunteer, team=crew.team, year=2025, grade="excellent", comment="积极"
    )
    response = login(client, crew.volunteer.user).get("/records/trainings/")
    page = response.content.decode()
    assert "急救培训" in page and "县红十字会" in page and "别人的培训" not in page
    assert (
        "积极" in page and "2025" in page and str(Evaluation._meta.get_field("grade").choices[0][1]) in page
    )
    assert response.context["training_hours"] == "4"
    assert "<form" not in page.split('<main class="vol-main"')[1]  # read-only


# --- Certificates -----------------------------------------------------------------------------------


@needs_cjk_font
def test_a_volunteer_applies_for_a_certificate_and_downloads_it_when_ready(client, tree, crew):
    write_record(crew.volunteer, start=day_at(3, 9), hours=3, team=crew.team)
    client = login(client, crew.volunteer.user)
    page = client.get("/records/certificates/")
    assert {unit.pk for unit in page.context["issuers"]} == {tree.center.pk, tree.a1.pk}
    response = client.post("/records/certificates/", {"issuer": str(tree.a1.pk)})
    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert (certificate.volunteer, certificate.issuer, certificate.status) == (
        crew.volunteer,
        tree.a1,
        CertificateStatus.REQUESTED,
    )
    page = client.get("/records/certificates/").content.decode()
    assert escape(str(CertificateStatus.REQUESTED.label)) in page and 'data-refresh="5"' in page
    assert 'http-equiv="refresh"' in page  # for a browser without script
    assert reverse("records:certificate-download", args=[certificate.pk]) not in page

    certificates.certificate_issue(certificate.pk)
    page = client.get("/records/certificates/").content.decode()
    download = reverse("records:certificate-download", args=[certificate.pk])
    assert download in page and "data-refresh" not in page
    certificate.refresh_from_db()
    assert certificate.number in page
    response = client.get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_certificate_refusals_show_on_their_field(client, tree, crew):
    client = login(client, crew.volunteer.user)
    response = client.post("/records/certificates/", {"issuer": str(tree.center.pk)})
    assert field_errors(response, "issuer") == [
        gettext("%(unit)s has no approved service of yours to certify in this period.")
        % {"unit": tree.center}
    ]
    write_record(crew.volunteer, start=day_at(3, 9))
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post("/records/certificates/", {"issuer": str(tree.center.pk), "period_to": tomorrow})
    assert field_errors(response, "period_to") == [gettext("The period cannot lie in the future.")]
    # A unit not offered is refused by the form's choices.
    response = client.post("/records/certificates/", {"issuer": str(tree.b.pk)})
    assert "issuer" in response.context["form"].errors
    assert not Certificate.objects.exists()


def test_another_volunteer_cannot_download_my_certificate(client, tree, crew):
    write_record(crew.volunteer, start=day_at(3, 9), hours=3)
    certificate = certificates.certificate_request(
        actor=crew.volunteer.user, volunteer=crew.volunteer, issuer=tree.center
    )
    certificates.certificate_issue(certificate.pk)
    download = reverse("records:certificate-download", args=[certificate.pk])
    assert login(client, crew.other.user).get(download).status_code == 404
    assert certificate.pk not in {c.pk for c in client.get("/records/certificates/").context["certificates"]}


def test_the_me_page_links_to_my_service(client, crew):
    Volunteer.objects.filter(pk=crew.volunteer.pk).update(service_hours=Decimal("12.5"))
    page = login(client, crew.volunteer.user).get("/volunteer/me/").content.decode()
    assert re.search(r'<a id="me-service-hours" href="/records/">12.5[^<]*</a>', page)


def test_the_menu_is_remembered_in_the_session_for_a_while(client, crew, monkeypatch):
    from volunteers import navigation
    from volunteers.models import MembershipRole, TeamMembership

    client = login(client, crew.volunteer.user)
    assert 'id="nav-approvals"' not in client.get(MINE).content.decode()
    TeamMembership.objects.filter(volunteer=crew.volunteer).update(role=MembershipRole.LEADER)
    # The queue itself knows at once; the menu within SHOW_REMEMBERED_SECONDS.
    assert client.get(QUEUE).status_code == 200
    assert 'id="nav-approvals"' not in client.get(MINE).content.decode()
    later = navigation.time.time() + navigation.SHOW_REMEMBERED_SECONDS + 1
    monkeypatch.setattr(navigation.time, "time", lambda: later)
    assert 'id="nav-approvals"' in client.get(MINE).content.decode()
