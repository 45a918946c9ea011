"""Benchmark-scale data on PostgreSQL: `manage.py seed_scale --preset county|city`, and `build()` for bench
scripts.

The city preset is eight counties of 20 institutes, 375 stations, 125 points, 625 teams and 75,000
volunteers each (3,000 stations, 5,000 teams, 600,000 volunteers); the county preset is the first of those
counties, so a city build after a county build only adds the other seven. Rows go in with PostgreSQL COPY,
a batch at a time, never through per-row ORM saves; the volunteers through `volunteers.bulk`, the writer the
Excel import uses too. Ids are reserved on the sequences first (setval), so the materialized paths of units
and teams are written in the same COPY as the rows.

The data is fake and marked: unit codes start with `SCALE-` (`SCALET-` for the tests' tiny preset),
phones are 198<county><six digits> (197… for tiny), ID numbers are made by `fake_resident_id` under the
invented region codes 3507<90 + county>. Every volunteer has an encrypted number, its keyed hash and its mask
as registration writes them, a unique phone, a home unit and (for 19 in 20) one team membership; the first
volunteer of each team leads it. Volunteers have no user account here (`Volunteer.user` is optional):
benchmarks read volunteers, they do not log in as them.

The work is a list of phases (units, teams, volunteers); each phase counts what its county already holds
by the markers above and adds only what is missing, so a run cut short resumes and a second run adds
nothing. Later apps add their own phases with `register_phase`.
"""

from __future__ import annotations

import collections
import datetime
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from stations.models import Platform, Unit, UnitKind
from stations.paths import path_segment

from . import crypto, services
from .bulk import Copy, VolunteersCopy, reserve_ids
from .identity import IdType, mask_id_number, resident_check_digit
from .models import (
    Education,
    MembershipRole,
    MembershipStatus,
    PoliticalStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamType,
    Volunteer,
    VolunteerStatus,
)


class ScaleError(Exception):
    """The data set cannot be built in this database (a refusal, with the reason)."""


@dataclass(frozen=True)
class Preset:
    name: str
    counties: int
    institutes: int  # per county
    stations: int
    points: int
    teams: int
    volunteers: int
    code_prefix: str  # of every unit code: marks the data set, and which presets share their counties
    phone_prefix: str  # three digits; the county's two digits and six of the volunteer's follow
    batch: int = 20_000

    def county_codes(self) -> list[str]:
        return [f"{self.code_prefix}{number:02d}" for number in range(1, self.counties + 1)]


PRESETS = {
    "city": Preset("city", 8, 20, 375, 125, 625, 75_000, "SCALE-", "198"),
    "county": Preset("county", 1, 20, 375, 125, 625, 75_000, "SCALE-", "198"),
    # For the tests only: two small counties, small batches, so resuming and multiple batches are exercised.
    "tiny": Preset("tiny", 2, 2, 6, 3, 9, 120, "SCALET-", "197", batch=50),
}
PUBLIC_PRESETS = ("county", "city")

