"""Filters of the records API: each id a filter takes is one the caller sees, else a 400 that says no more
than for an id that does not exist."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kernel.api import OrderingFilter, StrictBooleanFilter
from stations.api import UnitChoiceFilter
from stations.api_scoping import SubtreeOfFilterMixin
from stations.models import Unit
from volunteers.api import IdChoiceFilter
from volunteers.models import Team, Volunteer

from .models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    EvaluationGrade,
    FlagKind,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
    Training,
)


def _visible(model):
    def queryset(request):
        return model.objects.visible_to(request.user) if request else model.objects.none()

    return queryset


def record_volunteers(request):
    """The volunteers whose records the caller may filter by: those they see, and those who served in a
    unit or team whose records they see (a volunteer of the next township at one of their events)."""
    if request is None:
        return Volunteer.objects.none()
    served = ServiceRecord.objects.visible_to(request.user).filter(volunteer=OuterRef("pk"))
    seen = Volunteer.objects.visible_to(request.user).values("pk")
    return Volunteer.objects.filter(Q(pk__in=seen) | Q(Exists(served)))


class ServiceRecordFilter(SubtreeOfFilterMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices, label=_("status"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible(Unit), method="filter_subtree_of", label=_("organising unit within the subtree of")
    )
    team = IdChoiceFilter(queryset=_visible(Team), label=_("team"))
    volunteer = IdChoiceFilter(queryset=record_volunteers, label=_("volunteer"))
    date_from = django_filters.DateFilter(
        field_name="service_date", lookup_expr="gte", label=_("service on or after")
    )
    date_to = django_filters.DateFilter(
        field_name="service_date", lookup_expr="lte", label=_("service on or before")
    )
    flagged = StrictBooleanFilter(method="filter_flagged", label=_("with an open review flag"))

    class Meta:
        model = ServiceRecord
        fields = ("status", "subtree_of", "team", "volunteer", "date_from", "date_to", "flagged")

    def filter_flagged(self, queryset, name, value):
        if value is None:
            return queryset
        open_flags = Exists(RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True))
        return queryset.filter(open_flags if value else ~open_flags)


class CorrectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CorrectionStatus.choices, label=_("status"))

    class Meta:
        model = CorrectionRequest
        fields = ("status",)


class RecordFlagFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices, label=_("kind"))

    class Meta:
        model = RecordFlag
        fields = ("kind",)


class TrainingFilter(django_filters.FilterSet):
    volunteer = IdChoiceFilter(queryset=_visible(Volunteer), label=_("volunteer"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("on or after"))
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("on or before"))

    class Meta:
        model = Training
        fields = ("volunteer", "date_from", "date_to")


class EvaluationFilter(django_filters.FilterSet):
    team = IdChoiceFilter(queryset=_visible(Team), label=_("team"))
    year = django_filters.NumberFilter(label=_("year"))
    grade = django_filters.ChoiceFilter(choices=EvaluationGrade.choices, label=_("grade"))

    class Meta:
        model = Evaluation
        fields = ("team", "year", "grade")


class CertificateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CertificateStatus.choices, label=_("status"))

    class Meta:
        model = Certificate
        fields = ("status",)


class RecordOrdering(OrderingFilter):
    """Ordering by a column that repeats (many records start at the same time, an activity's check-in): the
    id follows in the same direction, so the order is total and a cursor walks it without skipping."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        ordering = list(ordering)
        if ordering[-1].lstrip("-") not in ("id", "pk"):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering
