"""Writes on service records: submitting, approving and rejecting, withdrawing, corrections, review
flags, and the stored totals. One function each, in a transaction; each refusal is an ApplicationError
with the field it concerns.

Locks are taken in one order, record before volunteer, so two writers never wait on each other in a
circle: an approval locks its record and then adds to the volunteer's total; a new record locks the
volunteer (its overlaps and day cap are counted under that lock); a correction locks the old record, then
the volunteer.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.images import image_intake
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import scope_for
from volunteers.capabilities import TEAM_TREE
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)

from . import rules
from .capabilities import Capability
from .models import (
    ApproverWeek,
    CorrectionRequest,
    CorrectionStatus,
    FlagKind,
    RecordEvent,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)
from .querysets import RECORD_RULE

# No record starts before this (the regulations are of 2017; older paper records are not typed in here),
# which also keeps every stored moment inside what Python reads back.
EARLIEST_SERVICE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_MOBILE = re.compile(r"1[3-9]\d{9}")
# A clock a few seconds ahead on the phone must not turn "just finished" into "in the future".
_FUTURE_TOLERANCE = datetime.timedelta(minutes=2)


# --- The audit trail -------------------------------------------------------------------------------


def snapshot(record: ServiceRecord) -> dict:
    """The fields a correction or a decision changes, as the audit trail keeps them."""
    return {
        "content": record.content,
        "started_at": timezone.localtime(record.started_at).isoformat(),
        "ended_at": timezone.localtime(record.ended_at).isoformat(),
        "hours": str(record.hours),
        "status": record.status,
        "unit": record.unit_id,
        "team": record.team_id,
    }


def _actor_name(actor) -> str:
    if actor is None:
        return _("system")
    return (actor.first_name or "").strip() or actor.get_username()


def event_add(record, action, *, actor, before=None, after=None, note: str = "") -> RecordEvent:
    return RecordEvent.objects.create(
        record=record,
        action=action,
        actor=actor,
        actor_name=_actor_name(actor),
        before=before or {},
        after=after or {},
        note=note[:300],
    )


# --- Checks shared by submitting and correcting ------------------------------------------------------


def _check_times(started_at, ended_at) -> None:
    if started_at is None:
        raise ApplicationError(_("Give the start of the service."), field="started_at")
    if started_at < EARLIEST_SERVICE:
        raise ApplicationError(_("A service is recorded from the year 2000 on."), field="started_at")
    if ended_at is None:
        raise ApplicationError(_("Give the end of the service."), field="ended_at")
    if ended_at <= started_at:
        raise ApplicationError(_("The end must be after the start."), field="ended_at")
    if ended_at > timezone.now() + _FUTURE_TOLERANCE:
        raise ApplicationError(
            _("A service is recorded once it has ended: the end lies in the future."), field="ended_at"
        )


def _check_hours(hours: Decimal) -> None:
    if hours <= 0:
        raise ApplicationError(
            _("The service is shorter than %(minutes)s minutes, the least that counts.")
            % {"minutes": settings.SERVICE_HOURS_STEP_MINUTES},
            field="ended_at",
        )
    if hours > rules.day_cap():
        raise ApplicationError(
            _("One service counts at most %(cap)s hours a day.") % {"cap": rules.day_cap()}, field="ended_at"
        )


def _span(record_or_times) -> str:
    started_at, ended_at = record_or_times
    start, end = timezone.localtime(started_at), timezone.localtime(ended_at)
    end_format = "H:i" if start.date() == end.date() else "Y-m-d H:i"
    return f"{date_format(start, 'Y-m-d H:i')}–{date_format(end, end_format)}"


def _overlap(volunteer_id: int, started_at, ended_at, *, excluding: int | None = None):
    others = (
        ServiceRecord.objects.filter(volunteer_id=volunteer_id).counting().overlapping(started_at, ended_at)
    )
    if excluding is not None:
        others = others.exclude(pk=excluding)
    return others.order_by("started_at").only("pk", "started_at", "ended_at").first()


def _day_total(volunteer_id: int, day: datetime.date, *, excluding: int | None = None) -> Decimal:
    records = ServiceRecord.objects.filter(volunteer_id=volunteer_id, service_date=day).counting()
    if excluding is not None:
        records = records.exclude(pk=excluding)
    return records.aggregate(total=Sum("hours"))["total"] or Decimal(0)


def _hours_text(hours: Decimal) -> str:
    """Hours as a message shows them: 12.5, 20 (never 2E+1, which a bare normalize() gives)."""
    return f"{hours.normalize():f}"


def _overlap_message(other) -> str:
    return _("This overlaps the volunteer's service of %(span)s.") % {
        "span": _span((other.started_at, other.ended_at))
    }


def _day_cap_message(day, total) -> str:
    return _(
        "On %(day)s the volunteer's services would add up to %(total)s hours, more than the %(cap)s hours "
        "a day allows."
    ) % {"day": date_format(day, "Y-m-d"), "total": _hours_text(total), "cap": rules.day_cap()}


def _lock_volunteer(volunteer_id: int) -> Volunteer:
    return Volunteer.objects.select_for_update().get(pk=volunteer_id)


# --- Submitting ------------------------------------------------------------------------------------


def _same_county(volunteer: Volunteer, unit: Unit) -> bool:
    return root_id(volunteer.home_unit.path) == root_id(unit.path)


def _require_may_submit(actor, volunteer: Volunteer, unit: Unit, team: Team | None) -> str:
    """Who may record this service, and as what source."""
    if actor is not None and volunteer.user_id == actor.pk:
        if (
            team is not None
            and not TeamMembership.objects.filter(
                team=team, volunteer=volunteer, status=MembershipStatus.ACTIVE
            ).exists()
        ):
            raise ApplicationError(_("Choose one of your own teams, or none."), field="team")
        return RecordSource.SELF_REPORTED
    if actor is None:
        return RecordSource.STAFF
    scope = scope_for(actor)
    by_team = team is not None and scope.tree_contains_path(
        TEAM_TREE, team.path, capability=Capability.RECORDS_ENTER
    )
    if not (by_team or scope.contains(unit, capability=Capability.RECORDS_ENTER)):
        raise ApplicationError(_("This unit is outside the area you record services for."), field="unit")
    return RecordSource.STAFF


def record_submit(
    *,
    actor,
    volunteer: Volunteer,
    content: str,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    unit: Unit | None = None,
    team: Team | None = None,
    evidence_photo=None,
    evidence_note: str = "",
    organiser=None,
    source: str | None = None,
) -> ServiceRecord:
    """A new pending record: self-reported by the volunteer (with a photo or a note as evidence), entered
    by staff in scope, or made by the system from attendance (`source=ATTENDANCE`, actor None).

    Refused, with nothing saved: an end not after the start or in the future; a length that counts no
    hours or more than a day's cap; an overlap with the volunteer's other pending or approved records; a
    day that would go over the cap. Attendance is never refused for an overlap or the cap: the check-in
    happened, so the record is kept and flagged for review instead.
    """
    content = (content or "").strip()
    evidence_note = (evidence_note or "").strip()
    if team is not None and unit is None:
        unit = team.unit
    if unit is None:
        raise ApplicationError(_("Choose the unit that organised the service."), field="unit")
    if team is not None and team.unit_id != unit.pk:
        raise ApplicationError(_("The team belongs to another unit."), field="team")
    if not content:
        raise ApplicationError(_("Say what the service was."), field="content")
    if not unit.is_active:
        raise ApplicationError(_("This unit is no longer active."), field="unit")
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ApplicationError(_("Only an active volunteer's service is recorded."), field="volunteer")
    if not _same_county(volunteer, unit):
        raise ApplicationError(_("This unit belongs to another county."), field="unit")
    allowed_source = _require_may_submit(actor, volunteer, unit, team)
    source = source or allowed_source
    if source == RecordSource.ATTENDANCE and actor is not None:
        raise ApplicationError(_("Attendance records are made by check-in and check-out."), field="source")
    if source == RecordSource.SELF_REPORTED and not (evidence_photo or evidence_note):
        raise ApplicationError(_("Add a photo or a note as evidence of the service."), field="evidence_note")
    _check_times(started_at, ended_at)
    hours = rules.hours_between(started_at, ended_at)
    if source != RecordSource.ATTENDANCE:
        _check_hours(hours)
    elif hours > 24:
        raise ApplicationError(_("A record counts from 0 to 24 hours."), field="ended_at")
    photo = image_intake(evidence_photo, field="evidence_photo") if evidence_photo else None
    day = rules.local_date(started_at)
    with transaction.atomic():
        _lock_volunteer(volunteer.pk)  # overlaps and the day cap are counted one record at a time
        flags = []
        other = _overlap(volunteer.pk, started_at, ended_at)
        if other is not None:
            if source != RecordSource.ATTENDANCE:
                raise ApplicationError(_overlap_message(other), field="started_at")
            flags.append((FlagKind.OVERLAP, _overlap_message(other), other))
        rejected = (
            ServiceRecord.objects.filter(volunteer_id=volunteer.pk, status=RecordStatus.REJECTED)
            .overlapping(started_at, ended_at)
            .order_by("-decided_at")
            .first()
        )
        if rejected is not None:
            # The same hours again after a rejection: decided from above the unit, not by whoever is next.
            detail = _("Overlaps the rejected service of %(span)s.") % {
                "span": _span((rejected.started_at, rejected.ended_at))
            }
            flags.append((FlagKind.OVER_REJECTED, detail, rejected))
        total = _day_total(volunteer.pk, day) + hours
        if total > rules.day_cap():
            if source != RecordSource.ATTENDANCE:
                raise ApplicationError(_day_cap_message(day, total), field="ended_at")
            flags.append((FlagKind.DAY_CAP, _day_cap_message(day, total), None))
        record = ServiceRecord(
            volunteer=volunteer,
            unit=unit,
            team=team,
            content=content[:200],
            started_at=started_at,
            ended_at=ended_at,
            service_date=day,
            hours=hours,
            evidence_note=evidence_note,
            source=source,
            submitted_by=actor,
            organiser=organiser,
        )
        if photo is not None:
            record.evidence_photo.save(photo.name, photo, save=False)
        record.save()
        event_add(record, RecordEvent.Action.CREATED, actor=actor, after=snapshot(record))
        week = _volunteer_week_flag(record)
        if week:
            flags.append(week)
        for kind, detail, other_record in flags:
            flag_raise(record, kind, detail=detail, other_record=other_record)
    return record


def _volunteer_week_flag(record: ServiceRecord):
    monday, sunday = rules.week_bounds(record.service_date)
    total = ServiceRecord.objects.filter(
        volunteer_id=record.volunteer_id, service_date__range=(monday, sunday)
    ).counting().aggregate(total=Sum("hours"))["total"] or Decimal(0)
    if total > settings.SERVICE_FLAG_VOLUNTEER_WEEK_HOURS:
        detail = _("%(total)s hours in the week of %(monday)s.") % {
            "total": _hours_text(total),
            "monday": date_format(monday, "Y-m-d"),
        }
        return (FlagKind.VOLUNTEER_WEEK, detail, None)
    return None


def record_withdraw(*, actor, record: ServiceRecord) -> ServiceRecord:
    """The volunteer takes back a record still waiting for approval (a mistake): kept, as withdrawn."""
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().select_related("volunteer").get(pk=record.pk)
        if actor is None or record.volunteer.user_id != actor.pk:
            raise ApplicationError(_("Only the volunteer withdraws their own record."))
        if record.status != RecordStatus.PENDING:
            raise ApplicationError(_("Only a record waiting for approval can be withdrawn."))
        before = snapshot(record)
        record.status = RecordStatus.WITHDRAWN
        record.decided_by, record.decided_at = actor, timezone.now()
        record.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        event_add(record, RecordEvent.Action.WITHDRAWN, actor=actor, before=before, after=snapshot(record))
    return record


# --- Who decides a record ----------------------------------------------------------------------------


_PHONES_ATTR = "_records_phones"


def _account_phones(user) -> frozenset[str]:
    """The mobile numbers an account is known by: a phone-number username, and its volunteer's phone.
    Remembered on the user object (one query per request, or per approver in a bulk run)."""
    if user is None:
        return frozenset()
    cached = getattr(user, _PHONES_ATTR, None)
    if cached is not None:
        return cached
    phones = set(Volunteer.objects.filter(user_id=user.pk).values_list("phone", flat=True))
    if _MOBILE.fullmatch(user.get_username() or ""):
        phones.add(user.get_username())
    phones = frozenset(phones)
    setattr(user, _PHONES_ATTR, phones)
    return phones


_PLAIN_TEAMS_ATTR = "_records_plain_member_teams"


def _plain_member_teams(user) -> frozenset[int]:
    """The teams `user` is an active plain member of. Remembered on the user object like its scope (which
    holds the teams it leads): one query per request, or per approver in a bulk run."""
    cached = getattr(user, _PLAIN_TEAMS_ATTR, None)
    if cached is None:
        cached = frozenset(
            TeamMembership.objects.filter(
                volunteer__user=user, status=MembershipStatus.ACTIVE, role=MembershipRole.MEMBER
            ).values_list("team_id", flat=True)
        )
        setattr(user, _PLAIN_TEAMS_ATTR, cached)
    return cached


def _linked_by_phone(actor, record: ServiceRecord) -> bool:
    """Whether `actor` is tied by a mobile number to the person whose record it is or who submitted it:
    one person with a second account approving their own hours."""
    mine = _account_phones(actor)
    if not mine:
        return False
    theirs = {record.volunteer.phone}
    if record.submitted_by_id is not None and record.submitted_by_id != record.volunteer.user_id:
        theirs |= _account_phones(record.submitted_by)
    return bool(mine & theirs)


def decide_refusal(actor, record: ServiceRecord) -> str | None:
    """Why `actor` may not approve or reject `record` (None: they may). The same rule for the queue page,
    the API, the admin and corrections."""
    if actor is None:
        return None
    if record.volunteer.user_id == actor.pk:
        return _("Nobody approves their own service.")
    if record.submitted_by_id == actor.pk:
        return _("You submitted this record; another approver decides it.")
    in_scope = record.organiser_id == actor.pk or RECORD_RULE.can_change(actor, record)
    if not in_scope or not actor.is_active:
        return _("This record is outside the area you approve for.")
    if record.team_id is not None and record.team_id in _plain_member_teams(actor):
        return _("You are a plain member of this record's team: its leader or a unit admin decides it.")
    if _linked_by_phone(actor, record):
        return _("Your account shares a mobile number with this record's volunteer or submitter.")
    return None


def may_review(actor, record: ServiceRecord) -> bool:
    """One level up from the record's unit (or the county itself for the center's own records): who
    approves a flagged record and clears flags."""
    if actor is None:
        return True
    scope = scope_for(actor)
    if scope.is_global:
        return True
    unit = record.unit
    return scope.contains(unit, capability=Capability.RECORDS_REVIEW, below=unit.depth > 0)


# What the deciding services read of a locked record's relations (the rest loads if ever asked for): the
# volunteer's account and phone, the unit's and the team's place in their trees, the submitter's login.
_LOCKED_RELATED = (
    "volunteer__user_id",
    "volunteer__phone",
    "unit__path",
    "unit__depth",
    "team__path",
)


def _locked(record_id: int) -> ServiceRecord:
    """The record, locked for the rest of the transaction, with what deciding reads of its volunteer,
    unit and team (the rest of them loads if asked for) and whether it has an open flag."""
    if connection.vendor == "postgresql":
        return _locked_by_sql(record_id)
    open_flags = RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)
    record = list(
        ServiceRecord.objects.select_for_update(of=("self",))
        # The submitter's account is read only when it is not the volunteer's own (_linked_by_phone).
        .select_related("volunteer", "unit", "team")
        .only(*(field.name for field in ServiceRecord._meta.concrete_fields), *_LOCKED_RELATED)
        .annotate(has_open_flags=Exists(open_flags))
        .filter(pk=record_id)
        .order_by()  # one row by its key: no ORDER BY, no LIMIT to build
    )
    if not record:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    return record[0]


def _lock_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"r.{quote(field.column)}" for field in ServiceRecord._meta.concrete_fields)
    return (
        f"SELECT {columns}, v.user_id, v.phone, u.path, u.depth, t.path, "
        f"EXISTS (SELECT 1 FROM {quote(RecordFlag._meta.db_table)} f WHERE f.record_id = r.id AND f.is_open) "
        f"FROM {quote(ServiceRecord._meta.db_table)} r "
        f"JOIN {quote(Volunteer._meta.db_table)} v ON v.id = r.volunteer_id "
        f"JOIN {quote(Unit._meta.db_table)} u ON u.id = r.unit_id "
        f"LEFT JOIN {quote(Team._meta.db_table)} t ON t.id = r.team_id "
        "WHERE r.id = %s FOR UPDATE OF r"
    )


def _locked_by_sql(record_id: int) -> ServiceRecord:
    """`_locked` on PostgreSQL, written out: an approval is what coordinators do hundreds of times in a
    row, and building this query through the ORM costs more than running it. The rows become model
    instances as the ORM makes them (`from_db`: the columns not read here load when asked for)."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [record_id])
        row = cursor.fetchone()
    if row is None:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    fields = ServiceRecord._meta.concrete_fields
    record = ServiceRecord.from_db(connection.alias, [field.attname for field in fields], row[: len(fields)])
    user_id, phone, unit_path, unit_depth, team_path, has_open_flags = row[len(fields) :]
    alias = connection.alias
    record.volunteer = Volunteer.from_db(
        alias, ["id", "user_id", "phone"], [record.volunteer_id, user_id, phone]
    )
    record.unit = Unit.from_db(alias, ["id", "path", "depth"], [record.unit_id, unit_path, unit_depth])
    if record.team_id is not None:
        record.team = Team.from_db(alias, ["id", "path"], [record.team_id, team_path])
    record.has_open_flags = has_open_flags
    return record


