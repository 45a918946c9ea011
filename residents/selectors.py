"""Reads of residents' requests: the overdue ones (for the reminders), the private status page, and who
sees a resident's phone whole."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from activities.models import Activity
from kernel.masking import mask_phone
from stations.scoping import scope_for
from volunteers.capabilities import TEAM_TREE

from .capabilities import Capability
from .models import RequestEvent, ServiceRequest
from .services import request_by_token


def overdue_requests(now=None):
    """Requests whose present step is past its time limit, the most overdue first, each with its
    `step_due_at`: not dispatched in time (› the dispatchers of its unit), not answered in time (› the
    dispatcher), not completed in time (› the team). Not scoped: the reminders send each to its people."""
    now = now or timezone.now()
    return (
        ServiceRequest.objects.overdue(now)
        .select_related("unit", "team", "dispatched_by")
        .order_by("step_due_at", "id")
    )


def status_page(token: str) -> ServiceRequest | None:
    """A request of a private link, with its steps and its activities, or None."""
    found = request_by_token(token)
    if found is None:
        return None
    return (
        ServiceRequest.objects.select_related("unit", "domain", "team")
        .prefetch_related(
            Prefetch("events", queryset=RequestEvent.objects.order_by("at", "id")),
            Prefetch("activities", queryset=Activity.objects.order_by("started_at", "id")),
        )
        .get(pk=found.pk)
    )


def sees_phone(user, *, dispatched_by_id, accepted_by_id, team_path) -> bool:
    """The resident's phone is whole only for the dispatcher and the serving team (its leaders, or
    whoever accepted for it); everyone else sees it masked."""
    if user is None or not user.is_authenticated:
        return False
    if user.pk in (dispatched_by_id, accepted_by_id):
        return True
    return bool(team_path) and scope_for(user).tree_contains_path(
        TEAM_TREE, team_path, capability=Capability.REQUESTS_SERVE
    )


def phone_for(user, request: ServiceRequest) -> str:
    team_path = request.team.path if request.team_id else ""
    if sees_phone(
        user,
        dispatched_by_id=request.dispatched_by_id,
        accepted_by_id=request.accepted_by_id,
        team_path=team_path,
    ):
        return request.phone
    return mask_phone(request.phone)
