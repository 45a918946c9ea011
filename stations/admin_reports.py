"""Exports and overviews in the admin of the unit tree: Excel exports of the scoped change lists, the
per-township summary, and the points of the unit map.

Every view here answers for the rows the user's change list holds: the same ChangeList (filters, search,
ordering) over the same scoped queryset, so nothing reaches an export, the summary or the map that the
list would not show. Contact phones are masked where the user may not see them whole, as on the change
page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.admin_export import Column, ExcelExportMixin, dated_filename, write_workbook, xlsx_response
from kernel.api import choice_labels
from kernel.masking import mask_phone

from .models import UnitKind
from .reports import institute_summary
from .scoping import Capability, scope_for

# The contact fields masked in an export for rows where the user lacks the capability, by field name.
MASKED_FIELDS = {"contact_phone": mask_phone}

# The map draws at most this many units; a wider list says it was cut and asks to be narrowed.
MAP_MAX_UNITS = 5000
MAP_KIND_COLOURS = {
    UnitKind.CENTER: "#b71c1c",
    UnitKind.INSTITUTE: "#ef6c00",
    UnitKind.STATION: "#1565c0",
    UnitKind.POINT: "#2e7d32",
}


class ScopedExcelExportMixin(ExcelExportMixin):
    """The Excel export for scoped admins: a column of a unit's contact phone (`contact_phone`,
    `parent__contact_phone`, `unit__contact_phone` …) is masked on every row whose unit lies outside the
    subtrees where the user may see contacts."""

    change_list_template = "admin/export_change_list.html"

    def _masked_columns(self, request) -> list[tuple[str, str, object]]:
        """(column path, path of that column's unit's tree path, mask) for each masked column."""
        masked = []
        for column in self.get_export_columns(request):
            *relation, name = column.path.split("__")
            if name in MASKED_FIELDS:
                masked.append((column.path, "__".join([*relation, "path"]), MASKED_FIELDS[name]))
        return masked

    def export_values(self, request):
        return tuple(unit_path for _column, unit_path, _mask in self._masked_columns(request))

    def export_row_transform(self, request):
        masked = self._masked_columns(request)
        scope = scope_for(request.user)
        allowed = scope.roots_for(Capability.UNITS_VIEW_CONTACTS)
        if not masked or scope.is_global or allowed == scope.roots:
            return None  # the user may see every contact of every row they can see at all

        def mask(row):
            for column, unit_path, hide in masked:
                path = row[unit_path]
                if path is None or not scope.contains_path(path, capability=Capability.UNITS_VIEW_CONTACTS):
                    row[column] = hide(row[column] or "")

        return mask


SUMMARY_COLUMNS = (
    ("center", gettext_lazy("practice center")),
    ("institute", gettext_lazy("institute")),
    ("stations", gettext_lazy("active stations")),
    ("points", gettext_lazy("active points")),
    ("inspections", gettext_lazy("number of inspections")),
    ("average_score", gettext_lazy("average score")),
)


class UnitReportsMixin(ScopedExcelExportMixin):
    """The unit admin's export and overviews: the township summary (page and Excel) and the map's points."""

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("summary/", view(self.summary_view), name="stations_unit_summary"),
            path("summary/export/", view(self.summary_export_view), name="stations_unit_summary_export"),
            path("map/", view(self.map_view), name="stations_unit_map"),
        ]
        return own + super().get_urls()

    def _require_view(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "unit_map_tile_url": settings.ADMIN_MAP_TILE_URL,
            "unit_map_tile_attribution": settings.ADMIN_MAP_TILE_ATTRIBUTION,
            "unit_map_max": MAP_MAX_UNITS,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- The township summary ---------------------------------------------------------------------

    def summary_view(self, request):
        self._require_view(request)
        rows, total = institute_summary(user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Township summary"),
            "opts": self.opts,
            "rows": rows,
            "total": total,
            "columns": [label for _key, label in SUMMARY_COLUMNS],
        }
        return TemplateResponse(request, "admin/stations/unit/summary.html", context)

    def summary_export_view(self, request):
        self._require_view(request)
        rows, total = institute_summary(user=request.user)
        columns = [
            Column(path=key, label=str(label), width=24 if key in {"center", "institute"} else 14)
            for key, label in SUMMARY_COLUMNS
        ]
        partial = _("only your own units")

        def values(row):
            institute = f"{row.institute}（{partial}）" if row.partial else row.institute
            return {
                "center": row.center,
                "institute": institute,
                "stations": row.stations,
                "points": row.points,
                "inspections": row.inspections,
                "average_score": row.average_score,
            }

        footer = [[_("Total"), "", total.stations, total.points, total.inspections, total.average_score]]
        title = _("Township summary")
        return xlsx_response(
            lambda file: write_workbook(
                file, title=title, columns=columns, rows=map(values, rows), footer=footer
            ),
            filename=dated_filename(title),
        )

    # --- The map ----------------------------------------------------------------------------------

    def map_view(self, request):
        """The units of the current list that have coordinates, for the map above it."""
        self._require_view(request)
        try:
            changelist = self.export_changelist(request)
        except IncorrectLookupParameters:
            return JsonResponse({"detail": _("The list cannot be filtered with these values.")}, status=400)
        rows = list(
            changelist.queryset.filter(longitude__isnull=False, latitude__isnull=False).values(
                "id", "name", "kind", "longitude", "latitude"
            )[: MAP_MAX_UNITS + 1]
        )
        change_url = reverse("admin:stations_unit_change", args=["__id__"], current_app=self.admin_site.name)
        labels = choice_labels(UnitKind)
        return JsonResponse(
            {
                "units": [
                    {
                        "id": row["id"],
                        "name": row["name"],
                        "kind": row["kind"],
                        "kind_display": labels[row["kind"]],
                        "lon": float(row["longitude"]),
                        "lat": float(row["latitude"]),
                        "url": change_url.replace("__id__", str(row["id"])),
                    }
                    for row in rows[:MAP_MAX_UNITS]
                ],
                "truncated": len(rows) > MAP_MAX_UNITS,
                "max": MAP_MAX_UNITS,
                "kinds": [
                    {"value": kind, "label": labels[kind], "colour": MAP_KIND_COLOURS[kind]}
                    for kind in UnitKind.values
                ],
            }
        )
