"""The service records of the benchmark-scale data (`manage.py seed_scale`, see volunteers.scale): a phase
after the volunteers, registered when the app is ready.

Each county gets 25 records for every three volunteers (625,000 a county, 5,000,000 in the city; 1,000 a
county in the tests' tiny preset), spread unevenly: one volunteer in eight has none, most a few, one in ten
dozens. Each record lies on a day of its own for its volunteer (so no two of a volunteer's records
overlap, and no day goes over the cap), between 2023-01-01, or the day the volunteer registered, and
2026-11-30; a service starts between 8:00 and 15:30 and lasts one to six hours and some minutes, its
hours counted by `rules.hours_between`. The unit is the volunteer's team's unit (with the team) for three
records in four of a volunteer in a team, the home unit otherwise. Half come from attendance, three in ten
are self-reported (with a note as evidence), the rest entered by staff.

Statuses as a county would have them: about 87 % approved, 7 % pending (most of them from the last three
months), 5 % rejected with a reason, 1 % withdrawn, and one in two hundred approved records corrected
later (the approved record and its correction, an approved record that supersedes it: both are written
in their final state, as the trigger of migration 0002 refuses any later change). About 0.3 % carry an
open review flag (a check-out missed on an attendance record). Every record has its audit trail as the
services write it: submitted, then approved, rejected or withdrawn; flagged; correction requested and
superseded. The data set has no staff accounts, so `decided_by` is empty and the trail names the unit's
contact person. The volunteers' stored totals are set from the approved, current records afterwards,
with one UPDATE … FROM a grouped sum per county.

Rows go in with COPY, a batch of whole volunteers at a time, each batch with its events and flags in one
transaction, ids reserved for the county first; the county's last batch sets the totals in the same
transaction. A county's records are counted through its volunteers (whose ids are consecutive), leaving
out the pending records the activities phase adds with its attendance, so a run cut short resumes after
its last batch and a second run adds nothing.
"""

from __future__ import annotations

import bisect
import collections
import datetime
import os
import random
import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import translation
from django.utils.translation import gettext

from stations.models import Unit
from volunteers.bulk import Copy, reserve_ids
from volunteers.models import MembershipStatus, TeamMembership, Volunteer
from volunteers.scale import Phase, Preset, ProgressBar, ScaleError, register_phase

from . import rules
from .models import FlagKind, RecordEvent, RecordFlag, RecordSource, RecordStatus, ServiceRecord

FIRST_DAY = datetime.date(2023, 1, 1)
LAST_DAY = datetime.date(2026, 11, 30)
RECENT = datetime.date(2026, 9, 1)  # from here on, a third of the records still wait for approval
# The data set's "now": nothing is submitted or decided after it.
_NOW = (2026, 12, 1, 12, 0)

_CONTENTS = (
    "社区环境清洁",
    "关爱空巢老人",
    "文明交通劝导",
    "理论政策宣讲进村",
    "农家书屋图书整理",
    "义诊与健康咨询",
    "法律知识普及",
    "防溺水安全宣传",
    "垃圾分类宣传指导",
    "留守儿童课业辅导",
    "移风易俗宣传",
    "文艺演出志愿服务",
    "反诈知识宣传",
    "河道巡查保洁",
    "应急救护培训协助",
    "科普知识进校园",
)
_EVIDENCE = ("现场照片已交队长", "签到表已存档", "活动群内有现场照片", "服务对象签字确认")
_REJECTIONS = ("服务时间与活动签到不符", "未提供服务凭证", "重复提交", "所填内容不属于志愿服务")
_CORRECTIONS = ("签退时间记录有误，实际服务更久", "活动延时结束，按实际时长更正")
# Lengths in minutes before the stray minutes of a real service; hours_between rounds them.
_LENGTHS = (60, 90, 120, 120, 150, 180, 180, 210, 240, 300, 360)

RECORD_FIELDS = (
    "id",
    "volunteer_id",
    "unit_id",
    "team_id",
    "content",
    "started_at",
    "ended_at",
    "service_date",
    "hours",
    "evidence_note",
    "source",
    "status",
    "supersedes_id",
    "decided_at",
    "decision_note",
    "created_at",
    "updated_at",
)
EVENT_FIELDS = ("record_id", "action", "actor_name", "at", "before", "after", "note")
FLAG_FIELDS = ("record_id", "kind", "detail", "created_at", "is_open")
_NULL = r"\N"
_Action = RecordEvent.Action
_DECISIONS = {RecordStatus.APPROVED: _Action.APPROVED, RecordStatus.REJECTED: _Action.REJECTED}


def records_total(preset: Preset) -> int:
    """Records of one county: 25 for every three volunteers."""
    return preset.volunteers * 25 // 3


def _volunteers_prefix(preset: Preset, code: str) -> str:
    # The volunteers' marker (volunteers.scale): the preset's phone prefix and the county's two digits.
    return f"{preset.phone_prefix}{int(code.removeprefix(preset.code_prefix)):02d}"


def _volunteer_range(preset: Preset, code: str) -> tuple[int | None, int | None]:
    """The first and last id of the county's volunteers: reserved in one run, so consecutive."""
    bounds = Volunteer.objects.filter(phone__startswith=_volunteers_prefix(preset, code)).aggregate(
        first=Min("pk"), last=Max("pk")
    )
    return bounds["first"], bounds["last"]


def _county_records(first: int | None, last: int | None):
    """The phase's records of the county's volunteers: not those the activities phase's attendance made."""
    if first is None:
        return ServiceRecord.objects.none()
    return ServiceRecord.objects.filter(volunteer__gte=first, volunteer__lte=last, attendance__isnull=True)


def records_done(preset: Preset, code: str) -> int:
    return _county_records(*_volunteer_range(preset, code)).count()


# --- The plan of a county ------------------------------------------------------------------------------


def _county_volunteers(preset: Preset, code: str) -> list[tuple]:
    """(id, name, home unit, registered on, team id, team's unit id) of the county's volunteers, in id
    order; the team is the first active one, None without."""
    prefix = _volunteers_prefix(preset, code)
    teams = {}
    for volunteer_id, team_id, unit_id in (
        TeamMembership.objects.filter(volunteer__phone__startswith=prefix, status=MembershipStatus.ACTIVE)
        .order_by("-team_id")
        .values_list("volunteer_id", "team_id", "team__unit_id")
    ):
        teams[volunteer_id] = (team_id, unit_id)
    return [
        (pk, name, home_unit_id, registered_on, *teams.get(pk, (None, None)))
        for pk, name, home_unit_id, registered_on in Volunteer.objects.filter(phone__startswith=prefix)
        .order_by("pk")
        .values_list("pk", "name", "home_unit_id", "registered_on")
    ]


def _window(registered_on: datetime.date) -> int:
    """Days a volunteer can have served on: from registering (or FIRST_DAY) to LAST_DAY."""
    return (LAST_DAY - max(FIRST_DAY, registered_on)).days + 1


def _record_counts(preset: Preset, number: int, volunteers: list[tuple]) -> list[int]:
    """How many records each volunteer has: skewed (none, a few, a dozen, dozens), at most one a day of
    their window, adding up to `records_total` exactly."""
    rng = random.Random(f"{preset.code_prefix}{number}-record-counts")
    windows = [_window(volunteer[3]) for volunteer in volunteers]
    counts = []
    for window in windows:
        draw = rng.random()
        if draw < 0.12:
            count = 0
        elif draw < 0.60:
            count = rng.randint(1, 4)
        elif draw < 0.90:
            count = rng.randint(5, 15)
        else:
            count = 16 + int(rng.expovariate(1 / 25))
        counts.append(min(count, window, 150))
    missing = records_total(preset) - sum(counts)
    if missing > sum(windows) - sum(counts):
        raise ScaleError(
            f"{preset.name}: the volunteers' days cannot hold {records_total(preset):,} records."
        )
    while missing:
        index = rng.randrange(len(counts))
        if missing > 0 and 0 < counts[index] < windows[index]:
            counts[index] += 1
            missing -= 1
        elif missing < 0 and counts[index] > 1:
            counts[index] -= 1
            missing += 1
    return counts


# --- One volunteer's records ------------------------------------------------------------------------


