"""The demo county's volunteers and teams (顺昌县), which `manage.py seed_demo` adds after its units.

`demo_plan()` is pure data drawn from a fixed seed over the units of `stations.demo_data.county_plan()`, so
every run plans exactly the same teams and people; `seed()` writes what is missing, each row looked up by
its natural key first (a team by its unit and name, a volunteer by the hash of the ID number, a membership
by team and volunteer, a transfer by volunteer and kind), so a second run changes nothing.

Every ID number here is FAKE. `fake_resident_id` makes numbers that pass the GB 11643 check digit (the
forms accept them) from an invented birth date and serial; no office issued them and they name nobody.
The phones are in 1990000xxxx, a block kept for the demo; no message to them reaches anyone (the SMS
backend of development writes codes to the console).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst

from kernel.errors import ApplicationError
from stations import demo_data as units_demo
from stations.models import Platform, Unit, UnitKind

from . import services, teams, transfers
from .identity import fake_resident_id
from .models import (
    Education,
    MembershipRole,
    MembershipStatus,
    PoliticalStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamType,
    Transfer,
    TransferKind,
    Volunteer,
)

SEED = 20260305
PASSWORD = units_demo.PASSWORD
REGION = "350721"  # 顺昌县's region code: the fake numbers look like the county's own
PHONE_BLOCK = 19900000000  # 1990000xxxx: the demo's volunteers; guardians from GUARDIAN_PHONES
GUARDIAN_PHONES = 19900009000
CORPS_KEY = "corps"
VOLUNTEER_LOGIN_URL = "http://127.0.0.1:8000/volunteer/login/"

# Team type › (the word in the team's name, the demo platform it serves)
TYPES = {
    TeamType.THEORY: ("理论宣讲", "theory"),
    TeamType.FOLK_SPEAKERS: ("百姓宣讲", "theory"),
    TeamType.CULTURE: ("文化文艺", "culture"),
    TeamType.MEDICAL: ("医疗卫生", "sports"),
    TeamType.LEGAL: ("法律援助", "law"),
    TeamType.EMERGENCY: ("应急救援", "science"),
    TeamType.ELDERS: ("“五老”", "education"),
    TeamType.SCIENCE: ("科技科普", "science"),
    TeamType.PSYCHOLOGY: ("心理咨询", "education"),
}
_SQUAD_TYPES = (
    TeamType.THEORY,
    TeamType.CULTURE,
    TeamType.FOLK_SPEAKERS,
    TeamType.MEDICAL,
    TeamType.ELDERS,
    TeamType.SCIENCE,
    TeamType.LEGAL,
    TeamType.EMERGENCY,
)
_TYPE_SKILLS = {
    TeamType.THEORY: ("理论宣讲", "普通话", "党史讲解"),
    TeamType.FOLK_SPEAKERS: ("闽北方言宣讲", "讲故事", "快板"),
    TeamType.CULTURE: ("广场舞", "书法", "摄影", "二胡", "采茶戏"),
    TeamType.MEDICAL: ("急救（红十字救护员）", "中医推拿", "健康咨询", "护理"),
    TeamType.LEGAL: ("法律咨询", "人民调解", "普法宣传"),
    TeamType.EMERGENCY: ("急救（红十字救护员）", "森林防火", "水上救援", "驾驶"),
    TeamType.ELDERS: ("家风家训宣讲", "关心下一代", "书法"),
    TeamType.SCIENCE: ("农技推广", "电脑维修", "科普讲解", "芦柑种植"),
    TeamType.PSYCHOLOGY: ("心理疏导", "家庭教育指导"),
}

_SURNAMES = "陈林黄张李王吴刘蔡杨郑谢邱罗廖余叶朱江肖魏游徐邓严饶范官傅曾彭温钟童赖兰雷蓝"
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官")
_GIVEN_FIRST = "建国志晓文海秀丽玉春金德福永俊淑美雪佳思梓雨子诗宇浩欣嘉"
_GIVEN_SECOND = "华明平强军英芳兰梅辉斌清林荣峰琴燕红涵轩萱怡然琪杰婷"
_GIVEN_SINGLE = "伟强军勇斌峰华芳英丽敏静红梅磊涛"
# Names with the middle dot (间隔号) as China writes Uyghur, Kazakh and other transliterated names.
_DOT_NAMES = ("古丽娜尔·吾斯曼", "艾克拜尔·买买提", "阿依努尔·托合提", "热合曼·阿不都")
_POLITICAL = (
    (PoliticalStatus.MASSES, 45),
    (PoliticalStatus.CPC_MEMBER, 30),
    (PoliticalStatus.CYL_MEMBER, 15),
    (PoliticalStatus.NON_PARTY, 5),
    (PoliticalStatus.CPC_PROBATIONARY, 3),
    (PoliticalStatus.DEMOCRATIC_PARTY, 2),
)
_EDUCATION = (
    (Education.SENIOR, 30),
    (Education.JUNIOR, 20),
    (Education.COLLEGE, 20),
    (Education.BACHELOR, 20),
    (Education.PRIMARY, 5),
    (Education.POSTGRADUATE, 5),
)
_FIRST_REGISTRATION = datetime.date(2019, 3, 5)
_LAST_REGISTRATION = datetime.date(2026, 11, 20)


@dataclass(frozen=True)
class TeamSpec:
    key: str
    kind: str
    name: str
    unit_code: str
    parent_key: str | None
    team_type: str
    domain_code: str
    description: str = ""


@dataclass(frozen=True)
class VolunteerSpec:
    index: int
    name: str
    id_number: str
    phone: str
    home_unit_code: str
    registered_on: datetime.date
    political_status: str = PoliticalStatus.MASSES
    education: str = ""
    skills: str = ""
    domain_codes: tuple[str, ...] = ()
    guardian_name: str = ""
    guardian_phone: str = ""
    login: str = ""  # "leader" or "volunteer": the two demo logins, with the demo password


@dataclass(frozen=True)
class MembershipSpec:
    team_key: str
    phone: str
    role: str = MembershipRole.MEMBER
    status: str = MembershipStatus.ACTIVE
    joined_on: datetime.date | None = None


@dataclass(frozen=True)
class TransferSpec:
    phone: str
    kind: str
    to_unit_code: str
    to_team_key: str | None
    reason: str
    from_team_key: str | None = None
    decided_by: str | None = None  # the demo account (stations.demo_data.ACCOUNTS) that approved it
    note: str = ""


@dataclass(frozen=True)
class DemoPlan:
    teams: tuple[TeamSpec, ...]
    volunteers: tuple[VolunteerSpec, ...]
    memberships: tuple[MembershipSpec, ...]
    transfers: tuple[TransferSpec, ...]
    leader_team_key: str  # the team of the demo team leader

    def login(self, which: str) -> VolunteerSpec:
        return next(spec for spec in self.volunteers if spec.login == which)


@dataclass
class _Draw:
    rng: random.Random
    volunteers: list[VolunteerSpec] = field(default_factory=list)
    guardians: int = 0

    def name(self) -> str:
        roll = self.rng.random()
        if roll < 0.012:
            return self.rng.choice(_DOT_NAMES)
        surname = self.rng.choice(_COMPOUND_SURNAMES) if roll < 0.03 else self.rng.choice(_SURNAMES)
        if self.rng.random() < 0.2:
            return surname + self.rng.choice(_GIVEN_SINGLE)
        return surname + self.rng.choice(_GIVEN_FIRST) + self.rng.choice(_GIVEN_SECOND)

    def weighted(self, choices) -> str:
        values, weights = zip(*choices, strict=True)
        return self.rng.choices(values, weights)[0]

    def volunteer(
        self, home_unit_code: str, team_type: str, *, minor=False, name="", login=""
    ) -> VolunteerSpec:
        index = len(self.volunteers)
        male = self.rng.random() < 0.48
        if minor:  # 15 to 17 in the demo's year: they register with a guardian
            birth = datetime.date(2009, 12, 20) + datetime.timedelta(days=self.rng.randrange(0, 700))
        else:
            birth = datetime.date(1952, 1, 1) + datetime.timedelta(days=self.rng.randrange(0, 52 * 365))
        # The serial's last digit is the gender (odd: male); 2 × index keeps every number unique.
        number = fake_resident_id(REGION, birth, 2 * index + (1 if male else 0))
        days = (_LAST_REGISTRATION - _FIRST_REGISTRATION).days
        guardian = {}
        if minor:
            self.guardians += 1
            guardian = {
                "guardian_name": self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN_FIRST + _GIVEN_SECOND),
                "guardian_phone": str(GUARDIAN_PHONES + self.guardians),
            }
        domain = TYPES.get(team_type, ("", "theory"))[1]
        spec = VolunteerSpec(
            index=index,
            name=name or self.name(),
            id_number=number,
            phone=str(PHONE_BLOCK + index + 1),
            home_unit_code=home_unit_code,
            registered_on=_FIRST_REGISTRATION + datetime.timedelta(days=self.rng.randrange(0, days)),
            political_status=PoliticalStatus.CYL_MEMBER if minor else self.weighted(_POLITICAL),
            education=Education.SENIOR if minor else self.weighted(_EDUCATION),
            skills="、".join(self.rng.sample(_TYPE_SKILLS.get(team_type, _TYPE_SKILLS[TeamType.THEORY]), 2))
            if self.rng.random() < 0.7
            else "",
            domain_codes=(domain,)
            if self.rng.random() < 0.8
            else (domain, "culture" if domain != "culture" else "law"),
            login=login,
            **guardian,
        )
        self.volunteers.append(spec)
        return spec

    def joined(self, registered_on: datetime.date) -> datetime.date:
        return min(registered_on + datetime.timedelta(days=self.rng.randrange(0, 200)), _LAST_REGISTRATION)


def _short_station(name: str) -> str:
    return name.removesuffix(units_demo.SUFFIX_STATION)


def demo_plan(seed: int = SEED) -> DemoPlan:
    """The demo county's teams, volunteers, memberships and transfers, the same every time."""
    county = units_demo.county_plan()
    draw = _Draw(random.Random(seed))
    center = units_demo.CENTER_CODE
    townships = county.townships
    team_specs: list[TeamSpec] = [
        TeamSpec(
            CORPS_KEY,
            TeamKind.CORPS,
            "顺昌县新时代文明实践志愿服务总队",
            center,
            None,
            TeamType.OTHER,
            "theory",
            "全县志愿服务队伍的总队，统筹各专业大队和乡镇（街道）大队。",
        )
    ]
    county_brigades = list(TYPES)
    for team_type in county_brigades:
        word, domain = TYPES[team_type]
        team_specs.append(
            TeamSpec(
                f"county-{team_type}",
                TeamKind.BRIGADE,
                f"顺昌县{word}志愿服务大队",
                center,
                CORPS_KEY,
                team_type,
                domain,
            )
        )
    squad_types = iter(_SQUAD_TYPES * 10)
    for number, township in enumerate(townships, 1):
        institute = township[0]
        town = institute.name.removesuffix(units_demo.SUFFIX_INSTITUTE)
        brigade_type = _SQUAD_TYPES[number % len(_SQUAD_TYPES)]
        team_specs.append(
            TeamSpec(
                f"town-{number}",
                TeamKind.BRIGADE,
                f"{town}新时代文明实践志愿服务大队",
                institute.code,
                CORPS_KEY,
                brigade_type,
                TYPES[brigade_type][1],
                f"{town}的志愿服务大队，下设村（社区）志愿服务分队。",
            )
        )
        stations = [spec for spec in township if spec.kind == UnitKind.STATION]
        for station in stations[:3]:
            team_type = next(squad_types)
            word, domain = TYPES[team_type]
            team_specs.append(
                TeamSpec(
                    f"squad-{station.code}",
                    TeamKind.SQUAD,
                    f"{_short_station(station.name)}{word}志愿服务分队",
                    station.code,
                    f"town-{number}",
                    team_type,
                    domain,
                )
            )
    # Some county brigades keep a squad in a township: it answers to the brigade, not to the town.
    for number, team_type in enumerate(county_brigades[:6], 1):
        institute = townships[number + 1][0]
        town = institute.name.removesuffix(units_demo.SUFFIX_INSTITUTE)
        word, domain = TYPES[team_type]
        team_specs.append(
            TeamSpec(
                f"county-{team_type}-{institute.code}",
                TeamKind.SQUAD,
                f"{town}{word}志愿服务分队",
                institute.code,
                f"county-{team_type}",
                team_type,
                domain,
            )
        )
    leader_team_key = "squad-SC-01-001"  # on the demo station admin's station

    by_code = {spec.code: spec for spec in county.units}
    children: dict[str, list[str]] = {}
    for spec in county.units:
        if spec.parent_code:
            children.setdefault(spec.parent_code, []).append(spec.code)

    def subtree(code: str) -> list[str]:
        found, frontier = [code], [code]
        while frontier:
            frontier = [child for parent in frontier for child in children.get(parent, [])]
            found += frontier
        return found

    memberships: list[MembershipSpec] = []

    def add_members(team: TeamSpec, count: int, home_codes: list[str], *, reuse=(), start=0):
        for position in range(start, start + count):
            if reuse and draw.rng.random() < 0.5:
                volunteer = draw.rng.choice(reuse)  # a second team for someone already in one
                if any(m.team_key == team.key and m.phone == volunteer.phone for m in memberships):
                    continue
            else:
                # A few squad members are 15 to 17 (never the leader): they registered with a guardian.
                minor = team.kind == TeamKind.SQUAD and position > 0 and draw.rng.random() < 0.05
                volunteer = draw.volunteer(draw.rng.choice(home_codes), team.team_type, minor=minor)
            role = MembershipRole.LEADER if position == 0 else MembershipRole.MEMBER
            memberships.append(
                MembershipSpec(
                    team.key, volunteer.phone, role, joined_on=draw.joined(volunteer.registered_on)
                )
            )

    # The two demo logins first, so their phones are 19900000001 and 19900000002.
    leader_team = next(spec for spec in team_specs if spec.key == leader_team_key)
    leader = draw.volunteer("SC-01-001", leader_team.team_type, name="陈志强", login="leader")
    member = draw.volunteer("SC-01-001", leader_team.team_type, name="林晓燕", login="volunteer")
    memberships.append(
        MembershipSpec(leader_team_key, leader.phone, MembershipRole.LEADER, joined_on=leader.registered_on)
    )
    memberships.append(MembershipSpec(leader_team_key, member.phone, joined_on=member.registered_on))
    for team in team_specs:
        if team.kind == TeamKind.SQUAD and team.parent_key.startswith("town-"):
            count = draw.rng.randint(4, 7)
            if team.key == leader_team_key:  # its leader and first member are the two logins
                add_members(team, count - 2, subtree(team.unit_code), start=1)
            else:
                add_members(team, count, subtree(team.unit_code))
    for team in team_specs:
        if team.key.startswith("town-"):
            township = [
                code for code in subtree(team.unit_code) if f"squad-{code}" not in {t.key for t in team_specs}
            ]
            add_members(team, draw.rng.randint(4, 7), township)
    everyone = [code for code in by_code if code != center]
    for team in team_specs:
        if team.kind == TeamKind.SQUAD and not team.parent_key.startswith("town-"):
            add_members(team, draw.rng.randint(3, 5), subtree(team.unit_code))
    already = list(draw.volunteers)
    for team in team_specs:
        if team.key.startswith("county-") and team.kind == TeamKind.BRIGADE:
            add_members(team, draw.rng.randint(6, 10), everyone, reuse=already)
    add_members(team_specs[0], 4, [center])
    # Volunteers in no team yet: they sign up for activities on their own.
    for _ in range(40):
        draw.volunteer(draw.rng.choice(everyone), draw.rng.choice(_SQUAD_TYPES))
    loners = [v for v in draw.volunteers if not any(m.phone == v.phone for m in memberships)]
    # Two ask to join the demo leader's squad: the leader's page shows them.
    for volunteer in loners[:2]:
        memberships.append(MembershipSpec(leader_team_key, volunteer.phone, status=MembershipStatus.PENDING))

    # A member of another 双溪 squad asks to move into the demo leader's squad (the leader decides), and a
    # volunteer of 建西镇 moved home to 双溪街道, approved by its institute admin.
    other_squad = next(t for t in team_specs if t.key.startswith("squad-SC-01-") and t.key != leader_team_key)
    mover = next(
        v
        for v in draw.volunteers
        if any(
            m.team_key == other_squad.key and m.phone == v.phone and m.role == MembershipRole.MEMBER
            for m in memberships
        )
    )
    moved = draw.volunteer("SC-02-003", TeamType.CULTURE)
    moves = (
        TransferSpec(
            mover.phone,
            TransferKind.TEAM,
            mover.home_unit_code,
            leader_team_key,
            "离家更近，想参加本村的宣讲活动。",
            from_team_key=other_squad.key,
        ),
        TransferSpec(
            moved.phone,
            TransferKind.UNIT,
            "SC-01-002",
            None,
            "工作调动，已搬到双溪街道居住。",
            decided_by="shuangxi",
            note="欢迎加入。",
        ),
    )
    return DemoPlan(tuple(team_specs), tuple(draw.volunteers), tuple(memberships), moves, leader_team_key)


