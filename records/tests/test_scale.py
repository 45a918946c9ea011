"""The service records of the benchmark-scale data (records.scale, the seed_scale phase after the
volunteers): the tiny preset's records keep every rule a record keeps, and building again adds nothing."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from kernel.errors import ApplicationError
from records import rules, scale, services
from records.models import (
    COUNTING_STATUSES,
    FINAL_STATUSES,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from stations.models import Role, Unit
from stations.paths import root_id
from stations.tests.factories import make_user
from volunteers import scale as volunteers_scale
from volunteers.models import MembershipStatus, TeamMembership, Volunteer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY"
    ),
]

PRESET = volunteers_scale.PRESETS["tiny"]
RECORD = ServiceRecord._meta.db_table
COUNTING = (
    "r.status IN ('pending', 'approved') AND NOT EXISTS (SELECT 1 FROM {t} s WHERE s.supersedes_id = r.id)"
)


def build():
    return volunteers_scale.build("tiny", progress=False, force=True)


def scale_records():
    """The phase's records: not the pending ones the activities phase's attendance makes."""
    return ServiceRecord.objects.filter(
        volunteer__phone__startswith=PRESET.phone_prefix, attendance__isnull=True
    )


def count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(t=RECORD, counting=COUNTING.format(t=RECORD)))
        return cursor.fetchone()[0]


def rows() -> dict:
    """What the phase wrote, in numbers."""
    records = scale_records()
    return {
        "records": records.count(),
        "events": RecordEvent.objects.filter(record__in=records).count(),
        "flags": RecordFlag.objects.filter(record__in=records).count(),
        "hours": Volunteer.objects.filter(phone__startswith=PRESET.phone_prefix).aggregate(
            total=Sum("service_hours")
        )["total"],
    }


def totals_off() -> int:
    """Scale volunteers whose stored total is not the sum of their approved, current records."""
    return count(
        "SELECT count(*) FROM volunteers_volunteer v WHERE v.phone LIKE '197%' AND v.service_hours <> "
        "COALESCE((SELECT sum(hours) FROM {t} r WHERE r.volunteer_id = v.id AND r.status = 'approved' "
        "AND NOT EXISTS (SELECT 1 FROM {t} s WHERE s.supersedes_id = r.id)), 0)"
    )


class Cut(Exception):
    """The run stops here."""


def test_the_tiny_preset_builds_records_that_keep_the_rules():
    result = build()

    total = scale.records_total(PRESET) * PRESET.counties
    assert result.added["records"] == total == scale_records().count() == 2000
    # No two counting records of a volunteer overlap, and no day goes over the cap.
    assert (
        count(
            "SELECT count(*) FROM {t} r JOIN {t} o ON o.volunteer_id = r.volunteer_id AND o.id <> r.id "
            "AND o.started_at < r.ended_at AND o.ended_at > r.started_at "
            "WHERE {counting} AND o.status IN ('pending', 'approved') "
            "AND NOT EXISTS (SELECT 1 FROM {t} s WHERE s.supersedes_id = o.id)"
        )
        == 0
    )
    days = (
        ServiceRecord.objects.counting()
        .values("volunteer_id", "service_date")
        .annotate(total=Sum("hours"))
        .order_by("-total")
    )
    assert 0 < days[0]["total"] <= rules.day_cap()
    # Each stored total is the sum of the volunteer's approved, current records.
    assert totals_off() == 0
    busiest = Volunteer.objects.filter(phone__startswith="197").order_by("-service_hours").first()
    assert busiest.service_hours > 0 and busiest.service_hours == services.total_from_records(busiest.pk)
    records = scale_records()
    assert not records.filter(status__in=FINAL_STATUSES, decided_at__isnull=True).exists()
    assert not records.filter(status=RecordStatus.PENDING, decided_at__isnull=False).exists()
    assert not records.exclude(events__action=RecordEvent.Action.CREATED).exists()
    # The decision in the trail (a correction's record is approved as it is made, like the service's).
    decided = records.exclude(source=RecordSource.CORRECTION)
    for status in (RecordStatus.APPROVED, RecordStatus.REJECTED, RecordStatus.WITHDRAWN):
        assert not decided.filter(status=status).exclude(events__action=status).exists()
    assert not records.filter(status=RecordStatus.REJECTED, decision_note="").exists()
    shares = dict(records.values_list("status").annotate(n=Count("pk")))
    assert 0.80 < shares[RecordStatus.APPROVED] / total < 0.92
    assert 0.03 < shares[RecordStatus.PENDING] / total < 0.12
    assert shares[RecordStatus.REJECTED] > shares[RecordStatus.WITHDRAWN] > 0
    # Corrections: the old record stays approved, the new one supersedes it, both with their trail.
    corrections = records.filter(source=RecordSource.CORRECTION).select_related("supersedes")
    assert corrections.exists()
    for new in corrections:
        old = new.supersedes
        assert new.status == old.status == RecordStatus.APPROVED and new.volunteer_id == old.volunteer_id
        assert new.ended_at > old.ended_at and new.service_date == old.service_date
        assert set(old.events.values_list("action", flat=True)) == {
            "created",
            "approved",
            "correction_requested",
            "superseded",
        }
        # The trail holds what the services would write: their own snapshots of both records.
        superseded = old.events.get(action=RecordEvent.Action.SUPERSEDED)
        assert superseded.after == {**services.snapshot(new), "record": new.pk}
        assert superseded.before == services.snapshot(old)
        created = new.events.get(action=RecordEvent.Action.CREATED)
        assert (created.before, created.after) == (services.snapshot(old), services.snapshot(new))
    flags = RecordFlag.objects.filter(record__in=records, is_open=True)
    assert flags.exists()
    assert not flags.exclude(record__events__action=RecordEvent.Action.FLAGGED).exists()
    # Each record as the services would have written it.
    teams = dict(
        TeamMembership.objects.filter(
            volunteer__phone__startswith="197", status=MembershipStatus.ACTIVE
        ).values_list("volunteer_id", "team_id")
    )
    paths = dict(Unit.objects.filter(code__startswith="SCALET-").values_list("pk", "path"))
    cutoff = timezone.now()
    for record in records.select_related("volunteer__home_unit", "team").prefetch_related("events"):
        created = next(event for event in record.events.all() if event.action == RecordEvent.Action.CREATED)
        if record.source != RecordSource.CORRECTION:
            assert created.after == {**services.snapshot(record), "status": RecordStatus.PENDING}
        assert record.hours == rules.hours_between(record.started_at, record.ended_at) > 0
        assert record.service_date == rules.local_date(record.started_at) == rules.local_date(record.ended_at)
        assert max(scale.FIRST_DAY, record.volunteer.registered_on) <= record.service_date <= scale.LAST_DAY
        assert record.created_at >= record.ended_at and record.created_at < cutoff
        if record.decided_at:
            assert record.created_at <= record.decided_at < cutoff
        if record.team_id is not None:
            assert record.unit_id == record.team.unit_id and teams[record.volunteer_id] == record.team_id
        else:
            assert record.unit_id == record.volunteer.home_unit_id
        assert root_id(paths[record.unit_id]) == root_id(record.volunteer.home_unit.path)
        if record.source == RecordSource.SELF_REPORTED:
            assert record.evidence_note
        elif record.source != RecordSource.CORRECTION:
            assert not record.evidence_note


def test_the_services_take_the_scale_records_as_they_are():
    build()
    record = (
        scale_records()
        .filter(status=RecordStatus.PENDING, flags__isnull=True)
        .select_related("volunteer", "unit")
        .first()
    )
    center = Unit.objects.get(pk=root_id(record.unit.path))
    admin = make_user("scale_county", role=Role.COUNTY_ADMIN, unit=center)
    before = record.volunteer.service_hours

    services.record_approve(actor=admin, record=record)

    record.volunteer.refresh_from_db()
    assert record.volunteer.service_hours == before + record.hours
    assert record.volunteer.service_hours == services.total_from_records(record.volunteer_id)
    # A new service on a day the volunteer already served overlaps it, and is refused.
    taken = scale_records().filter(volunteer=record.volunteer).counting().first()
    held = scale_records().count()
    with pytest.raises(ApplicationError) as refused:
        services.record_submit(
            actor=admin,
            volunteer=record.volunteer,
            unit=taken.unit,
            content="补录",
            started_at=taken.started_at + datetime.timedelta(minutes=30),
            ended_at=taken.ended_at,
        )
    assert refused.value.field == "started_at"
    assert str(refused.value.message) == services._overlap_message(taken)
    assert scale_records().count() == held


def test_a_second_build_adds_nothing():
    build()
    before = rows()

    result = build()

    assert result.added["records"] == 0 and rows() == before


def test_a_build_cut_short_resumes_after_its_last_batch(monkeypatch):
    """The second county's records stop after a few batches (each batch is committed, then the bar moves):
    the next build adds exactly the rest, and sets the totals."""
    add, batches = volunteers_scale.ProgressBar.add, []

    def add_then_stop(bar, added):
        add(bar, added)
        if bar.label == "records":
            batches.append(added)
            if len(batches) == 25:
                raise Cut

    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add_then_stop)
    with pytest.raises(Cut):
        build()
    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add)
    cut = scale_records().count()
    per_county = scale.records_total(PRESET)
    assert per_county < cut == sum(batches) < 2 * per_county
    assert not volunteers_scale.is_complete("tiny")

    result = build()

    assert result.added["records"] == 2 * per_county - cut
    assert volunteers_scale.is_complete("tiny")
    assert scale_records().count() == 2 * per_county
    for code in PRESET.county_codes():  # each county's ids in one run, without a gap or a repeat
        county = scale_records().filter(unit__path__startswith=Unit.objects.get(code=code).path)
        bounds = county.aggregate(first=Min("pk"), last=Max("pk"), n=Count("pk"))
        assert bounds["last"] - bounds["first"] + 1 == bounds["n"] == per_county
    assert totals_off() == 0
    assert ServiceRecord.objects.filter(status__in=COUNTING_STATUSES).exists()
