"""The export for the national volunteer system: exactly the approved, current records of the subtree and
the period, each once across all exports; ID numbers only for a role that may see them, audited; the
documented columns in Excel and in CSV."""

import csv
import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from kernel.testing import assert_refused_unchanged
from records import exports, services
from records.models import ExportedRecord, NationalExport, RecordEvent, RecordStatus
from volunteers import crypto
from volunteers.models import IdNumberReveal

from .factories import day_at, submit, write_record

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel transactions need PostgreSQL"
)

HEADERS = [header for _key, header in exports.COLUMNS]
FROM = timezone.localdate() - datetime.timedelta(days=20)
TO = timezone.localdate()


def read(export) -> list[list]:
    """The rows of an export's file, header first, as text (hours as written)."""
    with export.file.open("rb") as handle:
        data = handle.read()
    if export.format == "csv":
        assert data.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with the UTF-8 byte-order mark"
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def record_numbers(export) -> list[int]:
    rows = read(export)
    index = rows[0].index("记录编号")
    return sorted(int(row[index]) for row in rows[1:])


def saved() -> dict:
    return {
        "exports": list(NationalExport.objects.values_list("pk", flat=True)),
        "marks": list(ExportedRecord.objects.values_list("record_id", "export_id")),
        "reveals": IdNumberReveal.objects.count(),
        "events": RecordEvent.objects.count(),
    }


@pytest.fixture
def services_done(tree, people, crew):
    """Records of both townships in every state, in and out of the period, and one accepted correction."""
    leader = crew.leader.user
    a_ok = write_record(crew.volunteer, start=day_at(10, 9), team=crew.team, decided_by=leader)
    a_corrected = write_record(crew.volunteer, start=day_at(12, 9), team=crew.team, decided_by=leader)
    a_pending = write_record(crew.member, start=day_at(11, 9), status=RecordStatus.PENDING)
    a_rejected = write_record(crew.member, start=day_at(13, 9), status=RecordStatus.REJECTED)
    a_old = write_record(crew.volunteer, start=day_at(40, 9), decided_by=leader)
    b_ok = write_record(crew.other, start=day_at(9, 14), decided_by=people.inst_b)
    correction = services.correction_request(
        actor=crew.volunteer.user,
        record=a_corrected,
        reason="结束时间记错了",
        ended_at=a_corrected.ended_at + datetime.timedelta(hours=1),
    )
    correction = services.correction_decide(actor=people.station_a1, correction=correction, accept=True)
    return {
        "a_ok": a_ok,
        "a_corrected": a_corrected,
        "a_correction": correction.new_record,
        "a_pending": a_pending,
        "a_rejected": a_rejected,
        "a_old": a_old,
        "b_ok": b_ok,
    }


def test_the_export_holds_the_approved_current_records_of_the_period_once(tree, people, services_done):
    r = services_done
    first = exports.national_export_create(
        actor=people.county, unit=tree.center, period_from=FROM, period_to=TO
    )
    expected = sorted([r["a_ok"].pk, r["a_correction"].pk, r["b_ok"].pk])
    assert record_numbers(first) == expected and first.row_count == 3
    assert sorted(ExportedRecord.objects.filter(export=first).values_list("record_id", flat=True)) == expected
    assert RecordEvent.objects.filter(action=RecordEvent.Action.EXPORTED).count() == 3
    # The correction names the record it replaces, so the national side replaces it.
    rows = read(first)
    by_number = {row[HEADERS.index("记录编号")]: row for row in rows[1:]}
    assert by_number[str(r["a_correction"].pk)][HEADERS.index("更正的记录编号")] == str(r["a_corrected"].pk)
    assert by_number[str(r["a_ok"].pk)][HEADERS.index("更正的记录编号")] == ""

    second = exports.national_export_create(
        actor=people.county, unit=tree.center, period_from=FROM, period_to=TO, format="csv"
    )
    assert second.row_count == 0 and read(second) == [HEADERS]


