"""Excel import of volunteers by staff: the template, the upload, the check and the import.

A file is checked first, every bad row reported (row, column, message) and nothing saved but the job;
only a clean file is imported, all its rows in one transaction. Each row goes through
`volunteer_prepare`, the rules of registration, plus what only a whole file can break: an ID number or a
mobile twice in the file, one already registered, a unit outside the uploader's area. The file is read
streamed (openpyxl `read_only`), a batch of rows at a time, with one query per batch for what is already
registered: memory and queries do not grow with the file. Files over VOLUNTEER_IMPORT_INLINE_ROWS are
checked and imported by the worker (volunteers.tasks), which writes its progress to the cache.

The headers and the values of the drop-down lists are Chinese on purpose: they are the file format, the
same whatever language the page speaks.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import re
import secrets
import uuid
import zipfile
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from kernel.errors import ApplicationError
from kernel.files import delete_file_on_commit
from stations.models import Platform, Unit
from stations.paths import root_id
from stations.scoping import scope_for

from . import crypto
from .bulk import VolunteersCreate
from .capabilities import Capability
from .identity import Gender, IdType, fake_resident_id, mask_id_number
from .models import Education, ImportJob, PoliticalStatus, Volunteer, VolunteerStatus
from .services import (
    current_privacy_notice,
    id_number_taken_message,
    phone_taken_message,
    volunteer_numbers_reserve,
    volunteer_prepare,
)

# --- The file format ----------------------------------------------------------------------------------

# (key, header) in the template's order; a file may order its columns as it likes.
COLUMNS = (
    ("name", "姓名"),
    ("id_type", "证件类型"),
    ("id_number", "证件号码"),
    ("birth_date", "出生日期"),
    ("gender", "性别"),
    ("phone", "手机号码"),
    ("political_status", "政治面貌"),
    ("education", "学历"),
    ("skills", "技能"),
    ("domains", "服务领域"),
    ("unit_code", "所属单位编码"),
    ("guardian_name", "监护人姓名"),
    ("guardian_phone", "监护人手机"),
    ("guardian_consent", "监护人已同意"),
)
HEADERS = dict(COLUMNS)
REQUIRED_COLUMNS = ("name", "id_number", "phone", "unit_code")
# The service's field names → the column a refusal belongs to.
FIELD_COLUMNS = {**HEADERS, "home_unit": HEADERS["unit_code"]}

ID_TYPES = {
    "居民身份证": IdType.RESIDENT,
    "护照": IdType.PASSPORT,
    "港澳居民来往内地通行证": IdType.HK_MACAO,
    "台湾居民来往大陆通行证": IdType.TAIWAN,
    "外国人永久居留身份证": IdType.FOREIGN_PERMANENT,
}
GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE}
POLITICAL_STATUSES = {
    "中共党员": PoliticalStatus.CPC_MEMBER,
    "中共预备党员": PoliticalStatus.CPC_PROBATIONARY,
    "共青团员": PoliticalStatus.CYL_MEMBER,
    "民主党派成员": PoliticalStatus.DEMOCRATIC_PARTY,
    "无党派人士": PoliticalStatus.NON_PARTY,
    "群众": PoliticalStatus.MASSES,
}
EDUCATIONS = {
    "小学": Education.PRIMARY,
    "初中": Education.JUNIOR,
    "高中/中专": Education.SENIOR,
    "大专": Education.COLLEGE,
    "本科": Education.BACHELOR,
    "研究生": Education.POSTGRADUATE,
}
YES, NO = "是", "否"
_YES = {YES, "同意", "已同意", "y", "yes", "true", "1"}
# A row whose name starts with this is the template's example, never imported.
EXAMPLE_MARK = "【示例】"
UNITS_SHEET = "可导入单位"
DOMAIN_SEPARATORS = re.compile(r"[、,，;；/\s]+")
MAX_NAME = Volunteer._meta.get_field("name").max_length
MAX_SKILLS = Volunteer._meta.get_field("skills").max_length

# Refusals kept on a job for the page (the count is of all of them).
MAX_STORED_ERRORS = 1000
CHECK_BATCH = 1000  # rows per batch of queries for what is already registered
WRITE_BATCH = 2000  # rows per INSERT
PROGRESS_EVERY = 500
PROGRESS_TIMEOUT = 6 * 3600
# An xlsx is a zip: what it may unpack to, so a small upload cannot fill the memory or the disk.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 120 * 1024 * 1024
MAX_RATIO = 150

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

logger = logging.getLogger(__name__)


def _lookup(labels: dict, values) -> dict:
    """Accept the Chinese label (the drop-down list) and the stored value alike."""
    return {**{value: value for value in values}, **labels}


_ID_TYPES = _lookup(ID_TYPES, IdType.values)
_GENDERS = _lookup(GENDERS, Gender.values)
_POLITICAL = _lookup(POLITICAL_STATUSES, PoliticalStatus.values)
_EDUCATION = _lookup(EDUCATIONS, Education.values)


def inline_rows() -> int:
    return settings.VOLUNTEER_IMPORT_INLINE_ROWS


def progress_key(job_id: int) -> str:
    return f"volunteers:import:{job_id}:progress"


def progress_of(job: ImportJob) -> dict:
    """What the job page shows while the worker reads: rows done of the total, for the current phase."""
    progress = cache.get(progress_key(job.pk)) or {}
    return {
        "status": job.status,
        "phase": progress.get("phase", ""),
        "done": progress.get("done", 0),
        "total": progress.get("total", job.total_rows),
    }


def _set_progress(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total}, PROGRESS_TIMEOUT)


# --- Who may import where ------------------------------------------------------------------------------


def importable_units(actor, *, active_only: bool = False):
    """The units `actor` may register volunteers into: where the scope holds VOLUNTEERS_CHANGE."""
    scope = scope_for(actor)
    units = Unit.objects.filter(scope.q(capability=Capability.VOLUNTEERS_CHANGE))
    if active_only:
        units = units.filter(is_active=True)
    return units.only("id", "code", "name", "path", "is_active", "kind").order_by("path")


def require_importer(actor) -> None:
    if not scope_for(actor).has(Capability.VOLUNTEERS_CHANGE):
        raise ApplicationError(_("Your role does not register volunteers."))


# --- The template --------------------------------------------------------------------------------------


def import_template(*, actor, file) -> None:
    """Write the template to `file`: the header row, an example row, drop-down lists for the choice
    columns, and a second sheet with the units `actor` may import into and their service domains."""
    require_importer(actor)
    units = list(importable_units(actor, active_only=True))
    center_ids = sorted({root_id(unit.path) for unit in units})
    platforms = list(
        Platform.objects.filter(center_id__in=center_ids, is_active=True)
        .select_related("center")
        .order_by("center__path", "order", "id")
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "志愿者"
    bold = Font(bold=True)
    sheet.append([header for _key, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = bold
        if any(HEADERS[key] == cell.value for key in REQUIRED_COLUMNS):
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    sheet["A1"].comment = Comment(f"第 2 行是示例（姓名以“{EXAMPLE_MARK}”开头），导入时忽略，可删除。", "")
    sheet["D1"].comment = Comment("居民身份证可不填，由证件号码得出；其他证件必填，格式 1990-05-03。", "")
    sheet["J1"].comment = Comment(f"填写“{UNITS_SHEET}”表中的服务领域名称，多个用“、”分隔。", "")
    sheet["K1"].comment = Comment(f"填写“{UNITS_SHEET}”表中的单位编码。", "")
    sheet["N1"].comment = Comment("未满 18 周岁的志愿者须填写监护人信息并选“是”。", "")
    example_unit = units[0].code if units else ""
    example_domain = platforms[0].name if platforms else ""
    sheet.append(
        [
            f"{EXAMPLE_MARK}张三",
            "居民身份证",
            fake_resident_id("350721", datetime.date(1990, 5, 3), 1),
            "",
            "",
            "13800000000",
            "群众",
            "本科",
            "摄影、宣讲",
            example_domain,
            example_unit,
            "",
            "",
            "",
        ]
    )
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    widths = {"A": 14, "B": 22, "C": 22, "D": 12, "F": 14, "I": 18, "J": 22, "K": 16, "L": 12, "M": 14}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    for column in ("C", "F", "K", "M"):  # numbers stay text: an 18-digit ID must not become a float
        sheet.column_dimensions[column].number_format = "@"

    def choices(column: str, labels) -> None:
        validation = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True)
        validation.error = "请从下拉列表中选择。"
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{column}2:{column}100001")

    choices("B", ID_TYPES)
    choices("E", GENDERS)
    choices("G", POLITICAL_STATUSES)
    choices("H", EDUCATIONS)
    choices("N", (YES, NO))

    reference = workbook.create_sheet(UNITS_SHEET)
    reference.append(["单位编码", "单位名称", "", "所属中心", "服务领域代码", "服务领域名称"])
    for cell in reference[1]:
        cell.font = bold
    rows = max(len(units), len(platforms))
    for index in range(rows):
        unit = units[index] if index < len(units) else None
        platform = platforms[index] if index < len(platforms) else None
        reference.append(
            [
                unit.code if unit else None,
                unit.name if unit else None,
                None,
                platform.center.name if platform else None,
                platform.code if platform else None,
                platform.name if platform else None,
            ]
        )
    for letter, width in {"A": 16, "B": 36, "D": 30, "E": 16, "F": 24}.items():
        reference.column_dimensions[letter].width = width
    if units:
        unit_list = DataValidation(
            type="list", formula1=f"'{UNITS_SHEET}'!$A$2:$A${len(units) + 1}", allow_blank=True
        )
        unit_list.error = f"请填写“{UNITS_SHEET}”表中的单位编码。"
        unit_list.showErrorMessage = True
        sheet.add_data_validation(unit_list)
        unit_list.add("K2:K100001")
    sheet.freeze_panes = "A2"
    workbook.save(file)


# --- Upload --------------------------------------------------------------------------------------------


def _not_xlsx() -> ApplicationError:
    return ApplicationError(
        _("This is not an Excel workbook (.xlsx): download the template, fill it in and upload it."),
        field="file",
    )


def _inspect_upload(upload) -> int:
    """Refuse anything but a sound, reasonably sized xlsx; the number of data rows, estimated (the
    sheet's dimension, or a count that stops past VOLUNTEER_IMPORT_INLINE_ROWS: then -1, unknown)."""
    max_bytes = settings.VOLUNTEER_IMPORT_MAX_MB * 1024 * 1024
    if not os.path.basename(getattr(upload, "name", "") or "").lower().endswith(".xlsx"):
        raise _not_xlsx()
    if upload.size > max_bytes:
        raise ApplicationError(
            _("The file is larger than %(size)d MB: split it into smaller files.")
            % {"size": settings.VOLUNTEER_IMPORT_MAX_MB},
            field="file",
        )
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            unpacked = sum(member.file_size for member in members)
            packed = sum(member.compress_size for member in members) or 1
            strings = sum(m.file_size for m in members if m.filename.endswith("sharedStrings.xml"))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_xlsx() from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _not_xlsx()
    if unpacked > MAX_UNPACKED_BYTES or strings > MAX_SHARED_STRINGS_BYTES or unpacked / packed > MAX_RATIO:
        raise ApplicationError(
            _("This file unpacks to far more data than a list of volunteers holds; it is refused."),
            field="file",
        )
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise _not_xlsx() from None
    try:
        if not workbook.worksheets:
            raise _not_xlsx()
        sheet = workbook.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, values_only=True), None)
        _header_positions(header, field="file")
        try:
            max_row = sheet.max_row
        except (TypeError, ValueError):
            max_row = None
        if max_row:
            estimate = max(0, max_row - 1)
        else:
            # An unsized sheet (written by a streaming writer): count, but no further than the limit.
            limit = inline_rows() + 1
            estimate = sum(1 for _row in islice(sheet.iter_rows(min_row=2, values_only=True), limit))
            estimate = -1 if estimate >= limit else estimate
    finally:
        workbook.close()
    upload.seek(0)
    return estimate


