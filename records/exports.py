"""The export of service records for the national volunteer system (全国志愿服务信息系统).

One export holds the approved, current (not superseded) records of a unit's subtree whose service date
lies in a period, and that no earlier export holds: each record is marked as sent (`ExportedRecord`, whose
primary key is the record, so a record can be marked once, ever). Marks and file are written in one
transaction; exports of one county take turns (an advisory lock on the county), so two exports at once
never both take a record. A correction is a record of its own: its row names the record it replaces
(更正的记录编号), which the receiving side then replaces.

Rows are keyed by the unified volunteer number (统一编号). Full ID numbers go in only when asked for by
someone whose role shows them on the unit, and each such export is audited. The column layout, with the
headers the national system's import reads, is documented in docs/national-export.md; the headers are
part of that file format, not of the user interface, so they are fixed Chinese and not translated.
"""

from __future__ import annotations

import csv
import datetime
import io
import tempfile
from collections.abc import Iterator

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.admin_export import Column, write_workbook
from kernel.errors import ApplicationError
from kernel.locks import lock_keys
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import require, scope_for
from volunteers import crypto
from volunteers.capabilities import Capability as VolunteerCapability
from volunteers.identity import IdType

from .capabilities import Capability
from .models import ExportedRecord, NationalExport, RecordEvent, ServiceRecord

# Marks and audit events are written this many at a time; rows are read in chunks of the same size.
CHUNK_SIZE = 2000

# (key, header) in file order; the ID columns only in an export with full ID numbers.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("volunteer_number", "志愿者编号"),
    ("name", "姓名"),
    ("service_date", "服务日期"),
    ("started_at", "开始时间"),
    ("ended_at", "结束时间"),
    ("hours", "服务时长（小时）"),
    ("content", "服务内容"),
    ("unit_name", "组织单位"),
    ("unit_code", "组织单位编码"),
    ("record_number", "记录编号"),
    ("supersedes_number", "更正的记录编号"),
    ("approver", "审核人"),
    ("approved_at", "审核时间"),
)
ID_COLUMNS: tuple[tuple[str, str], ...] = (("id_type", "证件类型"), ("id_number", "证件号码"))

# The document types as the national system names them.
ID_TYPE_NAMES = {
    IdType.RESIDENT: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO: "港澳居民来往内地通行证",
    IdType.TAIWAN: "台湾居民来往大陆通行证",
    IdType.FOREIGN_PERMANENT: "外国人永久居留身份证",
}

# A cell beginning with one of these is read by a spreadsheet as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def columns(*, with_id_numbers: bool) -> tuple[tuple[str, str], ...]:
    if not with_id_numbers:
        return COLUMNS
    return COLUMNS[:2] + ID_COLUMNS + COLUMNS[2:]


def exportable_records(unit: Unit, period_from: datetime.date, period_to: datetime.date):
    """The records an export of `unit` and the period would take now: approved, current, in the subtree
    and the period, and not sent before."""
    return (
        ServiceRecord.objects.approved_current()
        .filter(
            unit__path__startswith=unit.path,
            service_date__gte=period_from,
            service_date__lte=period_to,
            export_mark__isnull=True,
        )
        .order_by()
    )


def _refuse_inputs(*, unit, period_from, period_to, format) -> None:
    if unit is None:
        raise ApplicationError(_("Choose the unit whose records are exported."), field="unit")
    if not isinstance(period_from, datetime.date):
        raise ApplicationError(_("Give the first day of the period."), field="period_from")
    if not isinstance(period_to, datetime.date):
        raise ApplicationError(_("Give the last day of the period."), field="period_to")
    if period_to < period_from:
        raise ApplicationError(_("The period ends on or after its first day."), field="period_to")
    if format not in NationalExport.Format.values:
        raise ApplicationError(_("Choose Excel or CSV."), field="format")


def may_export_id_numbers(actor, unit: Unit) -> bool:
    """Whether `actor` may put full ID numbers into an export of `unit` (a system run never does: an
    audit row needs the person who asked)."""
    return actor is not None and scope_for(actor).contains(
        unit, capability=VolunteerCapability.VOLUNTEERS_VIEW_ID_NUMBER
    )