def _require_pending(record: ServiceRecord) -> None:
    if record.status != RecordStatus.PENDING:
        raise ApplicationError(
            _("This record has been decided already (%(status)s).") % {"status": record.get_status_display()}
        )


def _add_to_total(volunteer_id: int, hours: Decimal) -> None:
    if hours:
        Volunteer.objects.filter(pk=volunteer_id).update(service_hours=F("service_hours") + hours)


def record_approve(*, actor, record: ServiceRecord | int, note: str = "") -> ServiceRecord:
    """Approve a pending record: its hours join the volunteer's total in the same transaction. A record
    with an open review flag is approved only from one level up, with a note, which clears the flags."""
    note = (note or "").strip()
    with transaction.atomic():
        record = _locked(record if isinstance(record, int) else record.pk)
        _require_pending(record)
        refusal = decide_refusal(actor, record)
        if refusal:
            raise ApplicationError(refusal)
        if record.has_open_flags:
            if not may_review(actor, record):
                raise ApplicationError(
                    _("This record is flagged for review: an admin above its unit approves it, with a note.")
                )
            if not note:
                raise ApplicationError(_("Say why the flagged record is approved."), field="note")
            for flag in RecordFlag.objects.filter(record=record, is_open=True):
                _flag_close(flag, actor=actor, note=note)
        record.status = RecordStatus.APPROVED
        record.decided_by, record.decided_at, record.decision_note = actor, timezone.now(), note[:300]
        if actor is not None and connection.vendor == "postgresql":
            week_total = _approval_write(record, actor)
        else:
            record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
            _add_to_total(record.volunteer_id, record.hours)
            event_add(
                record,
                RecordEvent.Action.APPROVED,
                actor=actor,
                before={"status": RecordStatus.PENDING},
                after={"status": RecordStatus.APPROVED},
                note=note,
            )
            week_total = None if actor is None else _approver_week_add(actor, _week_of(record), record.hours)
        if week_total is not None:
            _approver_week_flag(actor, record, week_total)
    return record