_COUNTY_NAMES = ("延平区", "建阳区", "邵武市", "武夷山市", "建瓯市", "浦城县", "光泽县", "政和县")
_SYLLABLE_FIRST = "上下东西南北大小高新石竹桂兰松梅杉枫龙凤茶吴余谢黄际岚楼溪源水"
_SYLLABLE_SECOND = "坑坊源口洋墩岭溪头坪垄厝山田湖地墘际林阳"
_SURNAMES = "陈林黄张李王吴刘蔡杨郑谢邱罗廖余叶朱江肖魏游徐邓严饶范官傅曾彭温钟"
_GIVEN = "建国志晓文海秀丽玉春金德福永俊淑美雪华明平强军英芳兰梅辉斌清荣峰琴燕红"
PLATFORMS = (
    ("theory", "理论宣讲平台", "宣传部"),
    ("education", "教育服务平台", "教育局"),
    ("culture", "文化服务平台", "文旅局"),
    ("science", "科技与科普服务平台", "科协"),
    ("sports", "健身体育服务平台", "体育中心"),
    ("law", "法律服务平台", "司法局"),
)
_TEAM_TYPES = (
    (TeamType.THEORY, "理论宣讲", "theory"),
    (TeamType.CULTURE, "文化文艺", "culture"),
    (TeamType.MEDICAL, "医疗卫生", "sports"),
    (TeamType.LEGAL, "法律援助", "law"),
    (TeamType.EMERGENCY, "应急救援", "science"),
    (TeamType.ELDERS, "五老", "education"),
    (TeamType.FOLK_SPEAKERS, "百姓宣讲", "theory"),
    (TeamType.SCIENCE, "科技科普", "science"),
    (TeamType.PSYCHOLOGY, "心理咨询", "education"),
)
_POLITICAL = (
    [PoliticalStatus.MASSES] * 9 + [PoliticalStatus.CPC_MEMBER] * 6 + [PoliticalStatus.CYL_MEMBER] * 4
)
_POLITICAL += [PoliticalStatus.NON_PARTY]
_EDUCATION = [Education.SENIOR, Education.JUNIOR, Education.COLLEGE, Education.BACHELOR, Education.PRIMARY]
_FIRST_BIRTH = datetime.date(1951, 1, 1)
_BIRTH_DAYS = (datetime.date(2006, 12, 31) - _FIRST_BIRTH).days + 1  # every volunteer is an adult
_FIRST_REGISTRATION = datetime.date(2019, 1, 1)
_REGISTRATION_DAYS = (datetime.date(2026, 11, 30) - _FIRST_REGISTRATION).days
_NUMBER_STRIDE = 7919  # a prime: i → (birth day, serial) is one-to-one inside a county


def _region(preset: Preset, county: int) -> str:
    return f"3507{(70 if preset.name == 'tiny' else 90) + county:02d}"


def fake_id_number(preset: Preset, county: int, index: int) -> tuple[str, datetime.date, str]:
    """The `index`-th volunteer's fake ID number in `county`, with its birth date and gender."""
    slot = (index * _NUMBER_STRIDE + 12345) % (_BIRTH_DAYS * 1000)
    birth = _FIRST_BIRTH + datetime.timedelta(days=slot // 1000)
    serial = slot % 1000
    first17 = f"{_region(preset, county)}{birth:%Y%m%d}{serial:03d}"
    return first17 + resident_check_digit(first17), birth, "male" if serial % 2 else "female"


# --- Progress -------------------------------------------------------------------------------------


class ProgressBar:
    """Rows done of the total, the rate and the time left, redrawn on one line of stderr."""

    def __init__(self, label: str, total: int, *, done: int = 0, enabled: bool = True, stream=None):
        self.label, self.total, self.done, self.enabled = label, total, done, enabled
        self.stream = stream or sys.stderr
        self.start_done, self.started = done, time.monotonic()
        self._draw()

    def add(self, rows: int) -> None:
        self.done += rows
        self._draw()

    def _draw(self, end: str = "") -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0
        left = (self.total - self.done) / rate if rate else 0
        width = 24
        filled = width * self.done // self.total if self.total else width
        self.stream.write(
            f"\r  {self.label:<12} [{'#' * filled}{'.' * (width - filled)}] {self.done:>9,}/{self.total:,}"
            f"  {rate:>8,.0f} rows/s  ETA {_clock(left)}{end}"
        )
        self.stream.flush()

    def close(self) -> float:
        seconds = time.monotonic() - self.started
        if self.enabled:
            self._draw(end=f"  ({seconds:.1f} s)\n")
        return seconds


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:d}:{seconds % 60:02d}"


# --- Phases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One kind of rows, built county by county: `done(preset, county)` counts what is there (by the
    data set's markers), `run(preset, county, bar)` adds what is missing and advances the bar."""

    name: str
    total: Callable[[Preset], int]  # rows of one county
    done: Callable[[Preset, str], int]
    run: Callable[[Preset, str, ProgressBar], None]


PHASES: list[Phase] = []


def register_phase(phase: Phase) -> Phase:
    """Add a phase after the ones already there (apps above volunteers add their data this way)."""
    PHASES.append(phase)
    return phase


