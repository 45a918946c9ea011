"""The Excel import of volunteers: template, upload, the check's row errors, the all-or-nothing import,
the admin pages, and a 100,000-row file through a real worker."""

import datetime
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from kernel.errors import ApplicationError
from stations.scoping import forget_scope
from stations.tests.factories import make_user
from volunteers import imports
from volunteers.identity import fake_resident_id
from volunteers.models import ImportJob, PrivacyNotice, Volunteer, VolunteerNumberSequence
from volunteers.services import id_number_taken_message, phone_taken_message
from volunteers.tests.factories import make_volunteer

HEADER = [header for _key, header in imports.COLUMNS]
COLUMN = {key: index for index, (key, _header) in enumerate(imports.COLUMNS)}
User = get_user_model()


def id_number(i: int, region: str = "350721") -> str:
    """A distinct fake resident ID for each i < 100,000 (100 birth dates × 1,000 serials), of an adult."""
    return fake_resident_id(region, datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000), i % 1000)


def phone(i: int) -> str:
    return f"13{i:09d}"


def good_row(i: int, unit_code: str, domain: str = "") -> list:
    row = [""] * len(HEADER)
    row[COLUMN["name"]] = "志愿者"
    row[COLUMN["id_type"]] = "居民身份证"
    row[COLUMN["id_number"]] = id_number(i)
    row[COLUMN["phone"]] = phone(i)
    row[COLUMN["political_status"]] = "群众"
    row[COLUMN["education"]] = "本科"
    row[COLUMN["skills"]] = "摄影"
    row[COLUMN["domains"]] = domain
    row[COLUMN["unit_code"]] = unit_code
    return row


def workbook_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("志愿者")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_of(rows, name="volunteers.xlsx", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, workbook_bytes(rows, **kwargs), content_type=imports.XLSX_CONTENT_TYPE)


def minor_id(i: int, age: int) -> str:
    today = datetime.date.today()
    return fake_resident_id("350721", datetime.date(today.year - age, 1, 1), i % 1000)


def with_(row, **values):
    row = list(row)
    for key, value in values.items():
        row[COLUMN[key]] = value
    return row


@pytest.fixture
def county(tree, people, reference):
    return tree


def twenty_bad_rows(tree, reference):
    """1,000 rows of which exactly 20 are bad, each in a different way; (rows, {row number: (column
    key, message)}, what is already registered)."""
    registered = make_volunteer(tree.a1, id_number=id_number(900), phone="13912345678")
    taken_phone = make_volunteer(tree.a1, phone=phone(901))
    rows = [good_row(i, tree.a1.code, reference.platform.name) for i in range(1000)]
    expected = {}

    def bad(i, column, message, **values):
        rows[i] = with_(rows[i], **values)
        expected[i + 2] = (column, str(message))

    bad_digit = id_number(10)[:-1] + ("0" if id_number(10)[-1] != "0" else "1")
    bad(
        10,
        "id_number",
        gettext("The check digit of this ID number is wrong: check the number for a typing error."),
        id_number=bad_digit,
    )
    bad(
        20,
        "id_number",
        gettext("This ID number is also in row %(row)d of this file.") % {"row": 3},
        id_number=id_number(1),
    )
    bad(
        30,
        "phone",
        gettext("This mobile number is also in row %(row)d of this file.") % {"row": 4},
        phone=phone(2),
    )
    bad(900, "id_number", id_number_taken_message())
    bad(901, "phone", phone_taken_message())
    bad(
        40,
        "unit_code",
        gettext("No unit has the code %(code)s: see the second sheet of the template.") % {"code": "NOPE-1"},
        unit_code="NOPE-1",
    )
    bad(50, "unit_code", gettext("This unit is outside the area you administer."), unit_code=tree.b1.code)
    bad(60, "phone", gettext("Enter a mainland mobile number of 11 digits, e.g. 13812345678."), phone="12345")
    bad(
        70,
        "id_number",
        gettext("Children under %(age)d cannot register as volunteers.") % {"age": 14},
        id_number=minor_id(70, 10),
    )
    bad(
        80,
        "guardian_name",
        gettext("A volunteer under 18 needs a guardian: enter the guardian's name."),
        id_number=minor_id(80, 16),
    )
    bad(90, "id_type", gettext("Choose the type of ID document."), id_type="驾驶证")
    bad(100, "name", gettext("Enter the name."), name="")
    bad(110, "unit_code", gettext("Enter the code of the volunteer's unit."), unit_code="")
    bad(120, "name", gettext("Enter a person's name (at least two characters, no digits)."), name="张3")
    bad(
        130,
        "guardian_consent",
        gettext("A volunteer under 18 needs the guardian's consent: tick the box once the guardian agrees."),
        id_number=minor_id(130, 16),
        guardian_name="李四",
        guardian_phone="13700000001",
        guardian_consent="否",
    )
    bad(140, "birth_date", gettext("Enter the date of birth."), id_type="护照", id_number="E12345678")
    bad(
        150,
        "id_number",
        gettext("This is not the form of a %(document)s number.") % {"document": gettext("Passport")},
        id_type="护照",
        id_number="E1",
        birth_date="1990-01-01",
        gender="男",
    )
    bad(
        160,
        "domains",
        gettext("The county of this unit has no service domain “%(name)s”: see the second sheet.")
        % {"name": "烹饪"},
        domains="烹饪",
    )
    bad(170, "political_status", gettext("Choose the political status."), political_status="路人")
    bad(180, "id_number", gettext("A resident ID number has 18 characters: 17 digits and a digit or X."),
        id_number="12345")  # fmt: skip
    assert len(expected) == 20
    return rows, expected, (registered, taken_phone)