def test_a_townships_export_holds_its_subtree_and_the_countys_then_the_rest(tree, people, services_done):
    r = services_done
    township = exports.national_export_create(
        actor=people.inst_a, unit=tree.a, period_from=FROM, period_to=TO
    )
    assert record_numbers(township) == sorted([r["a_ok"].pk, r["a_correction"].pk])
    county = exports.national_export_create(
        actor=people.county, unit=tree.center, period_from=FROM, period_to=TO
    )
    assert record_numbers(county) == [r["b_ok"].pk]


def test_a_correction_after_the_export_goes_in_the_next_one_naming_the_old_record(tree, people, crew):
    record = write_record(crew.volunteer, start=day_at(5, 9), team=crew.team, decided_by=crew.leader.user)
    first = exports.national_export_create(actor=people.inst_a, unit=tree.a, period_from=FROM, period_to=TO)
    assert record_numbers(first) == [record.pk]
    correction = services.correction_request(
        actor=crew.volunteer.user, record=record, reason="内容不对", content="敬老院陪护"
    )
    new = services.correction_decide(actor=people.station_a1, correction=correction, accept=True).new_record
    second = exports.national_export_create(actor=people.inst_a, unit=tree.a, period_from=FROM, period_to=TO)
    rows = read(second)
    assert record_numbers(second) == [new.pk]
    assert rows[1][HEADERS.index("更正的记录编号")] == str(record.pk)
    assert rows[1][HEADERS.index("服务内容")] == "敬老院陪护"
    third = exports.national_export_create(actor=people.inst_a, unit=tree.a, period_from=FROM, period_to=TO)
    assert third.row_count == 0


def test_the_columns_hold_what_the_layout_says(tree, people, crew):
    start = day_at(3, 9)
    record = submit(crew.volunteer, start=start, hours=2.5, team=crew.team, content='=HYPERLINK("x")')
    services.record_approve(actor=crew.leader.user, record=record)
    record.refresh_from_db()
    for format in ("xlsx", "csv"):
        # Each format from a fresh marker: the records are unmarked between the two exports.
        ExportedRecord.objects.all().delete()
        export = exports.national_export_create(
            actor=people.station_a1, unit=tree.a1, period_from=FROM, period_to=TO, format=format
        )
        header, row = read(export)
        assert header == HEADERS
        values = dict(zip(header, row, strict=True))
        local_start = timezone.localtime(record.started_at)
        assert values["志愿者编号"] == crew.volunteer.number
        assert values["姓名"] == crew.volunteer.name
        assert values["服务日期"] == local_start.date().isoformat()
        assert values["开始时间"] == local_start.strftime("%Y-%m-%d %H:%M")
        assert values["结束时间"] == timezone.localtime(record.ended_at).strftime("%Y-%m-%d %H:%M")
        assert Decimal(values["服务时长（小时）"]) == Decimal("2.5")
        assert values["组织单位"] == tree.a1.name and values["组织单位编码"] == tree.a1.code
        leader = crew.leader.user
        assert values["审核人"] == ((leader.first_name or "").strip() or leader.username)
        assert values["审核时间"] == timezone.localtime(record.decided_at).strftime("%Y-%m-%d %H:%M")
        # A text that looks like a formula stays text.
        if format == "csv":
            assert values["服务内容"] == '\'=HYPERLINK("x")'
        else:
            assert values["服务内容"] == '=HYPERLINK("x")'
            with export.file.open("rb") as handle:
                sheet = load_workbook(io.BytesIO(handle.read())).active
            assert sheet.cell(row=2, column=HEADERS.index("服务内容") + 1).data_type == "s"
        # No ID number in an export without them.
        number = crypto.decrypt(crew.volunteer.id_number_encrypted)
        assert all(number not in cell for cell in row) and "证件号码" not in header


def test_full_id_numbers_are_refused_to_a_station_admin(tree, people, crew):
    write_record(crew.volunteer, start=day_at(4, 9), decided_by=crew.leader.user)
    assert_refused_unchanged(
        saved,
        exports.national_export_create,
        actor=people.station_a1,
        unit=tree.a1,
        period_from=FROM,
        period_to=TO,
        with_id_numbers=True,
        field="with_id_numbers",
        message=_("Your role does not export full ID numbers; export with volunteer numbers only."),
    )


