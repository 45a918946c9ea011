"""Activities for tests, made through the services: `make_activity` plans and publishes one (its sign-up
open now unless told otherwise), `sign_up` signs a volunteer up."""

import datetime

from django.utils import timezone

from activities import services
from activities.models import Activity


def at(hours: float = 0, *, days: int = 0) -> datetime.datetime:
    """A moment `days` and `hours` from now (negative: before), on the minute."""
    moment = timezone.now() + datetime.timedelta(days=days, hours=hours)
    return moment.replace(second=0, microsecond=0)


def make_activity(
    unit,
    title="社区环境整治",
    *,
    start=None,
    hours=3.0,
    capacity=20,
    organisers=(),
    publish=True,
    actor=None,
    **fields,
) -> Activity:
    start = start or at(days=2)
    fields.setdefault("venue", "村委会广场")
    activity = services.activity_create(
        actor=actor,
        unit=unit,
        title=title,
        started_at=start,
        ended_at=start + datetime.timedelta(hours=hours),
        capacity=capacity,
        organisers=organisers,
        **fields,
    )
    if publish:
        if activity.needs_insurance and activity.insurance_confirmed_at is None:
            services.activity_confirm_insurance(actor=None, activity=activity, note="人保财险 团体意外险")
        activity = services.activity_publish(actor=None, activity=activity)
    return activity


def write_activity(unit, *, start, hours=3.0, status="published", capacity=20, title="写入的活动", **fields):
    """An activity written straight to the table (no checks): a past or running one for a test."""
    return Activity.objects.create(
        unit=unit,
        title=title,
        venue=fields.pop("venue", "村委会"),
        started_at=start,
        ended_at=start + datetime.timedelta(hours=hours),
        capacity=capacity,
        signup_opens_at=start - datetime.timedelta(days=7),
        signup_closes_at=start,
        status=status,
        **fields,
    )


def sign_up(activity, volunteer):
    return services.signup_create(actor=volunteer.user, activity=activity, volunteer=volunteer)