class _Texts:
    """What a batch writes besides numbers, in the site's language (resolved before workers fork)."""

    def __init__(self):
        with translation.override(settings.LANGUAGE_CODE):
            self.system = gettext("system")
            self.missed_checkout = str(FlagKind.MISSED_CHECKOUT.label)
            self.flag_detail = "未签退，按活动结束时间计"
        self.zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.now = datetime.datetime(*_NOW, tzinfo=self.zone)
        self.cap_minutes = int(rules.day_cap() * 60)
        self._hours: dict[int, str] = {}

    def hours(self, minutes: int) -> str:
        """The hours a service of `minutes` counts for, as COPY text ("2.50")."""
        text = self._hours.get(minutes)
        if text is None:
            start = datetime.datetime(2024, 1, 1, tzinfo=self.zone)
            text = str(rules.hours_between(start, start + datetime.timedelta(minutes=minutes)))
            self._hours[minutes] = text
        return text


def snapshot_text(content, started, ended, hours, status, unit_id, team_id, record_id=None) -> str:
    """services.snapshot as JSON text (the contents hold no quote or backslash)."""
    text = (
        f'{{"content": "{content}", "started_at": "{started}", "ended_at": "{ended}", "hours": "{hours}", '
        f'"status": "{status}", "unit": {unit_id}, "team": {team_id if team_id is not None else "null"}'
    )
    return text + (f', "record": {record_id}}}' if record_id is not None else "}")


def _status_of(rng: random.Random, day: datetime.date) -> str:
    if rng.random() < (0.36 if day >= RECENT else 0.02):
        return RecordStatus.PENDING
    draw = rng.random()
    if draw < 0.052:
        return RecordStatus.REJECTED
    if draw < 0.0625:
        return RecordStatus.WITHDRAWN
    if draw < 0.068:
        return "corrected"
    return RecordStatus.APPROVED


