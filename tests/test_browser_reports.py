"""The activity report from a phone, in a real browser: the organiser signs in, opens the report page of a
finished activity on a 390 × 844 screen, picks several photos at once (one of them a text file named like
a photo), watches each upload with its progress bar, sees the refusal next to the bad file, submits, and
the report is stored with its photos and their thumbnails."""

import io

import pytest
from PIL import Image

from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = VIEWPORTS["phone"]
PASSWORD = "Organiser@2026!"


def _photo(name: str, colour, size=(1600, 1200)) -> dict:
    image = Image.effect_noise(size, 30).convert("RGB")
    image = Image.blend(image, Image.new("RGB", size, colour), 0.6)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@pytest.fixture
def finished(tree):
    from activities.models import ActivityStatus
    from activities.tests.factories import at, write_activity
    from volunteers.tests.factories import make_volunteer

    activity = write_activity(
        tree.a1, start=at(days=-1), status=ActivityStatus.FINISHED, title="村口环境整治"
    )
    volunteer = make_volunteer(tree.a1, "周组织", password=PASSWORD)
    activity.organiser_links.create(user=volunteer.user)
    return activity, volunteer


def test_an_organiser_uploads_several_photos_from_a_phone_and_submits_the_report(
    browser, live_server, finished, output_path
):
    from activities.models import ActivityReport
    from kernel.models import StagedUpload

    activity, organiser = finished
    shot = f"{output_path}/report-phone"
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    report_url = f"{live_server.url}/activities/workbench/{activity.pk}/report/"
    page.goto(report_url)
    page.fill("#id_phone", organiser.phone)
    page.fill("#id_password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(report_url)

    picker = page.locator("input[type=file][name=photos]")
    assert picker.get_attribute("accept") == "image/*" and picker.get_attribute("multiple") is not None
    page.fill("#id_text", "清理村口垃圾二十袋，劝导文明停车。")
    page.fill("#id_people_served", "35")
    picker.set_input_files(
        [
            _photo("IMG_0001.jpg", (183, 28, 28)),
            _photo("IMG_0002.jpg", (46, 125, 50)),
            _photo("IMG_0003.jpg", (21, 101, 192)),
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": "不是照片".encode()},
        ]
    )
    rows = page.locator("#photo-uploads > li")
    assert rows.count() == 4
    assert page.locator("#photo-uploads progress").count() == 4
    page.screenshot(path=f"{shot}-1-uploading.png", full_page=True)
    page.wait_for_function(
        "document.querySelectorAll('#photo-uploads .wb-photo-done, #photo-uploads .wb-photo-refused')"
        ".length === 4"
    )
    assert page.locator("#photo-uploads .wb-photo-done").count() == 3
    refused = page.locator("#photo-uploads .wb-photo-refused")
    assert "notes.jpg" in refused.inner_text() and "该文件不是图片" in refused.inner_text()
    assert page.locator("#photo-uploads .wb-photo-done progress").evaluate_all(
        "bars => bars.every(bar => bar.value === 100)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("input[name^=caption_]").first.fill("清理现场")
    page.screenshot(path=f"{shot}-2-uploaded.png", full_page=True)

    page.click("#submit-report")
    page.wait_for_url(f"{live_server.url}/activities/workbench/")
    page.screenshot(path=f"{shot}-3-saved.png", full_page=True)

    report = ActivityReport.objects.get(activity=activity)
    assert (report.text, report.people_served, report.submitted_by) == (
        "清理村口垃圾二十袋，劝导文明停车。",
        35,
        organiser.user,
    )
    photos = list(report.photos.all())
    assert len(photos) == 3 and photos[0].caption == "清理现场"
    assert all(
        photo.thumbnail and max(photo.thumbnail.width, photo.thumbnail.height) == 480 for photo in photos
    )
    assert not StagedUpload.objects.exists()

    page.goto(report_url)
    assert page.locator("#stored-photos img").count() == 3
    page.screenshot(path=f"{shot}-4-stored.png", full_page=True)
    for photo in photos:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    context.close()
