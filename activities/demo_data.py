"""The demo county's activities, which `manage.py seed_demo` adds after the projects.

Upcoming activities are planned and published through the services and the demo volunteer (林晓燕,
19900000002) signs up for one; one is full with a waitlist, one needed its insurance confirmed. Today's
activity is organised by the team leader (陈志强, 19900000001), so his workbench shows a roster and a check-in
QR code. Past activities are written as they stood (sign-up can no longer be opened for them), their
attendance taken as the organiser's roster would have sent it, and then finished by the beat's own pass:
check-outs make pending service records in the leader's queue, and a missed check-out is flagged.

The two older past activities get their report (图文资料) with photos drawn here (gradients with a
caption, through the one image intake like any upload): the oldest published as news, the next not yet;
the latest is left without one, so the workbench shows a report overdue.

An activity is found by its unit and title before anything is made, and a report by its activity, so a
second run adds nothing.
"""

from __future__ import annotations

import datetime
import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from projects.models import Project
from records.demo_data import LEADER_PHONE, STATION_CODE, TEAM_NAME, VOLUNTEER_PHONE
from stations.models import Platform, Unit
from volunteers.models import MembershipStatus, Volunteer

from . import services
from .models import Activity, ActivityReport, ActivityStatus, Signup, SignupStatus

# (title, days from today, start hour, hours, places, platform code, needs insurance)
UPCOMING = (
    ("学雷锋便民服务集市", 3, 9, 3, 30, "culture", False),
    ("四点半课堂·作业辅导", 5, 16, 2, 2, "education", False),
    ("山地应急救援演练", 9, 8, 5, 20, "sports", True),
    ("普法宣传进社区", 12, 14, 2, 40, "law", False),
)
TODAY_TITLE = "中山社区理论宣讲·政策进万家"
# (title, days ago, start hour, hours)
PAST = (
    ("重阳敬老志愿服务", 20, 9, 3),
    ("垃圾分类入户宣传", 12, 14, 3),
    ("文明交通劝导", 6, 7, 2),
)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def seed(*, units: dict[str, Unit], accounts: dict, progress) -> tuple[dict[str, int], list, list[str]]:
    station = units[STATION_CODE]
    admin = accounts["station"]
    leader = Volunteer.objects.select_related("user").get(phone=LEADER_PHONE)
    volunteer = Volunteer.objects.select_related("user").get(phone=VOLUNTEER_PHONE)
    members = list(
        Volunteer.objects.filter(
            memberships__team__name=TEAM_NAME, memberships__status=MembershipStatus.ACTIVE
        )
        .exclude(pk__in=[leader.pk])
        .select_related("user")
        .order_by("phone")[:8]
    )
    platforms = {p.code: p for p in Platform.objects.filter(center_id=station.path[:8].lstrip("0") or 0)}
    project = Project.objects.filter(name="红马甲理论宣讲").first()
    today = timezone.localdate()
    created = 0
    for title, days, hour, hours, places, code, insured in UPCOMING:
        if Activity.objects.filter(unit=station, title=title).exists():
            continue
        with transaction.atomic():
            start = _at(today + datetime.timedelta(days=days), hour)
            activity = services.activity_create(
                actor=admin,
                unit=station,
                title=title,
                venue="中山社区新时代文明实践站",
                started_at=start,
                ended_at=start + datetime.timedelta(hours=hours),
                capacity=places,
                domain=platforms.get(code),
                description="欢迎社区志愿者报名参加。",
                requirements="请穿红马甲，提前10分钟到场。",
                longitude=station.longitude,
                latitude=station.latitude,
                needs_insurance=insured,
                organisers=[admin, leader.user],
            )
            if insured:
                services.activity_confirm_insurance(
                    actor=admin, activity=activity, note="人保财险 志愿者团体意外险"
                )
            services.activity_publish(actor=admin, activity=activity)
            people = [volunteer, *members] if places > 2 else [*members[:4]]
            for person in people[: places + 2]:
                try:
                    services.signup_create(actor=person.user, activity=activity, volunteer=person)
                except Exception:
                    continue
        created += 1
    if not Activity.objects.filter(unit=station, title=TODAY_TITLE).exists():
        with transaction.atomic():
            now = timezone.now().replace(second=0, microsecond=0)
            activity = Activity.objects.create(
                unit=station,
                project=project,
                domain=platforms.get("theory"),
                title=TODAY_TITLE,
                venue="中山社区文化广场",
                longitude=station.longitude,
                latitude=station.latitude,
                started_at=now - datetime.timedelta(hours=1),
                ended_at=now + datetime.timedelta(hours=3),
                capacity=20,
                signup_opens_at=now - datetime.timedelta(days=7),
                signup_closes_at=now - datetime.timedelta(hours=1),
                status=ActivityStatus.RUNNING,
                published_at=now - datetime.timedelta(days=7),
                created_by=admin,
            )
            activity.organiser_links.create(user=leader.user)
            _accept(activity, members[:6])
            services.attendance_sync(
                actor=leader.user,
                activity=activity,
                entries=[
                    {
                        "key": uuid.uuid4(),
                        "volunteer": m.pk,
                        "action": "in",
                        "at": now - datetime.timedelta(minutes=50),
                    }
                    for m in members[:3]
                ],
            )
        created += 1
    for title, days, hour, hours in PAST:
        if Activity.objects.filter(unit=station, title=title).exists():
            continue
        with transaction.atomic():
            start = _at(today - datetime.timedelta(days=days), hour)
            activity = Activity.objects.create(
                unit=station,
                project=project,
                domain=platforms.get("culture"),
                title=title,
                venue="中山社区",
                started_at=start,
                ended_at=start + datetime.timedelta(hours=hours),
                capacity=10,
                signup_opens_at=start - datetime.timedelta(days=7),
                signup_closes_at=start,
                status=ActivityStatus.PUBLISHED,
                published_at=start - datetime.timedelta(days=7),
                created_by=admin,
            )
            activity.organiser_links.create(user=leader.user)
            attendees = members[2:7]
            _accept(activity, attendees)
            entries = [
                {
                    "key": uuid.uuid4(),
                    "volunteer": m.pk,
                    "action": "in",
                    "at": start + datetime.timedelta(minutes=5),
                }
                for m in attendees
            ] + [
                {
                    "key": uuid.uuid4(),
                    "volunteer": m.pk,
                    "action": "out",
                    "at": start + datetime.timedelta(hours=hours),
                }
                for m in attendees[:-1]  # the last forgets to check out: closed at the end and flagged
            ]
            services.attendance_sync(actor=leader.user, activity=activity, entries=entries)
        created += 1
    services.activities_advance()
    reports = _reports(station, admin, leader.user)
    progress(f"  activities: {len(UPCOMING) + len(PAST) + 1} ({created} new), reports: {reports} new")
    notes = [
        f"Activities: {VOLUNTEER_PHONE} signs up at /activities/; {LEADER_PHONE} runs today's activity "
        "from the workbench at /activities/workbench/ (roster, check-in QR)."
    ]
    return {"activities": created, "activity_reports": reports}, [], notes


