"""The activities' pages. Thin: every write is a service of activities.services, every read a selector."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from .models import Activity


def activity_list(request):
    activities = Activity.objects.public().select_related("unit").order_by("-started_at", "-id")[:50]
    return render(request, "activities/list.html", {"activities": activities})


def activity_detail(request, activity_id: int):
    activity = get_object_or_404(Activity.objects.public().select_related("unit"), pk=activity_id)
    return render(request, "activities/detail.html", {"activity": activity})
