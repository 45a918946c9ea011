"""Output shapes of the stations API."""

from rest_framework import serializers

from .models import Platform, Unit


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    recognition_level_display = serializers.CharField(source="get_recognition_level_display", read_only=True)
    parent_name = serializers.CharField(source="parent.name", read_only=True, default=None)

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
    center_name = serializers.CharField(source="center.name", read_only=True)

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


class UnitFeatureSerializer(serializers.Serializer):
    """One unit as a GeoJSON Feature (RFC 7946: coordinates are [longitude, latitude])."""

    def to_representation(self, unit):
        return {
            "type": "Feature",
            "id": unit.pk,
            "geometry": {"type": "Point", "coordinates": [float(unit.longitude), float(unit.latitude)]},
            "properties": {
                "name": unit.name,
                "kind": unit.kind,
                "kind_display": unit.get_kind_display(),
                "code": unit.code,
                "parent": unit.parent_id,
                "recognition_level": unit.recognition_level,
                "address": unit.address,
            },
        }
