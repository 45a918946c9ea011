"""Service records for tests: made through the services, or written directly where a test needs a state
the services reach only slowly (written rows keep the stored total right)."""

import datetime
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from records import rules, services
from records.models import RecordSource, RecordStatus, ServiceRecord
from volunteers.models import Volunteer


def hours_ago(hours: float, *, days: int = 0) -> datetime.datetime:
    """A moment `hours` (and `days`) before now, on the minute."""
    moment = timezone.now() - datetime.timedelta(days=days, hours=hours)
    return moment.replace(second=0, microsecond=0)


def day_at(days_ago: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A local time of day `days_ago` days back."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def submit(volunteer, *, start, hours=2.0, unit=None, team=None, actor="self", content="社区清洁", **extra):
    """A pending record through the service: self-reported by default (a note as its evidence)."""
    if actor == "self":
        actor = volunteer.user
        extra.setdefault("evidence_note", "现场照片已交队长")
    return services.record_submit(
        actor=actor,
        volunteer=volunteer,
        unit=unit or (None if team else volunteer.home_unit),
        team=team,
        content=content,
        started_at=start,
        ended_at=start + datetime.timedelta(hours=hours),
        **extra,
    )


def write_record(
    volunteer, *, start, hours=2.0, unit=None, team=None, status=RecordStatus.APPROVED, decided_by=None
):
    """A record written straight to the table (no checks), its hours added to the total when approved."""
    ended = start + datetime.timedelta(hours=hours)
    record = ServiceRecord.objects.create(
        volunteer=volunteer,
        unit=unit or volunteer.home_unit,
        team=team,
        content="写入的服务",
        started_at=start,
        ended_at=ended,
        service_date=rules.local_date(start),
        hours=rules.hours_between(start, ended),
        source=RecordSource.STAFF,
        status=status,
        decided_by=decided_by,
        decided_at=None if status == RecordStatus.PENDING else timezone.now(),
        decision_note="" if status != RecordStatus.REJECTED else "不符合",
    )
    if status == RecordStatus.APPROVED:
        Volunteer.objects.filter(pk=volunteer.pk).update(service_hours=F("service_hours") + record.hours)
    return record


def stored_total(volunteer) -> Decimal:
    return Volunteer.objects.values_list("service_hours", flat=True).get(pk=volunteer.pk)