def test_a_file_with_twenty_bad_rows_reports_exactly_those_and_saves_nothing(county, people, reference):
    rows, expected, _registered = twenty_bad_rows(county, reference)
    volunteers, users, jobs = Volunteer.objects.count(), User.objects.count(), ImportJob.objects.count()

    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)

    assert job.status == ImportJob.Status.INVALID
    assert job.total_rows == 1000
    assert job.error_count == 20
    reported = {error["row"]: (error["column"], error["message"]) for error in job.errors}
    assert reported == {
        row: (imports.FIELD_COLUMNS[key], message) for row, (key, message) in expected.items()
    }
    assert Volunteer.objects.count() == volunteers
    assert User.objects.count() == users
    assert ImportJob.objects.count() == jobs + 1  # only the job
    assert not job.file  # a refused file of ID numbers is not kept


def test_the_corrected_file_imports_all_thousand_rows(county, people, reference):
    rows = [good_row(i, county.a1.code, reference.platform.name) for i in range(999)]
    rows.append(
        with_(
            good_row(999, county.a2.code),
            id_number=minor_id(999, 16),
            guardian_name="李四",
            guardian_phone="13700000009",
            guardian_consent="是",
        )
    )
    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    assert (job.status, job.total_rows, job.error_count) == (ImportJob.Status.VALID, 1000, 0)
    assert Volunteer.objects.count() == 0
    last = VolunteerNumberSequence.objects.filter(pk=1).values_list("last", flat=True).first() or 0

    job = imports.import_start(actor=people.inst_a, job=job)

    assert job.status == ImportJob.Status.DONE
    assert job.imported_count == 1000
    assert Volunteer.objects.count() == 1000
    assert Volunteer.objects.filter(home_unit=county.a1).count() == 999
    first = Volunteer.objects.get(phone=phone(0))
    assert first.name == "志愿者"
    assert first.id_number_masked == id_number(0)[:4] + "*" * 10 + id_number(0)[-4:]
    assert first.education == "bachelor" and first.skills == "摄影"
    assert list(first.domains.all()) == [reference.platform]
    assert first.registered_by == people.inst_a
    assert first.privacy_notice_id == job.privacy_notice_id and first.consented_at is not None
    assert first.user.username == phone(0) and not first.user.has_usable_password()
    minor = Volunteer.objects.get(phone=phone(999))
    assert minor.guardian_name == "李四" and minor.guardian_consented_at is not None
    assert minor.home_unit == county.a2 and not minor.domains.exists()
    numbers = set(Volunteer.objects.values_list("number", flat=True))
    assert len(numbers) == 1000
    assert VolunteerNumberSequence.objects.get(pk=1).last == last + 1000
    # The ID numbers are unreadable in the database.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_hash FROM volunteers_volunteer")
        raw = cursor.fetchall()
    plain = {id_number(i) for i in range(999)}
    assert not any(
        number in value for encrypted, hashed in raw for value in (encrypted, hashed) for number in plain
    )
    # A job is run once.
    with pytest.raises(ApplicationError) as refusal:
        imports.import_start(actor=people.inst_a, job=job)
    assert refusal.value.message == gettext(
        "This file cannot be imported: it has errors, or its import has started."
    )
    assert Volunteer.objects.count() == 1000


