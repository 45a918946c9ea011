"""REST endpoints of the project library (项目库) and the yearly key-project lists (重点项目清单).

Every list is scoped by its model's rule, paginated by cursor and built from `.values()` rows, so it costs
the same queries at 1 row and at 50 (a list's twelve months and their projects and units come in three
queries for the whole page). Every write calls the projects services, whose refusals answer as a 400
with the field and the message.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel.api import CursorPagination, FilterBackend
from kernel.schema import with_error_responses
from stations.api_scoping import HeldSubtreeMixin, ScopedReadOnlyViewSet

from . import services
from .filters import KeyProjectListFilter, ProjectFilter
from .models import KeyProjectList, KeyProjectMonth, Project, ProjectStatus
from .serializers import (
    KeyProjectListSerializer,
    ProjectCloseSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
)


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class Writes:
    """What the write endpoints share: input checked by a small serializer, rows found in the caller's
    list (else a 404), the row answered as the list shows it."""

    def read_input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def listed(self, pk, queryset=None):
        """The object `pk` of the caller's list (or of `queryset`), or a 404."""
        found = (self.get_queryset() if queryset is None else queryset).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def row(self, pk, queryset=None) -> dict:
        rows = self.values_queryset(self.get_queryset() if queryset is None else queryset).filter(pk=pk)
        found = rows.first()
        if found is None:
            raise Http404
        return self.build_rows([found])[0]


class ProjectViewSet(HeldSubtreeMixin, Writes, ScopedReadOnlyViewSet):
    """Projects of the library (项目库) whose responsible unit lies in the caller's scope, newest first.
    A project is added (POST) as a draft, then published, started and closed (结项, with its report)."""

    model = Project
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "name": "name",
        "unit": "unit_id",
        "unit_name": "unit__name",
        "domain": "domain_id",
        "domain_name": "domain__name",
        "description": "description",
        "is_brand": "is_brand",
        "status": "status",
        "status_display": "status",
        "created_at": "created_at",
        "published_at": "published_at",
        "started_at": "started_at",
        "closed_at": "closed_at",
        "closing_report": "closing_report",
        "closing_people_served": "closing_people_served",
        "closing_volunteers": "closing_volunteers",
        "closing_hours": "closing_hours",
    }
    labels = {"status_display": ("status", ProjectStatus)}
    converters = {"closing_hours": str}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        projects = self.held_subtree()
        if projects is None:
            projects = Project.objects.visible_to(self.request.user)
        return projects.order_by("-id")

    @extend_schema(request=ProjectCreateSerializer, responses=with_error_responses({201: ProjectSerializer}))
    def create(self, request, *args, **kwargs):
        """Add a project to the library, as a draft, for a unit in the caller's scope."""
        data = self.read_input(ProjectCreateSerializer)
        project = services.project_create(actor=request.user, **data)
        return Response(self.row(project.pk), status=status.HTTP_201_CREATED)

    def _move(self, pk, to: str, **report):
        project = self.listed(pk)
        services.project_transition(actor=self.request.user, project=project.pk, to=to, **report)
        return Response(self.row(project.pk))

    @extend_schema(request=None, responses=with_error_responses({200: ProjectSerializer}))
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a draft: activities may then be planned under it."""
        return self._move(pk, ProjectStatus.PUBLISHED)

    @extend_schema(request=None, responses=with_error_responses({200: ProjectSerializer}))
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """A published project is running."""
        return self._move(pk, ProjectStatus.RUNNING)

    @extend_schema(request=ProjectCloseSerializer, responses=with_error_responses({200: ProjectSerializer}))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a running project (结项) with its report: the text, the people served and, if known, the
        volunteers and hours."""
        self.listed(pk)
        data = self.read_input(ProjectCloseSerializer)
        return self._move(pk, ProjectStatus.CLOSED, **data)


def _months_of(plan_ids) -> dict[int, list[dict]]:
    """The months of the plans `plan_ids`, each with its projects and responsible units: three queries,
    whatever the number of plans."""
    if not plan_ids:
        return {}
    months = list(
        KeyProjectMonth.objects.filter(plan_id__in=plan_ids)
        .order_by("plan_id", "month")
        .values("id", "plan_id", "month", "theme", "key_dates", "note")
    )
    links = {"projects": {}, "responsible_units": {}}
    month_ids = [month["id"] for month in months]
    projects = KeyProjectMonth.projects.through.objects.filter(keyprojectmonth_id__in=month_ids)
    for month_id, pk, name in projects.order_by("project__name", "project_id").values_list(
        "keyprojectmonth_id", "project_id", "project__name"
    ):
        links["projects"].setdefault(month_id, []).append({"id": pk, "name": name})
    units = KeyProjectMonth.responsible_units.through.objects.filter(keyprojectmonth_id__in=month_ids)
    for month_id, pk, name in units.order_by("unit__path").values_list(
        "keyprojectmonth_id", "unit_id", "unit__name"
    ):
        links["responsible_units"].setdefault(month_id, []).append({"id": pk, "name": name})
    found: dict[int, list[dict]] = {}
    for month in months:
        plan_id = month.pop("plan_id")
        month["projects"] = links["projects"].get(month["id"], [])
        month["responsible_units"] = links["responsible_units"].get(month["id"], [])
        found.setdefault(plan_id, []).append(month)
    return found


class KeyProjectListViewSet(HeldSubtreeMixin, ScopedReadOnlyViewSet):
    """Yearly key-project lists (重点项目清单) of the units in the caller's scope, newest first, each with
    its twelve months: theme, key dates, projects and responsible units. Kept in the admin."""

    model = KeyProjectList
    serializer_class = KeyProjectListSerializer
    filterset_class = KeyProjectListFilter
    pagination_class = NewestFirstPagination
    filter_backends = (FilterBackend,)
    values_fields = {
        "id": "id",
        "unit": "unit_id",
        "unit_name": "unit__name",
        "year": "year",
        "title": "title",
        "note": "note",
        "created_at": "created_at",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return KeyProjectList.objects.none()
        plans = self.held_subtree()
        if plans is None:
            plans = KeyProjectList.objects.visible_to(self.request.user)
        return plans.order_by("-id")

    def build_rows(self, rows) -> list[dict]:
        items = super().build_rows(rows)
        months = _months_of([item["id"] for item in items])
        for item in items:
            item["months"] = months.get(item["id"], [])
        return items