def _center(code: str) -> Unit | None:
    return Unit.objects.filter(code=code).first()


def _county_number(preset: Preset, code: str) -> int:
    return int(code.removeprefix(preset.code_prefix))


# Units and platforms ------------------------------------------------------------------------------


def _units_total(preset: Preset) -> int:
    return 1 + preset.institutes + preset.stations + preset.points


def _units_done(preset: Preset, code: str) -> int:
    # A county's units go in one transaction: all of them or none.
    return _units_total(preset) if Unit.objects.filter(code=code).exists() else 0


def _units_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    if _units_done(preset, code):
        return
    number = _county_number(preset, code)
    rng = random.Random(f"{preset.code_prefix}{number}-units")
    county_name = _COUNTY_NAMES[(number - 1) % len(_COUNTY_NAMES)]
    if number > len(_COUNTY_NAMES):
        county_name = f"{county_name}{number}"
    first = reserve_ids(Unit, _units_total(preset))
    ids = iter(range(first, first + _units_total(preset)))
    rows = []
    lon0, lat0 = 117.5 + (number % 4) * 0.5, 26.5 + (number // 4) * 0.5

    def add(kind, unit_code, name, parent, category=""):
        pk = next(ids)
        path = (parent[1] if parent else "") + path_segment(pk)
        lon = f"{lon0 + rng.uniform(0, 0.45):.6f}"
        lat = f"{lat0 + rng.uniform(0, 0.45):.6f}"
        person = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)
        phone = f"0599-{rng.randrange(1000000, 10000000)}"
        parent_id, depth = (parent[0] if parent else None), path.count("/") - 1
        address = f"福建省南平市{county_name}{name}"
        rows.append(
            (pk, kind, name, unit_code, parent_id, path, depth, category, address, lon, lat, person, phone)
        )
        return pk, path

    def place():
        return rng.choice(_SYLLABLE_FIRST) + rng.choice(_SYLLABLE_SECOND)

    center = add(UnitKind.CENTER, code, f"{county_name}新时代文明实践中心（规模数据）", None)
    institutes = [
        add(UnitKind.INSTITUTE, f"{code}-{i:02d}", f"{place()}镇新时代文明实践所", center)
        for i in range(1, preset.institutes + 1)
    ]
    stations = [
        add(
            UnitKind.STATION,
            f"{code}-{s % preset.institutes + 1:02d}-{s // preset.institutes + 1:03d}",
            f"{place()}村新时代文明实践站",
            institutes[s % preset.institutes],
        )
        for s in range(preset.stations)
    ]
    categories = ("school", "park", "leifeng_post", "enterprise", "hospital", "library")
    for p in range(preset.points):
        station_index = p * preset.stations // preset.points
        station = stations[station_index]
        add(
            UnitKind.POINT,
            f"{code}-S{station_index + 1:03d}-P{p + 1}",
            f"{place()}{rng.choice(('小学', '文化广场', '雷锋驿站', '农家书屋'))}新时代文明实践点",
            station,
            categories[p % len(categories)],
        )
    fields = ("id", "kind", "name", "code", "parent_id", "path", "depth", "category")
    fields += ("address", "longitude", "latitude", "contact_person", "contact_phone")
    with transaction.atomic():
        Copy(Unit, fields).rows(rows)
        Copy(Platform, ("center_id", "code", "name", "responsible_department", "order")).rows(
            (center[0], platform_code, name, f"{county_name}{department}", order)
            for order, (platform_code, name, department) in enumerate(PLATFORMS, 1)
        )
    bar.add(len(rows))


# Teams ----------------------------------------------------------------------------------------------


def _teams_done(preset: Preset, code: str) -> int:
    # Like units, a county's teams go in one transaction.
    return preset.teams if Team.objects.filter(unit__code=code, kind=TeamKind.CORPS).exists() else 0


