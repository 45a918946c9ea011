"""「月月有活动」: for each station a user sees, whether it held, planned or missed an activity in each month
of a year. One GROUP BY over activities (by unit and month), rolled up in Python from points to their
station by path, so the query count does not grow with the number of stations."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from stations.models import Unit, UnitKind
from stations.paths import path_prefixes

from .models import Activity, ActivityStatus

HELD = "held"
PLANNED = "planned"
MISSING = "missing"

_HELD_STATUSES = (ActivityStatus.FINISHED, ActivityStatus.RUNNING, ActivityStatus.PUBLISHED)
_PLANNED_STATUSES = (ActivityStatus.PUBLISHED, ActivityStatus.DRAFT)


@dataclass
class StationYear:
    station: Unit
    months: list[str] = field(default_factory=list)  # index 0 is January

    def missing_until(self, month: int) -> list[int]:
        """The months up to `month` (inclusive) in which the station held nothing."""
        return [n for n, state in enumerate(self.months[:month], start=1) if state == MISSING]


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime(year, 1, 1, tzinfo=zone), datetime.datetime(year + 1, 1, 1, tzinfo=zone)


def month_compliance(user, year: int) -> list[StationYear]:
    """Each station `user` sees, ordered by path, with twelve states: held, planned or missing."""
    stations = list(
        Unit.objects.visible_to(user).filter(kind=UnitKind.STATION, is_active=True).order_by("path")
    )
    if not stations:
        return []
    start, end = _year_bounds(year)
    now = timezone.now()
    subtree = Q()
    for station in stations:
        subtree |= Q(unit__path__startswith=station.path)
    # Months are counted in the county's time zone (ExtractMonth uses the current time zone).
    rows = (
        Activity.objects.filter(subtree, started_at__gte=start, started_at__lt=end)
        .exclude(status=ActivityStatus.CANCELLED)
        .annotate(month=ExtractMonth("started_at", tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)))
        .values("unit__path", "month")
        .annotate(
            held=Count("pk", filter=Q(status__in=_HELD_STATUSES, started_at__lte=now)),
            planned=Count("pk", filter=Q(status__in=_PLANNED_STATUSES, started_at__gt=now)),
        )
        .order_by()
    )
    by_path = {station.path: StationYear(station, [MISSING] * 12) for station in stations}
    for row in rows:
        # A point's activity counts for its station: the station's path is a prefix of the point's.
        target = next((by_path[p] for p in path_prefixes(row["unit__path"]) if p in by_path), None)
        if target is None:
            continue
        index = row["month"] - 1
        if row["held"]:
            target.months[index] = HELD
        elif row["planned"] and target.months[index] == MISSING:
            target.months[index] = PLANNED
    return list(by_path.values())
