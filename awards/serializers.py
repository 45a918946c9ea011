"""Shapes of the awards API (documentation for the schema: the endpoint builds them from `.values()` rows)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Award


class AwardSerializer(serializers.ModelSerializer):
    kind_name = serializers.CharField(read_only=True)
    recipient_type = serializers.CharField(read_only=True)
    recipient_name = serializers.CharField(
        read_only=True, help_text="A volunteer's name masked (林**) unless they chose to show it publicly."
    )
    volunteer_number = serializers.CharField(
        read_only=True, allow_null=True, help_text="Only for a volunteer who chose to show their name."
    )
    giving_unit_name = serializers.CharField(read_only=True)

    class Meta:
        model = Award
        fields = (
            "id",
            "year",
            "kind",
            "kind_name",
            "recipient_type",
            "volunteer",
            "team",
            "project",
            "unit",
            "recipient_name",
            "volunteer_number",
            "citation",
            "giving_unit",
            "giving_unit_name",
            "created_at",
            "revoked_at",
            "revoke_reason",
        )
        read_only_fields = fields
