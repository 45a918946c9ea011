"""Filters of the residents' requests API: a unit is one the caller sees, else a 400."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.api import StrictBooleanFilter
from stations.api import UnitChoiceFilter
from stations.models import Unit

from .models import RequestStatus, ServiceRequest


def _visible_units(request):
    return Unit.objects.visible_to(request.user) if request else Unit.objects.none()


class ServiceRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, label=_("status"))
    unit = UnitChoiceFilter(
        queryset=_visible_units, method="filter_unit", label=_("unit within the subtree of")
    )
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("past its step's time limit"))

    class Meta:
        model = ServiceRequest
        fields = ("status", "unit", "overdue")

    def filter_unit(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.not_overdue(now)
