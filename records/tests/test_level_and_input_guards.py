"""Guards found by review: a correction is no way around a review flag, a resubmission over a rejected
record goes to a reviewer, the level above's trainings and evaluations are not rewritten below, another
township's record shows on a flag only as a time, and input outside what the portal stores is refused
with a message rather than a 500."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from kernel.testing import assert_refused, assert_refused_unchanged
from records import services, trainings
from records.models import Certificate, CertificateStatus, FlagKind, RecordFlag, ServiceRecord

from .factories import day_at, stored_total, submit, write_record

pytestmark = pytest.mark.django_db


def _state(volunteer):
    return (
        list(ServiceRecord.objects.order_by("pk").values_list("pk", "status")),
        list(RecordFlag.objects.order_by("pk").values_list("pk", "is_open")),
        stored_total(volunteer),
    )


def test_a_flagged_record_is_not_approved_below_by_way_of_a_correction(crew, people):
    record = submit(crew.volunteer, start=day_at(2, 9), team=crew.team)
    services.flag_raise(record, FlagKind.VOLUNTEER_WEEK, detail="本周 45 小时")
    services.record_reject(actor=crew.leader.user, record=record, reason="时长存疑")
    correction = services.correction_request(actor=crew.volunteer.user, record=record, reason="确实参加了")
    assert_refused_unchanged(
        lambda: _state(crew.volunteer),
        services.correction_decide,
        actor=crew.leader.user,
        correction=correction,
        accept=True,
        field=None,
        message=gettext("This record is flagged for review: an admin above its unit decides its correction."),
    )
    assert_refused(
        services.correction_decide,
        actor=people.inst_a,
        correction=correction,
        accept=True,
        field="note",
        message=gettext("Say why the flagged record is corrected."),
    )
    services.correction_decide(actor=people.inst_a, correction=correction, accept=True, note="签到表核实")
    assert stored_total(crew.volunteer) == 2
    assert not RecordFlag.objects.filter(record=record, is_open=True).exists()


def test_the_same_hours_again_after_a_rejection_go_to_a_reviewer(crew, people):
    rejected = submit(crew.volunteer, start=day_at(3, 9), unit=crew.team.unit)
    services.record_reject(actor=people.county, record=rejected, reason="虚报")
    again = submit(crew.volunteer, start=day_at(3, 9), unit=crew.team.unit)
    flag = RecordFlag.objects.get(record=again)
    assert (flag.kind, flag.other_record_id) == (FlagKind.OVER_REJECTED, rejected.pk)
    assert_refused(
        services.record_approve,
        actor=people.station_a1,
        record=again,
        field=None,
        message=gettext(
            "This record is flagged for review: an admin above its unit approves it, with a note."
        ),
    )
    assert stored_total(crew.volunteer) == 0


def test_a_team_leader_does_not_rewrite_the_evaluation_a_unit_admin_gave(crew, people):
    year = timezone.localdate().year
    trainings.evaluation_save(
        actor=people.station_a1, volunteer=crew.volunteer, team=crew.team, year=year, grade="fail"
    )
    assert_refused(
        trainings.evaluation_save,
        actor=crew.leader.user,
        volunteer=crew.volunteer,
        team=crew.team,
        year=year,
        grade="excellent",
        field=None,
        message=gettext("This evaluation was given above your level; it is changed there."),
    )
    assert crew.volunteer.evaluations.get().grade == "fail"
    # The admin who gave it, and those above, still change it.
    trainings.evaluation_save(
        actor=people.inst_a, volunteer=crew.volunteer, team=crew.team, year=year, grade="pass"
    )
    assert crew.volunteer.evaluations.get().grade == "pass"


def test_a_station_admin_does_not_rewrite_a_training_the_county_entered(tree, crew, people):
    training = trainings.training_create(
        actor=people.county,
        volunteer=crew.volunteer,
        unit=tree.a1,
        title="应急救护培训",
        organiser="县红十字会",
        date=timezone.localdate() - datetime.timedelta(days=3),
        hours=4,
    )
    assert_refused(
        trainings.training_update,
        actor=people.station_a1,
        training=training,
        hours=40,
        field=None,
        message=gettext("This training was recorded above your level; it is changed there."),
    )
    training.refresh_from_db()
    assert training.hours == 4


def test_a_flag_shows_another_townships_record_only_as_a_time(client, tree, crew, people):
    mine = write_record(crew.volunteer, start=day_at(4, 9), unit=tree.a1, status="pending")
    theirs = write_record(crew.volunteer, start=day_at(4, 10), unit=tree.b1, status="pending")
    ServiceRecord.objects.filter(pk=theirs.pk).update(content="乙镇内部活动")
    flag = RecordFlag.objects.create(record=mine, kind=FlagKind.OVERLAP, detail="重叠", other_record=theirs)
    client.force_login(people.inst_a)
    page = client.get(reverse("admin:records_recordflag_change", args=[flag.pk])).content.decode()
    assert "乙镇内部活动" not in page
    assert timezone.localtime(theirs.started_at).strftime("%Y-%m-%d %H:%M") in page
    client.force_login(people.county)
    page = client.get(reverse("admin:records_recordflag_change", args=[flag.pk])).content.decode()
    assert "乙镇内部活动" in page


def test_a_start_before_2000_is_refused_not_stored(crew, tree, client):
    long_ago = timezone.make_aware(datetime.datetime(1, 1, 1, 0, 0))
    assert_refused(
        services.record_submit,
        actor=crew.volunteer.user,
        volunteer=crew.volunteer,
        unit=tree.a1,
        content="很久以前",
        started_at=long_ago,
        ended_at=long_ago + datetime.timedelta(hours=1),
        evidence_note="无",
        field="started_at",
        message=gettext("A service is recorded from the year 2000 on."),
    )
    client.force_login(crew.volunteer.user)
    response = client.post(
        reverse("records:new"),
        {
            "unit": tree.a1.pk,
            "content": "很久以前",
            "started_at_0": "0001-01-01",
            "started_at_1": "00:00",
            "ended_at_0": "0001-01-01",
            "ended_at_1": "01:00",
            "evidence_note": "无",
        },
    )
    assert response.status_code == 200 and not ServiceRecord.objects.exists()
    assert gettext("A service is recorded from the year 2000 on.") in response.content.decode()


def test_a_verification_code_outside_ascii_reads_unknown(client, crew, tree):
    record = write_record(crew.volunteer, start=day_at(5, 9))
    certificate = Certificate.objects.create(
        volunteer=crew.volunteer,
        issuer=tree.a1,
        status=CertificateStatus.READY,
        year=2026,
        sequence=1,
        number="SC-2026-000001",
        issued_at=timezone.now(),
        verify_code="abc",
    )
    certificate.records.set([record])
    response = client.get("/records/verify/SC-2026-000001/%C3%A9/")
    assert response.status_code == 404
