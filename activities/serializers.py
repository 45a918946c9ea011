"""Shapes of the activities API.

Output shapes document what the endpoints answer, for the schema; the endpoints build the same shapes from
`.values()` rows (kernel.api.ValuesListMixin). A volunteer appears as id, volunteer number and name only:
never a phone (an organiser is shown by name, never by the login, which is a volunteer's phone).
Attendance never shows where a volunteer checked in, only whether they shared it.

Input shapes check the form of a request (types, lengths, ids among the rows the caller may name); the
rules are the services', whose refusals the API answers as a 400 with the field and the message.
"""

from __future__ import annotations

from rest_framework import serializers

from kernel.api import IdField
from projects.models import Project
from stations.models import Platform, Unit

from .models import Activity, Attendance, Signup

# --- Output --------------------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(read_only=True)
    project_name = serializers.CharField(read_only=True, allow_null=True)
    domain_name = serializers.CharField(read_only=True, allow_null=True)
    longitude = serializers.FloatField(read_only=True, allow_null=True)
    latitude = serializers.FloatField(read_only=True, allow_null=True)
    status_display = serializers.CharField(read_only=True)
    places_left = serializers.IntegerField(read_only=True)
    open_for_signup = serializers.BooleanField(
        read_only=True, help_text="Published and inside its recruitment window now."
    )

    class Meta:
        model = Activity
        fields = (
            "id",
            "title",
            "unit",
            "unit_name",
            "project",
            "project_name",
            "domain",
            "domain_name",
            "venue",
            "longitude",
            "latitude",
            "started_at",
            "ended_at",
            "capacity",
            "accepted_count",
            "waitlisted_count",
            "places_left",
            "signup_opens_at",
            "signup_closes_at",
            "needs_insurance",
            "status",
            "status_display",
            "open_for_signup",
        )
        read_only_fields = fields


class OrganiserSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The organiser's account.")
    name = serializers.CharField()


class OwnSignupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()


class ActivityDetailSerializer(ActivitySerializer):
    insurance_confirmed = serializers.BooleanField(read_only=True)
    map_url = serializers.CharField(read_only=True, help_text="The venue in a map app, or empty.")
    organisers = OrganiserSerializer(many=True, read_only=True)
    my_signup = OwnSignupSerializer(
        read_only=True, allow_null=True, help_text="The caller's own sign-up, if they are a volunteer."
    )

    class Meta(ActivitySerializer.Meta):
        fields = (
            *ActivitySerializer.Meta.fields,
            "description",
            "requirements",
            "insurance_note",
            "insurance_confirmed",
            "published_at",
            "finished_at",
            "cancelled_at",
            "cancel_reason",
            "map_url",
            "organisers",
            "my_signup",
        )
        read_only_fields = fields


class SignupSerializer(serializers.ModelSerializer):
    activity_title = serializers.CharField(read_only=True)
    activity_started_at = serializers.DateTimeField(read_only=True)
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = Signup
        fields = (
            "id",
            "activity",
            "activity_title",
            "activity_started_at",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "status",
            "status_display",
            "queued_at",
            "promoted_at",
            "cancelled_at",
        )
        read_only_fields = fields


class MySignupSerializer(serializers.ModelSerializer):
    activity_title = serializers.CharField(read_only=True)
    activity_venue = serializers.CharField(read_only=True)
    activity_started_at = serializers.DateTimeField(read_only=True)
    activity_ended_at = serializers.DateTimeField(read_only=True)
    activity_status = serializers.CharField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = Signup
        fields = (
            "id",
            "activity",
            "activity_title",
            "activity_venue",
            "activity_started_at",
            "activity_ended_at",
            "activity_status",
            "unit_name",
            "status",
            "status_display",
            "queued_at",
            "promoted_at",
            "cancelled_at",
        )
        read_only_fields = fields


class AttendanceSerializer(serializers.ModelSerializer):
    activity_title = serializers.CharField(read_only=True)
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    in_method_display = serializers.CharField(read_only=True)
    out_method_display = serializers.CharField(read_only=True)
    location_shared = serializers.BooleanField(read_only=True, help_text="With the volunteer's consent.")
    out_method = serializers.CharField(
        read_only=True, help_text="How the check-out was made (one of in_method's values); empty until then."
    )

    class Meta:
        model = Attendance
        fields = (
            "id",
            "activity",
            "activity_title",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "checked_in_at",
            "checked_out_at",
            "in_method",
            "in_method_display",
            "out_method",
            "out_method_display",
            "in_arrived_late",
            "out_arrived_late",
            "missed_checkout",
            "location_shared",
            "record",
        )
        read_only_fields = fields


# --- Input ---------------------------------------------------------------------------------------------


def _units(user):
    return Unit.objects.visible_to(user)


def _platforms(user):
    return Platform.objects.visible_to(user)


def _projects(user):
    """Projects an activity may be planned under: those the caller sees, and any published one (the
    county's brands); the service checks the county and the status."""
    return Project.objects.visible_to(user) | Project.objects.public()


class ActivityCreateSerializer(serializers.Serializer):
    unit = IdField(_units)
    title = serializers.CharField(max_length=100, allow_blank=True)
    venue = serializers.CharField(max_length=200, allow_blank=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=100_000)
    signup_opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    signup_closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    project = IdField(_projects, required=False, allow_null=True, default=None)
    domain = IdField(_platforms, required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    requirements = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    needs_insurance = serializers.BooleanField(required=False, default=False)
    insurance_note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    report_days = serializers.IntegerField(
        min_value=0,
        max_value=90,
        required=False,
        allow_null=True,
        default=None,
        help_text="Days after the end the report is due; omitted: the county's usual number.",
    )
    organisers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=50,
        help_text="Accounts that organise it; omitted: the caller.",
    )


class ActivityCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class InsuranceSerializer(serializers.Serializer):
    insurance_note = serializers.CharField(
        max_length=200, allow_blank=True, help_text="The insurer or policy."
    )


# --- Reports ---------------------------------------------------------------------------------------------


class ReportPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    image = serializers.CharField(help_text="The photo's URL.")
    thumbnail = serializers.CharField(
        allow_null=True, help_text="A JPEG at most 480 pixels on its longer side."
    )
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    caption = serializers.CharField()
    position = serializers.IntegerField()


class ActivityReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    activity = serializers.IntegerField()
    activity_title = serializers.CharField()
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    activity_ended_at = serializers.DateTimeField()
    text = serializers.CharField()
    people_served = serializers.IntegerField()
    published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    photos = ReportPhotoSerializer(many=True)


class ReportPhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP; checked and re-encoded by the image intake.")
    caption = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ReportPhotoRemoveSerializer(serializers.Serializer):
    photo = serializers.IntegerField(min_value=1)