def national_export_create(
    *,
    actor,
    unit: Unit,
    period_from: datetime.date,
    period_to: datetime.date,
    format: str = NationalExport.Format.XLSX,
    with_id_numbers: bool = False,
    ip_address: str | None = None,
) -> NationalExport:
    """Export what the national system has not received yet of `unit`'s subtree for the period. An export
    that finds nothing new is still made (its file holds the header only), so the clerk sees it was
    checked."""
    _refuse_inputs(unit=unit, period_from=period_from, period_to=period_to, format=format)
    require(
        actor,
        Capability.RECORDS_EXPORT,
        unit,
        field="unit",
        message=_("This unit is outside the area you export records for."),
    )
    if with_id_numbers and not may_export_id_numbers(actor, unit):
        raise ApplicationError(
            _("Your role does not export full ID numbers; export with volunteer numbers only."),
            field="with_id_numbers",
        )
    with transaction.atomic():
        # Subtrees of one county overlap (the county and one of its townships): its exports take turns.
        lock_keys(f"records.national_export:{root_id(unit.path)}")
        export = NationalExport.objects.create(
            unit=unit,
            period_from=period_from,
            period_to=period_to,
            format=format,
            with_id_numbers=bool(with_id_numbers),
            created_by=actor,
        )
        count = _mark(export, exportable_records(unit, period_from, period_to), actor=actor)
        volunteers = set()
        rows = _rows(export, with_id_numbers=bool(with_id_numbers), volunteers=volunteers)
        with tempfile.TemporaryFile() as spool:
            written = _write(spool, format, rows, columns(with_id_numbers=bool(with_id_numbers)))
            spool.seek(0)
            name = f"national_{unit.code}_{period_from:%Y%m%d}_{period_to:%Y%m%d}.{format}"
            export.file.save(name, File(spool), save=False)
        if written != count:  # the marks and the file are read in one transaction under the lock
            raise RuntimeError(f"export {export.pk}: {count} records marked, {written} written")
        export.row_count = count
        export.save(update_fields=["file", "row_count", "updated_at"])
        if with_id_numbers:
            from volunteers.services import id_numbers_export_audit

            id_numbers_export_audit(actor=actor, count=len(volunteers), ip_address=ip_address)
    return export


def _mark(export: NationalExport, records, *, actor) -> int:
    """Mark the records as sent with this export, a chunk at a time, with an audit event each; the count.
    Chunks follow the primary key, so each query starts where the last one ended."""
    from .services import _actor_name

    actor_name = _actor_name(actor)
    note = _("Export %(id)s of %(unit)s") % {"id": export.pk, "unit": export.unit.name}
    count, last = 0, 0
    while True:
        ids = list(records.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK_SIZE])
        if not ids:
            return count
        ExportedRecord.objects.bulk_create([ExportedRecord(record_id=pk, export=export) for pk in ids])
        RecordEvent.objects.bulk_create(
            [
                RecordEvent(
                    record_id=pk,
                    action=RecordEvent.Action.EXPORTED,
                    actor=actor,
                    actor_name=actor_name,
                    note=note[:300],
                )
                for pk in ids
            ]
        )
        count += len(ids)
        last = ids[-1]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _rows(export: NationalExport, *, with_id_numbers: bool, volunteers: set) -> Iterator[dict]:
    """The export's rows, in service order, read through a cursor (no query per row)."""
    fields = [
        "pk",
        "volunteer_id",
        "volunteer__number",
        "volunteer__name",
        "service_date",
        "started_at",
        "ended_at",
        "hours",
        "content",
        "unit__name",
        "unit__code",
        "supersedes_id",
        "decided_by__first_name",
        "decided_by__username",
        "decided_at",
    ]
    if with_id_numbers:
        fields += ["volunteer__id_type", "volunteer__id_number_encrypted"]
    records = (
        ServiceRecord.objects.filter(export_mark__export=export)
        .order_by("service_date", "started_at", "pk")
        .values(*fields)
    )
    for row in records.iterator(chunk_size=CHUNK_SIZE):
        approver = (row["decided_by__first_name"] or "").strip() or (row["decided_by__username"] or "")
        out = {
            "volunteer_number": row["volunteer__number"],
            "name": row["volunteer__name"],
            "service_date": row["service_date"].isoformat(),
            "started_at": _local(row["started_at"]),
            "ended_at": _local(row["ended_at"]),
            "hours": row["hours"],
            "content": row["content"],
            "unit_name": row["unit__name"],
            "unit_code": row["unit__code"],
            "record_number": str(row["pk"]),
            "supersedes_number": str(row["supersedes_id"]) if row["supersedes_id"] else "",
            "approver": approver,
            "approved_at": _local(row["decided_at"]),
        }
        if with_id_numbers:
            out["id_type"] = ID_TYPE_NAMES.get(row["volunteer__id_type"], row["volunteer__id_type"])
            out["id_number"] = crypto.decrypt(row["volunteer__id_number_encrypted"])
            volunteers.add(row["volunteer_id"])
        yield out


def _csv_safe(value) -> str:
    """A text as text in a spreadsheet: a leading formula character is escaped with an apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _write(spool, format: str, rows, layout) -> int:
    if format == NationalExport.Format.CSV:
        # utf-8-sig: the byte-order mark makes Excel read the Chinese as UTF-8.
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow([header for _key, header in layout])
        count = 0
        for row in rows:
            writer.writerow([_csv_safe(row[key]) for key, _header in layout])
            count += 1
        text.flush()
        text.detach()  # leave the spool open for the caller
        return count
    sheet_columns = [Column(path=key, label=header, width=_width(key)) for key, header in layout]
    return write_workbook(spool, title="志愿服务记录", columns=sheet_columns, rows=rows)


def _width(key: str) -> int:
    return {"content": 36, "unit_name": 28, "id_number": 22, "started_at": 18, "ended_at": 18}.get(key, 14)
