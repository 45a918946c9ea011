"""Service certificates: who may ask whom, the PDF (read back with poppler, its QR code scanned), the
numbers without gaps, revoking, the public verification and the download."""

import datetime
import os
import shutil
import subprocess
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image, ImageDraw

from kernel.errors import ApplicationError
from kernel.testing import assert_refused, assert_refused_unchanged
from records import certificates, pdf, tasks
from records.certificates import (
    Verification,
    certificate_issue,
    certificate_issuers,
    certificate_request,
    certificate_revoke,
    certificate_verify,
    verify_url,
)
from records.models import (
    Certificate,
    CertificateSequence,
    CertificateStatus,
    IssuerProfile,
    RecordEvent,
    RecordStatus,
)
from records.tests.fonts import needs_cjk_font
from stations.models import Role, Unit
from stations.tests.factories import make_user
from volunteers.models import PrivacyNotice
from volunteers.tests.factories import make_volunteer, next_id_number, next_phone

from .factories import day_at, write_record

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="needs poppler-utils (.ci/run installs it)"
)
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="needs zbar-tools (.ci/run installs it)")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL to race")


# --- Fixtures and helpers --------------------------------------------------------------------------


@pytest.fixture
def lin(tree, people):
    """A volunteer of station A1 with three approved records there (6.5 h), one pending one and one at
    station B1; the station's contact person stands in for an issuer profile."""
    if not PrivacyNotice.objects.exists():
        # A transactional test empties the database after it, the migration's privacy notice with it.
        PrivacyNotice.objects.create(
            version="2026-1", title="隐私政策", body="……", effective_from=timezone.localdate()
        )
    Unit.objects.filter(pk=tree.a1.pk).update(contact_person="陈站长", contact_phone="0599-7812345")
    tree.a1.refresh_from_db()
    id_number, phone = next_id_number(), next_phone()
    volunteer = make_volunteer(tree.a1, "林小雨", password="Lin@2026-pass!", id_number=id_number, phone=phone)
    approved = [
        write_record(volunteer, start=day_at(30, 9), hours=2),
        write_record(volunteer, start=day_at(20, 9), hours=3),
        write_record(volunteer, start=day_at(10, 14), hours=1.5),
    ]
    pending = write_record(volunteer, start=day_at(5, 9), hours=2, unit=tree.a2, status=RecordStatus.PENDING)
    return SimpleNamespace(
        volunteer=volunteer,
        id_number=id_number,
        phone=phone,
        approved=approved,
        pending=pending,
        total=Decimal("6.5"),
    )


def issued(volunteer, issuer, **period) -> Certificate:
    """A certificate asked for by the volunteer and issued as the task would (the task body itself)."""
    certificate = certificate_request(actor=volunteer.user, volunteer=volunteer, issuer=issuer, **period)
    return certificate_issue(certificate.pk)


def pdf_path(certificate: Certificate) -> str:
    return certificate.pdf.path


def pdf_text(path: str, *pages: int) -> str:
    command = ["pdftotext", "-layout"]
    if pages:
        command += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*command, path, "-"], check=True, capture_output=True, text=True).stdout


def pdf_pages(path: str) -> int:
    info = subprocess.run(["pdfinfo", path], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def page_png(path: str, page: int, target: Path, dpi: int = 80) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = str(target.with_suffix(""))
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", path, prefix],
        check=True,
    )
    return target


def certificates_snapshot():
    return list(Certificate.objects.order_by("pk").values_list("pk", "status", "number"))


def seal_png() -> bytes:
    image = Image.new("RGBA", (240, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 232, 232), outline=(200, 0, 0, 255), width=10)
    draw.regular_polygon((120, 120, 40), 5, fill=(200, 0, 0, 255))
    from io import BytesIO

    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- Whom a volunteer may ask ----------------------------------------------------------------------


def test_issuers_are_the_county_center_and_the_units_that_organised_approved_service(tree, lin):
    assert list(certificate_issuers(lin.volunteer)) == [tree.center, tree.a1]  # A2's record is pending