def _county_units(center: Unit) -> dict[str, list[tuple[int, str, int | None]]]:
    """(id, path, parent id) of the county's units by kind, in code order."""
    found: dict[str, list] = {kind: [] for kind in UnitKind.values}
    for pk, kind, path, parent_id in (
        Unit.objects.filter(path__startswith=center.path)
        .order_by("code")
        .values_list("pk", "kind", "path", "parent_id")
    ):
        found[kind].append((pk, path, parent_id))
    return found


def _teams_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    if _teams_done(preset, code):
        return
    center = _center(code)
    units = _county_units(center)
    platforms = dict(Platform.objects.filter(center=center).values_list("code", "pk"))
    short = center.name.removesuffix("新时代文明实践中心（规模数据）")
    first = reserve_ids(Team, preset.teams)
    rows = []

    def add(pk, kind, name, unit_id, parent, type_index):
        team_type, _word, domain = _TEAM_TYPES[type_index % len(_TEAM_TYPES)]
        path = (parent[1] if parent else "") + path_segment(pk)
        rows.append((pk, kind, name, parent[0] if parent else None, path, path.count("/") - 1, unit_id))
        rows[-1] += (platforms[domain], team_type)
        return pk, path

    corps = add(first, TeamKind.CORPS, f"{short}新时代文明实践志愿服务总队", center.pk, None, 0)
    institute_ids = {pk: index for index, (pk, _path, _parent) in enumerate(units[UnitKind.INSTITUTE])}
    brigades = [
        add(first + 1 + i, TeamKind.BRIGADE, f"第{i + 1}志愿服务大队", pk, corps, i)
        for i, (pk, _path, _parent) in enumerate(units[UnitKind.INSTITUTE][: preset.teams - 1])
    ]
    stations = units[UnitKind.STATION]
    for j in range(preset.teams - 1 - len(brigades)):
        pk, _path, parent_id = stations[j % len(stations)]
        round_ = j // len(stations)
        _type, word, _domain = _TEAM_TYPES[j % len(_TEAM_TYPES)]
        name = f"{pk}站{word}志愿服务分队" + (f"（{round_ + 1}）" if round_ else "")
        add(first + 1 + len(brigades) + j, TeamKind.SQUAD, name, pk, brigades[institute_ids[parent_id]], j)
    fields = ("id", "kind", "name", "parent_id", "path", "depth", "unit_id", "domain_id", "team_type")
    with transaction.atomic():
        Copy(Team, fields).rows(rows)
    bar.add(len(rows))


# Volunteers, their domain and their membership -------------------------------------------------------------

# What the batch workers read: set before the pool forks, so each worker has it without pickling.
_BATCH: dict = {}
_options: dict = {"processes": None}  # how many processes make volunteer batches; None: decide by size


def _volunteers_prefix(preset: Preset, code: str) -> str:
    return f"{preset.phone_prefix}{_county_number(preset, code):02d}"


def _volunteers_done(preset: Preset, code: str) -> int:
    return Volunteer.objects.filter(phone__startswith=_volunteers_prefix(preset, code)).count()


def _home_choices(center: Unit) -> list[tuple[int, int, list[int]]]:
    """Each team in id order as (team id, domain id, unit ids its members live in): a squad's station
    and its points, a brigade's institute and its stations, the corps' center and its institutes."""
    children: dict[int, list[int]] = {}
    for pk, parent_id in Unit.objects.filter(path__startswith=center.path).values_list("pk", "parent_id"):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(pk)
    teams = []
    for pk, unit_id, domain_id in (
        Team.objects.filter(unit__path__startswith=center.path)
        .order_by("pk")
        .values_list("pk", "unit_id", "domain_id")
    ):
        teams.append((pk, domain_id, [unit_id, *children.get(unit_id, [])]))
    return teams


