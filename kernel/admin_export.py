"""Excel export of an admin change list: the rows the list shows now (filtered, searched, scoped), not only
the ticked ones, written as .xlsx.

A model admin adds `ExcelExportMixin` to its bases and declares `export_fields`: `.values()` paths such as
"name", "kind" or "parent__name", or (path, label) pairs. The list's object tools link to
`admin:<app>_<model>_export` with the list's own query string; the view builds the same ChangeList the
page builds, so the export holds exactly what the list holds, in its order. Rows are read with
`.values()` through an iterator and written by openpyxl's write-only workbook, so memory stays flat and
the number of queries does not grow with the rows. Apps hook `export_row_transform` to mask what a user
may not see whole.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import FileResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# openpyxl writes a cell per value; past this a download takes minutes and the list should be narrowed.
EXPORT_MAX_ROWS = 50_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One column of an export: the `.values()` path it reads, its header, and how a value is shown."""

    path: str
    label: str
    labels: dict | None = None  # value → label, for a field with choices
    width: int = 16

    def cell(self, value):
        if value is None:
            return None
        if self.labels is not None:
            return self.labels.get(value, value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, datetime.datetime):
            # Excel has no time zones: the local wall-clock time, as the admin shows it.
            return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        return value


def field_path(model, lookup: str) -> list[models.Field]:
    """The fields a `.values()` path walks through, first to last."""
    fields, opts = [], model._meta
    for part in lookup.split("__"):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            raise ImproperlyConfigured(f"{model.__name__} has no field path {lookup!r}") from None
        fields.append(field)
        if field.is_relation and field.related_model is not None:
            opts = field.related_model._meta
    return fields


def column_for(model, spec) -> Column:
    """`spec` is a path or (path, label). A path's header is its first field's verbose name: `parent__name`
    is the parent unit, as the list's column of the same relation is."""
    lookup, label = (spec, None) if isinstance(spec, str) else spec
    fields = field_path(model, lookup)
    last = fields[-1]
    if label is None:
        label = fields[0].verbose_name
    labels = {value: str(text) for value, text in last.flatchoices} if last.choices else None
    width = 12 if isinstance(last, models.DateField | models.BooleanField | models.DecimalField) else 20
    if isinstance(last, models.CharField) and last.max_length and last.max_length > 100:
        width = 36
    return Column(path=lookup, label=str(label), labels=labels, width=width)


def _safe(sheet, value):
    """A text as text: never a formula (a unit named "=HYPERLINK(…)" must not become a live link in the
    reader's Excel), and without the control characters XML cannot hold."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def write_workbook(
    target, *, title: str, columns: list[Column], rows: Iterable[dict], footer: Iterable[list] = ()
) -> int:
    """Write `rows` (dicts keyed by the columns' paths) under a frozen header row; the count written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])  # Excel's limit on a sheet name
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_safe(sheet, column.cell(row[column.path])) for column in columns])
        count += 1
    for values in footer:
        cells = []
        for value in values:
            cell = _safe(sheet, value)
            if not isinstance(cell, Cell):
                cell = WriteOnlyCell(sheet, value=cell)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)
    return count


def xlsx_response(build: Callable[[object], object], *, filename: str) -> FileResponse:
    """Build a workbook into a temporary file (`build(file)`) and send it as a download named
    `filename`: Django writes the name as RFC 5987 `filename*=utf-8''…` when it is not ASCII."""
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it when sent
    build(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def dated_filename(stem: str) -> str:
    return f"{stem}_{timezone.localdate().isoformat()}.xlsx"


class ExcelExportMixin:
    """Adds `<changelist>/export/` to a ModelAdmin: the current list as .xlsx, for whoever may view it."""

    export_fields: tuple = ()
    export_max_rows = EXPORT_MAX_ROWS
    # Batches of the server-side cursor: a few thousand rows in memory at a time.
    export_chunk_size = 2000

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        own = [path("export/", self.admin_site.admin_view(self.export_view), name=name)]
        return own + super().get_urls()

    def get_export_columns(self, request) -> list[Column]:
        if not self.export_fields:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no export_fields")
        return [column_for(self.model, spec) for spec in self.export_fields]

    def export_values(self, request) -> tuple[str, ...]:
        """Paths read besides the columns (e.g. what the row transform needs)."""
        return ()

    def export_row_transform(self, request) -> Callable[[dict], None] | None:
        """A function that changes a row in place before it is written (masking), or None."""
        return None

    def export_filename(self, request) -> str:
        return dated_filename(str(self.opts.verbose_name_plural))

    def export_changelist(self, request):
        """The ChangeList of the page the user came from, whichever page of it that was."""
        if PAGE_VAR in request.GET:
            request.GET = request.GET.copy()
            del request.GET[PAGE_VAR]
        return self.get_changelist_instance(request)

    def back_to_changelist(self, request) -> HttpResponseRedirect:
        opts = self.opts
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.admin_site.name
        )
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}" if query else url)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.export_changelist(request)
        except IncorrectLookupParameters:
            # The list page itself explains a filter it cannot apply; send the user there.
            return self.back_to_changelist(request)
        if changelist.result_count > self.export_max_rows:
            self.message_user(
                request,
                _(
                    "The list holds %(count)d rows and an export holds at most %(max)d. "
                    "Narrow it with the filters or the search, then export again."
                )
                % {"count": changelist.result_count, "max": self.export_max_rows},
                level=messages.WARNING,
            )
            return self.back_to_changelist(request)
        columns = self.get_export_columns(request)
        paths = list(dict.fromkeys([c.path for c in columns] + list(self.export_values(request))))
        transform = self.export_row_transform(request)
        rows = changelist.queryset.values(*paths).iterator(chunk_size=self.export_chunk_size)
        if transform is not None:
            rows = _transformed(rows, transform)
        title = str(self.opts.verbose_name_plural)
        return xlsx_response(
            lambda file: write_workbook(file, title=title, columns=columns, rows=rows),
            filename=self.export_filename(request),
        )


def _transformed(rows, transform):
    for row in rows:
        transform(row)
        yield row
