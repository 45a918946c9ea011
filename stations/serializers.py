"""Output shapes of the stations API, for the schema. The endpoints build the same shapes from
`.values()` rows (kernel.api.ValuesListMixin); a test checks every answer against these."""

from rest_framework import serializers

from .models import Platform, Unit


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(read_only=True)
    recognition_level_display = serializers.CharField(read_only=True)
    parent_name = serializers.CharField(read_only=True, allow_null=True)
    longitude = serializers.FloatField(read_only=True, allow_null=True)
    latitude = serializers.FloatField(read_only=True, allow_null=True)
    contact_phone = serializers.CharField(
        read_only=True, help_text="Masked (138****5678) for roles that need not see it."
    )

    class Meta:
        model = Unit
        fields = (
            "id",
            "kind",
            "kind_display",
            "name",
            "code",
            "parent",
            "parent_name",
            "depth",
            "category",
            "address",
            "longitude",
            "latitude",
            "contact_person",
            "contact_phone",
            "recognition_level",
            "recognition_level_display",
            "highlight",
            "is_active",
        )
        read_only_fields = fields


class PlatformSerializer(serializers.ModelSerializer):
    center_name = serializers.CharField(read_only=True)

    class Meta:
        model = Platform
        fields = (
            "id",
            "center",
            "center_name",
            "name",
            "code",
            "responsible_department",
            "description",
            "order",
            "is_active",
        )
        read_only_fields = fields
