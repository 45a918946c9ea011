"""The counting rules of service hours, each configurable in settings: how a length becomes hours, the
day cap, and the star levels. Pure functions, so pages, services and the tests share one answer."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

_ROUNDING = {"DOWN": ROUND_FLOOR, "NEAREST": ROUND_HALF_UP, "UP": ROUND_CEILING}


def hours_between(started_at: datetime.datetime, ended_at: datetime.datetime) -> Decimal:
    """The hours a service counts for: its length rounded to steps of SERVICE_HOURS_STEP_MINUTES, by
    SERVICE_HOURS_ROUNDING (default: down to half hours, so 1 h 50 min counts 1.5 h)."""
    minutes = Decimal((ended_at - started_at).total_seconds()) / 60
    step = Decimal(settings.SERVICE_HOURS_STEP_MINUTES)
    steps = (minutes / step).quantize(Decimal(1), rounding=_ROUNDING[settings.SERVICE_HOURS_ROUNDING])
    return (max(steps, Decimal(0)) * step / 60).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def day_cap() -> Decimal:
    return Decimal(settings.SERVICE_HOURS_DAY_CAP)


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def week_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of the week of `day`."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


@dataclass(frozen=True)
class Stars:
    level: int  # 0 to len(thresholds)
    hours: Decimal
    next_level: int | None  # None at the top
    next_threshold: int | None
    hours_to_next: Decimal | None
    percent: int  # progress from this level's threshold to the next one, 0–100

    @property
    def is_top(self) -> bool:
        return self.next_level is None


def stars_for(hours: Decimal) -> Stars:
    """The star level for `hours` of approved service, from SERVICE_STAR_THRESHOLDS (default 1★ 100 h,
    2★ 300 h, 3★ 600 h, 4★ 1000 h, 5★ 1500 h), and the progress towards the next."""
    hours = Decimal(hours)
    thresholds = settings.SERVICE_STAR_THRESHOLDS
    level = sum(1 for threshold in thresholds if hours >= threshold)
    if level == len(thresholds):
        return Stars(level, hours, None, None, None, 100)
    floor = Decimal(thresholds[level - 1]) if level else Decimal(0)
    target = Decimal(thresholds[level])
    percent = int((hours - floor) * 100 / (target - floor))
    return Stars(level, hours, level + 1, thresholds[level], target - hours, max(0, min(percent, 100)))
