"""Shapes of the projects API.

Output shapes document what the endpoints answer, for the schema; the endpoints build the same shapes from
`.values()` rows (kernel.api.ValuesListMixin). Input shapes check the form of a request; the rules are the
services', whose refusals the API answers as a 400 with the field and the message.
"""

from __future__ import annotations

from rest_framework import serializers

from kernel.api import IdField
from stations.models import Platform, Unit

from .models import KeyProjectList, Project

# --- Output --------------------------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(read_only=True)
    domain_name = serializers.CharField(read_only=True, allow_null=True)
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = Project
        fields = (
            "id",
            "name",
            "unit",
            "unit_name",
            "domain",
            "domain_name",
            "description",
            "is_brand",
            "status",
            "status_display",
            "created_at",
            "published_at",
            "started_at",
            "closed_at",
            "closing_report",
            "closing_people_served",
            "closing_volunteers",
            "closing_hours",
        )
        read_only_fields = fields


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class KeyProjectMonthSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.IntegerField(help_text="1 to 12.")
    theme = serializers.CharField()
    key_dates = serializers.CharField()
    note = serializers.CharField()
    projects = NamedSerializer(many=True)
    responsible_units = NamedSerializer(many=True)


class KeyProjectListSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(read_only=True)
    months = KeyProjectMonthSerializer(many=True, read_only=True, help_text="The twelve months, in order.")

    class Meta:
        model = KeyProjectList
        fields = ("id", "unit", "unit_name", "year", "title", "note", "created_at", "months")
        read_only_fields = fields


# --- Input ---------------------------------------------------------------------------------------------


def _units(user):
    return Unit.objects.visible_to(user)


def _platforms(user):
    return Platform.objects.visible_to(user)


class ProjectCreateSerializer(serializers.Serializer):
    unit = IdField(_units)
    name = serializers.CharField(max_length=100, allow_blank=True)
    domain = IdField(_platforms, required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    is_brand = serializers.BooleanField(required=False, default=False)


class ProjectCloseSerializer(serializers.Serializer):
    closing_report = serializers.CharField(allow_blank=True, help_text="What the project did.")
    people_served = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    volunteers = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    hours = serializers.DecimalField(
        max_digits=10, decimal_places=1, required=False, allow_null=True, default=None, min_value=0
    )