# --- Writing it -----------------------------------------------------------------------------------


def seed(
    *, units: dict[str, Unit], accounts: dict, progress
) -> tuple[dict[str, int], list[tuple], list[str]]:
    """Add what is missing of the plan to the demo county built by seed_demo. Returns what was created
    (counted by kind), the rows this part adds to the printed demo logins, and lines to print below them."""
    plan = demo_plan()
    center = units[units_demo.CENTER_CODE]
    platforms = {p.code: p for p in Platform.objects.filter(center=center)}
    with transaction.atomic():
        team_rows, teams_created = _seed_teams(plan, units, platforms)
    progress(f"  teams: {len(plan.teams)} ({teams_created} new)")
    with transaction.atomic():
        people, volunteers_created = _seed_volunteers(plan, units, platforms)
    progress(f"  volunteers: {len(plan.volunteers)} ({volunteers_created} new; fake ID numbers)")
    with transaction.atomic():
        memberships_created = _seed_memberships(plan, team_rows, people)
    progress(f"  team memberships: {len(plan.memberships)} ({memberships_created} new)")
    with transaction.atomic():
        transfers_created = _seed_transfers(plan, units, team_rows, people, accounts)
    progress(f"  transfers: {len(plan.transfers)} ({transfers_created} new)")

    created = {
        "teams": teams_created,
        "volunteers": volunteers_created,
        "memberships": memberships_created,
        "transfers": transfers_created,
    }
    leader, member = plan.login("leader"), plan.login("volunteer")
    leader_team = team_rows[plan.leader_team_key]
    logins = [
        (
            leader.phone,
            MembershipRole.LEADER.label,
            leader_team.name,
            _printed_password(people[leader.phone]),
        ),
        (
            member.phone,
            capfirst(Volunteer._meta.verbose_name),
            units[member.home_unit_code].name,
            _printed_password(people[member.phone]),
        ),
    ]
    notes = [
        f"Volunteers sign in at {VOLUNTEER_LOGIN_URL} with the phone and the password, or with an SMS code: "
        "the code is written to the console (the logging SMS backend)."
    ]
    return created, logins, notes


