"""The reads of the activities' public pages: the public list with its filters, and a volunteer's
sign-ups. Every list is a fixed number of queries however long it is."""

from __future__ import annotations

import datetime

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from .models import Activity, Attendance, Signup


def public_activities(*, domain=None, unit=None, date_from=None, date_to=None, open=False, now=None):
    """Non-draft activities starting between the dates (local days), those not ended yet first (soonest
    first), then the past (latest first)."""
    now = now or timezone.now()
    activities = Activity.objects.public().select_related("unit", "domain")
    if domain is not None:
        activities = activities.filter(domain=domain)
    if unit is not None:
        activities = activities.filter(unit__path__startswith=unit.path)
    if date_from is not None:
        start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
        activities = activities.filter(started_at__gte=start)
    if date_to is not None:
        next_day = date_to + datetime.timedelta(days=1)
        end = timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))
        activities = activities.filter(started_at__lt=end)
    if open:
        activities = activities.open_for_signup(now)
    past = Case(When(ended_at__lte=now, then=Value(1)), default=Value(0), output_field=IntegerField())
    upcoming_start = Case(When(ended_at__gt=now, then=F("started_at")))
    past_start = Case(When(ended_at__lte=now, then=F("started_at")))
    return activities.order_by(past, upcoming_start.asc(), past_start.desc(), "id")


def public_activity(activity_id: int):
    return (
        Activity.objects.public().select_related("unit", "domain", "project").filter(pk=activity_id).first()
    )


def signup_of(activity, volunteer) -> Signup | None:
    return Signup.objects.filter(activity=activity, volunteer=volunteer).first()


def attendance_of(activity, volunteer) -> Attendance | None:
    return Attendance.objects.filter(activity=activity, volunteer=volunteer).first()


def my_signups(volunteer):
    """The volunteer's sign-ups with their activity and attendance, latest activity first."""
    return (
        Signup.objects.filter(volunteer=volunteer)
        .select_related("activity", "activity__unit", "attendance")
        .order_by("-activity__started_at", "-id")
    )
