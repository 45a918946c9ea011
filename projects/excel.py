"""A key-project list as an Excel workbook, and back: one row per month (月份, 主题, 重点日期, 项目, 责任单位,
备注), projects by name and units by code, each joined by 、. An import writes all twelve months or none:
a bad row refuses the whole file, each problem named by its row and column."""

from __future__ import annotations

import io
import os
import zipfile

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from kernel.errors import ApplicationError
from stations.scoping import require

from .capabilities import Capability
from .models import KeyProjectList, KeyProjectMonth
from .services import allowed_projects, allowed_units, key_month_update

HEADERS = ("月份", "主题", "重点日期", "项目", "责任单位", "备注")
SEPARATOR = "、"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def key_list_export(plan: KeyProjectList) -> bytes:
    """The list's twelve months as an xlsx."""
    months = (
        KeyProjectMonth.objects.filter(plan=plan)
        .order_by("month")
        .prefetch_related("projects", "responsible_units")
    )
    book = Workbook()
    sheet = book.active
    sheet.title = str(plan.year)
    sheet.append(HEADERS)
    for month in months:
        sheet.append(
            [
                month.month,
                month.theme,
                month.key_dates,
                SEPARATOR.join(sorted(project.name for project in month.projects.all())),
                SEPARATOR.join(sorted(unit.code for unit in month.responsible_units.all())),
                month.note,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _not_xlsx() -> ApplicationError:
    return ApplicationError(
        _("This is not an Excel workbook (.xlsx): export the list, fill it in and upload it."), field="file"
    )


def _read_rows(upload) -> list[tuple]:
    if not os.path.basename(getattr(upload, "name", "") or "").lower().endswith(".xlsx"):
        raise _not_xlsx()
    if (getattr(upload, "size", 0) or 0) > MAX_UPLOAD_BYTES:
        raise ApplicationError(_("The file is too large (at most 2 MB)."), field="file")
    data = upload.read()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _not_xlsx() from None
    rows = list(book.active.iter_rows(values_only=True, max_row=100))
    book.close()
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parts(value) -> list[str]:
    return [part.strip() for part in _text(value).replace(",", SEPARATOR).split(SEPARATOR) if part.strip()]


def key_list_import(*, actor, plan: KeyProjectList, upload) -> KeyProjectList:
    """Replace the twelve months of `plan` by the workbook's rows, all or none."""
    require(actor, Capability.KEY_LISTS_CHANGE, plan.unit, field="file")
    rows = [row for row in _read_rows(upload) if any(_text(cell) for cell in row)]
    if not rows or tuple(_text(cell) for cell in rows[0][: len(HEADERS)]) != HEADERS:
        raise ApplicationError(
            _("The first row must be the headers: %(headers)s.") % {"headers": "、".join(HEADERS)},
            field="file",
        )
    projects_by_name: dict[str, list[int]] = {}
    for pk, name in allowed_projects(plan).values_list("pk", "name"):
        projects_by_name.setdefault(name, []).append(pk)
    units_by_code = dict(allowed_units(plan).values_list("code", "pk"))
    errors: list[str] = []
    parsed: dict[int, dict] = {}

    def problem(row: int, column: str, message: str) -> None:
        errors.append(
            _("Row %(row)d, column %(column)s: %(message)s")
            % {"row": row, "column": column, "message": message}
        )

    for number, row in enumerate(rows[1:], start=2):
        cells = [_text(cell) for cell in (tuple(row) + (None,) * len(HEADERS))[: len(HEADERS)]]
        try:
            month = int(cells[0])
        except ValueError:
            month = 0
        if not 1 <= month <= 12:
            problem(number, HEADERS[0], _("Give a month from 1 to 12."))
            continue
        if month in parsed:
            problem(number, HEADERS[0], _("This month is already in the file."))
            continue
        for index, limit in ((1, 100), (2, 300), (5, 500)):
            if len(cells[index]) > limit:
                problem(number, HEADERS[index], _("At most %(limit)d characters.") % {"limit": limit})
        project_ids = []
        for name in _parts(row[3] if len(row) > 3 else ""):
            found = projects_by_name.get(name, [])
            if len(found) != 1:
                message = (
                    _("No project of this list's units is called “%(name)s”.")
                    if not found
                    else _("More than one project is called “%(name)s”.")
                )
                problem(number, HEADERS[3], message % {"name": name})
            else:
                project_ids.append(found[0])
        unit_ids = []
        for code in _parts(row[4] if len(row) > 4 else ""):
            if code not in units_by_code:
                problem(
                    number, HEADERS[4], _("No unit of this list has the code “%(code)s”.") % {"code": code}
                )
            else:
                unit_ids.append(units_by_code[code])
        parsed[month] = {
            "theme": cells[1],
            "key_dates": cells[2],
            "note": cells[5],
            "projects": project_ids,
            "responsible_units": unit_ids,
        }
    if not errors and sorted(parsed) != list(range(1, 13)):
        absent = [str(month) for month in range(1, 13) if month not in parsed]
        errors.append(
            _("The file must have all twelve months; missing: %(months)s.") % {"months": "、".join(absent)}
        )
    if errors:
        raise ApplicationError(" ".join(errors), field="file", extra={"rows": errors})
    with transaction.atomic():
        months = {m.month: m for m in KeyProjectMonth.objects.filter(plan=plan)}
        for number, values in parsed.items():
            month = months.get(number) or KeyProjectMonth.objects.create(plan=plan, month=number)
            key_month_update(actor=actor, month=month, **values)
    return plan