def test_a_registration_between_check_and_import_rolls_everything_back(
    county, people, reference, monkeypatch
):
    rows = [good_row(i, county.a1.code, reference.platform.name) for i in range(1000)]
    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    assert job.status == ImportJob.Status.VALID
    # Someone registers with the phone of the file's last row; batches before it are written first.
    monkeypatch.setattr(imports, "WRITE_BATCH", 200)
    make_volunteer(county.a1, phone=phone(999))
    last = VolunteerNumberSequence.objects.get(pk=1).last
    users = User.objects.count()

    job = imports.import_start(actor=people.inst_a, job=job)

    assert job.status == ImportJob.Status.FAILED
    assert job.error_count == 1
    assert job.errors == [{"row": 1001, "column": "手机号码", "message": phone_taken_message()}]
    assert Volunteer.objects.count() == 1
    assert User.objects.count() == users
    assert VolunteerNumberSequence.objects.get(pk=1).last == last  # the reserved numbers given back
    assert not job.file


def test_a_conflict_only_the_database_sees_rolls_everything_back(county, people, reference, monkeypatch):
    rows = [good_row(i, county.a1.code) for i in range(600)]
    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    assert job.status == ImportJob.Status.VALID
    make_volunteer(county.a1, phone=phone(599))
    # As if the other registration committed after the re-check read the batch: the INSERT refuses.
    monkeypatch.setattr(imports, "WRITE_BATCH", 200)
    monkeypatch.setattr(imports._Checker, "_check_registered", lambda self, results: None)

    job = imports.import_start(actor=people.inst_a, job=job)

    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"].startswith(gettext(
        "Another registration took one of these ID numbers or mobile numbers during the import; "
        "nothing was imported. Upload the file again to check it."
    )[:20])  # fmt: skip
    assert Volunteer.objects.count() == 1
    assert not User.objects.filter(username=phone(0)).exists()


def test_upload_refusals(county, people):
    good = [good_row(1, county.a1.code)]
    not_xlsx = gettext(
        "This is not an Excel workbook (.xlsx): download the template, fill it in and upload it."
    )
    headers = gettext("The first row must hold the column headers of the template; missing: %(columns)s.") % {
        "columns": "证件号码、所属单位编码"
    }
    cases = [
        (SimpleUploadedFile("list.csv", b"a,b\n1,2\n"), not_xlsx),
        (SimpleUploadedFile("fake.xlsx", b"PK\x03\x04 not really"), not_xlsx),
        (upload_of(good, header=["姓名", "手机号码"]), headers),
    ]
    for upload, message in cases:
        with pytest.raises(ApplicationError) as refusal:
            imports.import_upload(actor=people.inst_a, upload=upload, consent=True)
        assert refusal.value.field == "file"
        assert refusal.value.message == message
    with pytest.raises(ApplicationError) as refusal:
        imports.import_upload(actor=people.inst_a, upload=upload_of(good), consent=False)
    assert refusal.value.field == "consent"
    with pytest.raises(ApplicationError) as refusal:
        imports.import_upload(actor=people.viewer, upload=upload_of(good), consent=True)
    assert refusal.value.message == gettext("Your role does not register volunteers.")
    assert not ImportJob.objects.exists()


