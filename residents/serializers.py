"""Shapes of the residents' requests API. The output shape documents what the endpoints build from
`.values()` rows; the input shapes check the form of a step, whose rules are the services'."""

from __future__ import annotations

from rest_framework import serializers

from activities.models import Activity
from kernel.api import IdField

from .models import ServiceRequest
from .services import dispatch_teams, linkable_activities


class ServiceRequestSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(read_only=True)
    domain_name = serializers.CharField(read_only=True, allow_null=True)
    team_name = serializers.CharField(read_only=True, allow_null=True)
    status_display = serializers.CharField(read_only=True)
    resident_phone = serializers.CharField(
        read_only=True, help_text="Masked unless the caller dispatched or serves it."
    )
    due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ServiceRequest
        fields = (
            "id",
            "reference",
            "resident_name",
            "resident_phone",
            "unit",
            "unit_name",
            "domain",
            "domain_name",
            "description",
            "status",
            "status_display",
            "team",
            "team_name",
            "submitted_at",
            "dispatched_at",
            "accepted_at",
            "serving_at",
            "completed_at",
            "rated_at",
            "cancelled_at",
            "decline_reason",
            "cancel_reason",
            "rating",
            "rating_comment",
            "due_at",
            "overdue",
        )


class RequestDispatchSerializer(serializers.Serializer):
    # A team outside the caller's scope is refused as one that does not exist.
    team = IdField(dispatch_teams)


class RequestReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RequestLinkActivitySerializer(serializers.Serializer):
    """The view passes the request in the context as `service_request`: only its team's activities are
    ids that exist here."""

    activity = IdField(lambda user: Activity.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        found = self.context.get("service_request")  # none while the schema is drawn
        if found is not None:
            self.fields["activity"].queryset_for = lambda user: linkable_activities(found)
