"""Filters of the activities API. An activity that is not a draft is public, and so are the units and
service domains it is filtered by; sign-ups and attendance take only activities the caller runs, else a
400 that says no more than for an id that does not exist."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.api import StrictBooleanFilter
from stations.api import UnitChoiceFilter
from stations.api_scoping import SubtreeOfFilterMixin
from stations.models import Platform, Unit
from stations.scoping import scope_for
from volunteers.api import IdChoiceFilter

from .models import Activity, ActivityStatus, Attendance, Signup, SignupStatus
from .querysets import RUN_RULE


def _all(model):
    def queryset(request):
        return model.objects.all()

    return queryset


def _run_by(request):
    if request is None:
        return Activity.objects.none()
    return Activity.objects.filter(RUN_RULE.visible_q(scope_for(request.user), request.user))


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ActivityFilter(SubtreeOfFilterMixin, django_filters.FilterSet):
    domain = IdChoiceFilter(queryset=_all(Platform), label=_("service domain"))
    unit = UnitChoiceFilter(queryset=_all(Unit), label=_("organising unit"))
    subtree_of = UnitChoiceFilter(
        queryset=_all(Unit), method="filter_subtree_of", label=_("organising unit within the subtree of")
    )
    status = django_filters.ChoiceFilter(choices=ActivityStatus.choices, label=_("status"))
    date_from = django_filters.DateFilter(method="filter_date_from", label=_("starts on or after"))
    date_to = django_filters.DateFilter(method="filter_date_to", label=_("starts on or before"))
    open_for_signup = StrictBooleanFilter(method="filter_open", label=_("open for sign-up now"))

    class Meta:
        model = Activity
        fields = ("domain", "unit", "subtree_of", "status", "date_from", "date_to", "open_for_signup")

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(started_at__gte=_day_start(value)) if value else queryset

    def filter_date_to(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(started_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        open_now = Q(status=ActivityStatus.PUBLISHED, signup_opens_at__lte=now, signup_closes_at__gt=now)
        return queryset.filter(open_now if value else ~open_now)


class SignupFilter(django_filters.FilterSet):
    activity = IdChoiceFilter(queryset=_run_by, label=_("activity"))
    status = django_filters.ChoiceFilter(choices=SignupStatus.choices, label=_("status"))

    class Meta:
        model = Signup
        fields = ("activity", "status")


class AttendanceFilter(django_filters.FilterSet):
    activity = IdChoiceFilter(queryset=_run_by, label=_("activity"))
    missed_checkout = StrictBooleanFilter(label=_("missed check-out"))

    class Meta:
        model = Attendance
        fields = ("activity", "missed_checkout")


class ActivityReportFilter(django_filters.FilterSet):
    activity = IdChoiceFilter(queryset=_run_by, label=_("activity"))
    published = StrictBooleanFilter(method="filter_published", label=_("published as news"))

    class Meta:
        from .models import ActivityReport

        model = ActivityReport
        fields = ("activity", "published")

    def filter_published(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.published() if value else queryset.unpublished()