def test_full_id_numbers_for_a_county_admin_are_audited(tree, people, crew):
    write_record(crew.volunteer, start=day_at(4, 9), decided_by=crew.leader.user)
    write_record(crew.volunteer, start=day_at(5, 9), decided_by=crew.leader.user)
    write_record(crew.other, start=day_at(4, 9), decided_by=people.inst_b)
    export = exports.national_export_create(
        actor=people.county,
        unit=tree.center,
        period_from=FROM,
        period_to=TO,
        format="csv",
        with_id_numbers=True,
        ip_address="10.0.0.8",
    )
    rows = read(export)
    assert rows[0][:5] == ["志愿者编号", "姓名", "证件类型", "证件号码", "服务日期"]
    numbers = {row[3] for row in rows[1:]}
    assert numbers == {crypto.decrypt(v.id_number_encrypted) for v in (crew.volunteer, crew.other)}
    assert {row[2] for row in rows[1:]} == {"居民身份证"}
    audit = IdNumberReveal.objects.get()
    assert (audit.actor, audit.purpose, audit.count, audit.ip_address) == (
        people.county,
        IdNumberReveal.Purpose.EXPORT,
        2,
        "10.0.0.8",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"actor": "inst_b"}, "unit", "This unit is outside the area you export records for."),
        ({"actor": "viewer"}, "unit", "This unit is outside the area you export records for."),
        ({"actor": "leader"}, "unit", "This unit is outside the area you export records for."),
        (
            {"period_to": FROM - datetime.timedelta(days=1)},
            "period_to",
            "The period ends on or after its first day.",
        ),
        ({"period_from": None}, "period_from", "Give the first day of the period."),
        ({"period_to": "2026-01-01"}, "period_to", "Give the last day of the period."),
        ({"format": "pdf"}, "format", "Choose Excel or CSV."),
        ({"unit": None}, "unit", "Choose the unit whose records are exported."),
    ],
)
def test_each_refusal_leaves_nothing(tree, people, crew, changes, field, message):
    write_record(crew.volunteer, start=day_at(4, 9), decided_by=crew.leader.user)
    actor = changes.pop("actor", "inst_a")
    actor = crew.leader.user if actor == "leader" else getattr(people, actor)
    data = {"actor": actor, "unit": tree.a, "period_from": FROM, "period_to": TO, **changes}
    assert_refused_unchanged(saved, exports.national_export_create, **data, field=field, message=_(message))


def test_the_export_reads_the_same_queries_for_one_record_and_fifty(tree, people, crew):
    def run():
        ExportedRecord.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            exports.national_export_create(
                actor=people.county, unit=tree.center, period_from=FROM, period_to=TO, with_id_numbers=True
            )
        return len(queries)

    write_record(crew.volunteer, start=day_at(1, 6), hours=0.5, decided_by=crew.leader.user)
    run()
    few = run()
    for i in range(49):
        write_record(crew.volunteer, start=day_at(2 + i // 10, 6 + (i % 10)), hours=0.5)
    assert run() == few


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_never_take_a_record_twice(tree, people, crew):
    for i in range(30):
        write_record(crew.volunteer, start=day_at(1 + i // 8, 6 + (i % 8) * 2), decided_by=crew.leader.user)
    for i in range(10):
        write_record(crew.other, start=day_at(1 + i, 8), decided_by=people.inst_b)
    barrier = threading.Barrier(3)
    made, failures = [], []

    def export(actor, unit):
        try:
            barrier.wait()
            made.append(
                exports.national_export_create(actor=actor, unit=unit, period_from=FROM, period_to=TO)
            )
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=export, args=(people.county, tree.center)),
        threading.Thread(target=export, args=(people.inst_a, tree.a)),
        threading.Thread(target=export, args=(people.station_a1, tree.a1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    numbers = [number for export in made for number in record_numbers(export)]
    assert len(numbers) == len(set(numbers)) == 40
    assert sum(export.row_count for export in made) == ExportedRecord.objects.count() == 40