def import_upload(*, actor, upload, consent: bool) -> ImportJob:
    """Keep an uploaded file as a job and check it: at once when small, by the worker when large. The
    rows are registrations by staff on the volunteers' behalf: `consent` is the uploader's confirmation
    that the unit holds each volunteer's consent to the current privacy notice (and a minor's
    guardian's)."""
    require_importer(actor)
    if not consent:
        raise ApplicationError(
            _(
                "Confirm that your unit holds each volunteer's consent to the privacy notice "
                "(and the guardian's for a volunteer under 18)."
            ),
            field="consent",
        )
    notice = current_privacy_notice()
    estimate = _inspect_upload(upload)
    with transaction.atomic():
        job = ImportJob(
            created_by=actor,
            original_name=os.path.basename(upload.name)[:200],
            status=ImportJob.Status.CHECKING,
            total_rows=max(estimate, 0),  # 0: not known until the check has read the file
            privacy_notice=notice,
            consent_confirmed_at=timezone.now(),
        )
        job.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
        job.save()
        if not 0 <= estimate <= inline_rows():
            from .tasks import import_check

            _queue_on_commit(import_check, job.pk)
            return job
    # A small file is checked now, after the job is stored: a check that fails on an unexpected error
    # leaves the job marked failed for the page to show, not a 500 that loses it.
    try:
        _job_check(job.pk)
    except Exception as error:
        _stopped(job.pk, error)
        job.refresh_from_db()
        if job.status != ImportJob.Status.FAILED:
            raise  # a passing outage: the page says so as any other
        logger.exception("volunteer import %s: the check failed", job.pk)
        return job
    job.refresh_from_db()
    return job


