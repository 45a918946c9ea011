"""Reads for reports on the unit tree, scoped to the user who asks: the per-township summary.

Every figure is grouped by the institute prefix of the materialized path (the first two fixed-width
segments), so a summary is three grouped queries whatever the size of the county. What a user sees is
what `visible_to` gives them: an institute admin their own township; a station admin the township of
their station, counted over their own subtree only (the row says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Left

from .models import Inspection, Unit, UnitKind
from .paths import path_length
from .scoping import scope_for

INSTITUTE_PATH_LENGTH = path_length(depth=1)  # center segment + institute segment
CENTER_PATH_LENGTH = path_length(depth=0)


@dataclass(frozen=True)
class SummaryRow:
    path: str  # the institute's path; "" for the total
    center: str
    institute: str
    institute_active: bool
    partial: bool  # the user sees only part of the township (a station admin)
    stations: int
    points: int
    inspections: int
    score_sum: Decimal

    @property
    def average_score(self) -> Decimal | None:
        if not self.inspections:
            return None
        return (self.score_sum / self.inspections).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def institute_summary(*, user) -> tuple[list[SummaryRow], SummaryRow]:
    """One row per township the user sees (in tree order) and the total row: active stations and active
    points of the township, and the number and average score of all inspections of the institute and of
    every unit below it, of any date."""
    scope = scope_for(user)
    units = (
        Unit.objects.visible_to(user)
        .filter(depth__gte=1)
        .annotate(institute_path=Left("path", INSTITUTE_PATH_LENGTH))
        .values("institute_path")
        .annotate(
            stations=Count("pk", filter=Q(kind=UnitKind.STATION, is_active=True)),
            points=Count("pk", filter=Q(kind=UnitKind.POINT, is_active=True)),
        )
        .order_by()
    )
    inspections = (
        Inspection.objects.visible_to(user)
        .filter(unit__depth__gte=1)
        .annotate(institute_path=Left("unit__path", INSTITUTE_PATH_LENGTH))
        .values("institute_path")
        .annotate(count=Count("pk"), score_sum=Sum("score"))
        .order_by()
    )
    counts = {row["institute_path"]: row for row in units}
    scores = {row["institute_path"]: row for row in inspections}
    paths = sorted(set(counts) | set(scores))
    # The institutes and centers above what the user sees: their names, as the breadcrumbs show them.
    names = {
        path: (name, active)
        for path, name, active in Unit.objects.filter(
            path__in=paths + sorted({path[:CENTER_PATH_LENGTH] for path in paths})
        ).values_list("path", "name", "is_active")
    }
    rows = []
    for path in paths:
        unit_counts, unit_scores = counts.get(path, {}), scores.get(path, {})
        name, active = names.get(path, ("", False))
        rows.append(
            SummaryRow(
                path=path,
                center=names.get(path[:CENTER_PATH_LENGTH], ("", False))[0],
                institute=name,
                institute_active=active,
                partial=not scope.contains_path(path),
                stations=unit_counts.get("stations", 0),
                points=unit_counts.get("points", 0),
                inspections=unit_scores.get("count", 0),
                score_sum=unit_scores.get("score_sum") or Decimal(0),
            )
        )
    total = SummaryRow(
        path="",
        center="",
        institute="",
        institute_active=True,
        partial=any(row.partial for row in rows),
        stations=sum(row.stations for row in rows),
        points=sum(row.points for row in rows),
        inspections=sum(row.inspections for row in rows),
        score_sum=sum((row.score_sum for row in rows), Decimal(0)),
    )
    return rows, total
