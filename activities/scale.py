"""The activities of the benchmark-scale data (`manage.py seed_scale`, see volunteers.scale): a phase after
the service records, registered when the app is ready.

Each county gets one activity for every twelve volunteers (6,250 a county, 50,000 in the city; 10 a county
in the tests' tiny preset), run by its stations and points, or by one of its teams at the team's unit, with
the team's service domain (a platform of the county otherwise). They lie between 2023-01-01 and four weeks
after the data set's "now" (2026-12-01 12:00, as records.scale has it): those before it finished, about one
in thirty-three cancelled before it began; a few of that morning running; the coming ones published, their
sign-up open or not yet open, one in ten still a draft. An activity that needs insurance has it confirmed
before it was published, as the database requires; a draft may still lack it.

Sign-ups come from volunteers of the activity's township (of the whole county for the center's own), who
had registered by the time sign-up opened, each at most once a day across the county's activities. They
queue between the opening and the closing of sign-up (or "now"): the first are accepted, up to the
capacity; most activities stay below it, one in five fills up, half of those with a waitlist besides. A few
volunteers cancel before the deadline, and the first on the waitlist moves up, as the services do it; a
cancelled activity has every sign-up cancelled with it. The accepted and waitlisted counts are written with
each activity, and set again from the rows with one UPDATE … FROM a grouped count per county, so they
always equal the sign-ups.

Attendance is made for the activities of the last thirty days before "now" (as many of the past ones lie
there as the days' share, at least three a county) and for those running: most accepted volunteers check
in, by scan or by the organiser, a few minutes early or a little late; one in twelve does not come, nor
does anyone with a service record of the records phase (or another attendance) that day, so no record
overlaps another. A finished activity's attendance is checked out, one in twenty-five closed at the end as
a missed check-out, and makes the pending service record the services make (the time inside the activity's
window, rounded by the records' rule; none when it counts no hours), with its audit trail and, for a missed
check-out, its open flag. The older activities have none: their volunteers' hours are among the records
phase's, laid out per volunteer and not by activity. Organisers are left out: the data set has no staff
accounts, so hand check-ins name nobody.

The plan of a county is made whole and in the same way every run (seeded, from the units and volunteers of
earlier phases), in the order of the start. Rows go in with COPY, a batch of whole activities with their
sign-ups and attendance (and its records) at a time, each batch in one transaction, ids reserved for the
county first; the county's last batch sets the counts in the same transaction. A county's activities are
counted through its units, so a run cut short resumes after its last batch and a second run adds nothing.
"""

from __future__ import annotations

import bisect
import datetime
import random
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import translation
from django.utils.translation import gettext

from records import rules as record_rules
from records.models import FlagKind, RecordEvent, RecordFlag, RecordSource, RecordStatus, ServiceRecord
from records.scale import EVENT_FIELDS, FLAG_FIELDS, RECORD_FIELDS, snapshot_text
from stations.models import Platform, Unit, UnitKind
from volunteers.bulk import Copy, reserve_ids
from volunteers.models import Team, Volunteer
from volunteers.scale import Phase, Preset, ProgressBar, ScaleError, register_phase

from . import checkin
from .models import Activity, ActivityStatus, Attendance, AttendanceMethod, Signup, SignupStatus

FIRST_DAY = datetime.date(2023, 1, 1)
# The data set's "now" (records.scale's): what lies before it is over, what follows it is to come.
_NOW = (2026, 12, 1, 12, 0)
_FUTURE_DAYS = 28
# The weeks before "now" whose finished activities have attendance, and the pending records it made.
_ATTENDED_DAYS = 30