def _make_batch(bounds: tuple[int, int]) -> tuple[int, str, str, str]:
    """The COPY text of volunteers [start, stop) of the county in _BATCH: volunteers, their domains,
    their memberships. Runs in a worker process: no database here."""
    start, stop = bounds
    b = _BATCH
    preset, number = b["preset"], b["county"]
    rng = random.Random(f"{preset.code_prefix}{number}-volunteers-{start}")
    teams, base_id, base_number = b["teams"], b["base_id"], b["base_number"]
    number_prefix, phone_prefix, notice = b["number_prefix"], b["phone_prefix"], b["notice"]
    copies, member_copy = b["copies"], b["members"]
    volunteer_line, domain_line = copies.volunteer.raw_line, copies.domain.raw_line
    encrypt, id_hash = crypto.encrypt, crypto.id_hash
    null = r"\N"
    volunteers, domains, members = [], [], []
    for index in range(start, stop):
        pk = str(base_id + index)
        id_number, birth, gender = fake_id_number(preset, number, index)
        team_id, domain_id, homes = teams[index % len(teams)]
        # The first of the team's members leads it; the home unit is the team's own unit now and then.
        home = homes[0] if index < len(teams) or rng.random() < 0.3 else rng.choice(homes)
        registered = (
            _FIRST_REGISTRATION + datetime.timedelta(days=(index * 37) % _REGISTRATION_DAYS)
        ).isoformat()
        # In the order of bulk.VOLUNTEER_COLUMNS; no account (user_id), no registrar, no guardian.
        volunteers.append(
            volunteer_line(
                pk,
                null,
                f"{number_prefix}{base_number + index:010d}",
                rng.choice(_SURNAMES)
                + rng.choice(_GIVEN)
                + (rng.choice(_GIVEN) if rng.random() < 0.8 else ""),
                IdType.RESIDENT,
                encrypt(id_number),
                id_hash(IdType.RESIDENT, id_number),
                mask_id_number(id_number),
                birth.isoformat(),
                gender,
                f"{phone_prefix}{index:06d}",
                rng.choice(_POLITICAL),
                rng.choice(_EDUCATION),
                "",
                str(home),
                VolunteerStatus.ACTIVE,
                registered,
                null,
                notice,
                f"{registered} 10:00:00+08:00",
                "",
                "",
                null,
            )
        )
        domains.append(domain_line(pk, str(domain_id)))
        if index % 20 != 19 or index < len(teams):  # one in twenty is in no team yet
            role = MembershipRole.LEADER if index < len(teams) else MembershipRole.MEMBER
            members.append(member_copy.raw_line(str(team_id), pk, role, MembershipStatus.ACTIVE, registered))
    return stop - start, "".join(volunteers), "".join(domains), "".join(members)


def _volunteers_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    total = preset.volunteers
    prefix = _volunteers_prefix(preset, code)
    done = _volunteers_done(preset, code)
    if done >= total:
        return
    center = _center(code)
    teams = _home_choices(center)
    number_prefix = settings.VOLUNTEER_NUMBER_PREFIX
    if done == 0:
        base_id = reserve_ids(Volunteer, total)
        base_number = int(services.volunteer_numbers_reserve(total)[0][len(number_prefix) :])
    else:
        # Resuming: ids and numbers were reserved for the whole county when its first batch went in, and
        # batches go in order, each in its own transaction, so the next index is the count.
        first = (
            Volunteer.objects.filter(phone__startswith=prefix).order_by("pk").values("pk", "number").first()
        )
        base_id, base_number = first["pk"], int(first["number"][len(number_prefix) :])
    _BATCH.update(
        preset=preset,
        county=_county_number(preset, code),
        teams=teams,
        base_id=base_id,
        base_number=base_number,
        number_prefix=number_prefix,
        phone_prefix=prefix,
        notice=str(services.current_privacy_notice().pk),
        copies=VolunteersCopy(),
        members=Copy(TeamMembership, ("team_id", "volunteer_id", "role", "status", "joined_on")),
    )
    bounds = [(start, min(start + preset.batch, total)) for start in range(done, total, preset.batch)]
    processes = _options["processes"]
    if processes is None:  # worth forking for only when there is a lot to encrypt
        processes = min(2, os.cpu_count() or 1) if total - done >= 10_000 else 1
    copies, member_copy = _BATCH["copies"], _BATCH["members"]

    def store(batch):
        count, volunteers, domains, members = batch
        with transaction.atomic(), connection.cursor() as cursor:
            copies.send(cursor, volunteers=volunteers, domains=domains)
            member_copy.send(members)
        bar.add(count)

    if processes <= 1 or len(bounds) < 2:
        for batch_bounds in bounds:
            store(_make_batch(batch_bounds))
        return
    import multiprocessing

    # Encrypting is the slow part (Fernet, ~20 µs a number): workers make the batches while this process
    # copies them in, in order, so a run cut short leaves whole batches and resumes after them.
    # At most one batch waits per worker, so memory stays a few batches whatever the preset.
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        waiting = collections.deque()
        for batch_bounds in bounds:
            waiting.append(pool.apply_async(_make_batch, (batch_bounds,)))
            if len(waiting) > processes:
                store(waiting.popleft().get())
        while waiting:
            store(waiting.popleft().get())


