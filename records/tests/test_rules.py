"""The counting rules: how a service's length becomes hours (one configurable rounding), and the star
levels with the progress to the next (configurable thresholds)."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from records import rules, selectors
from records.models import ServiceRecord

from .factories import day_at, submit

START = timezone.make_aware(datetime.datetime(2026, 3, 5, 9, 0))


def counted(minutes: int) -> Decimal:
    return rules.hours_between(START, START + datetime.timedelta(minutes=minutes))


# --- Hours --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "step", "minutes", "hours"),
    [
        # The default: down to half hours.
        ("DOWN", 30, 110, "1.50"),
        ("DOWN", 30, 120, "2.00"),
        ("DOWN", 30, 29, "0.00"),
        ("DOWN", 30, 65, "1.00"),
        ("NEAREST", 30, 110, "2.00"),
        ("NEAREST", 30, 65, "1.00"),
        ("NEAREST", 30, 75, "1.50"),  # half a step rounds up
        ("NEAREST", 30, 14, "0.00"),
        ("UP", 30, 65, "1.50"),
        ("UP", 30, 1, "0.50"),
        ("UP", 30, 120, "2.00"),
        ("DOWN", 15, 110, "1.75"),
        ("DOWN", 15, 14, "0.00"),
        ("NEAREST", 15, 68, "1.25"),
        ("NEAREST", 15, 67, "1.00"),
        ("UP", 15, 110, "2.00"),
        ("UP", 15, 61, "1.25"),
    ],
)
def test_a_length_is_rounded_by_the_configured_rule_and_step(rounding, step, minutes, hours):
    with override_settings(SERVICE_HOURS_ROUNDING=rounding, SERVICE_HOURS_STEP_MINUTES=step):
        assert counted(minutes) == Decimal(hours)


def test_a_length_rounds_by_its_seconds_too():
    # 29 min 59 s is not half an hour; 30 min 0 s is.
    end = START + datetime.timedelta(minutes=29, seconds=59)
    assert rules.hours_between(START, end) == Decimal("0.00")
    assert rules.hours_between(START, START + datetime.timedelta(minutes=30)) == Decimal("0.50")


def test_a_negative_length_counts_nothing():
    assert rules.hours_between(START, START - datetime.timedelta(hours=1)) == Decimal("0.00")


def test_the_default_rule_is_down_to_half_hours_with_a_twelve_hour_day(settings):
    assert (settings.SERVICE_HOURS_ROUNDING, settings.SERVICE_HOURS_STEP_MINUTES) == ("DOWN", 30)
    assert rules.day_cap() == Decimal(12)
    with override_settings(SERVICE_HOURS_DAY_CAP=8):
        assert rules.day_cap() == Decimal(8)


@pytest.mark.django_db
def test_a_submitted_record_counts_its_hours_by_the_rule_in_force(crew):
    start = day_at(3, 9)
    with override_settings(SERVICE_HOURS_ROUNDING="UP", SERVICE_HOURS_STEP_MINUTES=15):
        up = submit(crew.volunteer, start=start, hours=1 + 5 / 60)  # 1 h 05 min
    down = submit(crew.volunteer, start=day_at(4, 9), hours=1 + 5 / 60)
    assert up.hours == Decimal("1.25") and down.hours == Decimal("1.00")
    assert ServiceRecord.objects.get(pk=up.pk).hours == Decimal("1.25")


def test_the_service_date_is_the_local_date_of_the_start():
    # 23:30 in Shanghai is 15:30 UTC the same day; 00:30 is 16:30 UTC of the day before.
    late = timezone.make_aware(datetime.datetime(2026, 3, 5, 23, 30))
    early = timezone.make_aware(datetime.datetime(2026, 3, 6, 0, 30))
    assert rules.local_date(late) == datetime.date(2026, 3, 5)
    assert rules.local_date(early) == datetime.date(2026, 3, 6)
    assert rules.local_date(early.astimezone(datetime.UTC)) == datetime.date(2026, 3, 6)


def test_a_week_runs_from_monday_to_sunday():
    assert rules.week_bounds(datetime.date(2026, 3, 5)) == (
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 8),
    )
    assert rules.week_bounds(datetime.date(2026, 3, 2)) == (
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 8),
    )
    assert rules.week_bounds(datetime.date(2026, 3, 8)) == (
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 8),
    )


# --- Stars --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "level", "next_threshold", "to_next", "percent"),
    [
        ("0", 0, 100, "100", 0),
        ("50", 0, 100, "50", 50),
        ("99.5", 0, 100, "0.5", 99),
        ("100", 1, 300, "200", 0),
        ("200", 1, 300, "100", 50),
        ("299.99", 1, 300, "0.01", 99),
        ("300", 2, 600, "300", 0),
        ("450", 2, 600, "150", 50),
        ("600", 3, 1000, "400", 0),
        ("999", 3, 1000, "1", 99),
        ("1000", 4, 1500, "500", 0),
        ("1250", 4, 1500, "250", 50),
    ],
)
def test_stars_by_the_default_thresholds_with_progress_to_the_next(
    hours, level, next_threshold, to_next, percent
):
    stars = rules.stars_for(Decimal(hours))
    assert stars.level == level
    assert stars.hours == Decimal(hours)
    assert (stars.next_level, stars.next_threshold) == (level + 1, next_threshold)
    assert stars.hours_to_next == Decimal(to_next)
    assert stars.percent == percent and not stars.is_top


@pytest.mark.parametrize("hours", ["1500", "1500.5", "4000"])
def test_five_stars_is_the_top(hours):
    stars = rules.stars_for(Decimal(hours))
    assert (stars.level, stars.next_level, stars.next_threshold, stars.hours_to_next) == (5, None, None, None)
    assert stars.percent == 100 and stars.is_top


def test_custom_thresholds_change_the_levels_and_the_progress():
    with override_settings(SERVICE_STAR_THRESHOLDS=[10, 40]):
        assert rules.stars_for(Decimal("9")).level == 0
        assert rules.stars_for(Decimal("9")).percent == 90
        middle = rules.stars_for(Decimal("25"))
        assert (middle.level, middle.next_level, middle.next_threshold) == (1, 2, 40)
        assert (middle.hours_to_next, middle.percent) == (Decimal("15"), 50)
        top = rules.stars_for(Decimal("40"))
        assert (top.level, top.is_top, top.percent) == (2, True, 100)
    # Back to the defaults outside the override.
    assert rules.stars_for(Decimal("40")).level == 0


@pytest.mark.django_db
def test_my_totals_read_the_stored_total_and_its_stars(crew):
    submit(crew.volunteer, start=day_at(2, 9), hours=2)
    crew.volunteer.service_hours = Decimal("320.5")
    totals = selectors.my_totals(crew.volunteer)
    assert totals.hours == Decimal("320.5") and totals.pending_count == 1
    assert (totals.stars.level, totals.stars.next_threshold, totals.stars.percent) == (2, 600, 6)