def test_a_zip_bomb_is_refused(county, people, monkeypatch):
    monkeypatch.setattr(imports, "MAX_RATIO", 3)
    rows = [good_row(i, county.a1.code) for i in range(300)]
    with pytest.raises(ApplicationError) as refusal:
        imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    assert refusal.value.field == "file"
    assert refusal.value.message == gettext(
        "This file unpacks to far more data than a list of volunteers holds; it is refused."
    )


def test_the_template_lists_only_the_users_units_and_its_drop_downs(county, people, reference):
    workbook = load_workbook(io.BytesIO(imports.template_bytes(actor=people.inst_a)))
    sheet, units = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == HEADER
    example = [cell.value for cell in sheet[2]]
    assert example[0].startswith(imports.EXAMPLE_MARK)
    codes = {row[0] for row in units.iter_rows(min_row=2, values_only=True) if row[0]}
    assert codes == {county.a.code, county.a1.code, county.a2.code, county.a1a.code}
    domains = {row[5] for row in units.iter_rows(min_row=2, values_only=True) if row[5]}
    assert domains == {reference.platform.name}
    lists = {
        str(validation.sqref).split(":")[0]: validation.formula1
        for validation in sheet.data_validations.dataValidation
    }
    assert "男" in lists["E2"] and "居民身份证" in lists["B2"] and "群众" in lists["G2"]
    assert lists["K2"].startswith(f"'{imports.UNITS_SHEET}'!")
    # The filled-in template (example row left in) imports as it is.
    sheet.append(good_row(5, county.a1.code, reference.platform.name))
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("t.xlsx", buffer.getvalue())
    job = imports.import_upload(actor=people.inst_a, upload=upload, consent=True)
    assert (job.status, job.total_rows) == (ImportJob.Status.VALID, 1), job.errors


# --- The admin pages ---------------------------------------------------------------------------------


