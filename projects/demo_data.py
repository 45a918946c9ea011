"""The demo county's project library and this year's key-project list, which `manage.py seed_demo` adds
after the service records. Made through the services; a project is found by (unit, name) and the list by
(unit, year) before anything is made, so a second run adds nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from stations import demo_data as units_demo
from stations.models import Platform, Unit

from . import services
from .models import KeyProjectList, Project, ProjectStatus

# (name, platform code or None, brand, the status it reaches, description)
PROJECTS = (
    ("红马甲理论宣讲", "theory", True, ProjectStatus.RUNNING, "志愿者走进村居讲政策、讲身边事。"),
    ("四点半课堂", "education", True, ProjectStatus.RUNNING, "放学后为留守儿童辅导功课。"),
    ("邻里守望·敬老助餐", None, False, ProjectStatus.PUBLISHED, "为独居老人送餐、陪聊。"),
    ("2025年全民健身进社区", "sports", False, ProjectStatus.CLOSED, "广场舞、太极拳教学进社区。"),
)
THEMES = {
    1: ("新春送温暖", "1月下旬 春节慰问"),
    2: ("移风易俗树新风", "元宵节"),
    3: ("学雷锋志愿服务月", "3月5日 学雷锋纪念日"),
    4: ("文明祭扫·全民阅读", "清明节；4月23日 世界读书日"),
    5: ("劳动创造幸福", "5月1日 劳动节"),
    6: ("关爱少年儿童", "6月1日 儿童节"),
    7: ("党的光辉照我心", "7月1日 建党纪念日"),
    8: ("全民健身月", "8月8日 全民健身日"),
    9: ("尊师重教", "9月10日 教师节"),
    10: ("礼赞新中国·敬老月", "国庆节；重阳节"),
    11: ("法治宣传进万家", "11月9日 消防日"),
    12: ("宪法宣传周", "12月4日 国家宪法日；12月5日 国际志愿者日"),
}


def seed(*, units: dict[str, Unit], accounts: dict, progress) -> tuple[dict[str, int], list, list[str]]:
    center = units[units_demo.CENTER_CODE]
    county = accounts["county"]
    platforms = {platform.code: platform for platform in Platform.objects.filter(center=center)}
    created = 0
    with transaction.atomic():
        for name, code, brand, status, description in PROJECTS:
            if Project.objects.filter(unit=center, name=name).exists():
                continue
            project = services.project_create(
                actor=county,
                unit=center,
                name=name,
                domain=platforms.get(code) if code else None,
                description=description,
                is_brand=brand,
            )
            path = [ProjectStatus.PUBLISHED, ProjectStatus.RUNNING, ProjectStatus.CLOSED]
            for step in path[: path.index(status) + 1]:
                services.project_transition(
                    actor=county,
                    project=project,
                    to=step,
                    closing_report="全年开展活动48场，覆盖全县12个社区。",
                    people_served=3600,
                    volunteers=120,
                    hours="960",
                )
            created += 1
    year = timezone.localdate().year
    lists = 0
    with transaction.atomic():
        if not KeyProjectList.objects.filter(unit=center, year=year).exists():
            plan = services.key_list_create(actor=county, unit=center, year=year)
            running = list(Project.objects.filter(unit=center, status=ProjectStatus.RUNNING))
            institutes = list(Unit.objects.filter(parent=center, is_active=True).order_by("path")[:2])
            for month in plan.months.order_by("month"):
                theme, dates = THEMES[month.month]
                services.key_month_update(
                    actor=county,
                    month=month,
                    theme=theme,
                    key_dates=dates,
                    projects=running[month.month % len(running) :][:1] if running else [],
                    responsible_units=institutes,
                )
            lists = 1
    progress(f"  projects: {len(PROJECTS)} ({created} new), key-project lists: {lists} new")
    return {"projects": created, "key-project lists": lists}, [], []
