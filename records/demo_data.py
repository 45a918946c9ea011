"""The demo county's service records (顺昌县), which `manage.py seed_demo` adds after the volunteers.

All of it is made through the services, as the people of the demo would: the demo volunteer (林晓燕,
19900000002) reports her services with a note as evidence, her team leader (陈志强, 19900000001) approves
or rejects them, she withdraws one and asks for corrections, the station admin accepts one, the
leader refuses another; two records made from attendance (the system, no actor) arrive flagged for
review. Half a year of Saturdays gives her the first star; a few recent records wait in the leader's
queue. Then the trainings and evaluations of her record, the center's issuer details and one ready
certificate.

A record is looked up by its natural key (volunteer, start) first, and each step is taken only when the
record is not there yet (a decision only while it is still pending, a correction only when none was asked
for), so a second run adds nothing and a run cut short resumes. The dates hang on one fixed day
(`ANCHOR`, or yesterday if the clock is earlier), so every run plans the same records.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stations import demo_data as units_demo
from stations.models import Unit
from volunteers.models import MembershipRole, MembershipStatus, Team, Volunteer

from . import pdf, rules, services
from .models import (
    CertificateStatus,
    CorrectionStatus,
    EvaluationGrade,
    RecordFlag,
    RecordSource,
    RecordStatus,
    ServiceRecord,
)

ANCHOR = datetime.date(2026, 11, 27)  # a Friday: "this week" of the demo
LEADER_PHONE = "19900000001"
VOLUNTEER_PHONE = "19900000002"
TEAM_NAME = "中山社区理论宣讲志愿服务分队"
STATION_CODE = "SC-01-001"
HISTORY_SATURDAYS = 30  # 4 h each: 120 h, the first star

_HISTORY_CONTENT = (
    "理论政策宣讲进村入户",
    "关爱留守儿童课业辅导",
    "垃圾分类入户宣传",
    "敬老院陪伴服务",
    "文明交通劝导",
    "新时代文明实践站图书整理",
)
_EVIDENCE = "活动签到表和现场照片已交队长"


@dataclass(frozen=True)
class RecordSpec:
    who: str  # "volunteer" (the demo login), "member_a" or "member_b" (two other members of her team)
    day: datetime.date
    start: datetime.time
    minutes: int
    content: str
    status: str = RecordStatus.APPROVED
    source: str = RecordSource.SELF_REPORTED
    reason: str = ""  # of a rejection
    correction: str = ""  # "accepted", "pending" or "refused": what became of a correction asked for

    @property
    def started_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.day, self.start))

    @property
    def ended_at(self) -> datetime.datetime:
        return self.started_at + datetime.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class CorrectionSpec:
    kind: str
    reason: str
    content: str = ""
    extra_minutes: int = 0  # the end the volunteer says is right, after the recorded one
    decided_by: str = ""  # "leader" or the demo staff account (stations.demo_data.ACCOUNTS)
    note: str = ""


CORRECTIONS = {
    "accepted": CorrectionSpec(
        "accepted",
        "签退时漏记了半小时，活动到十三点才结束。",
        extra_minutes=30,
        decided_by="station",
        note="核对签到表，属实。",
    ),
    "pending": CorrectionSpec("pending", "服务内容写错了，这次是敬老院陪伴服务。", content="敬老院陪伴服务"),
    "refused": CorrectionSpec(
        "refused",
        "实际服务了五个小时。",
        extra_minutes=60,
        decided_by="leader",
        note="签退表记录为十二点半，原记录无误。",
    ),
}
_CORRECTED = {3: "accepted", 5: "pending", 7: "refused"}  # which Saturdays (weeks back) were corrected


def demo_anchor() -> datetime.date:
    return min(ANCHOR, timezone.localdate() - datetime.timedelta(days=1))


def demo_records(anchor: datetime.date) -> tuple[RecordSpec, ...]:
    """Every record of the demo, the same for the same anchor."""
    at = datetime.time
    days = lambda n: anchor - datetime.timedelta(days=n)  # noqa: E731
    specs = [
        RecordSpec(
            "volunteer",
            days(6 + 7 * (week - 1)),  # a week apart: Saturdays, as the anchor is a Friday
            at(8, 30),
            240,
            _HISTORY_CONTENT[week % len(_HISTORY_CONTENT)],
            correction=_CORRECTED.get(week, ""),
        )
        for week in range(1, HISTORY_SATURDAYS + 1)
    ]
    specs += [
        # Rejected, with the reason; withdrawn by herself; three waiting for the leader.
        RecordSpec(
            "volunteer",
            days(10),
            at(14),
            180,
            "帮助村民代办医保续费",
            status=RecordStatus.REJECTED,
            reason="当天的活动签到表上没有这项服务，请补充材料后再报。",
        ),
        RecordSpec("volunteer", days(9), at(19), 120, "夜间治安巡逻", status=RecordStatus.WITHDRAWN),
        RecordSpec("volunteer", days(3), at(8), 240, "理论政策宣讲进村入户", status=RecordStatus.PENDING),
        RecordSpec("volunteer", days(2), at(14), 120, "关爱留守儿童课业辅导", status=RecordStatus.PENDING),
        RecordSpec("volunteer", days(1), at(9), 150, "垃圾分类入户宣传", status=RecordStatus.PENDING),
        # Two other members: a little history, and the two flags of the review list.
        RecordSpec("member_a", days(20), at(9), 180, "文明交通劝导"),
        RecordSpec("member_a", days(13), at(9), 180, "文明交通劝导"),
        RecordSpec("member_a", days(4), at(9), 120, "文明交通劝导", status=RecordStatus.PENDING),
        # From attendance while her own report of the morning was in: kept, flagged as an overlap.
        RecordSpec(
            "member_a",
            days(4),
            at(10),
            120,
            "理论宣讲进村活动",
            status=RecordStatus.PENDING,
            source=RecordSource.ATTENDANCE,
        ),
        RecordSpec("member_b", days(12), at(8, 30), 180, "敬老院陪伴服务"),
        RecordSpec("member_b", days(5), at(8), 480, "森林防火巡查"),
        # An evening activity after a full day: 14 h on one day, kept, flagged over the cap.
        RecordSpec(
            "member_b",
            days(5),
            at(16, 30),
            360,
            "村晚演出志愿服务",
            status=RecordStatus.PENDING,
            source=RecordSource.ATTENDANCE,
        ),
    ]
    return tuple(specs)


# (whose, recording unit code, recording account, title, organiser, days before the anchor, hours)
TRAININGS = (
    (
        "volunteer",
        units_demo.CENTER_CODE,
        "county",
        "新时代文明实践志愿者骨干培训班",
        "顺昌县文明办",
        150,
        "6",
    ),
    ("volunteer", STATION_CODE, "station", "应急救护（红十字救护员）培训", "顺昌县红十字会", 60, "8"),
    ("member_a", STATION_CODE, "station", "应急救护（红十字救护员）培训", "顺昌县红十字会", 60, "8"),
)


def _evaluations(anchor: datetime.date):
    year = anchor.year - 1
    return (
        ("volunteer", year, EvaluationGrade.EXCELLENT, "全年参加宣讲和关爱活动二十余次，群众评价好。"),
        ("member_a", year, EvaluationGrade.GOOD, "按时参加文明交通劝导，积极认真。"),
    )


ISSUER = {"person_in_charge": "郑国华", "handler": "黄丽华", "contact": "0599-7820000"}


# --- Writing it -----------------------------------------------------------------------------------


@dataclass
class _Cast:
    leader: Volunteer
    team: Team
    people: dict[str, Volunteer]


def _cast() -> _Cast:
    volunteers = Volunteer.objects.select_related("user", "home_unit")
    leader = volunteers.get(phone=LEADER_PHONE)
    volunteer = volunteers.get(phone=VOLUNTEER_PHONE)
    team = Team.objects.get(name=TEAM_NAME, unit__code=STATION_CODE)
    members = list(
        volunteers.filter(
            memberships__team=team,
            memberships__status=MembershipStatus.ACTIVE,
            memberships__role=MembershipRole.MEMBER,
        )
        .exclude(pk=volunteer.pk)
        .order_by("phone")[:2]
    )
    people = {"volunteer": volunteer, "member_a": members[0], "member_b": members[1]}
    return _Cast(leader, team, people)


def seed(*, units: dict[str, Unit], accounts: dict, progress) -> tuple[dict[str, int], list, list[str]]:
    """Add what is missing of the demo's service records, trainings, evaluations, issuer details and
    certificate. Returns what was created (by kind), no login rows of its own, and lines to print."""
    anchor = demo_anchor()
    cast = _cast()
    people = list(cast.people.values())
    flags_before = RecordFlag.objects.filter(record__volunteer__in=people).count()
    with transaction.atomic():
        records_created = _seed_records(anchor, cast)
    with transaction.atomic():
        corrections_created = _seed_corrections(anchor, cast, accounts)
    flags_created = RecordFlag.objects.filter(record__volunteer__in=people).count() - flags_before
    progress(
        f"  service records: {len(demo_records(anchor))} ({records_created} new), "
        f"corrections: {len(CORRECTIONS)} ({corrections_created} new), review flags: {flags_created} new"
    )
    with transaction.atomic():
        trainings_created = _seed_trainings(anchor, cast, units, accounts)
        evaluations_created = _seed_evaluations(anchor, cast)
        issuers_created = _seed_issuer(units, accounts)
    progress(
        f"  trainings: {trainings_created} new, evaluations: {evaluations_created} new, "
        f"certificate issuers: {issuers_created} new"
    )
    certificates_created = _seed_certificate(cast, units, progress)
    progress(f"  certificates: {certificates_created} new")

    volunteer = Volunteer.objects.get(pk=cast.people["volunteer"].pk)
    stars = rules.stars_for(volunteer.service_hours)
    ready = volunteer.certificates.filter(status=CertificateStatus.READY).exists()
    waiting = ServiceRecord.objects.filter(team=cast.team, status=RecordStatus.PENDING).count()
    notes = [
        f"Service records: {VOLUNTEER_PHONE} has {volunteer.service_hours.normalize():f} approved hours "
        f"({stars.level}★, {stars.percent}% to the next){' and a ready certificate' if ready else ''}; "
        f"{waiting} records wait in "
        f"the approval queue of team leader {LEADER_PHONE}, the flagged ones for the shuangxi admin."
    ]
    created = {
        "service records": records_created,
        "corrections": corrections_created,
        "review flags": flags_created,
        "trainings": trainings_created,
        "evaluations": evaluations_created,
        "certificate issuers": issuers_created,
        "certificates": certificates_created,
    }
    return created, [], notes


def _existing(cast: _Cast) -> dict:
    # The records as submitted (a correction's new record keeps the old start: it is not one of them).
    rows = ServiceRecord.objects.filter(volunteer__in=list(cast.people.values()), supersedes__isnull=True)
    return {(row.volunteer_id, row.started_at): row for row in rows}


def _seed_records(anchor: datetime.date, cast: _Cast) -> int:
    existing = _existing(cast)
    created = 0
    for spec in demo_records(anchor):
        volunteer = cast.people[spec.who]
        record = existing.get((volunteer.pk, spec.started_at))
        if record is None:
            attendance = spec.source == RecordSource.ATTENDANCE
            record = services.record_submit(
                actor=None if attendance else volunteer.user,
                volunteer=volunteer,
                team=cast.team,
                content=spec.content,
                started_at=spec.started_at,
                ended_at=spec.ended_at,
                evidence_note="" if attendance else _EVIDENCE,
                source=spec.source if attendance else None,
            )
            created += 1
        if record.status != RecordStatus.PENDING or spec.status == RecordStatus.PENDING:
            continue
        if spec.status == RecordStatus.APPROVED:
            services.record_approve(actor=cast.leader.user, record=record)
        elif spec.status == RecordStatus.REJECTED:
            services.record_reject(actor=cast.leader.user, record=record, reason=spec.reason)
        elif spec.status == RecordStatus.WITHDRAWN:
            services.record_withdraw(actor=volunteer.user, record=record)
    return created


def _seed_corrections(anchor: datetime.date, cast: _Cast, accounts: dict) -> int:
    existing = _existing(cast)
    created = 0
    for spec in demo_records(anchor):
        if not spec.correction:
            continue
        wanted = CORRECTIONS[spec.correction]
        volunteer = cast.people[spec.who]
        record = existing[(volunteer.pk, spec.started_at)]
        correction = record.corrections.order_by("pk").first()
        if correction is None:
            correction = services.correction_request(
                actor=volunteer.user,
                record=record,
                reason=wanted.reason,
                content=wanted.content,
                ended_at=spec.ended_at + datetime.timedelta(minutes=wanted.extra_minutes)
                if wanted.extra_minutes
                else None,
            )
            created += 1
        if correction.status != CorrectionStatus.PENDING or wanted.kind == "pending":
            continue
        decider = cast.leader.user if wanted.decided_by == "leader" else accounts[wanted.decided_by]
        services.correction_decide(
            actor=decider, correction=correction, accept=wanted.kind == "accepted", note=wanted.note
        )
    return created


def _seed_trainings(anchor: datetime.date, cast: _Cast, units: dict[str, Unit], accounts: dict) -> int:
    from .models import Training
    from .trainings import training_create

    created = 0
    for who, unit_code, account, title, organiser, days_before, hours in TRAININGS:
        volunteer = cast.people[who]
        date = anchor - datetime.timedelta(days=days_before)
        if Training.objects.filter(volunteer=volunteer, title=title, date=date).exists():
            continue
        training_create(
            actor=accounts[account],
            volunteer=volunteer,
            unit=units[unit_code],
            title=title,
            organiser=organiser,
            date=date,
            hours=Decimal(hours),
        )
        created += 1
    return created


def _seed_evaluations(anchor: datetime.date, cast: _Cast) -> int:
    from .models import Evaluation
    from .trainings import evaluation_save

    created = 0
    for who, year, grade, comment in _evaluations(anchor):
        volunteer = cast.people[who]
        if Evaluation.objects.filter(volunteer=volunteer, team=cast.team, year=year).exists():
            continue
        evaluation_save(
            actor=cast.leader.user,
            volunteer=volunteer,
            team=cast.team,
            year=year,
            grade=grade,
            comment=comment,
        )
        created += 1
    return created


def _seed_issuer(units: dict[str, Unit], accounts: dict) -> int:
    from .models import IssuerProfile
    from .trainings import issuer_profile_save

    center = units[units_demo.CENTER_CODE]
    if IssuerProfile.objects.filter(unit=center).exists():
        return 0
    issuer_profile_save(actor=accounts["county"], unit=center, **ISSUER)
    return 1


def _seed_certificate(cast: _Cast, units: dict[str, Unit], progress) -> int:
    """One ready certificate of the demo volunteer, issued by the center and made here, without waiting
    for a worker (the task queued on commit finds it issued and does nothing)."""
    from .certificates import certificate_issue, certificate_request
    from .models import Certificate

    volunteer = cast.people["volunteer"]
    center = units[units_demo.CENTER_CODE]
    if not pdf.font_available():
        progress(
            f"  certificate of {VOLUNTEER_PHONE} left out: no CJK font at {settings.CERTIFICATE_FONT_PATH} "
            "(apt-get install fonts-wqy-microhei, then run seed_demo again)"
        )
        return 0
    mine = Certificate.objects.filter(volunteer=volunteer, issuer=center).exclude(
        status=CertificateStatus.FAILED
    )
    certificate = mine.order_by("pk").first()
    if certificate is not None:
        if certificate.status == CertificateStatus.REQUESTED:  # a run cut short before it was made
            certificate_issue(certificate.pk)
        return 0
    with transaction.atomic():
        certificate = certificate_request(actor=volunteer.user, volunteer=volunteer, issuer=center)
        certificate = certificate_issue(certificate.pk)
    if certificate.status != CertificateStatus.READY:
        progress(f"  certificate of {VOLUNTEER_PHONE} could not be made: {certificate.error}")
    return 1