def _queue_on_commit(task, job_id: int) -> None:
    options = {"queue": settings.VOLUNTEER_IMPORT_QUEUE} if settings.VOLUNTEER_IMPORT_QUEUE else {}
    task.apply_async_on_commit(args=[job_id], **options)


def import_start(*, actor, job: ImportJob) -> ImportJob:
    """Import a clean file: claimed once (valid → importing), so a second click or a second worker
    never imports it again; large files by the worker, small ones now. Not one transaction here on
    purpose: the rows are written in a transaction of their own, and a refusal found while writing must
    still be recorded on the job after that transaction rolls back."""
    require_importer(actor)
    if job.privacy_notice_id != current_privacy_notice().pk:
        raise ApplicationError(
            _(
                "A new privacy notice is in force since this file was uploaded: upload it again to "
                "confirm consent."
            )
        )
    big = job.total_rows > inline_rows()
    with transaction.atomic():
        claimed = (
            ImportJob.objects.visible_to(actor)
            .filter(pk=job.pk, status=ImportJob.Status.VALID)
            .update(status=ImportJob.Status.IMPORTING, updated_at=timezone.now())
        )
        if not claimed:
            raise ApplicationError(
                _("This file cannot be imported: it has errors, or its import has started.")
            )
        _set_progress(job.pk, "importing", 0, job.total_rows)
        if big:
            from .tasks import import_run

            _queue_on_commit(import_run, job.pk)
    if not big:
        job_run(job.pk)
    return ImportJob.objects.get(pk=job.pk)