# The four writes of an approval (the record, the volunteer's total, the audit event, the approver's
# week) in one statement on PostgreSQL: approving is what coordinators do hundreds of times in a row,
# and each round trip and ORM save costs more than the write itself. SQLite takes the ORM path above;
# both are tested, and they write the same rows.
_APPROVAL_SQL = """
WITH decided AS (
    UPDATE {record} SET status = %(approved)s, decided_by_id = %(actor)s, decided_at = %(now)s,
        decision_note = %(note)s, updated_at = %(now)s
    WHERE id = %(id)s AND status = %(pending)s
    RETURNING id, volunteer_id, hours
), total AS (
    UPDATE {volunteer} AS v SET service_hours = v.service_hours + decided.hours
    FROM decided WHERE v.id = decided.volunteer_id
    RETURNING v.id
), trail AS (
    INSERT INTO {event} (record_id, action, actor_id, actor_name, at, before, after, note)
    SELECT id, %(action)s, %(actor)s, %(actor_name)s, %(now)s, %(before)s, %(after)s, %(note)s FROM decided
    RETURNING id
)
INSERT INTO {week} AS w (approver_id, week, hours)
SELECT %(actor)s, %(monday)s, hours FROM decided
ON CONFLICT (approver_id, week) DO UPDATE SET hours = w.hours + excluded.hours
RETURNING hours
"""