def test_the_task_is_queued_when_the_request_commits(
    tree, lin, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.certificate_issue, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        certificate = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)
        assert sent == []  # not before the commit
    assert len(callbacks) == 1 and sent == [(certificate.pk,)]
    assert certificate.status == CertificateStatus.REQUESTED and certificate.number is None
    assert tasks.certificate_issue.name == "records.certificate_issue"


def test_certificates_are_free_of_charge():
    fields = [*Certificate._meta.get_fields(), *IssuerProfile._meta.get_fields()]
    words = {word for field in fields for word in field.name.split("_")}
    assert not words & {"fee", "fees", "price", "cost", "amount", "paid", "payment"}


def test_a_unit_that_organised_nothing_is_refused(tree, lin):
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_request,
        actor=lin.volunteer.user,
        volunteer=lin.volunteer,
        issuer=tree.b,
        field="issuer",
        message=gettext(
            "This unit cannot certify your service: ask the practice center of your county or a unit "
            "that organised your service."
        ),
    )


def test_a_period_that_ends_before_it_starts_is_refused(tree, lin):
    today = timezone.localdate()
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_request,
        actor=lin.volunteer.user,
        volunteer=lin.volunteer,
        issuer=tree.a1,
        period_from=today - datetime.timedelta(days=5),
        period_to=today - datetime.timedelta(days=40),
        field="period_to",
        message=gettext("The period must start on or before its last day."),
    )


@pytest.mark.parametrize("which", ["period_from", "period_to"])
def test_a_period_in_the_future_is_refused(tree, lin, which):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    period = {"period_from": timezone.localdate() - datetime.timedelta(days=40), "period_to": tomorrow}
    if which == "period_from":
        period = {"period_from": tomorrow}
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_request,
        actor=lin.volunteer.user,
        volunteer=lin.volunteer,
        issuer=tree.a1,
        **period,
        field=which,
        message=gettext("The period cannot lie in the future."),
    )


def test_a_period_without_approved_service_from_the_issuer_is_refused(tree, lin):
    today = timezone.localdate()
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_request,
        actor=lin.volunteer.user,
        volunteer=lin.volunteer,
        issuer=tree.center,
        period_from=today - datetime.timedelta(days=8),  # only the pending record lies here
        period_to=today,
        field="period_from",
        message=gettext("%(unit)s has no approved service of yours to certify in this period.")
        % {"unit": tree.center.name},
    )


def test_a_second_request_while_the_first_is_prepared_is_refused(tree, lin):
    first = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_request,
        actor=lin.volunteer.user,
        volunteer=lin.volunteer,
        issuer=tree.a1,
        field="issuer",
        message=gettext("A certificate from %(unit)s is already being prepared; it will be ready shortly.")
        % {"unit": tree.a1.name},
    )
    # Another issuer is another certificate; and once the first is done, the same issuer again.
    certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.center)
    certificate_issue(first.pk)
    again = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)
    assert again.status == CertificateStatus.REQUESTED


def test_only_the_volunteer_or_the_issuers_staff_may_ask(tree, people, crew, lin):
    message = gettext(
        "You may ask for a certificate for yourself, or for a volunteer as staff of the issuing unit."
    )
    for stranger in (crew.volunteer.user, people.inst_b, people.viewer, crew.leader.user):
        assert_refused_unchanged(
            certificates_snapshot,
            certificate_request,
            actor=stranger,
            volunteer=lin.volunteer,
            issuer=tree.a1,
            field="volunteer",
            message=message,
        )
    certificate = certificate_request(actor=people.station_a1, volunteer=lin.volunteer, issuer=tree.a1)
    assert certificate.requested_by == people.station_a1


# --- Issuing: the PDF -------------------------------------------------------------------------------