# --- Reading and checking ------------------------------------------------------------------------------


def _header_positions(header, *, field: str | None = None) -> dict[str, int]:
    by_header = {}
    for index, value in enumerate(header or ()):
        text = str(value).strip().rstrip("*＊").strip() if value is not None else ""
        if text and text not in by_header:
            by_header[text] = index
    positions = {key: by_header[name] for key, name in COLUMNS if name in by_header}
    missing = [HEADERS[key] for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        raise ApplicationError(
            _("The first row must hold the column headers of the template; missing: %(columns)s.")
            % {"columns": "、".join(missing)},
            field=field,
        )
    return positions


def _text(value) -> str:
    if type(value) is str:  # most cells: first, before the other kinds' tests
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ApplicationError(_("Write the date of birth as 1990-05-03."), field="birth_date")


def _yes(value) -> bool:
    if value is True:
        return True
    return _text(value).lower() in _YES


def _rows(file):
    """(row number, values by key) of every row that holds something, the example row left out; read
    streamed, one row at a time."""
    workbook = load_workbook(file, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        positions = list(_header_positions(next(rows, None)).items())
        name_at = dict(positions)["name"]
        for number, values in enumerate(rows, start=2):
            if values.count(None) + values.count("") == len(values):  # an empty row (C speed, per row)
                continue
            if name_at < len(values) and str(values[name_at] or "").startswith(EXAMPLE_MARK):
                continue
            width = len(values)
            yield number, {key: values[index] if index < width else None for key, index in positions}
    finally:
        workbook.close()


@dataclass
class _Report:
    rows: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)

    def add(self, error: dict) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)


def _error(row, field_name: str | None, message) -> dict:
    return {"row": row, "column": FIELD_COLUMNS.get(field_name or "", ""), "message": str(message)}


