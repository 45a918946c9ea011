"""The demo county's residents' requests, which `manage.py seed_demo` adds after the activities.

Eight residents of 中山社区 ask for a service, one request left in each status: just submitted (and past
its dispatch limit, so it shows as overdue), dispatched, declined, accepted, being served, completed
(waiting for the rating: its private link is printed), rated and cancelled. The station admin (刘海峰,
`station`) dispatches them to the community's theory team, whose leader (陈志强, 19900000001) answers and
serves them through the demo's activities, all through the services.

A request is found by its unit and resident's name before anything is made, so a second run adds nothing.
The demo's private links come from the secret key, not from chance, so the same link is printed every run.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activities.models import Activity, ActivityStatus
from records.demo_data import LEADER_PHONE, STATION_CODE, TEAM_NAME
from stations.models import Platform, Unit
from stations.paths import root_id
from volunteers.models import Team, Volunteer

from . import services
from .models import RequestStatus, ServiceRequest

S = RequestStatus
# (resident, phone, platform code, what is needed, the status it is left in)
REQUESTS = (
    (
        "王秀英",
        "13859000001",
        "sports",
        "小区老人多，想请医生志愿者来量血压、讲讲高血压的饮食。",
        S.SUBMITTED,
    ),
    ("李建国", "13859000002", "law", "想请人讲讲农村宅基地和土地承包的政策。", S.DISPATCHED),
    ("张玉珍", "13859000003", "culture", "希望重阳节前有文艺队来社区演出。", S.DECLINED),
    ("刘德明", "13859000004", "science", "想学用智能手机挂号、缴医保，家里孩子不在身边。", S.ACCEPTED),
    ("陈淑芬", "13859000005", "theory", "社区居民想听一次医保新政策的宣讲。", S.SERVING),
    ("杨国华", "13859000006", "theory", "楼道里的老人想了解垃圾分类怎么分。", S.COMPLETED),
    ("黄美华", "13859000007", "education", "暑假想有志愿者帮忙辅导孩子作业。", S.RATED),
    ("赵春生", "13859000008", "culture", "想借用文化广场办一次广场舞比赛。", S.CANCELLED),
)
LINK_RESIDENT = "杨国华"  # the completed request, whose private link the notes print


def demo_token(resident: str) -> str:
    """The demo request's token: derived from the secret key, so every run knows it."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"residents-demo:{resident}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def _advance(request, to: str, *, dispatcher, leader, team, activities) -> None:
    """Take the request through the services up to `to`."""
    order = [S.DISPATCHED, S.ACCEPTED, S.SERVING, S.COMPLETED, S.RATED]
    if to == S.CANCELLED:
        services.request_cancel(actor=dispatcher, request=request, reason="居民来电说明已自行解决")
        return
    services.request_dispatch(actor=dispatcher, request=request, team=team)
    if to == S.DECLINED:
        services.request_decline(actor=leader, request=request, reason="本队近期人手不足，请改派文艺队伍")
        return
    for step in order[1 : order.index(to) + 1] if to in order else ():
        if step == S.ACCEPTED:
            services.request_accept(actor=leader, request=request)
        elif step == S.SERVING:
            for activity in activities[:1] if to == S.SERVING else activities[1:3]:
                services.request_link_activity(actor=leader, request=request, activity=activity)
        elif step == S.COMPLETED:
            services.request_complete(actor=leader, request=request)
        elif step == S.RATED:
            services.request_rate(
                token=demo_token(request.resident_name), score=5, comment="志愿者很耐心，讲得很清楚，谢谢！"
            )


def seed(*, units: dict[str, Unit], accounts: dict, progress) -> tuple[dict[str, int], list, list[str]]:
    station = units[STATION_CODE]
    dispatcher = accounts["station"]
    leader = Volunteer.objects.select_related("user").get(phone=LEADER_PHONE).user
    team = Team.objects.get(name=TEAM_NAME, unit=station)
    platforms = {p.code: p for p in Platform.objects.filter(center_id=root_id(station.path))}
    activities = list(
        Activity.objects.filter(unit__path__startswith=station.path)
        .exclude(status__in=[ActivityStatus.DRAFT, ActivityStatus.CANCELLED])
        .order_by("-started_at", "id")
    )
    created = 0
    for resident, phone, code, need, status in REQUESTS:
        if ServiceRequest.objects.filter(unit=station, resident_name=resident).exists():
            continue
        with transaction.atomic():
            request, _token = services.request_submit(
                resident_name=resident,
                phone=phone,
                unit=station,
                domain=platforms.get(code),
                description=need,
                token=demo_token(resident),
            )
            if status != S.SUBMITTED:
                _advance(
                    request, status, dispatcher=dispatcher, leader=leader, team=team, activities=activities
                )
            else:  # waiting two days for a dispatcher: the overdue list has one
                past = timezone.now() - datetime.timedelta(days=2)
                ServiceRequest.objects.filter(pk=request.pk).update(status_changed_at=past, submitted_at=past)
        created += 1
    progress(f"  residents' requests: {len(REQUESTS)} ({created} new)")
    notes = [
        f"Residents' requests: anyone asks at /requests/new/; {LINK_RESIDENT}'s completed request waits for "
        f"its rating at /requests/status/{demo_token(LINK_RESIDENT)}/ ; the station admin dispatches "
        f"in the admin, and {LEADER_PHONE} answers for the team."
    ]
    return {"residents' requests": created}, [], notes