@needs_cjk_font
@needs_poppler
def test_the_pdf_holds_who_what_and_how_long_and_no_full_id_number(tree, lin):
    certificate = issued(lin.volunteer, tree.a1)
    year = timezone.localdate().year
    assert certificate.status == CertificateStatus.READY and certificate.error == ""
    assert (certificate.year, certificate.sequence) == (year, 1)
    assert certificate.number == f"{tree.a1.code}-{year}-000001"
    assert certificate.total_hours == lin.total
    assert set(certificate.records.all()) == set(lin.approved)
    # No profile: the station's contact person and phone stand in.
    assert (certificate.person_in_charge, certificate.handler, certificate.contact) == (
        "陈站长",
        "陈站长",
        "0599-7812345",
    )

    text = pdf_text(pdf_path(certificate))
    flat = "".join(text.split())
    assert "志愿服务证明" in flat
    assert lin.volunteer.name in flat
    assert lin.volunteer.number in flat
    assert "累计志愿服务时长：6.5小时" in flat
    assert lin.volunteer.id_number_masked in flat and "居民身份证" in flat
    assert lin.id_number not in flat and lin.id_number[-8:] not in flat
    assert lin.phone not in flat
    assert certificate.number in flat and tree.a1.name in flat and "陈站长" in flat
    assert "免费出具" in flat
    for record in lin.approved:
        assert record.service_date.isoformat() in flat
    assert lin.pending.service_date.isoformat() not in flat

    fonts = subprocess.run(["pdffonts", pdf_path(certificate)], check=True, capture_output=True, text=True)
    cjk = [line for line in fonts.stdout.splitlines() if "WenQuanYi" in line or "CertificateCJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts.stdout  # embedded (a subset)


@needs_cjk_font
@needs_poppler
def test_page_one_rendered_shows_the_chinese_title(tree, lin, output_path):
    certificate = issued(lin.volunteer, tree.a1)
    png = page_png(pdf_path(certificate), 1, Path(output_path) / "certificate-page-1.png")
    image = Image.open(png).convert("L")
    width, height = image.size
    assert abs(width - 661) <= 1 and abs(height - 935) <= 1  # A4 at 80 dpi
    # The title, 24 pt centred below the 20 mm margin: dark strokes there, not an empty band.
    title = image.crop((width // 4, 55, width * 3 // 4, 110))
    dark = sum(title.histogram()[:128])
    assert dark > 400, dark
    # And the same band on the blank right of the page stays blank.
    margin = image.crop((width - 40, 55, width - 5, 110))
    assert sum(margin.histogram()[:128]) == 0


@needs_cjk_font
@needs_poppler
@needs_zbar
def test_the_qr_code_opens_the_page_that_verifies_it(tree, lin, client, tmp_path):
    certificate = issued(lin.volunteer, tree.a1)
    last = pdf_pages(pdf_path(certificate))
    png = page_png(pdf_path(certificate), last, tmp_path / "qr-page.png", dpi=200)
    scanned = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], check=True, capture_output=True, text=True
    )
    url = scanned.stdout.strip()
    assert url == settings.SITE_URL + verify_url(certificate)

    response = client.get(url.removeprefix(settings.SITE_URL))
    assert response.status_code == 200
    assert response.context["result"].status == Verification.VALID
    page = response.content.decode()
    assert "林*雨" in page and lin.volunteer.number in page and certificate.number in page
    assert "林小雨" not in page and lin.id_number not in page and lin.volunteer.id_number_masked not in page
    assert lin.phone not in page and "0599-7812345" not in page


@needs_cjk_font
@needs_poppler
def test_many_records_run_on_over_the_next_pages_with_the_seal_and_the_profile(
    tree, people, lin, output_path
):
    for days in range(31, 91):
        write_record(lin.volunteer, start=day_at(days, 8), hours=1)
    IssuerProfile.objects.create(
        unit=tree.a1,
        person_in_charge="周主任",
        handler="吴经办",
        contact="0599-7800000",
        seal=ContentFile(seal_png(), name="seal.png"),
    )
    certificate = issued(lin.volunteer, tree.a1)
    assert certificate.records.count() == 63 and certificate.total_hours == lin.total + 60
    assert (certificate.person_in_charge, certificate.handler, certificate.contact) == (
        "周主任",
        "吴经办",
        "0599-7800000",
    )
    path = pdf_path(certificate)
    pages = pdf_pages(path)
    assert pages >= 2
    second = "".join(pdf_text(path, 2).split())
    assert "服务内容" in second  # the table's header again
    flat = "".join(pdf_text(path).split())
    assert "周主任" in flat and "吴经办" in flat and "66.5小时" in flat
    images = subprocess.run(["pdfimages", "-list", path], check=True, capture_output=True, text=True).stdout
    assert len([line for line in images.splitlines()[2:] if line.strip()]) >= 2  # the seal and the QR code
    page_png(path, 1, Path(output_path) / "certificate-page-1.png")
    page_png(path, pages, Path(output_path) / "certificate-last-page.png")


@needs_cjk_font
def test_the_period_limits_the_records(tree, lin):
    today = timezone.localdate()
    certificate = issued(
        lin.volunteer, tree.a1, period_from=today - datetime.timedelta(days=25), period_to=today
    )
    assert set(certificate.records.all()) == set(lin.approved[1:])
    assert certificate.total_hours == Decimal("4.5")


@needs_cjk_font
def test_each_listed_record_notes_the_certificate_in_its_trail(tree, lin):
    certificate = issued(lin.volunteer, tree.a1)
    events = RecordEvent.objects.filter(action=RecordEvent.Action.CERTIFIED)
    assert sorted(events.values_list("record_id", "note")) == sorted(
        (record.pk, certificate.number) for record in lin.approved
    )


@needs_cjk_font
def test_issuing_twice_does_nothing_the_second_time(tree, lin):
    certificate = issued(lin.volunteer, tree.a1)
    before = (certificate.number, certificate.pdf.name, certificate.issued_at)
    again = certificate_issue(certificate.pk)
    assert (again.number, again.pdf.name, again.issued_at) == before
    assert CertificateSequence.objects.get(issuer=tree.a1).last == 1
    assert RecordEvent.objects.filter(action=RecordEvent.Action.CERTIFIED).count() == 3
    assert tasks.certificate_issue.run(certificate.pk) == CertificateStatus.READY


@needs_cjk_font
def test_a_failed_rendering_gives_its_number_back(tree, lin, monkeypatch):
    certificate = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)

    def broken(document):
        raise ValueError("the seal image is damaged")

    monkeypatch.setattr(pdf, "render_certificate", broken)
    failed = certificate_issue(certificate.pk)
    assert failed.status == CertificateStatus.FAILED
    assert failed.error == "ValueError: the seal image is damaged"
    assert (failed.number, failed.sequence, failed.pdf.name) == (None, None, "")
    assert not CertificateSequence.objects.filter(issuer=tree.a1, last__gt=0).exists()
    assert not certificate.records.exists() and not RecordEvent.objects.filter(action="certified").exists()
    monkeypatch.undo()

    # A new request is taken (the failed one is not "being prepared") and gets number 1.
    again = issued(lin.volunteer, tree.a1)
    assert again.sequence == 1 and again.status == CertificateStatus.READY