def _printed_password(volunteer: Volunteer) -> str:
    if volunteer.user is not None and volunteer.user.check_password(PASSWORD):
        return f"{PASSWORD} or SMS code"
    return "SMS code (password changed)"


def _seed_teams(plan: DemoPlan, units: dict[str, Unit], platforms: dict) -> tuple[dict[str, Team], int]:
    center = units[units_demo.CENTER_CODE]
    existing = {
        (team.unit_id, team.name): team for team in Team.objects.filter(unit__path__startswith=center.path)
    }
    rows: dict[str, Team] = {}
    created = 0
    for spec in plan.teams:  # parents come before their children
        unit = units[spec.unit_code]
        team = existing.get((unit.pk, spec.name))
        if team is None:
            team = teams.team_create(
                actor=None,
                kind=spec.kind,
                name=spec.name,
                unit=unit,
                parent=rows[spec.parent_key] if spec.parent_key else None,
                team_type=spec.team_type,
                domain=platforms.get(spec.domain_code),
                description=spec.description,
            )
            created += 1
        rows[spec.key] = team
    return rows, created


def _seed_volunteers(
    plan: DemoPlan, units: dict[str, Unit], platforms: dict
) -> tuple[dict[str, Volunteer], int]:
    notice = services.current_privacy_notice()
    prepared = []
    for spec in plan.volunteers:
        try:
            prepared.append(
                (
                    spec,
                    services.volunteer_prepare(
                        name=spec.name,
                        id_number=spec.id_number,
                        phone=spec.phone,
                        home_unit=units[spec.home_unit_code],
                        political_status=spec.political_status,
                        education=spec.education,
                        skills=spec.skills,
                        domains=[platforms[code] for code in spec.domain_codes if code in platforms],
                        guardian_name=spec.guardian_name,
                        guardian_phone=spec.guardian_phone,
                        guardian_consent=bool(spec.guardian_name),
                    ),
                )
            )
        except ApplicationError as error:
            raise ApplicationError(
                f"{spec.name} ({spec.phone}): {error.message}", field=error.field
            ) from error
    hashes = [p.id_number_hash for _spec, p in prepared]
    found = {
        v.id_number_hash: v
        for v in Volunteer.objects.filter(id_number_hash__in=hashes).select_related("user")
    }
    taken_phones = set(
        Volunteer.objects.filter(phone__in=[spec.phone for spec in plan.volunteers])
        .exclude(id_number_hash__in=hashes)
        .values_list("phone", flat=True)
    )
    if taken_phones:
        raise ApplicationError(
            f"The demo's phones {', '.join(sorted(taken_phones))} are taken in this database."
        )
    missing = [(spec, p) for spec, p in prepared if p.id_number_hash not in found]
    # The two logins go through registration itself, password and all.
    for spec, _prepared in [(s, p) for s, p in missing if s.login]:
        services.volunteer_register(
            actor=None,
            privacy_notice=notice,
            consent=True,
            password=PASSWORD,
            name=spec.name,
            id_number=spec.id_number,
            phone=spec.phone,
            home_unit=units[spec.home_unit_code],
            political_status=spec.political_status,
            education=spec.education,
            skills=spec.skills,
            domains=[platforms[code] for code in spec.domain_codes if code in platforms],
        )
    bulk = [(spec, p) for spec, p in missing if not spec.login]
    if bulk:
        _bulk_register(bulk, notice)
    by_hash = {
        v.id_number_hash: v
        for v in Volunteer.objects.filter(id_number_hash__in=hashes).select_related("user")
    }
    people = {spec.phone: by_hash[p.id_number_hash] for spec, p in prepared}
    return people, len(missing)


