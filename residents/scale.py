"""The residents' requests of the benchmark-scale data (`manage.py seed_scale`, see volunteers.scale): a
phase after the activities, registered when the app is ready.

Each county gets one request for every two activities (3,125 a county; 5 in the tests' tiny preset),
asked of its stations and points (now and then of an institute), submitted over the data set's years
before its "now" (2026-12-01 12:00, as activities.scale has it). Most are old and served: about seven in
ten rated (mostly four or five stars), one in ten completed and waiting for the rating, a few cancelled;
the last weeks' are still open, in every step (submitted, dispatched, declined, accepted, serving). A
request served is dispatched to a team of its township (of the county for the center's), linked to a
finished activity of the team's unit or below when there is one (else it stays accepted), and each step
has its event row.

The plan of a county is the same every run (seeded, from the units, teams and activities of earlier
phases), in the order of submission. Rows go in with COPY a batch at a time, each batch in one
transaction with its events and links; a county's requests are counted by their reference prefix, so a
run cut short resumes after its last batch and a second run adds nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import zoneinfo

from django.conf import settings
from django.db import connection, transaction

from activities.models import Activity, ActivityStatus
from activities.scale import activities_total
from stations.models import Platform, Unit, UnitKind
from volunteers.bulk import Copy, next_ids
from volunteers.models import Team
from volunteers.scale import Phase, Preset, ProgressBar, ScaleError, register_phase

from .models import RequestActivity, RequestEvent, RequestStatus, ServiceRequest

S = RequestStatus
_NOW = (2026, 12, 1, 12, 0)
FIRST_DAY = datetime.date(2023, 1, 1)
_OPEN_DAYS = 21  # the open requests were submitted in these last days
_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ("秀英", "桂兰", "建国", "德明", "玉珍", "志强", "淑芬", "国华", "美华", "春生")
_NEEDS = (
    "村里老人想听一次医保新政策的讲解",
    "小区想请人来讲讲防范电信诈骗",
    "暑假期间希望有志愿者辅导孩子作业",
    "希望组织一次义诊，给老人量血压",
    "村里想请法律志愿者讲解土地承包的政策",
    "想请文艺队来村里演出，丰富老人的文化生活",
    "独居老人家里需要有人帮忙打扫和陪护",
    "希望开展一次垃圾分类的入户宣传",
    "想学习智能手机的使用（挂号、缴费）",
    "村里的农家书屋需要有人帮忙整理图书",
)
_DECLINES = ("本队近期人员不足，请改派其他队伍", "该服务不在本队专业范围内")
_COMMENTS = ("志愿者很耐心，谢谢！", "讲得很清楚，老人们都听懂了", "", "服务及时，很满意", "希望以后多来几次")

REQUEST_FIELDS = (
    "id",
    "reference",
    "token_hash",
    "resident_name",
    "phone",
    "unit_id",
    "domain_id",
    "description",
    "status",
    "status_changed_at",
    "team_id",
    "submitted_at",
    "dispatched_at",
    "accepted_at",
    "serving_at",
    "completed_at",
    "rated_at",
    "cancelled_at",
    "decline_reason",
    "cancel_reason",
    "rating",
    "rating_comment",
)
EVENT_FIELDS = ("request_id", "from_status", "to_status", "at", "team_id", "note")
LINK_FIELDS = ("request_id", "activity_id", "linked_at")


def requests_total(preset: Preset) -> int:
    """Requests of one county: one for every two activities."""
    return max(1, activities_total(preset) // 2)


def _reference_prefix(preset: Preset, code: str) -> str:
    tag = preset.code_prefix.removeprefix("SCALE").rstrip("-")
    return f"QDS{tag}{int(code.removeprefix(preset.code_prefix)):02d}-"


def requests_done(preset: Preset, code: str) -> int:
    return ServiceRequest.objects.filter(reference__startswith=_reference_prefix(preset, code)).count()


def _status_of(rng, open_: bool) -> str:
    draw = rng.random()
    if open_:
        for status, share in (
            (S.SUBMITTED, 0.25),
            (S.DISPATCHED, 0.45),
            (S.DECLINED, 0.55),
            (S.ACCEPTED, 0.7),
            (S.SERVING, 0.9),
        ):
            if draw < share:
                return status
        return S.COMPLETED
    if draw < 0.03:
        return S.CANCELLED
    return S.COMPLETED if draw < 0.15 else S.RATED


def plan(preset: Preset, code: str) -> list[tuple[tuple, list[tuple], list[tuple]]]:
    """The county's requests: (request values after the id, events after the id, links after the id)."""
    center = Unit.objects.filter(code=code).first()
    if center is None:
        raise ScaleError(f"{code}: the county's units are not in yet; run the units phase first.")
    units = list(
        Unit.objects.filter(
            path__startswith=center.path, kind__in=[UnitKind.STATION, UnitKind.POINT, UnitKind.INSTITUTE]
        )
        .order_by("code")
        .values_list("pk", "path", "kind")
    )
    teams = list(
        Team.objects.filter(unit__path__startswith=center.path, is_active=True)
        .order_by("pk")
        .values_list("pk", "unit__path")
    )
    if not teams:
        raise ScaleError(f"{code}: the county's teams are not in yet; run the teams phase first.")
    activities = list(
        Activity.objects.filter(unit__path__startswith=center.path, status=ActivityStatus.FINISHED)
        .order_by("started_at", "pk")
        .values_list("pk", "unit__path", "ended_at", "title")
    )
    platforms = list(Platform.objects.filter(center=center).order_by("order").values_list("pk", flat=True))
    number = int(code.removeprefix(preset.code_prefix))
    rng = random.Random(f"{preset.code_prefix}{number}-requests")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = datetime.datetime(*_NOW, tzinfo=zone)
    total = requests_total(preset)
    open_count = max(1, total * 8 // 100)
    span = (now - datetime.datetime.combine(FIRST_DAY, datetime.time(8), tzinfo=zone)).total_seconds()
    prefix = _reference_prefix(preset, code)
    phone_head = f"{preset.phone_prefix}{number:02d}"
    planned = []
    for index in range(total):
        open_ = index >= total - open_count
        if open_:
            submitted = now - datetime.timedelta(minutes=rng.randrange(1, _OPEN_DAYS * 24 * 60))
        else:
            submitted = (
                now
                - datetime.timedelta(seconds=span * rng.random() ** 0.7)
                - datetime.timedelta(days=_OPEN_DAYS)
            )
        planned.append((submitted, open_))
    planned.sort()
    rows = []
    for index, (submitted, open_) in enumerate(planned):
        unit_id, unit_path, _kind = rng.choice(units)
        township = unit_path[:18] if len(unit_path) > 9 else unit_path
        near = [team for team in teams if team[1].startswith(township)] or teams
        team_id, team_path = rng.choice(near)
        status = _status_of(rng, open_)
        reference = f"{prefix}{index + 1:06d}"
        fields = dict.fromkeys(
            ("dispatched_at", "accepted_at", "serving_at", "completed_at", "rated_at", "cancelled_at")
        )
        events = [("", S.SUBMITTED, submitted, None, "")]
        links = []
        at = submitted
        decline_reason = cancel_reason = rating_comment = ""
        rating = None
        team = None

        def step(to, hours, note="", team_of_step=None, events=events):
            nonlocal at
            moment = min(at + datetime.timedelta(hours=hours), now - datetime.timedelta(minutes=1))
            at = max(moment, at)
            events.append((events[-1][1], to, at, team_of_step, note))
            return at

        if status == S.CANCELLED:
            fields["cancelled_at"] = step(S.CANCELLED, rng.uniform(1, 20), "居民已通过其他渠道解决")
            cancel_reason = "居民已通过其他渠道解决"
        elif status != S.SUBMITTED:
            if status == S.DECLINED or rng.random() < 0.05:
                step(S.DISPATCHED, rng.uniform(1, 12), team_of_step=team_id)
                decline_reason = rng.choice(_DECLINES)
                step(S.DECLINED, rng.uniform(1, 12), decline_reason, team_id)
                team = team_id  # a declined request keeps the team that declined it, as the services do
                if status != S.DECLINED:
                    team_id, team_path = rng.choice(near)
                    decline_reason = ""
            if status != S.DECLINED:
                team = team_id
                fields["dispatched_at"] = step(S.DISPATCHED, rng.uniform(1, 20), team_of_step=team)
                if status != S.DISPATCHED:
                    fields["accepted_at"] = step(S.ACCEPTED, rng.uniform(1, 20), team_of_step=team)
                    if status != S.ACCEPTED:
                        ended = fields["accepted_at"] + datetime.timedelta(days=10)
                        served = [
                            a
                            for a in activities
                            if a[1].startswith(team_path) and fields["accepted_at"] < a[2] <= min(ended, now)
                        ] or [a for a in activities if a[1].startswith(team_path) and a[2] <= now]
                        if not served:
                            status = S.ACCEPTED
                        else:
                            activity = served[0] if status == S.SERVING else rng.choice(served[:3])
                            fields["serving_at"] = step(S.SERVING, rng.uniform(2, 72), activity[3], team)
                            links.append((activity[0], at))
                            if status in (S.COMPLETED, S.RATED):
                                fields["completed_at"] = step(
                                    S.COMPLETED, rng.uniform(3, 48), team_of_step=team
                                )
                            if status == S.RATED:
                                rating = rng.choice((5, 5, 5, 4, 4, 3))
                                rating_comment = rng.choice(_COMMENTS)
                                fields["rated_at"] = step(
                                    S.RATED, rng.uniform(2, 96), f"{rating}★ {rating_comment}", team
                                )
        values = (
            reference,
            hashlib.sha256(f"{reference}:{rng.random()}".encode()).hexdigest(),
            rng.choice(_NAMES) + rng.choice(_GIVEN),
            f"{phone_head}{index % 1_000_000:06d}"[:11],
            unit_id,
            rng.choice(platforms) if platforms and rng.random() < 0.8 else None,
            rng.choice(_NEEDS),
            status,
            events[-1][2],
            team,
            submitted,
            *fields.values(),
            decline_reason,
            cancel_reason,
            rating,
            rating_comment,
        )
        rows.append((values, events, links))
    return rows


def _requests_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    total = requests_total(preset)
    done = requests_done(preset, code)
    if done >= total:
        return
    if connection.vendor != "postgresql":
        raise ScaleError("seed_scale loads rows with PostgreSQL's COPY.")
    rows = plan(preset, code)
    request_copy = Copy(ServiceRequest, REQUEST_FIELDS)
    event_copy = Copy(RequestEvent, EVENT_FIELDS)
    link_copy = Copy(RequestActivity, LINK_FIELDS)
    for start in range(done, total, preset.batch):
        batch = rows[start : start + preset.batch]
        with transaction.atomic():
            with connection.cursor() as cursor:
                ids = [pk for (pk,) in next_ids(cursor, [ServiceRequest], len(batch))]
            request_copy.rows((pk, *values) for pk, (values, _events, _links) in zip(ids, batch, strict=True))
            event_copy.rows(
                (pk, *event)
                for pk, (_values, events, _links) in zip(ids, batch, strict=True)
                for event in events
            )
            link_copy.rows(
                (pk, *link)
                for pk, (_values, _events, links) in zip(ids, batch, strict=True)
                for link in links
            )
        bar.add(len(batch))


PHASE = register_phase(Phase("requests", requests_total, requests_done, _requests_run))