def test_pages_upload_preview_and_import(client, county, people, reference):
    client.force_login(people.inst_a)
    page = client.get(reverse("admin:volunteers_volunteer_import"))
    assert page.status_code == 200
    template = client.get(reverse("admin:volunteers_volunteer_import_template"))
    assert template.status_code == 200
    assert template["Content-Type"] == imports.XLSX_CONTENT_TYPE

    refused = client.post(
        reverse("admin:volunteers_volunteer_import"),
        {"file": SimpleUploadedFile("x.txt", b"hello"), "consent": "on"},
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["file"] == [
        gettext("This is not an Excel workbook (.xlsx): download the template, fill it in and upload it.")
    ]

    rows = [good_row(i, county.a1.code) for i in range(3)] + [with_(good_row(3, county.a1.code), phone="1")]
    response = client.post(
        reverse("admin:volunteers_volunteer_import"), {"file": upload_of(rows), "consent": "on"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:volunteers_volunteer_import_job", args=[job.pk])
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert b'id="import-errors"' in preview.content and b"import-run-form" not in preview.content

    response = client.post(
        reverse("admin:volunteers_volunteer_import"), {"file": upload_of(rows[:3]), "consent": "on"}
    )
    clean = ImportJob.objects.get(status=ImportJob.Status.VALID)
    preview = client.get(response["Location"])
    assert b"import-run-form" in preview.content
    progress = client.get(reverse("admin:volunteers_volunteer_import_progress", args=[clean.pk]))
    assert progress.json()["status"] == "valid"
    done = client.post(reverse("admin:volunteers_volunteer_import_job", args=[clean.pk]), follow=True)
    assert b'id="import-done"' in done.content
    assert Volunteer.objects.count() == 3


def test_pages_are_for_importers_and_a_job_for_its_uploader(client, county, people):
    job = imports.import_upload(
        actor=people.inst_a, upload=upload_of([good_row(1, county.a1.code)]), consent=True
    )
    client.force_login(people.inst_b)
    for name in ("admin:volunteers_volunteer_import_job", "admin:volunteers_volunteer_import_progress"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("admin:volunteers_volunteer_import_job", args=[job.pk])).status_code == 404
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALID)
    assert Volunteer.objects.count() == 0
    client.force_login(make_user("clerk", is_staff=True))  # staff, but registers no volunteer anywhere
    assert client.get(reverse("admin:volunteers_volunteer_import")).status_code == 403
    assert client.get(reverse("admin:volunteers_volunteer_import_template")).status_code == 403
    client.force_login(people.viewer)
    assert client.get(reverse("admin:volunteers_volunteer_import")).status_code in (302, 403)


def test_another_townships_units_are_refused_and_not_in_its_template(county, people, reference):
    rows = [good_row(1, county.a1.code)]
    job = imports.import_upload(actor=people.inst_b, upload=upload_of(rows), consent=True)
    assert job.status == ImportJob.Status.INVALID
    assert job.errors == [
        {
            "row": 2,
            "column": "所属单位编码",
            "message": gettext("This unit is outside the area you administer."),
        }
    ]
    units = load_workbook(io.BytesIO(imports.template_bytes(actor=people.inst_b))).worksheets[1]
    codes = {row[0] for row in units.iter_rows(min_row=2, values_only=True) if row[0]}
    assert codes == {county.b.code, county.b1.code, county.b1a.code}


# --- A 100,000-row file through a real worker -------------------------------------------------------

CELERY = Path(sys.executable).with_name("celery")


@pytest.fixture
def import_worker(django_db_setup, settings):
    """A worker on a queue of its own, on the test database."""
    queue = f"test-import-{uuid.uuid4().hex[:12]}"
    env = os.environ.copy()
    parts = urlsplit(env.get("DATABASE_URL", ""))
    env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    log = Path(settings.VAR_DIR) / f"{queue}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "practice_center",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    settings.VOLUNTEER_IMPORT_QUEUE = queue
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=60)
        text = log.read_text()
        log.unlink()
    assert "ready" in text, text[-2000:]


def _wait(job, leaving: str, seen: list, timeout: float = 150) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        progress = imports.progress_of(job)
        seen.append((progress["phase"], progress["done"], progress["total"]))
        if job.status != leaving:
            return job
        time.sleep(0.2)
    raise AssertionError(f"still {leaving} after {timeout} s: {seen[-3:]}")


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL and PostgreSQL (CI sets them)")
@pytest.mark.django_db(transaction=True)
def test_a_hundred_thousand_rows_go_through_the_worker_with_progress(
    tree, people, reference, import_worker, tmp_path
):
    PrivacyNotice.objects.get_or_create(
        version="2026-1",
        defaults={"title": "隐私政策", "body": "…", "effective_from": datetime.date(2026, 1, 1)},
    )  # a transactional test's database starts without the migrations' rows
    total = 100_000
    path = tmp_path / "big.xlsx"
    path.write_bytes(workbook_bytes(good_row(i, tree.a1.code, reference.platform.name) for i in range(total)))
    upload = SimpleUploadedFile("big.xlsx", path.read_bytes())

    job = imports.import_upload(actor=people.county, upload=upload, consent=True)
    assert job.status == ImportJob.Status.CHECKING  # queued for the worker
    checking = []
    job = _wait(job, ImportJob.Status.CHECKING, checking)
    assert job.status == ImportJob.Status.VALID, job.errors[:3]
    assert job.total_rows == total

    job = imports.import_start(actor=people.county, job=job)
    assert job.status == ImportJob.Status.IMPORTING
    importing = []
    job = _wait(job, ImportJob.Status.IMPORTING, importing)

    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert job.imported_count == total
    assert Volunteer.objects.count() == total
    assert Volunteer.domains.through.objects.count() == total
    assert any(phase == "checking" and 0 < done < total for phase, done, _t in checking), checking[-5:]
    assert any(phase == "importing" and 0 < done < total for phase, done, _t in importing), importing[-5:]


# --- Constant queries, and nothing personal in the logs ------------------------------------------------


def _check_queries(people, rows):
    forget_scope(people.inst_a)
    with CaptureQueriesContext(connection) as queries:
        job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    assert job.status == ImportJob.Status.VALID, job.errors
    return len(queries)


def test_checking_a_file_takes_the_same_queries_for_1_and_50_rows(county, people, reference):
    one = _check_queries(people, [good_row(0, county.a1.code, reference.platform.name)])
    fifty = _check_queries(
        people, [good_row(i, county.a2.code, reference.platform.name) for i in range(1, 51)]
    )
    assert one == fifty


def test_the_upload_page_lists_jobs_in_constant_queries(client, county, people):
    client.force_login(people.inst_a)
    url = reverse("admin:volunteers_volunteer_import")
    client.get(url)  # the county's name is cached from the first page on
    counts = []
    for jobs in (1, 10):
        while ImportJob.objects.count() < jobs:
            imports.import_upload(
                actor=people.inst_a, upload=upload_of([good_row(jobs, "nope")]), consent=True
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_import_with_errors_logs_no_id_number_or_phone(county, people, reference, caplog):
    caplog.set_level("DEBUG")
    rows = [good_row(i, county.a1.code, reference.platform.name) for i in range(20)]
    rows.append(with_(good_row(20, county.b1.code), phone="1391234"))
    imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows[:20]), consent=True)
    imports.import_start(actor=people.inst_a, job=job)
    assert Volunteer.objects.count() == 20
    text = caplog.text + repr(list(ImportJob.objects.values_list("errors", flat=True)))
    for i in range(21):
        assert id_number(i) not in text and phone(i) not in text