def _approval_write(record: ServiceRecord, actor) -> Decimal:
    quote = connection.ops.quote_name
    sql = _APPROVAL_SQL.format(
        record=quote(ServiceRecord._meta.db_table),
        volunteer=quote(Volunteer._meta.db_table),
        event=quote(RecordEvent._meta.db_table),
        week=quote(ApproverWeek._meta.db_table),
    )
    params = {
        "approved": RecordStatus.APPROVED,
        "pending": RecordStatus.PENDING,
        "actor": actor.pk,
        "actor_name": _actor_name(actor)[:150],
        "now": record.decided_at,
        "note": record.decision_note,
        "id": record.pk,
        "action": RecordEvent.Action.APPROVED,
        "before": json.dumps({"status": RecordStatus.PENDING}),
        "after": json.dumps({"status": RecordStatus.APPROVED}),
        "monday": _week_of(record),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (total,) = cursor.fetchone()
    return Decimal(str(total))


def _week_of(record: ServiceRecord) -> datetime.date:
    return rules.week_bounds(rules.local_date(record.decided_at))[0]


def _approver_week_add(actor, monday: datetime.date, hours: Decimal) -> Decimal:
    """Add `hours` to what `actor` approved in the week from `monday`; the week's new total. One
    statement (an upsert), the same on PostgreSQL and SQLite, so concurrent approvals each see their own
    step of the total."""
    table = connection.ops.quote_name(ApproverWeek._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (approver_id, week, hours) VALUES (%s, %s, %s) "
            f"ON CONFLICT (approver_id, week) DO UPDATE SET hours = {table}.hours + excluded.hours "
            "RETURNING hours",
            [actor.pk, monday, hours],
        )
        (total,) = cursor.fetchone()
    return Decimal(str(total))


def _approver_week_flag(actor, record: ServiceRecord, total: Decimal) -> None:
    """Flag the approval that took its approver's week (`total` after it) over
    SERVICE_FLAG_APPROVER_WEEK_HOURS: one flag for the week's review, on the record that crossed the line."""
    limit = settings.SERVICE_FLAG_APPROVER_WEEK_HOURS
    if total - record.hours <= limit < total:
        detail = _("%(name)s approved %(total)s hours in the week of %(monday)s.") % {
            "name": _actor_name(actor),
            "total": _hours_text(total),
            "monday": date_format(_week_of(record), "Y-m-d"),
        }
        flag_raise(record, FlagKind.APPROVER_WEEK, detail=detail, actor=actor)


def record_reject(*, actor, record: ServiceRecord | int, reason: str) -> ServiceRecord:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for the rejection."), field="reason")
    with transaction.atomic():
        record = _locked(record if isinstance(record, int) else record.pk)
        _require_pending(record)
        refusal = decide_refusal(actor, record)
        if refusal:
            raise ApplicationError(refusal)
        record.status = RecordStatus.REJECTED
        record.decided_by, record.decided_at, record.decision_note = actor, timezone.now(), reason[:300]
        record.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        event_add(
            record,
            RecordEvent.Action.REJECTED,
            actor=actor,
            before={"status": RecordStatus.PENDING},
            after={"status": RecordStatus.REJECTED},
            note=reason,
        )
    return record


@dataclass(frozen=True)
class BulkOutcome:
    done: tuple[int, ...]
    refused: tuple[tuple[int, str], ...]  # (record id, message)


def records_decide(*, actor, ids, approve: bool, reason: str = "", note: str = "") -> BulkOutcome:
    """Approve (or reject, with one reason) several records, each in its own transaction: one refusal
    leaves the others decided, and says which record and why."""
    done, refused = [], []
    ids = list(dict.fromkeys(int(pk) for pk in ids))
    # An id outside the actor's records gets the same answer whether it exists or not: the reply must
    # not tell which numbers are records of another township.
    mine = (
        set(ids)
        if actor is None
        else set(ServiceRecord.objects.changeable_by(actor).filter(pk__in=ids).values_list("pk", flat=True))
    )
    for record_id in ids:
        if record_id not in mine:
            refused.append((record_id, _("This record is outside the area you approve for.")))
            continue
        try:
            if approve:
                record_approve(actor=actor, record=record_id, note=note)
            else:
                record_reject(actor=actor, record=record_id, reason=reason)
        except ApplicationError as error:
            refused.append((record_id, str(error.message)))
        else:
            done.append(record_id)
    return BulkOutcome(tuple(done), tuple(refused))


# --- Corrections -------------------------------------------------------------------------------------


def at_or_above(actor, maker, unit, capability: str) -> bool:
    """A level below never rewrites the level above's work: `actor` may change what `maker` decided or
    entered about `unit` when they are the maker, or hold every subtree the maker holds there (with
    `capability`). A team leader's or organiser's work (no unit held) is changed by any admin of `unit`."""
    if actor is None or maker is None or maker.pk == actor.pk:
        return True
    scope = scope_for(actor)
    if scope.is_global:
        return True
    maker_scope = scope_for(maker)
    if maker_scope.is_global:
        return False
    held = [root for root in maker_scope.roots_for(capability) if unit.path.startswith(root)]
    return all(scope.contains_path(root, capability=capability) for root in held)


def _at_or_above_decider(actor, record: ServiceRecord) -> bool:
    return at_or_above(actor, record.decided_by, record.unit, Capability.RECORDS_APPROVE)


def correction_request(
    *,
    actor,
    record: ServiceRecord,
    reason: str,
    content: str = "",
    started_at: datetime.datetime | None = None,
    ended_at: datetime.datetime | None = None,
) -> CorrectionRequest:
    """The volunteer (or staff of the organising unit, on their behalf) asks the organiser to correct a
    decided record, saying why and what is right. The record itself is left as it is."""
    reason = (reason or "").strip()
    content = (content or "").strip()
    with transaction.atomic():
        record = _locked(record.pk)
        if actor is None or not (
            record.volunteer.user_id == actor.pk or RECORD_RULE.can_change(actor, record)
        ):
            raise ApplicationError(
                _(
                    "Only the volunteer, or staff of the organising unit, asks for a correction of this "
                    "record."
                )
            )
        if record.status not in (RecordStatus.APPROVED, RecordStatus.REJECTED):
            raise ApplicationError(_("Only an approved or rejected record is corrected."))
        if hasattr(record, "superseded_by"):
            raise ApplicationError(_("This record has been corrected already; ask about the newer one."))
        if not reason:
            raise ApplicationError(_("Say what is wrong with the record."), field="reason")
        if started_at is not None or ended_at is not None:
            _check_times(started_at or record.started_at, ended_at or record.ended_at)
        if CorrectionRequest.objects.filter(record=record, status=CorrectionStatus.PENDING).exists():
            raise ApplicationError(_("A correction of this record is already waiting."))
        correction = CorrectionRequest.objects.create(
            record=record,
            requested_by=actor,
            reason=reason[:300],
            content=content[:200],
            started_at=started_at,
            ended_at=ended_at,
        )
        event_add(record, RecordEvent.Action.CORRECTION_REQUESTED, actor=actor, note=reason)
    return correction


def correction_decide(
    *,
    actor,
    correction: CorrectionRequest,
    accept: bool,
    note: str = "",
    content: str | None = None,
    started_at: datetime.datetime | None = None,
    ended_at: datetime.datetime | None = None,
) -> CorrectionRequest:
    """The organiser refuses (with a reason) or accepts a correction. Accepted, it becomes a new approved
    record (the request's values, or the organiser's own) that supersedes the old one; the volunteer's
    total moves by the difference. The old record is never touched."""
    note = (note or "").strip()
    with transaction.atomic():
        correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        if correction.status != CorrectionStatus.PENDING:
            raise ApplicationError(_("This correction has been decided already."))
        old = _locked(correction.record_id)
        refusal = decide_refusal(actor, old)
        if refusal:
            raise ApplicationError(refusal)
        if actor is not None and correction.requested_by_id == actor.pk:
            raise ApplicationError(_("You asked for this correction; another approver decides it."))
        if not _at_or_above_decider(actor, old):
            raise ApplicationError(
                _("This record was decided above your level; a correction of it is decided there.")
            )
        now = timezone.now()
        if not accept:
            if not note:
                raise ApplicationError(_("Give the reason for the refusal."), field="note")
            correction.status = CorrectionStatus.REFUSED
            correction.decided_by, correction.decided_at, correction.decision_note = actor, now, note[:300]
            correction.save(
                update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
            )
            event_add(old, RecordEvent.Action.CORRECTION_REFUSED, actor=actor, note=note)
            return correction
        if old.has_open_flags:
            # A correction is no way around a review: as approving the flagged record itself would be.
            if not may_review(actor, old):
                raise ApplicationError(
                    _("This record is flagged for review: an admin above its unit decides its correction.")
                )
            if not note:
                raise ApplicationError(_("Say why the flagged record is corrected."), field="note")
            for flag in RecordFlag.objects.filter(record=old, is_open=True):
                _flag_close(flag, actor=actor, note=note)
        started_at = started_at or correction.started_at or old.started_at
        ended_at = ended_at or correction.ended_at or old.ended_at
        content = ((content or "").strip() or correction.content or old.content)[:200]
        _check_times(started_at, ended_at)
        hours = rules.hours_between(started_at, ended_at)
        _check_hours(hours)
        day = rules.local_date(started_at)
        _lock_volunteer(old.volunteer_id)
        other = _overlap(old.volunteer_id, started_at, ended_at, excluding=old.pk)
        if other is not None:
            raise ApplicationError(_overlap_message(other), field="started_at")
        total = _day_total(old.volunteer_id, day, excluding=old.pk) + hours
        if total > rules.day_cap():
            raise ApplicationError(_day_cap_message(day, total), field="ended_at")
        new = ServiceRecord.objects.create(
            volunteer_id=old.volunteer_id,
            unit_id=old.unit_id,
            team_id=old.team_id,
            content=content,
            started_at=started_at,
            ended_at=ended_at,
            service_date=day,
            hours=hours,
            evidence_photo=old.evidence_photo.name,
            evidence_note=old.evidence_note,
            source=RecordSource.CORRECTION,
            status=RecordStatus.APPROVED,
            submitted_by=correction.requested_by,
            organiser_id=old.organiser_id,
            decided_by=actor,
            decided_at=now,
            decision_note=(note or correction.reason)[:300],
            supersedes=old,
        )
        counted_before = old.hours if old.status == RecordStatus.APPROVED else Decimal(0)
        _add_to_total(old.volunteer_id, hours - counted_before)
        event_add(
            new,
            RecordEvent.Action.CREATED,
            actor=actor,
            before=snapshot(old),
            after=snapshot(new),
            note=correction.reason,
        )
        event_add(
            old,
            RecordEvent.Action.SUPERSEDED,
            actor=actor,
            before=snapshot(old),
            after={**snapshot(new), "record": new.pk},
            note=note or correction.reason,
        )
        correction.status = CorrectionStatus.ACCEPTED
        correction.decided_by, correction.decided_at, correction.decision_note = actor, now, note[:300]
        correction.new_record = new
        correction.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "new_record", "updated_at"]
        )
    return correction


