"""Read-only REST endpoints for volunteers, teams, memberships and transfers, scoped by each model's rule.

Personal data is masked for every caller: an answer holds the masked ID number and the masked phone,
never the full ones (dashboards need counts, not people's numbers).
"""

from __future__ import annotations

import django_filters
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kernel.api import CursorPagination, FilterBackend, ListColumnsMixin
from kernel.masking import mask_phone
from stations.api import UnitChoiceFilter
from stations.api_scoping import HeldSubtreeMixin, ScopedReadOnlyViewSet, SubtreeOfFilterMixin
from stations.models import Platform, Unit

from .identity import Gender
from .models import (
    Education,
    MembershipRole,
    MembershipStatus,
    PoliticalStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamType,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
    VolunteerStatus,
)
from .serializers import TeamMembershipSerializer, TeamSerializer, TransferSerializer, VolunteerSerializer


@extend_schema_field(OpenApiTypes.INT)
class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """An id among the rows the caller sees: else a 400, as for an id that does not exist."""


def _visible(model):
    def queryset(request):
        return model.objects.visible_to(request.user) if request else model.objects.none()

    return queryset


# --- Volunteers ----------------------------------------------------------------------------------------


class VolunteerFilter(SubtreeOfFilterMixin, django_filters.FilterSet):
    subtree_lookup = "home_unit"
    unit = UnitChoiceFilter(field_name="home_unit", queryset=_visible(Unit), label=_("home unit"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible(Unit), method="filter_subtree_of", label=_("home unit within the subtree of")
    )
    team = IdChoiceFilter(queryset=_visible(Team), method="filter_team", label=_("members of the team"))
    domain = IdChoiceFilter(queryset=_visible(Platform), method="filter_domain", label=_("service domain"))
    status = django_filters.ChoiceFilter(choices=VolunteerStatus.choices, label=_("status"))
    registered_after = django_filters.DateFilter(
        field_name="registered_on", lookup_expr="gte", label=_("registered on or after")
    )
    registered_before = django_filters.DateFilter(
        field_name="registered_on", lookup_expr="lte", label=_("registered on or before")
    )

    class Meta:
        model = Volunteer
        fields = ("unit", "subtree_of", "team", "domain", "status", "registered_after", "registered_before")

    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        members = TeamMembership.objects.filter(team=value, status=MembershipStatus.ACTIVE)
        return queryset.filter(pk__in=members.values("volunteer_id"))

    def filter_domain(self, queryset, name, value):
        if not value:
            return queryset
        chosen = Volunteer.domains.through.objects.filter(platform=value)
        return queryset.filter(pk__in=chosen.values("volunteer_id"))


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class OldestFirstPagination(CursorPagination):
    ordering = "id"


def _volunteer_domains():
    return Volunteer.domains.through.objects.order_by("platform_id"), "volunteer_id", "platform_id"


class VolunteerViewSet(HeldSubtreeMixin, ListColumnsMixin, ScopedReadOnlyViewSet):
    """Registered volunteers (注册志愿者) of the caller's units, and the members of the teams a team leader
    leads, newest first. The ID number and the phone are masked for every caller.

    Pages follow a cursor (`next`, `previous`): the cost of a page does not grow with the county."""

    model = Volunteer
    subtree_lookup = "home_unit"
    serializer_class = VolunteerSerializer
    filterset_class = VolunteerFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "number": "number",
        "name": "name",
        "id_number_masked": "id_number_masked",
        "gender": "gender",
        "gender_display": "gender",
        "birth_year": "birth_year",
        "phone_masked": "phone",
        "political_status": "political_status",
        "political_status_display": "political_status",
        "education": "education",
        "education_display": "education",
        "home_unit": "home_unit_id",
        "home_unit_name": "home_unit__name",
        "domains": "_list_domains",
        "status": "status",
        "status_display": "status",
        "registered_on": "registered_on",
    }
    labels = {
        "gender_display": ("gender", Gender),
        "political_status_display": ("political_status", PoliticalStatus),
        "education_display": ("education", Education),
        "status_display": ("status", VolunteerStatus),
    }
    converters = {"phone_masked": mask_phone}  # the full phone is read to mask it, never shown
    list_columns = {"domains": _volunteer_domains}

    def get_queryset(self):
        queryset = self.held_subtree()
        if queryset is None:
            queryset = super().get_queryset()
        return queryset.annotate(birth_year=ExtractYear("birth_date"))


# --- Teams ---------------------------------------------------------------------------------------------