def test_a_missing_font_fails_with_the_reason(tree, lin, settings):
    settings.CERTIFICATE_FONT_PATH = "/nonexistent/font.ttc"
    certificate = issued(lin.volunteer, tree.a1)
    assert certificate.status == CertificateStatus.FAILED and "font.ttc" in certificate.error
    assert certificate.number is None


@needs_cjk_font
def test_numbers_count_per_issuer_and_year(tree, lin):
    first = issued(lin.volunteer, tree.a1)
    center = issued(lin.volunteer, tree.center)
    second = issued(lin.volunteer, tree.a1)
    year = timezone.localdate().year
    assert [first.number, second.number] == [f"{tree.a1.code}-{year}-000001", f"{tree.a1.code}-{year}-000002"]
    assert center.number == f"{tree.center.code}-{year}-000001"


# --- Revoking --------------------------------------------------------------------------------------


@needs_cjk_font
def test_revoking_needs_the_issuers_staff_and_a_reason(tree, people, crew, lin):
    certificate = issued(lin.volunteer, tree.a1)
    station_b1 = make_user("station_b1", role=Role.STATION_ADMIN, unit=tree.b1)
    outside = gettext("This certificate is outside the area you administer.")
    for stranger in (station_b1, people.inst_b, people.viewer, lin.volunteer.user, crew.leader.user):
        assert_refused_unchanged(
            certificates_snapshot,
            certificate_revoke,
            actor=stranger,
            certificate=certificate,
            reason="材料不实",
            field=None,
            message=outside,
        )
    assert_refused_unchanged(
        certificates_snapshot,
        certificate_revoke,
        actor=people.station_a1,
        certificate=certificate,
        reason="  ",
        field="reason",
        message=gettext("Give the reason for revoking."),
    )
    revoked = certificate_revoke(actor=people.inst_a, certificate=certificate, reason="材料不实")
    assert revoked.status == CertificateStatus.REVOKED and revoked.revoked_by == people.inst_a
    assert revoked.revoke_reason == "材料不实" and revoked.revoked_at is not None
    assert revoked.pdf.name == certificate.pdf.name and revoked.pdf.storage.exists(revoked.pdf.name)
    assert_refused(
        certificate_revoke,
        actor=people.county,
        certificate=revoked,
        reason="再次",
        field=None,
        message=gettext("Only an issued certificate can be revoked (this one: %(status)s).")
        % {"status": CertificateStatus.REVOKED.label},
    )