def _bulk_register(rows, notice) -> None:
    """Registration as staff do it (an account that logs in by SMS code, no password), in three inserts
    instead of three per volunteer: everything volunteer_register checks, volunteer_prepare checked."""
    user_model = get_user_model()
    taken = set(
        user_model.objects.filter(username__in=[p.phone for _s, p in rows]).values_list("username", flat=True)
    )
    if taken:
        raise ApplicationError(
            f"Accounts named {', '.join(sorted(taken))} already exist; the demo cannot use them."
        )
    users = user_model.objects.bulk_create(
        [user_model(username=p.phone, first_name=p.name, password=make_password(None)) for _s, p in rows]
    )
    numbers = services.volunteer_numbers_reserve(len(rows))
    tz = timezone.get_current_timezone()
    volunteers = []
    for (spec, prepared), user, number in zip(rows, users, numbers, strict=True):
        consented = datetime.datetime.combine(spec.registered_on, datetime.time(10), tzinfo=tz)
        volunteers.append(
            prepared.as_model(
                user=user,
                number=number,
                registered_on=spec.registered_on,
                privacy_notice=notice,
                consented_at=consented,
                guardian_consented_at=consented if prepared.guardian_name else None,
            )
        )
    volunteers = Volunteer.objects.bulk_create(volunteers)
    through = Volunteer.domains.through
    through.objects.bulk_create(
        [
            through(volunteer_id=volunteer.pk, platform_id=platform.pk)
            for volunteer, (_spec, prepared) in zip(volunteers, rows, strict=True)
            for platform in prepared.domains
        ]
    )