# Topics by the code of the service domain's platform (volunteers.scale.PLATFORMS).
_TOPICS = {
    "theory": ("理论政策宣讲进村", "百姓宣讲·身边好人故事会", "移风易俗宣传", "党史学习教育宣讲"),
    "education": ("留守儿童课业辅导", "暑期青少年托管服务", "关爱空巢老人读报", "家庭教育讲座"),
    "culture": ("文艺演出志愿服务", "农家书屋图书整理", "广场舞展演服务保障", "非遗文化进校园"),
    "science": ("科普知识进校园", "防溺水安全宣传", "反诈知识宣传", "应急救护培训协助"),
    "sports": ("全民健身指导", "义诊与健康咨询", "健步走活动保障", "老年人健康体检协助"),
    "law": ("法律知识普及", "民法典宣传进村", "矛盾纠纷调解服务", "防范非法集资宣传"),
}
_EVERYDAY = ("社区环境清洁", "河道巡查保洁", "文明交通劝导", "垃圾分类宣传指导")
# Outdoor topics, where the volunteers are insured.
_INSURED = {"河道巡查保洁", "文明交通劝导", "健步走活动保障", "防溺水安全宣传", "应急救护培训协助"}
# Where a station's activity takes place, and a township's or the county's.
_VILLAGE_ROOMS = ("文化广场", "村部会议室", "村民活动中心", "农家书屋", "新时代文明实践站")
_TOWN_ROOMS = ("文化广场", "综合文化服务中心", "会议室", "新时代文明实践广场")
_REQUIREMENTS = (
    "",
    "请穿志愿者马甲，提前15分钟到场签到",
    "请自带水杯，注意防暑",
    "有相关专业资质者优先",
    "请熟悉本村情况，能讲本地话",
)
_INSURERS = ("中国人寿志愿者团体意外险", "中国人保志愿服务人身意外险", "太平洋保险志愿者意外险")
_CANCEL_REASONS = (
    "天气原因（暴雨预警），活动取消",
    "场地临时另作他用，活动取消",
    "报名人数不足，活动取消",
    "与上级统一部署的活动时间冲突，改期另行通知",
)
_CAPACITIES = (10, 12, 15, 20, 20, 25, 30, 30, 40, 50, 60, 80, 100)
_CLOSE_HOURS = (0, 1, 2, 24)  # sign-up closes this long before the start
_LENGTHS = (90, 120, 120, 150, 180, 180, 240, 300)  # minutes

ACTIVITY_FIELDS = (
    "id",
    "unit_id",
    "domain_id",
    "title",
    "description",
    "venue",
    "longitude",
    "latitude",
    "started_at",
    "ended_at",
    "capacity",
    "signup_opens_at",
    "signup_closes_at",
    "requirements",
    "needs_insurance",
    "insurance_note",
    "insurance_confirmed_at",
    "status",
    "accepted_count",
    "waitlisted_count",
    "published_at",
    "finished_at",
    "cancelled_at",
    "cancel_reason",
    "created_at",
    "updated_at",
)
ATTENDANCE_FIELDS = (
    "activity_id",
    "volunteer_id",
    "signup_id",
    "checked_in_at",
    "checked_out_at",
    "in_method",
    "out_method",
    "in_window",
    "missed_checkout",
    "record_id",
    "created_at",
    "updated_at",
)
SIGNUP_FIELDS = (
    "id",
    "activity_id",
    "volunteer_id",
    "status",
    "queued_at",
    "promoted_at",
    "cancelled_at",
    "created_at",
    "updated_at",
)


def activities_total(preset: Preset) -> int:
    """Activities of one county: one for every twelve volunteers."""
    return preset.volunteers // 12


def _county_activities(code: str):
    center = Unit.objects.filter(code=code).first()
    if center is None:
        return Activity.objects.none()
    return Activity.objects.filter(unit__path__startswith=center.path)


def activities_done(preset: Preset, code: str) -> int:
    return _county_activities(code).count()


# --- The plan of a county ------------------------------------------------------------------------------


@dataclass
class PlannedActivity:
    """One activity's values (ACTIVITY_FIELDS after the id), and its sign-ups' (SIGNUP_FIELDS after the
    two ids)."""

    values: list
    signups: list[tuple] = field(default_factory=list)
    attendance: list[Attended] = field(default_factory=list)


