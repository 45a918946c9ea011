"""The demo county's awards, which `manage.py seed_demo` adds after the projects: the default award kinds,
and last year's and this year's awards to a few demo volunteers (some of whom chose to show their name),
teams, projects and stations, given by the county center. Made through the services; an award is looked
for by (year, kind, recipient) first, so a second run adds nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from projects.models import Project, ProjectStatus
from stations import demo_data as units_demo
from stations.models import Unit, UnitKind
from volunteers.models import Team, Volunteer, VolunteerStatus

from . import services
from .kinds import ensure_default_kinds
from .models import Award, AwardKind, RecipientType

CITATIONS = {
    "最美志愿者": "常年坚持入户走访独居老人，风雨无阻。",
    "五星志愿者": "累计志愿服务时长超过1500小时。",
    "最佳志愿服务组织": "扎根村居，常态化开展理论宣讲和便民服务。",
    "最佳志愿服务项目": "项目覆盖全县，群众满意度高。",
    "最美志愿服务社区": "“一站一品牌”建设成效突出。",
}
PER_KIND = {"volunteer": 3, "team": 2, "project": 2, "unit": 2}


def _recipients(center: Unit) -> dict[str, list]:
    subtree = center.path
    return {
        RecipientType.VOLUNTEER: list(
            Volunteer.objects.filter(home_unit__path__startswith=subtree, status=VolunteerStatus.ACTIVE)
            .select_related("home_unit")
            .order_by("id")[:6]
        ),
        RecipientType.TEAM: list(
            Team.objects.filter(unit__path__startswith=subtree, is_active=True)
            .select_related("unit")
            .order_by("id")[:4]
        ),
        RecipientType.PROJECT: list(
            Project.objects.filter(unit__path__startswith=subtree)
            .exclude(status=ProjectStatus.DRAFT)
            .select_related("unit")
            .order_by("-is_brand", "id")[:4]
        ),
        RecipientType.UNIT: list(
            Unit.objects.filter(path__startswith=subtree, kind=UnitKind.STATION, is_active=True).order_by(
                "path"
            )[:4]
        ),
    }


def seed(*, units: dict[str, Unit], accounts: dict, progress) -> tuple[dict[str, int], list, list[str]]:
    center = units[units_demo.CENTER_CODE]
    county = accounts["county"]
    created = 0
    with transaction.atomic():
        kinds_made = ensure_default_kinds(AwardKind)
        recipients = _recipients(center)
        volunteers = recipients[RecipientType.VOLUNTEER]
        # Every other demo volunteer shows their name on the honour rolls; the others are masked.
        shown = [volunteer.pk for volunteer in volunteers[::2]]
        Volunteer.objects.filter(pk__in=shown, public_name=False).update(public_name=True)
        this_year = timezone.localdate().year
        for year in (this_year - 1, this_year):
            for kind in AwardKind.objects.active().order_by("order", "id"):
                field = kind.recipient_type
                pool = recipients.get(field, [])
                # Last year's and this year's go to different rows where there are enough.
                count = PER_KIND[field]
                start = 0 if year == this_year else min(count, max(len(pool) - count, 0))
                for recipient in pool[start : start + count]:
                    if Award.objects.filter(year=year, kind=kind, **{field: recipient}).exists():
                        continue
                    services.award_create(
                        actor=county,
                        giving_unit=center,
                        kind=kind,
                        year=year,
                        citation=CITATIONS.get(kind.name, ""),
                        **{field: recipient},
                    )
                    created += 1
    progress(f"  awards: {created} new, award kinds: {kinds_made} new")
    return {"awards": created, "award kinds": kinds_made}, [], []