# --- Review flags --------------------------------------------------------------------------------------


def flag_raise(record, kind, *, detail: str = "", other_record=None, actor=None) -> RecordFlag | None:
    """Flag `record` for review, once per kind (a second raise of the same kind adds nothing)."""
    # get_or_create inserts in a savepoint of its own and reads the row a concurrent raise made.
    flag, created = RecordFlag.objects.get_or_create(
        record=record, kind=kind, defaults={"detail": detail[:300], "other_record": other_record}
    )
    if created:
        event_add(record, RecordEvent.Action.FLAGGED, actor=actor, note=flag.get_kind_display())
    return flag if created else None


def _flag_close(flag: RecordFlag, *, actor, note: str) -> None:
    flag.is_open = False
    flag.cleared_by, flag.cleared_at, flag.note = actor, timezone.now(), note[:300]
    flag.save(update_fields=["is_open", "cleared_by", "cleared_at", "note"])
    event_add(flag.record, RecordEvent.Action.FLAG_CLEARED, actor=actor, note=note)


def flag_clear(*, actor, flag: RecordFlag, note: str) -> RecordFlag:
    """A reviewer from one level up looked at the record and found it right."""
    note = (note or "").strip()
    with transaction.atomic():
        flag = RecordFlag.objects.select_for_update().select_related("record__unit").get(pk=flag.pk)
        if not flag.is_open:
            raise ApplicationError(_("This flag has been cleared already."))
        if not may_review(actor, flag.record):
            raise ApplicationError(_("Flags are cleared by an admin above the record's unit."))
        if not note:
            raise ApplicationError(_("Say what the review found."), field="note")
        _flag_close(flag, actor=actor, note=note)
    return flag


