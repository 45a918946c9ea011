"""Filters of the projects API: each id a filter takes is one the caller sees, else a 400 that says no more
than for an id that does not exist."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from kernel.api import StrictBooleanFilter
from stations.api import UnitChoiceFilter
from stations.api_scoping import SubtreeOfFilterMixin
from stations.models import Platform, Unit
from volunteers.api import IdChoiceFilter

from .models import KeyProjectList, Project, ProjectStatus


def _visible(model):
    def queryset(request):
        return model.objects.visible_to(request.user) if request else model.objects.none()

    return queryset


class ProjectFilter(SubtreeOfFilterMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, label=_("status"))
    domain = IdChoiceFilter(queryset=_visible(Platform), label=_("service domain"))
    brand = StrictBooleanFilter(field_name="is_brand", label=_("brand project"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible(Unit), method="filter_subtree_of", label=_("responsible unit within the subtree of")
    )

    class Meta:
        model = Project
        fields = ("status", "domain", "brand", "subtree_of")


class KeyProjectListFilter(SubtreeOfFilterMixin, django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("year"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible(Unit), method="filter_subtree_of", label=_("unit within the subtree of")
    )

    class Meta:
        model = KeyProjectList
        fields = ("year", "subtree_of")
