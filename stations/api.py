"""Read-only REST endpoints for units and platforms, scoped to the user's subtrees."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import filters, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import RecognitionLevel, Unit, UnitKind
from .selectors import platform_list, unit_list
from .serializers import PlatformSerializer, UnitFeatureSerializer, UnitSerializer


def _visible_units(request):
    return unit_list(user=request.user) if request else Unit.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class UnitChoiceFilter(django_filters.ModelChoiceFilter):
    """A unit id, accepted only inside the caller's scope: else a 400, as for a unit that does not exist."""


class UnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label=_("kind"))
    parent = UnitChoiceFilter(queryset=_visible_units, label=_("parent unit"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible_units, method="filter_subtree_of", label=_("within the subtree of")
    )
    level = django_filters.ChoiceFilter(
        field_name="recognition_level", choices=RecognitionLevel.choices, label=_("recognition level")
    )
    is_active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Unit
        fields = ("kind", "parent", "subtree_of", "level", "is_active")

    def filter_subtree_of(self, queryset, name, value):
        return queryset.subtree_of(value) if value else queryset


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Units of the practice network (中心、所、站、点) in the caller's subtrees."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    filter_backends = (
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        filters.OrderingFilter,
    )
    search_fields = ("name", "code", "address")
    ordering_fields = ("path", "name", "code")
    ordering = ("path",)

    def get_queryset(self):
        return unit_list(user=self.request.user)

    @extend_schema(
        responses={
            200: OpenApiResponse(description=str(_("A GeoJSON FeatureCollection of units with coordinates.")))
        }
    )
    @action(detail=False, url_path="geojson", pagination_class=None)
    def geojson(self, request):
        """The filtered units that have coordinates, as one GeoJSON FeatureCollection for a map."""
        units = self.filter_queryset(self.get_queryset()).filter(
            longitude__isnull=False, latitude__isnull=False
        )
        features = UnitFeatureSerializer(units, many=True).data
        return Response({"type": "FeatureCollection", "features": features})


class PlatformViewSet(viewsets.ReadOnlyModelViewSet):
    """Service platforms (分中心/平台) of the centers the caller works under."""

    serializer_class = PlatformSerializer
    filter_backends = (filters.SearchFilter,)
    search_fields = ("name", "code", "responsible_department")

    def get_queryset(self):
        return platform_list(user=self.request.user).order_by("center_id", "order", "id")