def flags_scan(*, since: datetime.datetime | None = None) -> int:
    """Find what the checks at submission could not see (records that arrived at once, from two
    organisers, or from attendance): overlaps and days over the cap among counting records, and approvals
    through an account linked by phone. Safe to run again: a flag is raised once per record and kind."""
    since = since or timezone.now() - datetime.timedelta(days=8)
    recent = ServiceRecord.objects.counting().filter(updated_at__gte=since)
    raised = 0
    overlapping = (
        recent.filter(
            Exists(
                ServiceRecord.objects.counting()
                .filter(
                    volunteer_id=OuterRef("volunteer_id"),
                    started_at__lt=OuterRef("ended_at"),
                    ended_at__gt=OuterRef("started_at"),
                )
                .exclude(pk=OuterRef("pk"))
            )
        )
        .exclude(flags__kind=FlagKind.OVERLAP)
        .select_related("volunteer")
    )
    for record in overlapping.iterator(chunk_size=500):
        other = _overlap(record.volunteer_id, record.started_at, record.ended_at, excluding=record.pk)
        if other is not None and flag_raise(
            record, FlagKind.OVERLAP, detail=_overlap_message(other), other_record=other
        ):
            raised += 1
    days = (
        ServiceRecord.objects.counting()
        .filter(
            service_date__in=recent.values("service_date"), volunteer_id__in=recent.values("volunteer_id")
        )
        .values("volunteer_id", "service_date")
        .annotate(total=Sum("hours"))
        .filter(total__gt=rules.day_cap())
    )
    for day in days:
        last = (
            ServiceRecord.objects.counting()
            .filter(volunteer_id=day["volunteer_id"], service_date=day["service_date"])
            .order_by("-created_at", "-pk")
            .first()
        )
        if last and flag_raise(
            last, FlagKind.DAY_CAP, detail=_day_cap_message(day["service_date"], day["total"])
        ):
            raised += 1
    approved = (
        ServiceRecord.objects.filter(
            status=RecordStatus.APPROVED, decided_at__gte=since, decided_by__isnull=False
        )
        .exclude(flags__kind=FlagKind.LINKED_ACCOUNT)
        .select_related("volunteer", "submitted_by", "decided_by")
    )
    for record in approved.iterator(chunk_size=500):
        if _linked_by_phone(record.decided_by, record) and flag_raise(
            record,
            FlagKind.LINKED_ACCOUNT,
            detail=_("Approved by an account that shares a mobile number with the volunteer or submitter."),
        ):
            raised += 1
    return raised


# --- Totals ------------------------------------------------------------------------------------------


def total_from_records(volunteer_id: int) -> Decimal:
    """The total as the records say it (approved, not superseded): what `service_hours` must equal."""
    return ServiceRecord.objects.filter(volunteer_id=volunteer_id).approved_current().aggregate(
        total=Sum("hours")
    )["total"] or Decimal(0)


def totals_rebuild(*, volunteer_ids=None) -> int:
    """Set stored totals from the records again (a repair after restoring a backup); returns how many
    changed. Each volunteer under a row lock, so an approval meanwhile is not lost."""
    changed = 0
    volunteers = (
        Volunteer.objects.all() if volunteer_ids is None else Volunteer.objects.filter(pk__in=volunteer_ids)
    )
    for volunteer_id in volunteers.values_list("pk", flat=True).iterator(chunk_size=2000):
        with transaction.atomic():
            stored = (
                Volunteer.objects.select_for_update()
                .values_list("service_hours", flat=True)
                .get(pk=volunteer_id)
            )
            actual = total_from_records(volunteer_id)
            if stored != actual:
                Volunteer.objects.filter(pk=volunteer_id).update(service_hours=actual)
                changed += 1
    return changed