class _Checker:
    """The rules of a whole file. Built with two queries (the units the uploader may import into, and
    their counties' service domains); checks a batch of rows with at most four more."""

    def __init__(self, actor, *, today: datetime.date):
        self.today = today
        self.units = {unit.code: unit for unit in importable_units(actor)}
        platforms = Platform.objects.filter(
            center_id__in={root_id(unit.path) for unit in self.units.values()}
        ).only("id", "center_id", "code", "name", "is_active")
        self.platforms: dict[tuple[int, str], Platform] = {}
        for platform in platforms:
            self.platforms[(platform.center_id, platform.code)] = platform
            self.platforms[(platform.center_id, platform.name)] = platform
        self.id_rows: dict[str, int] = {}  # hash → first row, for duplicates inside the file
        self.phone_rows: dict[str, int] = {}
        self.elsewhere: dict[str, bool] = {}  # unit code not in scope → whether it exists at all

    def _prepare(self, values: dict):
        name = _text(values.get("name"))
        if len(name) > MAX_NAME:
            message = _("A name has at most %(max)d characters.") % {"max": MAX_NAME}
            raise ApplicationError(message, field="name")
        id_type_text = _text(values.get("id_type"))
        id_type = _ID_TYPES.get(id_type_text, id_type_text) if id_type_text else IdType.RESIDENT
        birth_date = _date(values.get("birth_date")) if id_type != IdType.RESIDENT else None
        skills = _text(values.get("skills"))
        if len(skills) > MAX_SKILLS:
            raise ApplicationError(
                _("Skills have at most %(max)d characters.") % {"max": MAX_SKILLS}, field="skills"
            )
        code = _text(values.get("unit_code"))
        unit = self.units.get(code)
        if unit is None:
            if not code:
                raise ApplicationError(_("Enter the code of the volunteer's unit."), field="home_unit")
            raise _UnitMissing(code)
        domains = []
        center_id = root_id(unit.path)
        for token in DOMAIN_SEPARATORS.split(_text(values.get("domains"))):
            if not token:
                continue
            platform = self.platforms.get((center_id, token))
            if platform is None:
                raise ApplicationError(
                    _("The county of this unit has no service domain “%(name)s”: see the second sheet.")
                    % {"name": token[:50]},
                    field="domains",
                )
            if platform not in domains:
                domains.append(platform)
        political = _text(values.get("political_status"))
        education = _text(values.get("education"))
        gender = _text(values.get("gender"))
        return volunteer_prepare(
            name=name,
            id_type=id_type,
            id_number=_text(values.get("id_number")),
            phone=_text(values.get("phone")),
            home_unit=unit,
            birth_date=birth_date,
            gender=_GENDERS.get(gender, gender),
            political_status=_POLITICAL.get(political, political) if political else PoliticalStatus.MASSES,
            education=_EDUCATION.get(education, education),
            skills=skills,
            domains=domains,
            guardian_name=_text(values.get("guardian_name")),
            guardian_phone=_text(values.get("guardian_phone")),
            guardian_consent=_yes(values.get("guardian_consent")),
            today=self.today,
        )

    def check(self, batch, report: _Report) -> list:
        """The prepared volunteers of `batch` ((row, values) pairs), in order; every refusal goes to
        `report`, in row order."""
        results = []  # [row, prepared or None, error or None]
        for row, values in batch:
            try:
                prepared = self._prepare(values)
            except _UnitMissing as missing:
                results.append([row, None, missing])
                continue
            except ApplicationError as refusal:
                results.append([row, None, _error(row, refusal.field, refusal.message)])
                continue
            first = self.id_rows.setdefault(prepared.id_number_hash, row)
            if first != row:
                message = _("This ID number is also in row %(row)d of this file.") % {"row": first}
                results.append([row, None, _error(row, "id_number", message)])
                continue
            first = self.phone_rows.setdefault(prepared.phone, row)
            if first != row:
                message = _("This mobile number is also in row %(row)d of this file.") % {"row": first}
                results.append([row, None, _error(row, "phone", message)])
                continue
            results.append([row, prepared, None])
        self._check_registered(results)
        self._check_unit_codes(results)
        prepared = []
        for _row, volunteer, error in results:
            report.rows += 1
            if error is not None:
                report.add(error)
            else:
                prepared.append(volunteer)
        return prepared

    def _check_registered(self, results) -> None:
        ready = [result for result in results if result[1] is not None]
        if not ready:
            return
        taken_ids, taken_phones = _registered(
            [result[1].id_number_hash for result in ready], [result[1].phone for result in ready]
        )
        for result in ready:
            row, prepared = result[0], result[1]
            if prepared.id_number_hash in taken_ids:
                result[1], result[2] = None, _error(row, "id_number", id_number_taken_message())
            elif prepared.phone in taken_phones:
                result[1], result[2] = None, _error(row, "phone", phone_taken_message())

    def _check_unit_codes(self, results) -> None:
        missing = [result for result in results if isinstance(result[2], _UnitMissing)]
        if not missing:
            return
        unknown = {result[2].code for result in missing} - set(self.elsewhere)
        if unknown:
            exists = set(Unit.objects.filter(code__in=unknown).values_list("code", flat=True))
            self.elsewhere.update({code: code in exists for code in unknown})
        for result in missing:
            code = result[2].code
            if self.elsewhere[code]:
                message = _("This unit is outside the area you administer.")
            else:
                message = _("No unit has the code %(code)s: see the second sheet of the template.") % {
                    "code": code[:32]
                }
            result[2] = _error(result[0], "home_unit", message)