def _volunteer_rows(seed: str, volunteer: tuple, count: int, first_id: int, contacts, texts: _Texts):
    """The record, event and flag rows (COPY text values) of one volunteer's `count` records."""
    pk, name, home_id, registered_on, team_id, team_unit_id = volunteer
    rng = random.Random(seed)
    start_day = max(FIRST_DAY, registered_on)
    offsets = sorted(rng.sample(range(_window(registered_on)), count))
    zone, now, hours_of = texts.zone, texts.now, texts.hours
    cap = texts.cap_minutes
    records, events, flags = [], [], []
    next_id = first_id
    for offset in offsets:
        if next_id - first_id >= count:
            break
        day = start_day + datetime.timedelta(days=offset)
        status = _status_of(rng, day)
        if status == "corrected" and next_id - first_id + 2 > count:
            status = RecordStatus.APPROVED
        if team_id is not None and rng.random() < 0.75:
            unit_id, team = team_unit_id, team_id
        else:
            unit_id, team = home_id, None
        contact = contacts.get(unit_id) or texts.system
        draw = rng.random()
        source = (
            RecordSource.ATTENDANCE
            if draw < 0.5
            else RecordSource.SELF_REPORTED
            if draw < 0.8
            else RecordSource.STAFF
        )
        content = rng.choice(_CONTENTS)
        evidence = rng.choice(_EVIDENCE) if source == RecordSource.SELF_REPORTED else ""
        minutes = min(rng.choice(_LENGTHS) + rng.randrange(30), cap)
        started = datetime.datetime(day.year, day.month, day.day, 8, tzinfo=zone) + datetime.timedelta(
            minutes=30 * rng.randrange(16)
        )
        ended = started + datetime.timedelta(minutes=minutes)
        if source == RecordSource.ATTENDANCE:
            created = ended + datetime.timedelta(minutes=rng.randrange(10))
            creator = texts.system
        else:
            created = ended + datetime.timedelta(hours=rng.randint(1, 72 if evidence else 120))
            creator = name if evidence else contact
        created = min(created, now)
        hours = hours_of(minutes)
        started_text, ended_text, day_text = started.isoformat(), ended.isoformat(), day.isoformat()
        team_text = _NULL if team is None else str(team)
        record_id = next_id
        next_id += 1
        final = RecordStatus.APPROVED if status == "corrected" else status
        decided = None if final == RecordStatus.PENDING else min(created + _delay(rng), now)
        note = rng.choice(_REJECTIONS) if final == RecordStatus.REJECTED else ""
        records.append(
            (
                str(record_id),
                str(pk),
                str(unit_id),
                team_text,
                content,
                started_text,
                ended_text,
                day_text,
                hours,
                evidence,
                source,
                final,
                _NULL,
                decided.isoformat() if decided else _NULL,
                note,
                created.isoformat(),
                (decided or created).isoformat(),
            )
        )
        pending_snapshot = snapshot_text(
            content, started_text, ended_text, hours, RecordStatus.PENDING, unit_id, team
        )
        events.append((record_id, _Action.CREATED, creator, created, "{}", pending_snapshot, ""))
        if final == RecordStatus.WITHDRAWN:
            after = snapshot_text(content, started_text, ended_text, hours, final, unit_id, team)
            events.append((record_id, _Action.WITHDRAWN, name, decided, pending_snapshot, after, ""))
        elif decided is not None:
            before, after = f'{{"status": "{RecordStatus.PENDING}"}}', f'{{"status": "{final}"}}'
            events.append((record_id, _DECISIONS[final], contact, decided, before, after, note))
        if (
            source == RecordSource.ATTENDANCE
            and final in (RecordStatus.PENDING, RecordStatus.APPROVED)
            and status != "corrected"
            and rng.random() < 0.006
        ):
            flagged = min((decided or created) + datetime.timedelta(days=1), now)
            flags.append(
                (str(record_id), FlagKind.MISSED_CHECKOUT, texts.flag_detail, flagged.isoformat(), "t")
            )
            events.append(
                (record_id, _Action.FLAGGED, texts.system, flagged, "{}", "{}", texts.missed_checkout)
            )
        if status != "corrected":
            continue
        # The volunteer asks for more time; the organiser accepts: a new approved record supersedes this one.
        reason = rng.choice(_CORRECTIONS)
        requested = min(decided + datetime.timedelta(days=rng.randint(1, 30)), now)
        accepted = min(requested + datetime.timedelta(days=rng.randint(1, 3)), now)
        new_minutes = min(minutes + rng.choice((30, 60, 90)), cap)
        new_ended = started + datetime.timedelta(minutes=new_minutes)
        new_hours = hours_of(new_minutes)
        new_id = next_id
        next_id += 1
        records.append(
            (
                str(new_id),
                str(pk),
                str(unit_id),
                team_text,
                content,
                started_text,
                new_ended.isoformat(),
                day_text,
                new_hours,
                evidence,
                RecordSource.CORRECTION,
                RecordStatus.APPROVED,
                str(record_id),
                accepted.isoformat(),
                reason,
                accepted.isoformat(),
                accepted.isoformat(),
            )
        )
        old_snapshot = snapshot_text(content, started_text, ended_text, hours, final, unit_id, team)
        new_values = (content, started_text, new_ended.isoformat(), new_hours, RecordStatus.APPROVED)
        new_snapshot = snapshot_text(*new_values, unit_id, team)
        superseded_after = snapshot_text(*new_values, unit_id, team, record_id=new_id)
        events.append((record_id, _Action.CORRECTION_REQUESTED, name, requested, "{}", "{}", reason))
        events.append((new_id, _Action.CREATED, contact, accepted, old_snapshot, new_snapshot, reason))
        events.append(
            (record_id, _Action.SUPERSEDED, contact, accepted, old_snapshot, superseded_after, reason)
        )
    return records, events, flags


def _delay(rng: random.Random) -> datetime.timedelta:
    """From submitting to the decision: an hour to ten days."""
    return datetime.timedelta(hours=rng.randint(1, 240))


# --- Batches ------------------------------------------------------------------------------------------

# What the batch workers read: set before the pool forks, so each worker has it without pickling.
_BATCH: dict = {}


def _make_batch(bounds: tuple[int, int]) -> tuple[int, int, str, str, str]:
    """The COPY text of the records of volunteers [start, stop) of the county in _BATCH, with their
    events and flags. Runs in a worker process too: no database here."""
    start, stop = bounds
    b = _BATCH
    volunteers, counts, starts = b["volunteers"], b["counts"], b["starts"]
    record_line, event_line, flag_line = b["records"].raw_line, b["events"].raw_line, b["flags"].raw_line
    records, events, flags = [], [], []
    made = 0
    for index in range(start, stop):
        if not counts[index]:
            continue
        rows = _volunteer_rows(
            f"{b['seed']}-{index}",
            volunteers[index],
            counts[index],
            b["base_id"] + starts[index],
            b["contacts"],
            b["texts"],
        )
        made += len(rows[0])
        records.extend(record_line(*row) for row in rows[0])
        events.extend(
            event_line(str(record_id), action, actor, at.isoformat(), before, after, note)
            for record_id, action, actor, at, before, after, note in rows[1]
        )
        flags.extend(flag_line(*row) for row in rows[2])
    return stop, made, "".join(records), "".join(events), "".join(flags)