class TeamFilter(django_filters.FilterSet):
    unit = UnitChoiceFilter(queryset=_visible(Unit), label=_("unit"))
    subtree_of = UnitChoiceFilter(
        queryset=_visible(Unit), method="filter_subtree_of", label=_("unit within the subtree of")
    )
    kind = django_filters.ChoiceFilter(choices=TeamKind.choices, label=_("level"))
    domain = IdChoiceFilter(queryset=_visible(Platform), label=_("service domain"))

    class Meta:
        model = Team
        fields = ("unit", "subtree_of", "kind", "domain")

    def filter_subtree_of(self, queryset, name, value):
        return queryset.filter(unit__path__startswith=value.path) if value else queryset


class TreeOrderPagination(CursorPagination):
    ordering = "path"


def _team_leaders():
    leaders = TeamMembership.objects.filter(role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE)
    return leaders.order_by("id"), "team_id", "volunteer__name"


class TeamViewSet(ListColumnsMixin, ScopedReadOnlyViewSet):
    """Volunteer teams (总队 › 大队 › 分队) on the caller's units, and the teams a team leader leads with
    their sub-teams, in tree order, with how many active members each has and its leaders' names."""

    model = Team
    serializer_class = TeamSerializer
    filterset_class = TeamFilter
    pagination_class = TreeOrderPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "name": "name",
        "kind": "kind",
        "kind_display": "kind",
        "parent": "parent_id",
        "depth": "depth",
        "unit": "unit_id",
        "unit_name": "unit__name",
        "domain": "domain_id",
        "domain_name": "domain__name",
        "team_type": "team_type",
        "team_type_display": "team_type",
        "is_active": "is_active",
        "member_count": "member_count",
        "leader_names": "_list_leader_names",
    }
    labels = {"kind_display": ("kind", TeamKind), "team_type_display": ("team_type", TeamType)}
    hidden_values = ("path",)
    list_columns = {"leader_names": _team_leaders}

    def get_queryset(self):
        active = (
            TeamMembership.objects.filter(team=OuterRef("pk"), status=MembershipStatus.ACTIVE)
            .order_by()
            .values("team")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset().annotate(member_count=Coalesce(Subquery(active), Value(0)))


# --- Memberships ---------------------------------------------------------------------------------------


class TeamMembershipFilter(django_filters.FilterSet):
    team = IdChoiceFilter(queryset=_visible(Team), label=_("team"))
    volunteer = IdChoiceFilter(queryset=_visible(Volunteer), label=_("volunteer"))
    status = django_filters.ChoiceFilter(choices=MembershipStatus.choices, label=_("status"))
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices, label=_("role"))

    class Meta:
        model = TeamMembership
        fields = ("team", "volunteer", "status", "role")


class TeamMembershipViewSet(ScopedReadOnlyViewSet):
    """Who is in which team, as what (leader or member), since and until when; requests to join are
    memberships waiting for approval."""

    model = TeamMembership
    serializer_class = TeamMembershipSerializer
    filterset_class = TeamMembershipFilter
    pagination_class = OldestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "team": "team_id",
        "team_name": "team__name",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "role": "role",
        "role_display": "role",
        "status": "status",
        "status_display": "status",
        "joined_on": "joined_on",
        "left_on": "left_on",
    }
    labels = {"role_display": ("role", MembershipRole), "status_display": ("status", MembershipStatus)}


# --- Transfers -----------------------------------------------------------------------------------------


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices, label=_("status"))
    kind = django_filters.ChoiceFilter(choices=TransferKind.choices, label=_("kind"))

    class Meta:
        model = Transfer
        fields = ("status", "kind")


class TransferViewSet(ScopedReadOnlyViewSet):
    """Transfers (关系转接) into or out of the caller's units or led teams, newest first: both sides see
    them; the receiving side decides."""

    model = Transfer
    serializer_class = TransferSerializer
    filterset_class = TransferFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "volunteer": "volunteer_id",
        "volunteer_number": "volunteer__number",
        "volunteer_name": "volunteer__name",
        "kind": "kind",
        "kind_display": "kind",
        "from_unit": "from_unit_id",
        "from_unit_name": "from_unit__name",
        "to_unit": "to_unit_id",
        "to_unit_name": "to_unit__name",
        "from_team": "from_team_id",
        "from_team_name": "from_team__name",
        "to_team": "to_team_id",
        "to_team_name": "to_team__name",
        "status": "status",
        "status_display": "status",
        "reason": "reason",
        "requested_at": "created_at",
        "decided_at": "decided_at",
        "decision_note": "decision_note",
    }
    labels = {"kind_display": ("kind", TransferKind), "status_display": ("status", TransferStatus)}
