"""Shapes of the records API.

Output shapes document what the endpoints answer, for the schema; the endpoints build the same shapes from
`.values()` rows (kernel.api.ValuesListMixin), and a test checks every answer against these. A volunteer
appears as id, volunteer number and name only: never a phone or an ID number.

Input shapes check the form of a request (types, lengths, ids among the rows the caller may name); the
rules are the services', whose refusals the API answers as a 400 with the field and the message.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext
from rest_framework import serializers

from kernel.api import MAX_ID, IdField
from stations.models import Unit
from stations.paths import path_segment
from stations.scoping import scope_for
from volunteers.models import Team, Volunteer

from .models import (
    Certificate,
    CorrectionRequest,
    Evaluation,
    EvaluationGrade,
    RecordEvent,
    RecordFlag,
    ServiceRecord,
    Training,
)

# --- Output --------------------------------------------------------------------------------------------


class ServiceRecordSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    team_name = serializers.CharField(read_only=True, allow_null=True)
    source_display = serializers.CharField(read_only=True)
    status_display = serializers.CharField(read_only=True)
    has_evidence_photo = serializers.BooleanField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    superseded_by = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The record of the correction that replaced this one, which then no longer counts.",
    )
    flagged = serializers.BooleanField(read_only=True, help_text="It has an open review flag.")

    class Meta:
        model = ServiceRecord
        fields = (
            "id",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "unit",
            "unit_name",
            "team",
            "team_name",
            "content",
            "started_at",
            "ended_at",
            "service_date",
            "hours",
            "source",
            "source_display",
            "status",
            "status_display",
            "evidence_note",
            "has_evidence_photo",
            "submitted_at",
            "decided_at",
            "decision_note",
            "supersedes",
            "superseded_by",
            "flagged",
        )
        read_only_fields = fields


class RecordEventSerializer(serializers.ModelSerializer):
    action_display = serializers.CharField(read_only=True)
    before = serializers.DictField(read_only=True, help_text="The fields before the step.")
    after = serializers.DictField(read_only=True, help_text="The fields after the step.")

    class Meta:
        model = RecordEvent
        fields = ("id", "action", "action_display", "actor_name", "at", "before", "after", "note")
        read_only_fields = fields


class RecordFlagBriefSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(read_only=True)

    class Meta:
        model = RecordFlag
        fields = ("id", "kind", "kind_display", "detail", "is_open", "created_at", "cleared_at", "note")
        read_only_fields = fields


class ServiceRecordDetailSerializer(ServiceRecordSerializer):
    events = RecordEventSerializer(many=True, read_only=True, help_text="The audit trail, oldest first.")
    flags = RecordFlagBriefSerializer(many=True, read_only=True, help_text="Review flags, open or cleared.")

    class Meta(ServiceRecordSerializer.Meta):
        fields = (*ServiceRecordSerializer.Meta.fields, "events", "flags")
        read_only_fields = fields


class BulkRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()


class BulkOutcomeSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the records decided.")
    refused = BulkRefusalSerializer(many=True, help_text="The records left as they were, and why.")


class _OfRecordSerializer(serializers.ModelSerializer):
    """The record a row belongs to, as a correction and a flag show it: what, when, how long, whose
    (number and name only), and for which unit."""

    record_content = serializers.CharField(read_only=True)
    record_service_date = serializers.DateField(read_only=True)
    record_hours = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    volunteer = serializers.IntegerField(read_only=True)
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    unit = serializers.IntegerField(read_only=True)
    unit_name = serializers.CharField(read_only=True)


class CorrectionSerializer(_OfRecordSerializer):
    status_display = serializers.CharField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = CorrectionRequest
        fields = (
            "id",
            "record",
            "record_content",
            "record_service_date",
            "record_hours",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "unit",
            "unit_name",
            "reason",
            "content",
            "started_at",
            "ended_at",
            "status",
            "status_display",
            "requested_at",
            "decided_at",
            "decision_note",
            "new_record",
        )
        read_only_fields = fields


class RecordFlagSerializer(_OfRecordSerializer):
    kind_display = serializers.CharField(read_only=True)
    record_status = serializers.CharField(read_only=True)
    record_status_display = serializers.CharField(read_only=True)

    class Meta:
        model = RecordFlag
        fields = (
            "id",
            "kind",
            "kind_display",
            "detail",
            "created_at",
            "is_open",
            "record",
            "record_content",
            "record_service_date",
            "record_hours",
            "record_status",
            "record_status_display",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "unit",
            "unit_name",
            "other_record",
        )
        read_only_fields = fields


class TrainingSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    unit_name = serializers.CharField(read_only=True)

    class Meta:
        model = Training
        fields = (
            "id",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "unit",
            "unit_name",
            "title",
            "organiser",
            "date",
            "hours",
        )
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    team_name = serializers.CharField(read_only=True)
    grade_display = serializers.CharField(read_only=True)

    class Meta:
        model = Evaluation
        fields = (
            "id",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "team",
            "team_name",
            "year",
            "grade",
            "grade_display",
            "comment",
            "updated_at",
        )
        read_only_fields = fields


class CertificateSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    issuer_name = serializers.CharField(read_only=True)
    status_display = serializers.CharField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="The PDF, once issued (also after revoking)."
    )

    class Meta:
        model = Certificate
        fields = (
            "id",
            "number",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "issuer",
            "issuer_name",
            "period_from",
            "period_to",
            "status",
            "status_display",
            "total_hours",
            "requested_at",
            "issued_at",
            "revoked_at",
            "revoke_reason",
            "download_url",
        )
        read_only_fields = fields


class MyTotalsSerializer(serializers.Serializer):
    hours = serializers.DecimalField(max_digits=9, decimal_places=2, help_text="Approved hours, in total.")
    star_level = serializers.IntegerField(help_text="0 to the number of star thresholds.")
    next_level = serializers.IntegerField(allow_null=True, help_text="Null at the top level.")
    next_threshold = serializers.IntegerField(allow_null=True, help_text="Hours the next level needs.")
    hours_to_next = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    percent = serializers.IntegerField(help_text="Progress from this level to the next, 0 to 100.")
    pending_count = serializers.IntegerField(help_text="Own records waiting for approval.")


# --- Input ---------------------------------------------------------------------------------------------


def _units(user):
    return Unit.objects.visible_to(user)


def _teams(user):
    return Team.objects.visible_to(user)


def record_entry_volunteers(user):
    """Whom staff or a leader may name on a record: volunteers they see, or registered in a county where
    they work (the service then checks the unit, the team and the county)."""
    scope = scope_for(user)
    if scope.is_global:
        return Volunteer.objects.all()
    q = Q(pk__in=Volunteer.objects.visible_to(user).values("pk"))
    for center_id in scope.center_ids():
        q |= Q(home_unit__path__startswith=path_segment(center_id))
    return Volunteer.objects.filter(q)


def correctable_records(user):
    """The records a caller may ask to correct: those they see, and their own."""
    return ServiceRecord.objects.visible_to(user) | ServiceRecord.objects.filter(volunteer__user_id=user.pk)


def _training_volunteers(user):
    from .trainings import training_volunteers

    return training_volunteers(user)


def _evaluation_volunteers(user):
    from .trainings import evaluation_volunteers

    return evaluation_volunteers(user)


def certificate_volunteers(user):
    """Whom a certificate may be asked for: the volunteers the caller sees, and the caller themselves."""
    return Volunteer.objects.filter(
        Q(pk__in=Volunteer.objects.visible_to(user).values("pk")) | Q(user_id=user.pk)
    )


def _any_unit(user):
    return Unit.objects.all()


class ServiceRecordCreateSerializer(serializers.Serializer):
    volunteer = IdField(record_entry_volunteers)
    unit = IdField(_units, required=False, allow_null=True, help_text="Needed unless a team is given.")
    team = IdField(_teams, required=False, allow_null=True)
    content = serializers.CharField(max_length=200, allow_blank=True)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    evidence_note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    evidence_photo = serializers.FileField(required=False, allow_null=True, default=None)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class RecordsDecideSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )
    decision = serializers.ChoiceField(choices=(("approve", "approve"), ("reject", "reject")))
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, data):
        # One reason for all: asked for before any record is tried, as the rejection of each would.
        if data["decision"] == "reject" and not data["reason"].strip():
            raise serializers.ValidationError({"reason": [gettext("Give the reason for the rejection.")]})
        return data


class CorrectionCreateSerializer(serializers.Serializer):
    record = IdField(correctable_records)
    reason = serializers.CharField(max_length=300, allow_blank=True)
    content = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CorrectionAcceptSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class TrainingCreateSerializer(serializers.Serializer):
    volunteer = IdField(_training_volunteers)
    unit = IdField(_units)
    title = serializers.CharField(max_length=200)
    organiser = serializers.CharField(max_length=100)
    date = serializers.DateField()
    hours = serializers.DecimalField(max_digits=5, decimal_places=1)


class TrainingUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    organiser = serializers.CharField(max_length=100)
    date = serializers.DateField()
    hours = serializers.DecimalField(max_digits=5, decimal_places=1)


class EvaluationCreateSerializer(serializers.Serializer):
    volunteer = IdField(_evaluation_volunteers)
    team = IdField(_teams)
    year = serializers.IntegerField()
    grade = serializers.ChoiceField(choices=EvaluationGrade.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class EvaluationUpdateSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=EvaluationGrade.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CertificateCreateSerializer(serializers.Serializer):
    volunteer = IdField(
        certificate_volunteers, required=False, allow_null=True, default=None, help_text="Omitted: your own."
    )
    issuer = IdField(_any_unit, help_text="The issuing unit.")
    period_from = serializers.DateField(required=False, allow_null=True, default=None)
    period_to = serializers.DateField(required=False, allow_null=True, default=None)
