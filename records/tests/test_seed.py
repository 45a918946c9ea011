"""The demo's service records (seed_demo): every status, corrections, flags, trainings, evaluations and a
certificate, made through the services; totals that match the records; a second run adds nothing."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from records import demo_data, pdf, rules, selectors, services
from records.models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    FlagKind,
    IssuerProfile,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    Training,
)
from stations.models import Unit
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def login(username):
    return get_user_model().objects.get(username=username)


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            ServiceRecord,
            RecordEvent,
            RecordFlag,
            CorrectionRequest,
            Training,
            Evaluation,
            IssuerProfile,
            Certificate,
        )
    } | {"totals": list(Volunteer.objects.order_by("pk").values_list("pk", "service_hours"))}


def test_seed_demo_adds_records_in_every_status_with_corrections_flags_and_a_certificate():
    out = seed_demo()

    volunteer = Volunteer.objects.get(phone=demo_data.VOLUNTEER_PHONE)
    leader = Volunteer.objects.get(phone=demo_data.LEADER_PHONE)
    mine = ServiceRecord.objects.filter(volunteer=volunteer)
    assert {
        RecordStatus.PENDING,
        RecordStatus.APPROVED,
        RecordStatus.REJECTED,
        RecordStatus.WITHDRAWN,
    } <= set(mine.values_list("status", flat=True))
    rejected = mine.get(status=RecordStatus.REJECTED)
    assert rejected.decision_note and rejected.decided_by == leader.user
    assert all(
        record.source == RecordSource.SELF_REPORTED and record.evidence_note
        for record in mine.exclude(source=RecordSource.CORRECTION)
    )

    # Corrections: one accepted (a new record supersedes the old), one waiting, one refused.
    corrections = CorrectionRequest.objects.filter(record__volunteer=volunteer)
    assert sorted(corrections.values_list("status", flat=True)) == sorted(
        [CorrectionStatus.ACCEPTED, CorrectionStatus.PENDING, CorrectionStatus.REFUSED]
    )
    accepted = corrections.select_related("record", "new_record").get(status=CorrectionStatus.ACCEPTED)
    assert accepted.new_record.supersedes == accepted.record
    assert accepted.new_record.hours == accepted.record.hours + Decimal("0.5")
    assert accepted.record.status == RecordStatus.APPROVED  # the old row as it was
    assert accepted.record.events.filter(action=RecordEvent.Action.SUPERSEDED).exists()
    assert corrections.get(status=CorrectionStatus.REFUSED).decision_note

    # Flags on two records from attendance, for the township above the station to review.
    # (The activities' demo adds missed check-outs of its own past activities.)
    flags = RecordFlag.objects.filter(is_open=True).select_related("record")
    assert {flag.kind for flag in flags} == {FlagKind.OVERLAP, FlagKind.DAY_CAP, FlagKind.MISSED_CHECKOUT}
    assert all(flag.record.source == RecordSource.ATTENDANCE for flag in flags)
    assert set(selectors.flags_to_review(login("shuangxi"))) == set(flags)
    assert list(selectors.flags_to_review(login("jianxi"))) == []

    # The leader's queue holds her pending records; she has her first star and its progress.
    queue = selectors.approval_queue(leader.user)
    assert queue.filter(volunteer=volunteer).count() == 3
    assert volunteer.service_hours > 100
    stars = rules.stars_for(volunteer.service_hours)
    assert stars.level >= 1 and 0 < stars.percent < 100
    assert selectors.my_totals(volunteer).pending_count == 3

    # Every demo volunteer's stored total is what the records say.
    center = Unit.objects.get(code="SC")
    for pk, stored in Volunteer.objects.filter(home_unit__path__startswith=center.path).values_list(
        "pk", "service_hours"
    ):
        assert stored == services.total_from_records(pk), pk

    # The rest of her record: trainings, an evaluation, and a ready certificate from the center.
    assert Training.objects.filter(volunteer=volunteer).count() == 2
    assert Evaluation.objects.get(volunteer=volunteer).entered_by == leader.user
    issuer = IssuerProfile.objects.get(unit=center)
    assert issuer.person_in_charge and issuer.handler and issuer.contact
    if pdf.font_available():
        certificate = Certificate.objects.get(volunteer=volunteer)
        assert certificate.status == CertificateStatus.READY and certificate.issuer == center
        assert certificate.number and certificate.pdf and certificate.total_hours == volunteer.service_hours
    else:  # the demo says why it left the certificate out, and a later run with the font makes it
        assert not Certificate.objects.filter(volunteer=volunteer).exists()
        assert "apt-get install fonts-wqy-microhei" in out

    assert "service records: " in out and demo_data.VOLUNTEER_PHONE in out
    assert "1★" in out or f"{stars.level}★" in out


def test_a_second_seed_demo_adds_no_record_correction_flag_or_certificate():
    seed_demo()
    before = snapshot()

    out = seed_demo()

    assert snapshot() == before
    assert "nothing changed" in out
    assert f"service records: {len(demo_data.demo_records(demo_data.demo_anchor()))} (0 new)" in out


def test_the_demo_records_keep_the_day_cap_and_overlap_rules_except_the_flagged_ones():
    specs = demo_data.demo_records(demo_data.demo_anchor())
    counted = [spec for spec in specs if spec.source != RecordSource.ATTENDANCE]
    for spec in counted:
        assert spec.ended_at <= spec.started_at.replace(hour=23, minute=59)
        others = [o for o in counted if o.who == spec.who and o is not spec]
        assert not any(o.started_at < spec.ended_at and o.ended_at > spec.started_at for o in others), spec
    keys = [(spec.who, spec.started_at) for spec in specs]
    assert len(keys) == len(set(keys))  # the natural key is unique
