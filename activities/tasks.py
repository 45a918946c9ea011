"""Celery tasks of the activities app: short wrappers that call a service. Task names are a public API."""

from celery import shared_task

from kernel.locks import single_run

from . import services


@shared_task(name="activities.advance", acks_late=True, time_limit=600, soft_time_limit=540)
def advance() -> dict:
    """Start begun activities and finish those past their check-out grace (services.activities_advance);
    one run at a time, and each activity claimed under its lock besides."""
    with single_run("activities.advance", stale_after=900) as got:
        return services.activities_advance() if got else {}