def _accept(activity: Activity, people) -> None:
    now = timezone.now()
    Signup.objects.bulk_create(
        Signup(activity=activity, volunteer=person, status=SignupStatus.ACCEPTED, queued_at=now)
        for person in people
    )
    Activity.objects.filter(pk=activity.pk).update(accepted_count=len(people))


# (title of a past activity, report text, people served, photo captions, published as news)
REPORTS = (
    (
        "重阳敬老志愿服务",
        "重阳节当天，中山社区志愿服务队走进辖区12户独居老人家中，打扫卫生、测量血压、陪老人聊天，"
        "并为行动不便的老人送去了重阳糕和生活用品。",
        12,
        ("为老人测量血压", "打扫卫生", "志愿者合影"),
        True,
    ),
    (
        "垃圾分类入户宣传",
        "志愿者分三组入户发放垃圾分类指南，讲解厨余垃圾与其他垃圾的区别，现场回答居民提问。",
        86,
        ("入户宣传", "分类指导"),
        False,
    ),
)
# Warm red to gold, as the portal's colours; one pair for each photo in turn.
_GRADIENTS = (
    ((183, 28, 28), (255, 193, 7)),
    ((46, 125, 50), (200, 230, 201)),
    ((21, 101, 192), (187, 222, 251)),
)


def demo_photo(label: str, index: int, size=(1200, 900)) -> SimpleUploadedFile:
    """A JPEG drawn here: a diagonal gradient with `label` (ASCII: Pillow's own font has no Chinese)."""
    top, bottom = _GRADIENTS[index % len(_GRADIENTS)]
    width, height = size
    mask = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, height - 140, width - 40, height - 40), fill=(255, 255, 255))
    draw.text((70, height - 110), label, fill=(60, 60, 60), font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(f"demo-{index}.jpg", buffer.getvalue(), content_type="image/jpeg")


def _reports(station: Unit, admin, organiser) -> int:
    made = 0
    for title, text, people, captions, published in REPORTS:
        activity = Activity.objects.filter(unit=station, title=title).first()
        if activity is None or ActivityReport.objects.filter(activity=activity).exists():
            continue
        day = timezone.localtime(activity.started_at).strftime("%Y-%m-%d")
        photos = [(demo_photo(f"{day}  #{n + 1}", n), caption) for n, caption in enumerate(captions)]
        with transaction.atomic():
            report = services.report_submit(
                actor=organiser, activity=activity, text=text, people_served=people, photos=photos
            )
            if published:
                services.report_publish(actor=admin, report=report)
        made += 1
    return made
