"""In a real browser on a phone (390×844): a volunteer logs a service with a photo and sees it pending; the
team leader logs in with phone and password and approves it in the queue page; the volunteer sees the new
total and the star reached, applies for a certificate, waits for it on the page and downloads the PDF."""

import datetime
from decimal import Decimal

import pytest
from PIL import Image

from records.tests.fonts import needs_cjk_font
from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_cjk_font]

PHONE = VIEWPORTS["phone"]


@pytest.fixture
def notice(db):
    # A transactional test empties the tables, the privacy notice of the data migration too.
    from volunteers.models import PrivacyNotice

    notice, _created = PrivacyNotice.objects.get_or_create(
        version="2026-1",
        defaults={
            "title": "志愿者个人信息保护政策",
            "body": "我们只为志愿服务登记、记录和证明收集您的个人信息。",
            "effective_from": datetime.date(2026, 1, 1),
        },
    )
    return notice


@pytest.fixture
def crew(tree, notice):
    from records import rules
    from records.models import RecordSource, RecordStatus, ServiceRecord
    from volunteers.models import MembershipRole, Volunteer
    from volunteers.tests.factories import make_member, make_team, make_volunteer

    team = make_team(tree.a1, "甲一村志愿服务队")
    leader = make_volunteer(tree.a1, "李队长", password="Leader@2026!", phone="13912345001")
    volunteer = make_volunteer(tree.a1, "张志愿", password="Volunteer@2026!", phone="13912345002")
    make_member(team, leader, role=MembershipRole.LEADER)
    make_member(team, volunteer)
    # 97.5 approved hours already: the service logged below takes the volunteer past the first star.
    from django.utils import timezone

    today = timezone.localdate()
    for days_ago, hours in [(30 + index, 12) for index in range(8)] + [(20, 1.5)]:
        day = today - datetime.timedelta(days=days_ago)
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, 0)))
        end = start + datetime.timedelta(hours=hours)
        ServiceRecord.objects.create(
            volunteer=volunteer,
            unit=tree.a1,
            team=team,
            content="乡村振兴宣讲",
            started_at=start,
            ended_at=end,
            service_date=day,
            hours=rules.hours_between(start, end),
            source=RecordSource.STAFF,
            status=RecordStatus.APPROVED,
            decided_at=end,
        )
    Volunteer.objects.filter(pk=volunteer.pk).update(service_hours=Decimal("97.5"))
    return team, leader, volunteer


def _login(page, live_server, phone, password, next_url):
    page.goto(f"{live_server.url}/volunteer/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", password)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_url}")


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_service_is_logged_approved_in_the_queue_and_certified_on_a_phone(
    page, live_server, tree, crew, output_path, tmp_path
):
    from django.utils import timezone

    from records import certificates
    from records.models import Certificate, CertificateStatus, RecordStatus, ServiceRecord

    team, leader, volunteer = crew
    page.set_viewport_size(PHONE)
    shot = f"{output_path}/records-phone"
    photo = tmp_path / "现场照片.jpg"
    Image.new("RGB", (800, 600), (90, 140, 60)).save(photo, format="JPEG")
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()

    # The volunteer logs a service with a photo.
    _login(page, live_server, volunteer.phone, "Volunteer@2026!", "/records/new/")
    page.select_option("#id_team", str(team.pk))
    page.fill("#id_content", "村文化广场环境清洁")
    page.fill("#id_started_at_0", yesterday)
    page.fill("#id_started_at_1", "09:00")
    page.fill("#id_ended_at_0", yesterday)
    page.fill("#id_ended_at_1", "12:00")
    page.set_input_files("#id_evidence_photo", str(photo))
    page.fill("#id_evidence_note", "与队员王队员一起")
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-1-log-form.png", full_page=True)
    page.click("#submit-record")
    page.wait_for_selector("#record-status")
    record = ServiceRecord.objects.get(content="村文化广场环境清洁")
    assert record.status == RecordStatus.PENDING and record.hours == Decimal(3)
    assert page.url == f"{live_server.url}/records/{record.pk}/"
    assert page.locator("#record-status").inner_text().strip() == str(RecordStatus.PENDING.label)
    # The photo is served to its volunteer, and shown.
    page.wait_for_function("document.getElementById('evidence-photo').complete")
    assert page.evaluate("document.getElementById('evidence-photo').naturalWidth") == 800
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-2-pending-record.png", full_page=True)
    page.click("#logout")
    page.wait_for_url(f"{live_server.url}/volunteer/login/")

    # The team leader approves it in the queue.
    _login(page, live_server, leader.phone, "Leader@2026!", "/records/queue/")
    row = page.locator(f"#queue-{record.pk}")
    assert volunteer.name in row.inner_text() and volunteer.number in row.inner_text()
    assert volunteer.phone not in page.content()
    page.check(f"#pick-{record.pk}")
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-3-queue.png", full_page=True)
    page.click("#approve-selected")
    page.wait_for_selector("#queue-empty")
    record.refresh_from_db()
    assert record.status == RecordStatus.APPROVED and record.decided_by == leader.user
    assert "1" in page.locator(".vol-message").first.inner_text()
    page.click("#logout")
    page.wait_for_url(f"{live_server.url}/volunteer/login/")

    # The volunteer sees the new total and the first star reached.
    _login(page, live_server, volunteer.phone, "Volunteer@2026!", "/records/")
    assert page.locator("#total-hours").inner_text() == "100.5"
    assert page.locator(".star.lit").count() == 1
    assert page.locator("#star-progress").get_attribute("aria-valuenow") == "0"  # 0.5 of 200 hours to ★2
    assert "199.5" in page.locator("#star-progress-text").inner_text()
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-4-stars.png", full_page=True)

    # The approved record keeps its history, and offers to ask for a correction.
    page.click(f"#records a[href='/records/{record.pk}/']")
    page.wait_for_selector("#trail")
    assert page.locator("#record-status").inner_text().strip() == str(RecordStatus.APPROVED.label)
    assert page.locator("#trail .trail-step").count() == 2
    page.click("#correction-request summary")
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-4b-approved-record.png", full_page=True)
    page.goto(f"{live_server.url}/records/")

    # … applies for a certificate from the station, waits for it on the page, and downloads it.
    page.click("#tab-certificates")
    page.wait_for_url(f"{live_server.url}/records/certificates/")
    page.select_option("#id_issuer", str(tree.a1.pk))
    page.click("#apply-certificate")
    page.wait_for_selector("#preparing")
    certificate = Certificate.objects.get(volunteer=volunteer)
    page.screenshot(path=f"{shot}-5-certificate-preparing.png", full_page=True)
    certificate.refresh_from_db()
    if certificate.status == CertificateStatus.REQUESTED:
        # No worker runs beside the tests: do the task's work here; the page looks again by itself.
        certificates.certificate_issue(certificate.pk)
    download_link = page.locator(f"#download-{certificate.pk}")
    download_link.wait_for(timeout=20_000)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.READY and certificate.total_hours == Decimal("100.5")
    assert certificate.number in page.locator(f"#certificate-{certificate.pk}").inner_text()
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-6-certificates.png", full_page=True)
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.suggested_filename == f"{certificate.number}.pdf"
