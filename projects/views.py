"""The public projects pages: the library (brand projects first, by domain), a project with its closing
report, and a key-project list as its year of twelve months. Thin: every read is a selector."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from stations.models import Platform

from . import selectors
from .models import ProjectStatus

PAGE_SIZE = 50
KEY_LISTS_SHOWN = 6  # the latest years' lists, linked above the library


def project_list(request):
    domains = Platform.objects.filter(is_active=True).order_by("id")
    try:
        domain_id = int(request.GET.get("domain") or 0)
    except ValueError:
        domain_id = 0
    projects = selectors.public_projects(domain_id=domain_id or None)
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "projects": page.object_list,
            "domains": domains,
            "domain_id": domain_id,
            "key_lists": selectors.key_lists()[:KEY_LISTS_SHOWN],
        },
    )


def project_detail(request, project_id: int):
    project = selectors.public_project(project_id)
    if project is None:
        raise Http404
    return render(
        request,
        "projects/detail.html",
        {"project": project, "closed": project.status == ProjectStatus.CLOSED},
    )


def key_list(request, plan_id: int):
    plan = selectors.key_list_grid(plan_id)
    if plan is None:
        raise Http404
    return render(request, "projects/key_list.html", {"plan": plan, "months": list(plan.months.all())})