def _registered(hashes: list[str], phones: list[str]) -> tuple[set[str], set[str]]:
    """Which of these ID number hashes, and which of these phones, are registered already. An account
    of that name (a volunteer's login is their phone) takes the phone too."""
    users = get_user_model()._default_manager
    if connection.vendor == "postgresql":
        # One query with three array parameters: an IN of thousands of values costs more to build in
        # the ORM than to run.
        volunteers, accounts = Volunteer._meta.db_table, users.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT TRUE, id_number_hash FROM "{volunteers}" WHERE id_number_hash = ANY(%s) '
                f'UNION ALL SELECT FALSE, phone FROM "{volunteers}" WHERE phone = ANY(%s) '
                f'UNION ALL SELECT FALSE, username FROM "{accounts}" WHERE username = ANY(%s)',
                [hashes, phones, phones],
            )
            found = cursor.fetchall()
        return {value for is_id, value in found if is_id}, {value for is_id, value in found if not is_id}
    taken_ids = set(
        Volunteer.objects.filter(id_number_hash__in=hashes).values_list("id_number_hash", flat=True)
    )
    taken_phones = set(Volunteer.objects.filter(phone__in=phones).values_list("phone", flat=True))
    taken_phones |= set(users.filter(username__in=phones).values_list("username", flat=True))
    return taken_ids, taken_phones


class _UnitMissing(Exception):
    """A unit code not among the uploader's units: unknown, or someone else's (told apart per batch)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _batches(rows, size: int):
    batch = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _process(job: ImportJob, *, phase: str, write=None) -> _Report:
    """Read the job's file, check every row; with `write`, hand each clean batch to it while no row
    has failed yet."""
    report = _Report()
    checker = _Checker(job.created_by, today=timezone.localdate())
    total = job.total_rows
    reported = 0
    batch_size = WRITE_BATCH if write else CHECK_BATCH
    with job.file.open("rb") as file:
        try:
            for batch in _batches(_rows(file), batch_size):
                prepared = checker.check(batch, report)
                if write is not None and not report.error_count:
                    write(prepared)
                if report.rows - reported >= PROGRESS_EVERY:
                    reported = report.rows
                    _set_progress(job.pk, phase, reported, total if total >= reported else 0)
        except ApplicationError as refusal:  # the file itself: its headers
            report.add(_error(None, None, refusal.message))
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            report.add(_error(None, None, _not_xlsx().message))
    _set_progress(job.pk, phase, report.rows, report.rows)
    if not report.rows and not report.error_count:
        report.add(_error(None, None, _("The file holds no volunteer: fill in the rows under the headers.")))
    return report


def job_check(job_id: int) -> ImportJob | None:
    """Check a job's file (status checking → valid or invalid). Skips a job another worker checks."""
    try:
        return _job_check(job_id)
    except Exception as error:
        _stopped(job_id, error)
        raise


def _job_check(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("created_by")
            .filter(pk=job_id, status=ImportJob.Status.CHECKING)
            .first()
        )
        if job is None:
            return None
        report = _process(job, phase="checking")
        job.total_rows = report.rows
        job.error_count = report.error_count
        job.errors = report.errors
        job.status = ImportJob.Status.INVALID if report.error_count else ImportJob.Status.VALID
        job.finished_at = timezone.now() if report.error_count else None
        if report.error_count:
            _drop_file(job)
        job.save()
        return job


class _Refused(Exception):
    def __init__(self, report: _Report):
        super().__init__("rows refused")
        self.report = report


