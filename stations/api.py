"""Read-only REST endpoints for units and platforms, scoped to the caller's subtrees."""

from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import filters, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel.api import CursorPagination, FilterBackend, OrderingFilter, StrictBooleanFilter, choice_labels
from kernel.masking import mask_phone
from kernel.schema import with_error_responses

from .api_scoping import ScopedReadOnlyViewSet
from .models import Platform, RecognitionLevel, Unit, UnitKind
from .scoping import Capability, scope_for
from .serializers import PlatformSerializer, UnitSerializer


def _visible_units(request):
    return Unit.objects.visible_to(request.user) if request else Unit.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class UnitChoiceFilter(django_filters.ModelChoiceFilter):
    """A unit id, accepted only inside the caller's scope: else a 400, as for a unit that does not exist."""


class BBoxField(forms.CharField):
    default_error_messages = {
        "invalid": _("Give the box as min_longitude,min_latitude,max_longitude,max_latitude.")
    }

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            box = [Decimal(part) for part in value.split(",")]
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if (
            len(box) != 4
            or not all(part.is_finite() for part in box)
            or not (-180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90)
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return box


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(django_filters.Filter):
    field_class = BBoxField

    def filter(self, qs, value):
        if not value:
            return qs
        west, south, east, north = value
        return qs.filter(longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north)


class UnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label=_("kind"))
    parent = UnitChoiceFilter(queryset=_visible_units, label=_("parent unit"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible_units, method="filter_subtree_of", label=_("within the subtree of")
    )
    level = django_filters.ChoiceFilter(
        field_name="recognition_level", choices=RecognitionLevel.choices, label=_("recognition level")
    )
    is_active = StrictBooleanFilter(label=_("active"))
    bbox = BBoxFilter(label=_("within the box min_longitude,min_latitude,max_longitude,max_latitude"))

    class Meta:
        model = Unit
        fields = ("kind", "parent", "subtree_of", "level", "is_active", "bbox")

    def filter_subtree_of(self, queryset, name, value):
        return queryset.subtree_of(value) if value else queryset


class UnitPagination(CursorPagination):
    ordering = "path"


class GeoJSONPagination(CursorPagination):
    page_size = 1000
    max_page_size = 5000
    ordering = "path"


_FEATURE_COLLECTION = inline_serializer(
    "UnitFeatureCollection",
    fields={
        "type": serializers.CharField(),
        "features": serializers.ListField(child=serializers.DictField()),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    },
)


class UnitViewSet(ScopedReadOnlyViewSet):
    """Units of the practice network (中心、所、站、点) in the caller's subtrees, in tree order.

    Pages follow a cursor (`next`, `previous`): the cost of a page does not grow with the county.
    Contact phones are masked for roles without the need to see them.
    """

    model = Unit
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    pagination_class = UnitPagination
    filter_backends = (FilterBackend, filters.SearchFilter, OrderingFilter)
    search_fields = ("name", "code", "address")
    # Unique columns only: a cursor needs a stable order.
    ordering_fields = ("path", "code")
    ordering = ("path",)
    values_fields = {
        "id": "id",
        "kind": "kind",
        "kind_display": "kind",
        "name": "name",
        "code": "code",
        "parent": "parent_id",
        "parent_name": "parent__name",
        "depth": "depth",
        "category": "category",
        "address": "address",
        "longitude": "longitude",
        "latitude": "latitude",
        "contact_person": "contact_person",
        "contact_phone": "contact_phone",
        "recognition_level": "recognition_level",
        "recognition_level_display": "recognition_level",
        "highlight": "highlight",
        "is_active": "is_active",
    }
    labels = {
        "kind_display": ("kind", UnitKind),
        "recognition_level_display": ("recognition_level", RecognitionLevel),
    }
    converters = {"longitude": float, "latitude": float}
    hidden_values = ("path",)

    def row_transform(self):
        scope = scope_for(self.request.user)
        allowed = scope.roots_for(Capability.UNITS_VIEW_CONTACTS)
        if scope.is_global or allowed == scope.roots:
            return None  # the caller may see every contact they can see at all

        def mask(row, item):
            if not scope.contains_path(row["path"], capability=Capability.UNITS_VIEW_CONTACTS):
                item["contact_phone"] = mask_phone(item["contact_phone"])

        return mask

    @extend_schema(
        responses=with_error_responses({200: _FEATURE_COLLECTION}),
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
    )
    @action(detail=False, url_path="geojson", pagination_class=GeoJSONPagination)
    def geojson(self, request):
        """The filtered units that have coordinates, as GeoJSON (RFC 7946) for a map: up to 1,000
        features a page (`page_size` up to 5,000), with `next` for the rest; `bbox` limits the area."""
        queryset = self.filter_queryset(self.get_queryset()).filter(
            longitude__isnull=False, latitude__isnull=False
        )
        page = self.paginate_queryset(
            queryset.values(
                "id",
                "name",
                "kind",
                "code",
                "parent_id",
                "recognition_level",
                "address",
                "longitude",
                "latitude",
                "path",
            )
        )
        labels = choice_labels(UnitKind)
        features = [
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(row["longitude"]), float(row["latitude"])],
                },
                "properties": {
                    "name": row["name"],
                    "kind": row["kind"],
                    "kind_display": labels[row["kind"]],
                    "code": row["code"],
                    "parent": row["parent_id"],
                    "recognition_level": row["recognition_level"],
                    "address": row["address"],
                },
            }
            for row in page
        ]
        return Response(
            {
                "type": "FeatureCollection",
                "features": features,
                "next": self.paginator.get_next_link(),
                "previous": self.paginator.get_previous_link(),
            }
        )


class PlatformViewSet(ScopedReadOnlyViewSet):
    """Service platforms (分中心/平台) of the centers the caller works under, in one list: reference data,
    a dozen or so per center, so there is nothing to page or count."""

    model = Platform
    serializer_class = PlatformSerializer
    pagination_class = None
    filter_backends = (filters.SearchFilter,)
    search_fields = ("name", "code", "responsible_department")
    values_fields = {
        "id": "id",
        "center": "center_id",
        "center_name": "center__name",
        "name": "name",
        "code": "code",
        "responsible_department": "responsible_department",
        "description": "description",
        "order": "order",
        "is_active": "is_active",
    }

    def get_queryset(self):
        return super().get_queryset().order_by("center_id", "order", "id")