register_phase(Phase("units", _units_total, _units_done, _units_run))
register_phase(Phase("teams", lambda preset: preset.teams, _teams_done, _teams_run))
register_phase(Phase("volunteers", lambda preset: preset.volunteers, _volunteers_done, _volunteers_run))


# --- The whole build ------------------------------------------------------------------------------


def check_database(preset: Preset, *, force: bool = False) -> None:
    """Refuse what a scale build must not touch: another database engine, or a database that holds a
    county other than the data set's own (a real one, the demo, another preset), unless forced."""
    if connection.vendor != "postgresql":
        raise ScaleError(
            "seed_scale needs PostgreSQL (it loads rows with COPY): point DATABASE_URL at PostgreSQL."
        )
    own = _own_center_codes(preset)
    others = list(
        Unit.objects.filter(kind=UnitKind.CENTER).exclude(code__in=own).values_list("name", flat=True)[:3]
    )
    if others and not force:
        raise ScaleError(
            f"This database already holds other counties ({'、'.join(others)}); "
            "build scale data in a database of its own, or pass --force to add it beside them."
        )


def _own_center_codes(preset: Preset) -> set[str]:
    """The center codes of this data set: those of every preset with the same code prefix."""
    return {
        code
        for other in PRESETS.values()
        if other.code_prefix == preset.code_prefix
        for code in other.county_codes()
    }


def status(preset: str | Preset) -> dict[str, tuple[int, int]]:
    """(done, total) rows of each phase."""
    preset = PRESETS[preset] if isinstance(preset, str) else preset
    codes = preset.county_codes()
    return {
        phase.name: (sum(phase.done(preset, code) for code in codes), phase.total(preset) * len(codes))
        for phase in PHASES
    }


def is_complete(preset: str | Preset) -> bool:
    return all(done >= total for done, total in status(preset).values())


@dataclass(frozen=True)
class BuildResult:
    preset: str
    seconds: float
    added: dict[str, int]  # rows added by each phase in this run
    phase_seconds: dict[str, float]

    @property
    def rows(self) -> int:
        return sum(self.added.values())


def build(
    preset: str, *, progress: bool = True, force: bool = False, stream=None, processes: int | None = None
) -> BuildResult:
    """Build (or finish) the preset's data set in the current database, then ANALYZE it. `processes`
    makes the volunteer batches (default: two when there are many)."""
    if preset not in PRESETS:
        raise ScaleError(f"Unknown preset {preset!r}: choose one of {', '.join(PUBLIC_PRESETS)}.")
    spec = PRESETS[preset]
    check_database(spec, force=force)
    started = time.monotonic()
    _options["processes"] = processes
    codes = spec.county_codes()
    added, seconds = {}, {}
    for phase in PHASES:
        before = sum(phase.done(spec, code) for code in codes)
        bar = ProgressBar(
            phase.name, phase.total(spec) * len(codes), done=before, enabled=progress, stream=stream
        )
        for code in codes:
            phase.run(spec, code, bar)
        seconds[phase.name] = bar.close()
        added[phase.name] = bar.done - before
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return BuildResult(preset, time.monotonic() - started, added, seconds)


def expected_rows(preset: str) -> int:
    spec = PRESETS[preset]
    return sum(phase.total(spec) for phase in PHASES) * spec.counties