def _unusable_password() -> str:
    # What set_unusable_password() stores, without its per-call overhead: the volunteer logs in by SMS.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def job_run(job_id: int) -> ImportJob | None:
    """Import a claimed job (status importing): re-check every row (the database may have changed
    since the check) and write them all in one transaction, or nothing."""
    try:
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("created_by", "privacy_notice")
                .filter(pk=job_id, status=ImportJob.Status.IMPORTING)
                .first()
            )
            if job is None:
                return None  # done, or another worker is at it
            writer = _Writer(job)
            report = _process(job, phase="importing", write=writer)
            if report.error_count:
                raise _Refused(report)
            job.status = ImportJob.Status.DONE
            job.total_rows = report.rows
            job.imported_count = writer.written
            job.error_count = 0
            job.errors = []
            job.finished_at = timezone.now()
            _drop_file(job)
            job.save()
            return job
    except _Refused as refused:
        return _failed(job_id, refused.report.error_count, refused.report.errors)
    except (IntegrityError, DataError):
        # Another registration took a number or a phone between the re-check and the insert.
        message = _(
            "Another registration took one of these ID numbers or mobile numbers during the import; "
            "nothing was imported. Upload the file again to check it."
        )
        return _failed(job_id, 1, [_error(None, None, message)])
    except Exception as error:
        _stopped(job_id, error)
        raise


def _stopped(job_id: int, error: Exception) -> None:
    """A job whose task failed on a bug or its time limit is failed, not left running for ever; a
    passing outage of the database or the broker leaves it as it is, for the worker's retry."""
    from practice_center.celery import PortalTask

    if not isinstance(error, PortalTask.autoretry_for):
        message = _("The import stopped on an unexpected error; nothing was imported.")
        _failed(job_id, 1, [_error(None, None, message)])


def _failed(job_id: int, count: int, errors: list) -> ImportJob:
    job = ImportJob.objects.get(pk=job_id)
    job.status = ImportJob.Status.FAILED
    job.error_count = count
    job.errors = errors[:MAX_STORED_ERRORS]
    job.imported_count = 0
    job.finished_at = timezone.now()
    with transaction.atomic():
        _drop_file(job)
        job.save()
    return job


def _drop_file(job: ImportJob) -> None:
    """A file of ID numbers is kept no longer than it is needed: once imported or refused."""
    if job.file:
        delete_file_on_commit(job.file.storage, job.file.name)
        job.file = ""


class _Writer:
    """Writes clean batches: an account, the volunteer and their domains for each row (volunteers.bulk:
    COPY on PostgreSQL, bulk INSERTs elsewhere), numbers reserved once for the whole file."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.numbers = iter(volunteer_numbers_reserve(job.total_rows))
        self.written = 0
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.consented_at = job.consent_confirmed_at or self.now
        self.create = VolunteersCreate(batch_size=WRITE_BATCH)

    def __call__(self, batch) -> None:
        if not batch:
            return
        encrypt, mask = crypto.encrypt, mask_id_number
        now, consented_at, active, today = self.now, self.consented_at, VolunteerStatus.ACTIVE, self.today
        registered_by, notice = self.job.created_by_id, self.job.privacy_notice_id
        rows = []
        for prepared in batch:
            number = next(self.numbers, None)
            if number is None:  # more rows than checked: the file changed under us
                raise IntegrityError("more rows than numbers reserved")
            guardian = prepared.guardian_name
            volunteer = (  # bulk.VOLUNTEER_COLUMNS after the two ids
                number,
                prepared.name,
                prepared.id_type,
                encrypt(prepared.id_number),
                prepared.id_number_hash,
                mask(prepared.id_number),
                prepared.birth_date,
                prepared.gender,
                prepared.phone,
                prepared.political_status,
                prepared.education,
                prepared.skills,
                prepared.home_unit.pk,
                active,
                today,
                registered_by,
                notice,
                consented_at,
                guardian,
                prepared.guardian_phone,
                consented_at if guardian else None,
            )
            account = (prepared.phone, prepared.name[:150], _unusable_password(), now)
            rows.append((volunteer, account, [platform.pk for platform in prepared.domains]))
        self.create(rows)
        self.written += len(rows)


def template_bytes(*, actor) -> bytes:
    buffer = io.BytesIO()
    import_template(actor=actor, file=buffer)
    return buffer.getvalue()