def test_a_crash_mid_import_writes_nothing_and_fails_the_job(county, people, monkeypatch):
    rows = [good_row(i, county.a1.code) for i in range(500)]
    job = imports.import_upload(actor=people.inst_a, upload=upload_of(rows), consent=True)
    monkeypatch.setattr(imports, "WRITE_BATCH", 100)
    write = imports._Writer.__call__

    def crash_on_the_third_batch(self, batch):
        if self.written >= 200:
            raise RuntimeError("the worker's disk went away")
        write(self, batch)

    monkeypatch.setattr(imports._Writer, "__call__", crash_on_the_third_batch)
    with pytest.raises(RuntimeError):
        imports.import_start(actor=people.inst_a, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == gettext(
        "The import stopped on an unexpected error; nothing was imported."
    )
    assert Volunteer.objects.count() == 0
    assert not User.objects.filter(username=phone(0)).exists()


def test_a_running_job_shows_its_progress(client, county, people):
    job = imports.import_upload(
        actor=people.inst_a, upload=upload_of([good_row(1, county.a1.code)]), consent=True
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING, total_rows=5000)
    imports._set_progress(job.pk, "importing", 1500, 5000)
    client.force_login(people.inst_a)
    page = client.get(reverse("admin:volunteers_volunteer_import_job", args=[job.pk]))
    assert page.status_code == 200
    assert b'id="import-progress"' in page.content and b'value="1500"' in page.content
    progress = client.get(reverse("admin:volunteers_volunteer_import_progress", args=[job.pk])).json()
    assert progress == {"status": "importing", "phase": "importing", "done": 1500, "total": 5000}
    # A running job is not started again.
    client.post(reverse("admin:volunteers_volunteer_import_job", args=[job.pk]))
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.IMPORTING
    assert Volunteer.objects.count() == 0


def test_a_crash_while_checking_a_small_file_keeps_the_job_failed_not_a_500(
    client, county, people, monkeypatch
):
    def crash(job, *, phase):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(imports, "_process", crash)
    job = imports.import_upload(
        actor=people.inst_a, upload=upload_of([good_row(0, county.a1.code)]), consent=True
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"] == gettext(
        "The import stopped on an unexpected error; nothing was imported."
    )
    # The same through the page: a page about the failed job, not a server error.
    client.force_login(people.inst_a)
    answer = client.post(
        reverse("admin:volunteers_volunteer_import"),
        {"file": upload_of([good_row(1, county.a1.code)]), "consent": "on"},
    )
    assert answer.status_code in (200, 302)
    assert ImportJob.objects.filter(status=ImportJob.Status.FAILED).count() == 2