def _batches(counts: list[int], first: int, size: int) -> list[tuple[int, int]]:
    """Volunteers [start, stop) from `first` on, each batch of whole volunteers with about `size` records."""
    bounds, start, rows = [], first, 0
    for index in range(first, len(counts)):
        rows += counts[index]
        if rows >= size:
            bounds.append((start, index + 1))
            start, rows = index + 1, 0
    if start < len(counts):
        bounds.append((start, len(counts)))
    return bounds


def totals_update(first: int, last: int) -> int:
    """Set the stored totals of volunteers [first, last] from their approved, current records: one
    UPDATE … FROM a grouped sum. Returns the rows changed."""
    record, volunteer = ServiceRecord._meta.db_table, Volunteer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{volunteer}" AS v SET service_hours = t.total '
            f"FROM (SELECT r.volunteer_id, SUM(r.hours) AS total "
            f'      FROM "{record}" AS r '
            "      WHERE r.volunteer_id BETWEEN %s AND %s AND r.status = %s "
            f'        AND NOT EXISTS (SELECT 1 FROM "{record}" AS n WHERE n.supersedes_id = r.id) '
            "      GROUP BY r.volunteer_id) AS t "
            "WHERE v.id = t.volunteer_id AND v.service_hours <> t.total",
            [first, last, RecordStatus.APPROVED],
        )
        return cursor.rowcount


def _records_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    total = records_total(preset)
    first_volunteer, last_volunteer = _volunteer_range(preset, code)
    county = _county_records(first_volunteer, last_volunteer)
    done = county.count()
    if done >= total:
        return
    volunteers = _county_volunteers(preset, code)
    if len(volunteers) < preset.volunteers:
        raise ScaleError(f"{code}: the volunteers are not all in yet; run the volunteers phase first.")
    number = int(code.removeprefix(preset.code_prefix))
    counts = _record_counts(preset, number, volunteers)
    starts = [0]
    for count in counts:
        starts.append(starts[-1] + count)
    # Batches hold whole volunteers and go in order: what is there ends at a volunteer's last record.
    resume_at = bisect.bisect_left(starts, done)
    if starts[resume_at] != done:
        raise ScaleError(f"{code} holds {done:,} service records, not a whole number of batches.")
    base_id = reserve_ids(ServiceRecord, total) if done == 0 else county.aggregate(first=Min("pk"))["first"]
    unit_ids = {volunteer[2] for volunteer in volunteers} | {volunteer[5] for volunteer in volunteers}
    contacts = dict(Unit.objects.filter(pk__in=unit_ids - {None}).values_list("pk", "contact_person"))
    _BATCH.update(
        seed=f"{preset.code_prefix}{number}-records",
        volunteers=volunteers,
        counts=counts,
        starts=starts,
        base_id=base_id,
        contacts=contacts,
        texts=_Texts(),
        records=Copy(ServiceRecord, RECORD_FIELDS),
        events=Copy(RecordEvent, EVENT_FIELDS),
        flags=Copy(RecordFlag, FLAG_FIELDS),
    )
    bounds = _batches(counts, resume_at, preset.batch)
    copies = _BATCH["records"], _BATCH["events"], _BATCH["flags"]
    last_stop = bounds[-1][1]

    def store(batch):
        stop, made, *texts = batch
        with transaction.atomic():
            for copy, text in zip(copies, texts, strict=True):
                copy.send(text)
            if stop == last_stop:  # the totals with the last batch: a county complete has its totals
                totals_update(first_volunteer, last_volunteer)
        bar.add(made)

    processes = min(2, os.cpu_count() or 1) if total - done >= 50_000 else 1
    if processes <= 1 or len(bounds) < 2:
        for batch_bounds in bounds:
            store(_make_batch(batch_bounds))
    else:
        import multiprocessing

        # Workers make the text while this process copies it in, in order, one batch waiting per worker.
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            waiting = collections.deque()
            for batch_bounds in bounds:
                waiting.append(pool.apply_async(_make_batch, (batch_bounds,)))
                if len(waiting) > processes:
                    store(waiting.popleft().get())
            while waiting:
                store(waiting.popleft().get())


PHASE = register_phase(Phase("records", records_total, records_done, _records_run))