@dataclass
class Attended:
    """A check-in of the accepted sign-up at `offset` (in PlannedActivity.signups), its check-out unless
    the activity still runs, and the pending record's (start, end, hours) when it counts hours."""

    offset: int
    volunteer_id: int
    checked_in_at: datetime.datetime
    in_method: str
    checked_out_at: datetime.datetime | None = None
    out_method: str = ""
    missed_checkout: bool = False
    record: tuple | None = None
    recorded_at: datetime.datetime | None = None


class _Pools:
    """The county's volunteers by township (None: the whole county), in the order they registered, so
    those registered by a day are a prefix."""

    def __init__(self, volunteers, township_of):
        self.ids: dict[int | None, list[int]] = {None: []}
        self.days: dict[int | None, list[datetime.date]] = {None: []}
        for pk, home_id, registered_on in volunteers:
            township = township_of.get(home_id)
            for key in (None,) if township is None else (None, township):
                self.ids.setdefault(key, []).append(pk)
                self.days.setdefault(key, []).append(registered_on)

    def registered_by(self, township: int | None, day: datetime.date) -> list[int]:
        ids = self.ids.get(township, [])
        return ids[: bisect.bisect_right(self.days.get(township, []), day)]


def _short(name: str) -> str:
    """The place in a unit's name: 上坑村 of 上坑村新时代文明实践站."""
    return name.split("新时代文明实践", 1)[0] or name


