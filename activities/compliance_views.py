"""The 「月月有活动」 page: the stations of the viewer's scope that missed a month, and the full matrix."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from stations.scoping import scope_for

from .compliance import HELD, MISSING, PLANNED, month_compliance


@login_required
def compliance(request):
    if not request.user.is_staff or scope_for(request.user).is_empty:
        raise Http404
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not 2018 <= year <= today.year + 1:
        year = today.year
    # This year counts up to the current month; a past year all twelve; a future one none yet.
    until = today.month if year == today.year else (12 if year < today.year else 0)
    matrix = month_compliance(request.user, year)
    missing = [(row, row.missing_until(until)) for row in matrix]
    return render(
        request,
        "activities/compliance.html",
        {
            "year": year,
            "years": list(range(today.year + 1, 2017, -1)),
            "matrix": matrix,
            "missing": [(row, months) for row, months in missing if months],
            "month_numbers": range(1, 13),
            "HELD": HELD,
            "PLANNED": PLANNED,
            "MISSING": MISSING,
        },
    )
