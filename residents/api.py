"""REST endpoints of residents' requests (点单 › 派单 › 接单 › 评单), for the staff and the teams.

The list is scoped by the request's rule (its unit's staff, and the team it was dispatched to), paginated
by cursor and built from `.values()` rows: the same queries at 1 row and at 50. A row's due time is worked
out in Python by models.step_due, the rule `with_due()` writes in SQL: that annotation, built and compiled
for every request, cost the list a seventh of its time (bench/api_reports_requests_awards.py). The
resident's phone is masked unless the caller dispatched the request or serves it. Each step is an action
calling the same service as the admin; a refusal is a 400 with the field and the message, a request
outside the caller's list a 404.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel.api import CursorPagination, FilterBackend, json_datetime
from kernel.masking import mask_phone
from kernel.schema import with_error_responses
from stations.api_scoping import ScopedReadOnlyViewSet

from . import services
from .filters import ServiceRequestFilter
from .models import RequestStatus, ServiceRequest, step_due, step_limits
from .selectors import sees_phone
from .serializers import (
    RequestDispatchSerializer,
    RequestLinkActivitySerializer,
    RequestReasonSerializer,
    ServiceRequestSerializer,
)


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class ServiceRequestViewSet(ScopedReadOnlyViewSet):
    """Residents' requests of the units in the caller's scope (and those dispatched to the teams the
    caller leads), newest first. Filters: status, unit (its subtree), overdue."""

    model = ServiceRequest
    serializer_class = ServiceRequestSerializer
    filterset_class = ServiceRequestFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "reference": "reference",
        "resident_name": "resident_name",
        "resident_phone": "phone",
        "unit": "unit_id",
        "unit_name": "unit__name",
        "domain": "domain_id",
        "domain_name": "domain__name",
        "description": "description",
        "status": "status",
        "status_display": "status",
        "team": "team_id",
        "team_name": "team__name",
        "submitted_at": "submitted_at",
        "dispatched_at": "dispatched_at",
        "accepted_at": "accepted_at",
        "serving_at": "serving_at",
        "completed_at": "completed_at",
        "rated_at": "rated_at",
        "cancelled_at": "cancelled_at",
        "decline_reason": "decline_reason",
        "cancel_reason": "cancel_reason",
        "rating": "rating",
        "rating_comment": "rating_comment",
        "due_at": "status_changed_at",  # filled in by row_transform
        "overdue": "status_changed_at",  # filled in by row_transform
    }
    hidden_values = ("dispatched_by_id", "accepted_by_id", "team__path", "status_changed_at")
    labels = {"status_display": ("status", RequestStatus)}
    converters = dict.fromkeys(
        (
            "submitted_at",
            "dispatched_at",
            "accepted_at",
            "serving_at",
            "completed_at",
            "rated_at",
            "cancelled_at",
        ),
        json_datetime,
    )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceRequest.objects.none()
        return ServiceRequest.objects.visible_to(self.request.user).order_by("-id")

    def row_transform(self):
        user, now, limits = self.request.user, timezone.now(), step_limits()

        def transform(row, item):
            due = step_due(row["status"], row["status_changed_at"], row["accepted_at"], limits)
            item["due_at"] = None if due is None else json_datetime(due)
            item["overdue"] = due is not None and due < now
            if not sees_phone(
                user,
                dispatched_by_id=row["dispatched_by_id"],
                accepted_by_id=row["accepted_by_id"],
                team_path=row["team__path"],
            ):
                item["resident_phone"] = mask_phone(item["resident_phone"])

        return transform

    # --- The steps ---------------------------------------------------------------------------------

    def _input(self, serializer_class, **context) -> dict:
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _listed(self, pk) -> ServiceRequest:
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def _row(self, pk) -> Response:
        row = self.values_queryset(self.get_queryset()).filter(pk=pk).first()
        if row is None:  # e.g. a request now dispatched to a team outside the caller's view
            return Response(status=204)
        return Response(self.build_rows([row])[0])

    @extend_schema(
        request=RequestDispatchSerializer, responses=with_error_responses({200: ServiceRequestSerializer})
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, pk=None):
        """Dispatch (派单) a submitted or declined request to a team of the caller's scope."""
        found = self._listed(pk)
        data = self._input(RequestDispatchSerializer)
        services.request_dispatch(actor=request.user, request=found, team=data["team"])
        return self._row(found.pk)

    @extend_schema(request=None, responses=with_error_responses({200: ServiceRequestSerializer}))
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The team takes the request on (接单)."""
        found = self._listed(pk)
        services.request_accept(actor=request.user, request=found)
        return self._row(found.pk)

    @extend_schema(
        request=RequestReasonSerializer, responses=with_error_responses({200: ServiceRequestSerializer})
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The team cannot serve it, and says why: it goes back to be dispatched again."""
        found = self._listed(pk)
        data = self._input(RequestReasonSerializer)
        services.request_decline(actor=request.user, request=found, reason=data["reason"])
        return self._row(found.pk)

    @extend_schema(
        request=RequestLinkActivitySerializer, responses=with_error_responses({200: ServiceRequestSerializer})
    )
    @action(detail=True, methods=["post"], url_path="link-activity")
    def link_activity(self, request, pk=None):
        """An activity of the serving team serves the request."""
        found = self._listed(pk)
        data = self._input(RequestLinkActivitySerializer, service_request=found)
        services.request_link_activity(actor=request.user, request=found, activity=data["activity"])
        return self._row(found.pk)

    @extend_schema(request=None, responses=with_error_responses({200: ServiceRequestSerializer}))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The team has served it; the resident may rate it."""
        found = self._listed(pk)
        services.request_complete(actor=request.user, request=found)
        return self._row(found.pk)

    @extend_schema(
        request=RequestReasonSerializer, responses=with_error_responses({200: ServiceRequestSerializer})
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw a request before its service began, with the reason."""
        found = self._listed(pk)
        data = self._input(RequestReasonSerializer)
        services.request_cancel(actor=request.user, request=found, reason=data["reason"])
        return self._row(found.pk)
