"""Filters of the awards API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from kernel.api import StrictBooleanFilter

from .models import Award, AwardKind


class AwardFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("year"))
    kind = django_filters.ModelChoiceFilter(queryset=AwardKind.objects.all(), label=_("kind"))
    revoked = StrictBooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, label=_("revoked")
    )

    class Meta:
        model = Award
        fields = ("year", "kind", "revoked")