# --- Verifying -------------------------------------------------------------------------------------


@needs_cjk_font
def test_verification_valid_revoked_and_unknown(tree, people, lin, client):
    certificate = issued(lin.volunteer, tree.a1)
    result = certificate_verify(certificate.number, certificate.verify_code)
    assert result == Verification(
        status=Verification.VALID,
        number=certificate.number,
        masked_name="林*雨",
        volunteer_number=lin.volunteer.number,
        issuer=tree.a1.name,
        total_hours=lin.total,
        issued_on=timezone.localdate(),
    )

    response = client.get(verify_url(certificate))
    with translation.override(response["Content-Language"]):
        assert gettext("Valid") in response.content.decode()
        assert gettext("Revoked") not in response.content.decode()

    made_up = f"{tree.a1.code}-{timezone.localdate().year}-000099"
    token = certificate.verify_code
    assert len(token) == 16
    wrong = token[:-1] + ("B" if token.endswith("A") else "A")
    assert certificate_verify(made_up, token).status == Verification.UNKNOWN
    assert certificate_verify(certificate.number, wrong).status == Verification.UNKNOWN
    assert certificate_verify(certificate.number, "").status == Verification.UNKNOWN
    for path in (
        f"/records/verify/{made_up}/{token}/",
        f"/records/verify/{certificate.number}/{wrong}/",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.context["result"].status == Verification.UNKNOWN
        with translation.override(response["Content-Language"]):
            assert gettext("Unknown") in response.content.decode()
        assert lin.volunteer.number not in response.content.decode()

    certificate_revoke(actor=people.station_a1, certificate=certificate, reason="重复出具")
    response = client.get(verify_url(certificate))
    assert response.status_code == 200 and response["Cache-Control"] == "no-cache"
    result = response.context["result"]
    assert result.status == Verification.REVOKED and result.revoked_on == timezone.localdate()
    with translation.override(response["Content-Language"]):
        assert gettext("Revoked") in response.content.decode()


def test_a_certificate_being_prepared_does_not_verify(tree, lin):
    certificate = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)
    Certificate.objects.filter(pk=certificate.pk).update(number="PREPARED-1", verify_code="abcdefghijklmnop")
    assert certificate_verify("PREPARED-1", "abcdefghijklmnop").status == Verification.UNKNOWN


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("林小雨", "林*雨"), ("欧阳小明", "欧**明"), ("王", "*"), ("", "")]
)
def test_names_are_masked(name, masked):
    assert certificates.mask_name(name) == masked


# --- Downloading -----------------------------------------------------------------------------------


@needs_cjk_font
def test_the_volunteer_and_the_issuers_staff_download_it_others_get_404(tree, people, crew, lin, client):
    certificate = issued(lin.volunteer, tree.a1)
    url = f"/records/certificates/{certificate.pk}/download/"
    station_b1 = make_user("station_b1", role=Role.STATION_ADMIN, unit=tree.b1)
    for user in (lin.volunteer.user, people.station_a1, people.inst_a, people.county):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="{certificate.number}.pdf"'
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    for user in (station_b1, people.inst_b, crew.volunteer.user, crew.leader.user, people.nobody):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    client.logout()
    assert client.get(url).status_code == 404

    waiting = certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.center)
    client.force_login(lin.volunteer.user)
    assert client.get(f"/records/certificates/{waiting.pk}/download/").status_code == 404


