"""Output shapes of the volunteers API, for the schema. The endpoints build the same shapes from `.values()`
rows (kernel.api.ValuesListMixin); a test checks every answer against these.

No shape holds a full ID number or a full phone: only their masks."""

from rest_framework import serializers

from .models import Education, Team, TeamMembership, Transfer, Volunteer


class VolunteerSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.CharField(read_only=True, help_text="Masked: 3501**********1234.")
    gender_display = serializers.CharField(read_only=True)
    birth_year = serializers.IntegerField(read_only=True)
    phone_masked = serializers.CharField(read_only=True, help_text="Masked: 138****5678.")
    political_status_display = serializers.CharField(read_only=True)
    education = serializers.ChoiceField(choices=Education.choices, allow_blank=True, read_only=True)
    education_display = serializers.CharField(read_only=True)
    home_unit_name = serializers.CharField(read_only=True)
    domains = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Ids of the service platforms."
    )
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = Volunteer
        fields = (
            "id",
            "number",
            "name",
            "id_number_masked",
            "gender",
            "gender_display",
            "birth_year",
            "phone_masked",
            "political_status",
            "political_status_display",
            "education",
            "education_display",
            "home_unit",
            "home_unit_name",
            "domains",
            "status",
            "status_display",
            "registered_on",
        )
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(read_only=True)
    unit_name = serializers.CharField(read_only=True)
    domain_name = serializers.CharField(read_only=True, allow_null=True)
    team_type_display = serializers.CharField(read_only=True)
    member_count = serializers.IntegerField(read_only=True, help_text="Active members, leaders included.")
    leader_names = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Team
        fields = (
            "id",
            "name",
            "kind",
            "kind_display",
            "parent",
            "depth",
            "unit",
            "unit_name",
            "domain",
            "domain_name",
            "team_type",
            "team_type_display",
            "is_active",
            "member_count",
            "leader_names",
        )
        read_only_fields = fields


class TeamMembershipSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(read_only=True)
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    role_display = serializers.CharField(read_only=True)
    status_display = serializers.CharField(read_only=True)

    class Meta:
        model = TeamMembership
        fields = (
            "id",
            "team",
            "team_name",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "role",
            "role_display",
            "status",
            "status_display",
            "joined_on",
            "left_on",
        )
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    volunteer_number = serializers.CharField(read_only=True)
    volunteer_name = serializers.CharField(read_only=True)
    kind_display = serializers.CharField(read_only=True)
    from_unit_name = serializers.CharField(read_only=True)
    to_unit_name = serializers.CharField(read_only=True)
    from_team_name = serializers.CharField(read_only=True, allow_null=True)
    to_team_name = serializers.CharField(read_only=True, allow_null=True)
    status_display = serializers.CharField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Transfer
        fields = (
            "id",
            "volunteer",
            "volunteer_number",
            "volunteer_name",
            "kind",
            "kind_display",
            "from_unit",
            "from_unit_name",
            "to_unit",
            "to_unit_name",
            "from_team",
            "from_team_name",
            "to_team",
            "to_team_name",
            "status",
            "status_display",
            "reason",
            "requested_at",
            "decided_at",
            "decision_note",
        )
        read_only_fields = fields