def plan(preset: Preset, code: str) -> list[PlannedActivity]:
    """The county's activities with their sign-ups, in the order of their start (the order of their ids).
    The same every time for the same units and volunteers."""
    center = Unit.objects.filter(code=code).first()
    if center is None:
        raise ScaleError(f"{code}: the county's units are not in yet; run the units phase first.")
    prefix = f"{preset.phone_prefix}{int(code.removeprefix(preset.code_prefix)):02d}"
    volunteers = list(
        Volunteer.objects.filter(phone__startswith=prefix)
        .order_by("registered_on", "pk")
        .values_list("pk", "home_unit_id", "registered_on")
    )
    if len(volunteers) < preset.volunteers:
        raise ScaleError(f"{code}: the volunteers are not all in yet; run the volunteers phase first.")
    volunteers_first, volunteers_last = min(v[0] for v in volunteers), max(v[0] for v in volunteers)
    units = {
        pk: (kind, name, lon, lat, parent_id)
        for pk, kind, name, lon, lat, parent_id in Unit.objects.filter(path__startswith=center.path)
        .order_by("code")
        .values_list("pk", "kind", "name", "longitude", "latitude", "parent_id")
    }
    township_of: dict[int, int | None] = {}
    for pk, (kind, _name, _lon, _lat, parent_id) in units.items():
        if kind == UnitKind.INSTITUTE:
            township_of[pk] = pk
        elif kind == UnitKind.STATION:
            township_of[pk] = parent_id
        elif kind == UnitKind.POINT:
            township_of[pk] = units[parent_id][4]
        else:
            township_of[pk] = None
    pools = _Pools(volunteers, township_of)
    platforms = list(Platform.objects.filter(center=center).order_by("order").values_list("pk", "code"))
    platform_codes = dict(platforms)
    teams = list(
        Team.objects.filter(unit__path__startswith=center.path)
        .order_by("pk")
        .values_list("unit_id", "domain_id")
    )
    stations = [pk for pk, unit in units.items() if unit[0] == UnitKind.STATION]
    points = [pk for pk, unit in units.items() if unit[0] == UnitKind.POINT]

    number = int(code.removeprefix(preset.code_prefix))
    rng = random.Random(f"{preset.code_prefix}{number}-activities")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = datetime.datetime(*_NOW, tzinfo=zone)
    today = now.date()
    past_days = (today - FIRST_DAY).days
    grace = datetime.timedelta(minutes=settings.ACTIVITY_CHECKOUT_GRACE_MINUTES)
    cancel_before = datetime.timedelta(hours=settings.ACTIVITY_CANCEL_HOURS_BEFORE)

    total = activities_total(preset)
    running = max(1, total // 500)
    future = max(3, total * 4 // 100)
    past = total - running - future
    attended_from = today - datetime.timedelta(days=_ATTENDED_DAYS)
    recent = max(3, past * _ATTENDED_DAYS // past_days)
    recorded = set(
        ServiceRecord.objects.filter(
            volunteer__gte=volunteers_first,
            volunteer__lte=volunteers_last,
            service_date__gte=attended_from,
            attendance__isnull=True,
        ).values_list("volunteer_id", "service_date")
    )
    attended: set[tuple[int, datetime.date]] = set()
    busy: set[tuple[int, datetime.date]] = set()  # (volunteer, day) already signed up for
    planned: list[tuple[datetime.datetime, int, PlannedActivity]] = []
    for index in range(total):
        draw = rng.random()
        if draw < 0.45 or not teams:
            unit_id, domain_id = rng.choice(stations), rng.choice(platforms)[0]
        elif draw < 0.7:
            unit_id, domain_id = rng.choice(points), rng.choice(platforms)[0]
        else:
            unit_id, domain_id = rng.choice(teams)
        kind, name, lon, lat, _parent = units[unit_id]
        short = _short(name)
        topic = rng.choice(_TOPICS.get(platform_codes.get(domain_id), ()) * 2 + _EVERYDAY)

        # When: before now, this morning, or in the coming weeks (spread evenly, so the first ones take
        # sign-ups now and the last ones do not yet).
        if index < past:
            # The last ones of the past lie in the weeks that have attendance, as many as their share of
            # the days: a tiny county has some there too.
            if index < past - recent:
                day = FIRST_DAY + datetime.timedelta(days=rng.randrange(past_days - _ATTENDED_DAYS))
            else:
                day = attended_from + datetime.timedelta(days=rng.randrange(_ATTENDED_DAYS))
            started = _at(day, 8, 30 * rng.randrange(15), zone)
            ended = started + datetime.timedelta(minutes=rng.choice(_LENGTHS))
            if rng.random() < 0.01 and day < attended_from:  # over two days
                ended = _at(day + datetime.timedelta(days=1), 17, 0, zone)
            status = ActivityStatus.CANCELLED if index % 33 == 5 else ActivityStatus.FINISHED
        elif index < past + running:
            started = _at(today, 8, 30 * rng.randrange(7), zone)
            ended = _at(today, 13, 30 * rng.randrange(10), zone)
            status = ActivityStatus.RUNNING
        else:
            later = index - past - running
            day = today + datetime.timedelta(days=1 + later * (_FUTURE_DAYS - 1) // max(future - 1, 1))
            started = _at(day, 8, 30 * rng.randrange(15), zone)
            ended = started + datetime.timedelta(minutes=rng.choice(_LENGTHS))
            status = ActivityStatus.DRAFT if later % 10 == 1 else ActivityStatus.PUBLISHED
        opens = _at((started - datetime.timedelta(days=rng.randint(7, 21))).date(), 9, 0, zone)
        # A coming one closes at most two hours before its start: tomorrow's still take sign-ups now.
        closes = started - datetime.timedelta(hours=rng.choice(_CLOSE_HOURS[: 3 if started > now else 4]))
        created = opens - datetime.timedelta(days=rng.randint(1, 10), minutes=rng.randrange(600))
        created = min(created, now - datetime.timedelta(hours=rng.randint(2, 96)))
        published = None
        if status != ActivityStatus.DRAFT:
            published = min(created + datetime.timedelta(hours=rng.randint(1, 20)), now)
        needs_insurance = topic in _INSURED or rng.random() < 0.1
        insured = needs_insurance and (status != ActivityStatus.DRAFT or rng.random() < 0.5)
        confirmed = None
        if insured:  # before publishing, as the database requires
            confirmed = created + ((published - created) / 2 if published else datetime.timedelta(minutes=30))
        cancelled = reason = None
        if status == ActivityStatus.CANCELLED:
            cancelled = published + (started - published) * rng.uniform(0.3, 0.9)
            reason = rng.choice(_CANCEL_REASONS)
        finished = ended + grace + datetime.timedelta(minutes=rng.randrange(15))
        finished = finished if status == ActivityStatus.FINISHED else None
        updated = max(moment for moment in (created, published, confirmed, cancelled, finished) if moment)

        pool = pools.registered_by(None if kind == UnitKind.CENTER else township_of[unit_id], opens.date())
        capacity = min(rng.choice(_CAPACITIES), max(3, len(pool) // 3))
        rooms = _VILLAGE_ROOMS if kind == UnitKind.STATION else _TOWN_ROOMS
        activity = PlannedActivity(
            [
                unit_id,
                domain_id,
                f"“学雷锋”{short}{topic}" if started.month == 3 and rng.random() < 0.5 else f"{short}{topic}",
                f"{topic}，由{short}组织，欢迎志愿者报名参加。",
                name if kind == UnitKind.POINT else f"{short}{rng.choice(rooms)}",
                _jitter(rng, lon),
                _jitter(rng, lat),
                started,
                ended,
                capacity,
                opens,
                closes,
                rng.choice(_REQUIREMENTS),
                needs_insurance,
                rng.choice(_INSURERS) if insured else "",
                confirmed,
                status,
                0,
                0,
                published,
                finished,
                cancelled,
                reason or "",
                created,
                updated,
            ]
        )
        until = min(closes, now, cancelled or closes)
        if status != ActivityStatus.DRAFT and until > opens:
            _signups(rng, activity, index, pool, busy, opens, until, started - cancel_before, cancelled)
        if status == ActivityStatus.RUNNING or (
            status == ActivityStatus.FINISHED and started.date() >= attended_from
        ):
            _attendance(rng, activity, recorded, attended)
        planned.append((started, index, activity))
    planned.sort(key=lambda item: item[:2])
    return [activity for _started, _index, activity in planned]


def _at(day: datetime.date, hour: int, minutes: int, zone) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=zone) + datetime.timedelta(
        minutes=minutes
    )


def _jitter(rng: random.Random, degrees) -> str | None:
    return None if degrees is None else f"{float(degrees) + rng.uniform(-0.002, 0.002):.6f}"


def _signups(rng, activity: PlannedActivity, index, pool, busy, opens, until, deadline, cancelled) -> None:
    """Fill `activity.signups` and its counts: the queue between `opens` and `until`, a few leaving
    before `deadline` (the first waiting moves up), everyone left cancelled with a cancelled activity."""
    capacity, day = activity.values[9], activity.values[7].date()
    if index % 10 == 2:  # full, with a waitlist
        accepted, waiting = capacity, rng.randint(1, max(1, capacity // 4))
    elif index % 5 == 2:  # exactly full
        accepted, waiting = capacity, 0
    else:
        accepted, waiting = max(1, min(capacity - 1, round(capacity * rng.uniform(0.3, 0.95)))), 0
    leaving = rng.randint(1, max(1, capacity // 10)) if rng.random() < 0.3 else 0
    wanted = min(accepted + waiting + leaving, len(pool))
    chosen = []
    for position in rng.sample(range(len(pool)), min(len(pool), wanted * 2)):
        volunteer_id = pool[position]
        if (volunteer_id, day) not in busy:
            chosen.append(volunteer_id)
            busy.add((volunteer_id, day))
            if len(chosen) == wanted:
                break
    span = (until - opens).total_seconds()
    queued = sorted(opens + datetime.timedelta(seconds=rng.uniform(0, span)) for _volunteer in chosen)
    # volunteer: [id, status, queued at, promoted at, cancelled at]
    joined = list(zip(chosen, queued, strict=True))
    rows = {volunteer_id: [volunteer_id, None, at, None, None] for volunteer_id, at in joined}
    # Who leaves, and when: after signing up, before the deadline for cancelling and before `until`.
    events = [(at, 0, volunteer_id) for volunteer_id, at in joined]
    last = min(until, deadline)
    for volunteer_id in rng.sample(chosen, min(leaving, len(chosen))):
        at = rows[volunteer_id][2]
        if at < last:
            events.append((at + (last - at) * rng.uniform(0.1, 0.9), 1, volunteer_id))
    events.sort(key=lambda event: event[:2])
    taken, waitlist = set(), []
    for at, leaves, volunteer_id in events:
        row = rows[volunteer_id]
        if not leaves:
            if len(taken) < capacity:
                taken.add(volunteer_id)
                row[1] = SignupStatus.ACCEPTED
            else:
                waitlist.append(volunteer_id)
                row[1] = SignupStatus.WAITLISTED
            continue
        row[1], row[4] = SignupStatus.CANCELLED, at
        if volunteer_id in waitlist:
            waitlist.remove(volunteer_id)
        else:
            taken.discard(volunteer_id)
            if waitlist:  # the first waiting takes the place
                first = waitlist.pop(0)
                taken.add(first)
                rows[first][1], rows[first][3] = SignupStatus.ACCEPTED, at
    for volunteer_id, status, at, promoted, left in rows.values():
        if cancelled is not None and status != SignupStatus.CANCELLED:
            status, left = SignupStatus.CANCELLED, cancelled
        changed = max(moment for moment in (at, promoted, left) if moment)
        activity.signups.append((volunteer_id, status, at, promoted, left, at, changed))
    if cancelled is None:
        activity.values[17], activity.values[18] = len(taken), len(waitlist)


def _attendance(rng, activity: PlannedActivity, recorded: set, attended: set) -> None:
    """Fill `activity.attendance`: most accepted volunteers come, a few minutes early or a little late;
    a running activity has its check-ins only. A check-out by scan or by the organiser, now and then one
    missed and closed at the end (its record flagged), as the services do it. A volunteer who has another
    record or attendance on the day stays away, so no record overlaps another."""
    started, ended, finished = activity.values[7], activity.values[8], activity.values[20]
    running = activity.values[16] == ActivityStatus.RUNNING
    early = min(settings.ACTIVITY_CHECKIN_EARLY_MINUTES, 20)
    grace = min(settings.ACTIVITY_CHECKOUT_GRACE_MINUTES, 20)
    day = started.date()
    for offset, (volunteer_id, status, *_times) in enumerate(activity.signups):
        if status != SignupStatus.ACCEPTED or rng.random() < 0.08:  # one in twelve does not come
            continue
        if (volunteer_id, day) in recorded or (volunteer_id, day) in attended:
            continue
        attended.add((volunteer_id, day))
        late = rng.random() < 0.15
        arrived = started + datetime.timedelta(
            minutes=rng.randint(1, 40) if late else -rng.randint(0, early), seconds=rng.randrange(60)
        )
        method = AttendanceMethod.QR if rng.random() < 0.85 else AttendanceMethod.ORGANISER
        entry = Attended(offset, volunteer_id, arrived, method)
        activity.attendance.append(entry)
        if running:
            continue
        if len(attended) % 25 == 7:  # one in 25, closed at the end by the task that closes missed check-outs
            entry.checked_out_at, entry.out_method, entry.missed_checkout = (
                ended,
                AttendanceMethod.CLOSED,
                True,
            )
            entry.recorded_at = finished
        else:
            left = ended + datetime.timedelta(
                minutes=-rng.randint(20, 60) if rng.random() < 0.1 else rng.randint(-10, grace),
                seconds=rng.randrange(60),
            )
            entry.checked_out_at = max(left, arrived + datetime.timedelta(minutes=1))
            entry.out_method = AttendanceMethod.QR if rng.random() < 0.85 else AttendanceMethod.ORGANISER
            entry.recorded_at = entry.checked_out_at
        # services._record_for: the time inside the activity's window, rounded by the records' rule.
        begin, end = max(arrived, started), min(entry.checked_out_at, ended)
        hours = record_rules.hours_between(begin, end) if end > begin else 0
        if hours > 0:
            entry.record = (begin, end, hours)


# --- Batches ------------------------------------------------------------------------------------------


def counts_update(first: int, last: int) -> int:
    """Set the accepted and waitlisted counts of activities [first, last] from their sign-ups: one
    UPDATE … FROM a grouped count. Returns the rows changed."""
    activity, signup = Activity._meta.db_table, Signup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{activity}" AS a SET accepted_count = s.accepted, waitlisted_count = s.waitlisted '
            "FROM (SELECT activity_id, count(*) FILTER (WHERE status = %s) AS accepted, "
            "             count(*) FILTER (WHERE status = %s) AS waitlisted "
            f'      FROM "{signup}" WHERE activity_id BETWEEN %s AND %s GROUP BY activity_id) AS s '
            "WHERE a.id = s.activity_id "
            "  AND (a.accepted_count, a.waitlisted_count) IS DISTINCT FROM (s.accepted, s.waitlisted)",
            [SignupStatus.ACCEPTED, SignupStatus.WAITLISTED, first, last],
        )
        return cursor.rowcount


def _batches(activities: list[PlannedActivity], first: int, size: int) -> list[tuple[int, int]]:
    """Activities [start, stop) from `first` on, each batch of whole activities with about `size` rows."""
    bounds, start, rows = [], first, 0
    for index in range(first, len(activities)):
        activity = activities[index]
        rows += 1 + len(activity.signups) + len(activity.attendance)
        if rows >= size:
            bounds.append((start, index + 1))
            start, rows = index + 1, 0
    if start < len(activities):
        bounds.append((start, len(activities)))
    return bounds


def _cumulative(counts) -> list[int]:
    starts = [0]
    for count in counts:
        starts.append(starts[-1] + count)
    return starts


class _Attendance:
    """The COPY of the attendance of a batch, with the pending records it made, their audit trail and the
    flags of missed check-outs, as services._record_for writes them."""

    def __init__(self):
        with translation.override(settings.LANGUAGE_CODE):
            self.system = gettext("system")
            self.missed = str(FlagKind.MISSED_CHECKOUT.label)
            self.detail = gettext("No check-out: closed at the end of the activity (%(at)s).")
        self.attendance = Copy(Attendance, ATTENDANCE_FIELDS)
        self.records = Copy(ServiceRecord, RECORD_FIELDS)
        self.events = Copy(RecordEvent, EVENT_FIELDS)
        self.flags = Copy(RecordFlag, FLAG_FIELDS)

    def rows(self, activity_id: int, activity: PlannedActivity, first_signup: int, first_record: int):
        """(attendance, records, events, flags) rows of one activity."""
        unit_id, title, ended = activity.values[0], activity.values[2], activity.values[8]
        attendance, records, events, flags = [], [], [], []
        record_id = first_record
        for entry in activity.attendance:
            window = None
            if entry.in_method == AttendanceMethod.QR:
                window = checkin.current_window(entry.checked_in_at.timestamp())
            made = None
            if entry.record is not None:
                made = record_id
                record_id += 1
                begin, end, hours = entry.record
                at = entry.recorded_at
                records.append(
                    (
                        *(made, entry.volunteer_id, unit_id, None, title, begin, end, begin.date(), hours),
                        *("", RecordSource.ATTENDANCE, RecordStatus.PENDING, None, None, "", at, at),
                    )
                )
                after = snapshot_text(
                    title, begin.isoformat(), end.isoformat(), hours, RecordStatus.PENDING, unit_id, None
                )
                events.append((made, RecordEvent.Action.CREATED, self.system, at, "{}", after, ""))
                if entry.missed_checkout:
                    detail = self.detail % {"at": ended.strftime("%Y-%m-%d %H:%M")}
                    flags.append((made, FlagKind.MISSED_CHECKOUT, detail, at, True))
                    events.append(
                        (made, RecordEvent.Action.FLAGGED, self.system, at, "{}", "{}", self.missed)
                    )
            changed = entry.recorded_at or entry.checked_out_at or entry.checked_in_at
            attendance.append(
                (
                    *(activity_id, entry.volunteer_id, first_signup + entry.offset, entry.checked_in_at),
                    *(entry.checked_out_at, entry.in_method, entry.out_method, window, entry.missed_checkout),
                    *(made, entry.checked_in_at, changed),
                )
            )
        return attendance, records, events, flags

    def send(self, rows) -> None:
        attendance, records, events, flags = rows
        # The records first: the attendance names them.
        self.records.rows(records)
        self.events.rows(events)
        self.flags.rows(flags)
        self.attendance.rows(attendance)


def _activities_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    total = activities_total(preset)
    county = _county_activities(code)
    done = county.count()
    if done >= total:
        return
    activities = plan(preset, code)
    starts = _cumulative(len(activity.signups) for activity in activities)
    attended = _cumulative(len(activity.attendance) for activity in activities)
    recorded = _cumulative(
        sum(entry.record is not None for entry in activity.attendance) for activity in activities
    )
    signups, attendance = Signup.objects.none(), Attendance.objects.none()
    if done:
        first_activity = county.aggregate(first=Min("pk"))["first"]
        span = {"activity_id__gte": first_activity, "activity_id__lt": first_activity + total}
        signups, attendance = Signup.objects.filter(**span), Attendance.objects.filter(**span)
    # Batches hold whole activities and go in order: what is there is the first `done`, with their sign-ups
    # and attendance.
    held, held_attendance = signups.count(), attendance.count()
    if held != starts[done] or held_attendance != attended[done]:
        raise ScaleError(
            f"{code} holds {done:,} activities with {held:,} sign-ups and {held_attendance:,} attendance, "
            "not whole batches."
        )
    if done == 0:
        first_activity = reserve_ids(Activity, total)
    first_signup = signups.aggregate(first=Min("pk"))["first"] if held else None
    if first_signup is None and starts[-1]:  # none written yet: the county's sign-ups take their ids now
        first_signup = reserve_ids(Signup, starts[-1])
    first_record = attendance.aggregate(first=Min("record_id"))["first"] if recorded[done] else None
    if first_record is None and recorded[-1]:
        first_record = reserve_ids(ServiceRecord, recorded[-1])
    activity_copy, signup_copy, attendance_copy = (
        Copy(Activity, ACTIVITY_FIELDS),
        Copy(Signup, SIGNUP_FIELDS),
        _Attendance(),
    )
    bounds = _batches(activities, done, preset.batch)
    last_stop = bounds[-1][1]
    for start, stop in bounds:
        activity_rows, signup_rows, attendance_rows = [], [], ([], [], [], [])
        for index in range(start, stop):
            activity_id = first_activity + index
            activity_rows.append((activity_id, *activities[index].values))
            signup_rows.extend(
                (first_signup + starts[index] + offset, activity_id, *values)
                for offset, values in enumerate(activities[index].signups)
            )
            if activities[index].attendance:
                made = attendance_copy.rows(
                    activity_id,
                    activities[index],
                    first_signup + starts[index],
                    (first_record or 0) + recorded[index],
                )
                for rows, more in zip(attendance_rows, made, strict=True):
                    rows.extend(more)
        with transaction.atomic():
            activity_copy.rows(activity_rows)
            signup_copy.rows(signup_rows)
            attendance_copy.send(attendance_rows)
            if stop == last_stop:  # the counts with the last batch: a county complete has its counts
                counts_update(first_activity, first_activity + total - 1)
        bar.add(stop - start)


PHASE = register_phase(Phase("activities", activities_total, activities_done, _activities_run))