def _seed_memberships(plan: DemoPlan, team_rows: dict[str, Team], people: dict[str, Volunteer]) -> int:
    existing = set(
        TeamMembership.objects.filter(team__in=list(team_rows.values())).values_list(
            "team_id", "volunteer_id"
        )
    )
    new = [
        spec
        for spec in plan.memberships
        if (team_rows[spec.team_key].pk, people[spec.phone].pk) not in existing
    ]
    # Leaders and the requests to join through the services; the plain members in one insert, with the
    # dates they joined over the years.
    bulk = []
    for spec in new:
        team, volunteer = team_rows[spec.team_key], people[spec.phone]
        if spec.status == MembershipStatus.PENDING:
            teams.membership_request(actor=volunteer.user, team=team, volunteer=volunteer)
        elif spec.role == MembershipRole.LEADER:
            teams.membership_add(actor=None, team=team, volunteer=volunteer, role=MembershipRole.LEADER)
        else:
            bulk.append(
                TeamMembership(
                    team=team,
                    volunteer=volunteer,
                    role=spec.role,
                    status=spec.status,
                    joined_on=spec.joined_on,
                )
            )
    TeamMembership.objects.bulk_create(bulk)
    return len(new)


def _seed_transfers(plan: DemoPlan, units, team_rows, people, accounts) -> int:
    created = 0
    for spec in plan.transfers:
        volunteer = people[spec.phone]
        if Transfer.objects.filter(volunteer=volunteer, kind=spec.kind).exists():
            continue
        to_team = team_rows[spec.to_team_key] if spec.to_team_key else None
        transfer = transfers.transfer_request(
            actor=volunteer.user,
            volunteer=volunteer,
            to_unit=None if to_team else units[spec.to_unit_code],
            to_team=to_team,
            from_team=team_rows[spec.from_team_key] if spec.from_team_key else None,
            reason=spec.reason,
        )
        if spec.decided_by:
            transfers.transfer_decide(
                actor=accounts[spec.decided_by], transfer=transfer, approve=True, note=spec.note
            )
        created += 1
    return created
