"""Reads on service records for a use case, already scoped to the user who asks. Each returns rows that
carry what a list shows (select_related, annotations), so a list costs the same queries at 1 row and at 50."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from stations.models import Unit
from stations.scoping import scope_for
from volunteers.models import MembershipRole, MembershipStatus, TeamMembership, Volunteer

from . import rules
from .capabilities import Capability
from .models import (
    Certificate,
    CorrectionRequest,
    Evaluation,
    RecordEvent,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
    Training,
)


def _with_list_columns(records: QuerySet[ServiceRecord]) -> QuerySet[ServiceRecord]:
    return records.select_related("volunteer", "unit", "team").annotate(
        has_open_flags=Exists(RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)),
        is_superseded=Exists(ServiceRecord.objects.filter(supersedes=OuterRef("pk"))),
    )


def my_records(volunteer: Volunteer) -> QuerySet[ServiceRecord]:
    """A volunteer's own records, newest first, each with whether it was superseded or is flagged."""
    return _with_list_columns(ServiceRecord.objects.of_volunteer(volunteer)).order_by("-started_at", "-pk")


@dataclass(frozen=True)
class RecordFilters:
    status: str | None = None
    unit: Unit | None = None  # the unit's subtree
    team_id: int | None = None
    volunteer_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    flagged: bool | None = None


def records_visible(actor, filters: RecordFilters | None = None) -> QuerySet[ServiceRecord]:
    """The records `actor` sees (staff: their units' subtrees; leaders: their teams; organisers: theirs),
    filtered, newest first."""
    records = ServiceRecord.objects.visible_to(actor)
    if filters is not None:
        records = _filtered(records, filters)
    return _with_list_columns(records).order_by("-started_at", "-pk")


def _filtered(records: QuerySet[ServiceRecord], filters: RecordFilters) -> QuerySet[ServiceRecord]:
    if filters.status:
        records = records.filter(status=filters.status)
    if filters.unit is not None:
        records = records.filter(unit__path__startswith=filters.unit.path)
    if filters.team_id is not None:
        records = records.filter(team_id=filters.team_id)
    if filters.volunteer_id is not None:
        records = records.filter(volunteer_id=filters.volunteer_id)
    if filters.date_from is not None:
        records = records.filter(service_date__gte=filters.date_from)
    if filters.date_to is not None:
        records = records.filter(service_date__lte=filters.date_to)
    if filters.flagged is not None:
        open_flags = RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)
        records = records.filter(Exists(open_flags) if filters.flagged else ~Exists(open_flags))
    return records


def approval_queue(actor, filters: RecordFilters | None = None) -> QuerySet[ServiceRecord]:
    """Pending records `actor` may decide, oldest first: in their scope (or organised by them), not their
    own, not submitted by them, not of a team where they are a plain member. (A record linked to them by
    phone is left in and refused with its reason when they try.)"""
    records = ServiceRecord.objects.changeable_by(actor).pending()
    if actor is not None and actor.is_authenticated:
        plain_member_teams = TeamMembership.objects.filter(
            volunteer__user=actor, status=MembershipStatus.ACTIVE, role=MembershipRole.MEMBER
        ).values("team_id")
        records = records.exclude(volunteer__user=actor).exclude(submitted_by=actor)
        records = records.exclude(Q(team_id__in=plain_member_teams))
        if not scope_for(actor).has(Capability.RECORDS_REVIEW):
            # A flagged record is approved from above its unit only: not offered to a team leader.
            records = records.exclude(Exists(RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)))
    if filters is not None:
        records = _filtered(records, filters)
    return _with_list_columns(records).order_by("started_at", "pk")


def record_events(record: ServiceRecord) -> QuerySet[RecordEvent]:
    """The audit trail of a record, oldest first (the records it superseded keep their own)."""
    return RecordEvent.objects.filter(record=record).select_related("actor").order_by("at", "pk")


def flags_to_review(actor) -> QuerySet[RecordFlag]:
    """Open flags on current records `actor` sees, newest first."""
    return (
        RecordFlag.objects.visible_to(actor)
        .open()
        .filter(record__superseded_by__isnull=True)
        .exclude(record__status__in=[RecordStatus.REJECTED, RecordStatus.WITHDRAWN])
        .select_related("record", "record__volunteer", "record__unit", "record__team", "other_record")
        .order_by("-created_at", "-pk")
    )


def corrections_to_decide(actor) -> QuerySet[CorrectionRequest]:
    return (
        CorrectionRequest.objects.changeable_by(actor)
        .pending()
        .select_related("record", "record__volunteer", "record__unit", "record__team")
        .order_by("created_at", "pk")
    )


def my_corrections(volunteer: Volunteer) -> QuerySet[CorrectionRequest]:
    return (
        CorrectionRequest.objects.filter(record__volunteer=volunteer)
        .select_related("record", "new_record")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class MyTotals:
    hours: object  # Decimal, the stored total
    stars: rules.Stars
    pending_count: int


def my_totals(volunteer: Volunteer) -> MyTotals:
    """The volunteer's approved hours (the stored total), star level and progress, and what still waits."""
    pending = ServiceRecord.objects.of_volunteer(volunteer).pending().count()
    return MyTotals(volunteer.service_hours, rules.stars_for(volunteer.service_hours), pending)


def my_trainings(volunteer: Volunteer) -> QuerySet[Training]:
    return Training.objects.filter(volunteer=volunteer).order_by("-date", "-pk")


def my_evaluations(volunteer: Volunteer) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(volunteer=volunteer).select_related("team").order_by("-year", "team__name")
    )


def my_certificates(volunteer: Volunteer) -> QuerySet[Certificate]:
    return (
        Certificate.objects.filter(volunteer=volunteer)
        .select_related("issuer")
        .order_by("-created_at", "-pk")
    )