# --- Numbers under concurrent issuing (PostgreSQL) -------------------------------------------------


def _in_threads(targets):
    errors = []

    def guarded(target):
        def run():
            try:
                target()
            except Exception as error:
                errors.append(error)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_leaves_no_gaps_even_when_one_fails(tree, lin, monkeypatch):
    pending = [
        Certificate.objects.create(volunteer=lin.volunteer, issuer=tree.a1, requested_by=lin.volunteer.user)
        for _ in range(10)
    ]
    render, calls, guard = pdf.render_certificate, [], threading.Lock()

    def third_one_fails(document):
        with guard:
            calls.append(document.number)
            failing = len(calls) == 3
        if failing:
            raise RuntimeError("rendering failed")
        return render(document)

    monkeypatch.setattr(pdf, "render_certificate", third_one_fails)
    start = threading.Barrier(len(pending))

    def issue(pk):
        def run():
            start.wait()
            certificate_issue(pk)

        return run

    assert _in_threads([issue(certificate.pk) for certificate in pending]) == []
    rows = Certificate.objects.filter(pk__in=[c.pk for c in pending])
    ready = rows.filter(status=CertificateStatus.READY)
    assert rows.filter(status=CertificateStatus.FAILED).count() == 1
    assert sorted(ready.values_list("sequence", flat=True)) == list(range(1, 10))
    assert len(set(ready.values_list("number", flat=True))) == 9
    assert CertificateSequence.objects.get(issuer=tree.a1).last == 9


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_certificate(tree, lin, monkeypatch):
    monkeypatch.setattr(tasks.certificate_issue, "delay", lambda *args: None)
    start, refusals = threading.Barrier(2), []

    def ask():
        start.wait()
        try:
            certificate_request(actor=lin.volunteer.user, volunteer=lin.volunteer, issuer=tree.a1)
        except ApplicationError as error:
            refusals.append((error.field, str(error.message)))

    assert _in_threads([ask, ask]) == []
    assert Certificate.objects.filter(volunteer=lin.volunteer, issuer=tree.a1).count() == 1
    message = gettext("A certificate from %(unit)s is already being prepared; it will be ready shortly.")
    assert refusals == [("issuer", message % {"unit": tree.a1.name})]


# --- Through a real Celery worker (PostgreSQL and Redis) -------------------------------------------


@pytest.fixture
def worker(transactional_db):
    """A worker of its own queue, on the test database."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    db = connection.settings_dict
    env = os.environ.copy()
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    log = Path(settings.VAR_DIR) / f"{queue}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("celery")),
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
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)
        text = log.read_text()
        log.unlink()
    assert "ready" in text, text[-2000:]


@pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): the worker reads the test database",
)
@pytest.mark.django_db(transaction=True)
def test_the_worker_issues_it_once(tree, lin, worker):
    certificate = Certificate.objects.create(volunteer=lin.volunteer, issuer=tree.a1)
    first = tasks.certificate_issue.apply_async(args=[certificate.pk], queue=worker)
    assert first.get(timeout=90) == CertificateStatus.READY
    second = tasks.certificate_issue.apply_async(args=[certificate.pk], queue=worker)
    assert second.get(timeout=90) == CertificateStatus.READY
    certificate.refresh_from_db()
    assert certificate.sequence == 1 and certificate.total_hours == lin.total
    assert CertificateSequence.objects.get(issuer=tree.a1).last == 1
    assert certificate.pdf.storage.exists(certificate.pdf.name)


def test_a_code_too_long_for_the_number_gives_way_to_the_unit_id():
    assert certificates._number(Unit(pk=7, code="SC-01"), 2026, 42) == "SC-01-2026-000042"
    assert certificates._number(Unit(pk=7, code="X" * 32), 2026, 42) == "U7-2026-000042"
    assert certificates._number(Unit(pk=7, code="SC"), 2026, 1234567) == "SC-2026-1234567"
