"""Reads of the projects app: the public library and the yearly key-project list as a 12-month grid."""

from __future__ import annotations

from django.db.models import Prefetch

from stations.models import Unit

from .models import KeyProjectList, KeyProjectMonth, Project, ProjectPhoto


def public_projects(*, domain_id: int | None = None):
    """Non-draft projects, brand projects first."""
    projects = Project.objects.public().select_related("unit", "domain")
    if domain_id:
        projects = projects.filter(domain_id=domain_id)
    return projects.order_by("-is_brand", "-published_at", "-id")


def public_project(project_id: int) -> Project | None:
    return (
        Project.objects.public()
        .select_related("unit", "domain")
        .prefetch_related(Prefetch("photos", queryset=ProjectPhoto.objects.order_by("id")))
        .filter(pk=project_id)
        .first()
    )


def key_list_grid(plan_id: int) -> KeyProjectList | None:
    """A key-project list with its twelve months, their public projects and their responsible units.
    Public: a list names units and projects, never a person."""
    months = KeyProjectMonth.objects.order_by("month").prefetch_related(
        Prefetch("projects", queryset=Project.objects.public().order_by("name")),
        Prefetch("responsible_units", queryset=Unit.objects.order_by("path")),
    )
    return (
        KeyProjectList.objects.select_related("unit")
        .prefetch_related(Prefetch("months", queryset=months))
        .filter(pk=plan_id)
        .first()
    )


def key_lists(*, year: int | None = None):
    lists = KeyProjectList.objects.select_related("unit")
    return lists.filter(year=year) if year else lists
