"""Activity reports (图文资料) with photos: each activity's own deadline, photos through the one image intake
with thumbnails, publishing as news by the staff in scope, and what a refused upload leaves behind
(nothing). The intake's own cases live in kernel/tests/test_images.py; here they are asserted at the
level of the report: the service, the workbench page and its staging endpoint."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from activities import selectors, services
from activities.models import ActivityReport, ActivityReportPhoto, ActivityStatus
from kernel.models import StagedUpload
from kernel.testing import assert_refused
from kernel.tests.test_images import (
    DAMAGED,
    NOT_AN_IMAGE,
    PHP,
    TOO_MANY_PIXELS,
    _photo_with_gps,
    _png_of_one_colour,
)
from kernel.uploads import staged_upload_create

from .factories import at, make_activity, write_activity

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _remove_stored_files():
    yield
    for photo in ActivityReportPhoto.objects.all():
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    for staged in StagedUpload.objects.all():
        staged.file.delete(save=False)


def stored_files() -> set[str]:
    """Every file under the public and the protected media roots."""
    found = set()
    for root in (Path(settings.MEDIA_ROOT), Path(settings.PROTECTED_MEDIA_ROOT)):
        if root.exists():
            found |= {str(path) for path in root.rglob("*") if path.is_file()}
    return found


def jpeg(name="photo.jpg", size=(64, 48), colour=(90, 140, 60)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(buffer, format="JPEG")
    whole = buffer.getvalue()
    return whole[: len(whole) // 2]


# A hostile upload each: its name, bytes, and the intake's message.
REFUSED = {
    "text named .jpg": ("notes.jpg", "只是一段文字，不是照片。".encode(), NOT_AN_IMAGE),
    "svg": ("drawing.svg", SVG, NOT_AN_IMAGE),
    "php named .png": ("shell.png", PHP, NOT_AN_IMAGE),
    "truncated jpeg": ("cut.jpg", None, DAMAGED),
    "pixel bomb": ("bomb.png", None, TOO_MANY_PIXELS),
}


def refused_upload(case: str) -> SimpleUploadedFile:
    name, data, _message = REFUSED[case]
    if case == "truncated jpeg":
        data = truncated_jpeg()
    elif case == "pixel bomb":
        data = _png_of_one_colour(30000, 30000, bit_depth=1)
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.fixture
def held(tree, organiser):
    activity = write_activity(tree.a1, start=at(days=-2), status=ActivityStatus.FINISHED, title="环境整治")
    activity.organiser_links.create(user=organiser)
    return activity


@pytest.fixture
def institute_held(tree, people):
    return write_activity(tree.a, start=at(days=-2), status=ActivityStatus.FINISHED, title="所里的宣讲")


def submit(actor, activity, **fields):
    fields.setdefault("text", "清理垃圾二十袋，发放宣传单。")
    fields.setdefault("people_served", 40)
    return services.report_submit(actor=actor, activity=activity, **fields)


# --- The deadline -----------------------------------------------------------------------------------------


def test_each_activity_has_its_own_report_deadline(tree, people, settings):
    settings.ACTIVITY_REPORT_DAYS = 5
    default = make_activity(tree.a1, actor=people.station_a1, publish=False)
    assert default.report_days == 5
    assert services.report_due(default) == default.ended_at + datetime.timedelta(days=5)
    quick = make_activity(tree.a1, actor=people.station_a1, publish=False, report_days=1)
    assert services.report_due(quick) == quick.ended_at + datetime.timedelta(days=1)
    assert_refused(
        make_activity, tree.a1, actor=people.station_a1, publish=False, report_days=91,
        field="report_days", message="Give a whole number of days from 0 to 90.",
    )  # fmt: skip


def test_the_overdue_list_follows_each_activitys_own_deadline(tree):
    start = at(days=-3)
    late = write_activity(tree.a1, start=start, status=ActivityStatus.FINISHED, report_days=1)
    write_activity(tree.a1, start=start, status=ActivityStatus.FINISHED, report_days=7)
    assert list(ActivityReport.objects.none()) == []
    from activities.models import Activity

    assert list(Activity.objects.report_overdue()) == [late]


# --- Photos through the intake ------------------------------------------------------------------------------


def test_a_report_stores_its_photos_cleaned_with_thumbnails_and_captions(organiser, held):
    with_gps = SimpleUploadedFile("gps.jpg", _photo_with_gps(), content_type="image/jpeg")
    kept = staged_upload_create(owner=organiser, upload=jpeg("kept.jpg", size=(1200, 900)))
    report = submit(organiser, held, photos=[(with_gps, "  清理现场 "), (kept, "合影")])
    photos = list(report.photos.all())
    assert [(p.caption, p.position) for p in photos] == [("清理现场", 0), ("合影", 1)]
    for photo in photos:
        with photo.image.open("rb") as handle, Image.open(handle) as image:
            assert image.format == "JPEG" and not image.getexif()
            assert (photo.width, photo.height) == image.size
        with photo.thumbnail.open("rb") as handle, Image.open(handle) as thumbnail:
            assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 480
        assert Path(photo.image.path).is_relative_to(Path(settings.MEDIA_ROOT) / "reports")
        assert Path(photo.image.name).stem not in ("gps", "kept")  # a random name
    assert photos[1].thumbnail.width == 480
    assert not StagedUpload.objects.exists()  # the kept copy was taken over


def test_written_again_a_report_keeps_its_photos_removes_some_and_adds_more(
    organiser, held, django_capture_on_commit_callbacks
):
    report = submit(organiser, held, photos=[jpeg("a.jpg"), jpeg("b.jpg")])
    first, second = report.photos.all()
    removed_files = {first.image.path, first.thumbnail.path}
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(
            organiser, held, text="改过的报告", photos=[jpeg("c.jpg")], remove_photos=[first.pk],
            captions={str(second.pk): "新的说明"},
        )  # fmt: skip
    assert report.text == "改过的报告"
    assert [(p.pk == second.pk, p.caption, p.position) for p in report.photos.all()] == [
        (True, "新的说明", 1),
        (False, "", 2),
    ]
    assert not any(Path(path).exists() for path in removed_files)


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_photo_refuses_the_report_and_leaves_nothing_on_disk(organiser, held, case):
    before = stored_files()
    assert_refused(
        submit, organiser, held, photos=[jpeg("good.jpg"), refused_upload(case)],
        field="photos", message=REFUSED[case][2],
    )  # fmt: skip
    assert not ActivityReport.objects.exists() and not ActivityReportPhoto.objects.exists()
    assert stored_files() == before


def test_a_photo_that_fails_after_files_were_written_takes_them_away(organiser, held, monkeypatch):
    submit(organiser, held)
    before = stored_files()
    real = services._photo_store
    calls = []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise services.ApplicationError("disk full", field="photos")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_photo_store", second_fails)
    assert_refused(submit, organiser, held, photos=[jpeg(), jpeg()], field="photos", message="disk full")
    assert stored_files() == before and not ActivityReportPhoto.objects.exists()


def test_only_whoever_runs_the_activity_adds_or_removes_its_photos(people, organiser, held):
    report = submit(organiser, held, photos=[jpeg()])
    photo = report.photos.get()
    message = "You do not organise this activity."
    assert_refused(
        services.report_photo_add, actor=people.inst_b, report=report, image=jpeg(),
        field="image", message=message,
    )  # fmt: skip
    assert_refused(
        services.report_photo_remove, actor=people.inst_b, photo=photo, field="photo", message=message
    )
    assert report.photos.count() == 1
    services.report_photo_add(actor=people.inst_a, report=report, image=jpeg(), caption="所里补的")
    services.report_photo_remove(actor=organiser, photo=photo)
    assert list(report.photos.values_list("caption", flat=True)) == ["所里补的"]


# --- Publishing --------------------------------------------------------------------------------------------


def test_the_staff_in_scope_publish_and_unpublish_and_an_organiser_cannot(people, organiser, held):
    report = submit(organiser, held)
    assert_refused(
        services.report_publish, actor=organiser, report=report, field="report",
        message="Only the staff of the activity's unit or above publish its report.",
    )  # fmt: skip
    assert_refused(
        services.report_publish, actor=people.inst_b, report=report, field="report",
        message="Only the staff of the activity's unit or above publish its report.",
    )  # fmt: skip
    published = services.report_publish(actor=people.station_a1, report=report)
    assert published.published_by == people.station_a1 and published.published_at is not None
    again = services.report_publish(actor=people.county, report=report)
    assert (again.published_at, again.published_by) == (published.published_at, people.station_a1)
    services.report_unpublish(actor=people.inst_a, report=report)
    report.refresh_from_db()
    assert (report.published_at, report.published_by) == (None, None)


def test_a_station_cannot_publish_the_institutes_report(people, institute_held):
    report = submit(people.inst_a, institute_held)
    message = "Only the staff of the activity's unit or above publish its report."
    assert_refused(
        services.report_publish, actor=people.station_a1, report=report, field="report", message=message
    )
    services.report_publish(actor=people.inst_a, report=report)
    assert_refused(
        services.report_unpublish, actor=people.station_a1, report=report, field="report", message=message
    )
    report.refresh_from_db()
    assert report.published_by == people.inst_a


def test_publishing_needs_the_text(people, organiser, held):
    report = submit(organiser, held)
    ActivityReport.objects.filter(pk=report.pk).update(text="")
    assert_refused(
        services.report_publish, actor=people.inst_a, report=report, field="text",
        message="Write the report's text before publishing it.",
    )  # fmt: skip


# --- The public list --------------------------------------------------------------------------------------


def _published(tree, people, count, offset=0):
    for index in range(offset, offset + count):
        activity = write_activity(tree.a1, start=at(days=-3 - index), status=ActivityStatus.FINISHED)
        report = services.report_submit(
            actor=None, activity=activity, text=f"报告{index}", people_served=index
        )
        ActivityReportPhoto.objects.bulk_create(
            ActivityReportPhoto(report=report, image=f"reports/x{index}-{n}.jpg", position=n)
            for n in range(3)
        )
        services.report_publish(actor=people.county, report=report)


def _render_news():
    rows = []
    for report in selectors.published_reports()[:50]:
        rows.append(
            (report.activity.title, report.activity.unit.name, [p.image.name for p in report.photos.all()])
        )
    return rows


def test_published_reports_are_newest_first_and_a_page_costs_the_same_for_1_and_50(
    tree, people, organiser, held, django_assert_num_queries
):
    submit(organiser, held)  # not published: never listed
    _published(tree, people, 1)
    with CaptureQueriesContext(connection) as one:
        assert len(_render_news()) == 1
    _published(tree, people, 60, offset=1)
    with django_assert_num_queries(len(one)):
        rows = _render_news()
    assert len(rows) == 50 and all(len(photos) == 3 for _title, _unit, photos in rows)
    assert len(one) == 2
    newest = selectors.published_reports().first()
    assert newest.text == "报告60"


# --- The workbench page ------------------------------------------------------------------------------------


@pytest.fixture
def client(client):
    # The pages speak the language of the switcher's cookie; these tests read the English msgids.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def report_url(activity):
    return reverse("activities:report", args=[activity.pk])


def stage_url(activity):
    return reverse("activities:report-stage", args=[activity.pk])


def test_the_plain_form_takes_several_photos_at_once(client, organiser, held):
    client.force_login(organiser)
    page = client.get(report_url(held)).content.decode()
    assert 'accept="image/*"' in page and "multiple" in page and 'enctype="multipart/form-data"' in page
    response = client.post(
        report_url(held),
        {"text": "清理垃圾", "people_served": "12", "photos": [jpeg("a.jpg"), jpeg("b.jpg")]},
    )
    assert response.status_code == 302
    report = ActivityReport.objects.get()
    assert report.photos.count() == 2 and all(photo.thumbnail for photo in report.photos.all())
    assert not StagedUpload.objects.exists()


@pytest.mark.parametrize("case", REFUSED)
def test_the_plain_form_shows_the_refusal_next_to_the_photos_and_keeps_the_good_one(
    client, organiser, held, case
):
    client.force_login(organiser)
    before = stored_files()
    response = client.post(
        report_url(held),
        {"text": "清理垃圾", "people_served": "12", "photos": [jpeg("good.jpg"), refused_upload(case)]},
    )
    assert response.status_code == 200
    name, _data, message = REFUSED[case]
    assert response.context["form"].errors["photos"] == [f"{name}: {message}"]
    assert not ActivityReport.objects.exists()
    good = StagedUpload.objects.get()  # kept for the next try, shown as a thumbnail
    assert f'value="{good.pk}" checked' in response.content.decode()
    assert stored_files() - before == {good.file.path}
    response = client.post(
        report_url(held), {"text": "清理垃圾", "people_served": "12", "kept_photos": [str(good.pk)]}
    )
    assert response.status_code == 302
    assert ActivityReport.objects.get().photos.count() == 1 and not StagedUpload.objects.exists()


def test_the_staging_endpoint_keeps_a_photo_for_the_form(client, organiser, held):
    client.force_login(organiser)
    answer = client.post(stage_url(held), {"photo": SimpleUploadedFile("gps.jpg", _photo_with_gps())})
    assert answer.status_code == 201
    staged = StagedUpload.objects.get(pk=answer.json()["id"])
    assert staged.owner == organiser
    with staged.file.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif()
    assert client.get(answer.json()["url"]).status_code == 200
    response = client.post(
        report_url(held),
        {
            "text": "清理",
            "people_served": "3",
            "kept_photos": [str(staged.pk)],
            f"caption_{staged.pk}": "合影",
        },
    )
    assert response.status_code == 302
    assert list(ActivityReport.objects.get().photos.values_list("caption", flat=True)) == ["合影"]


@pytest.mark.parametrize("case", REFUSED)
def test_the_staging_endpoint_refuses_with_the_intakes_message_and_writes_nothing(
    client, organiser, held, case
):
    client.force_login(organiser)
    before = stored_files()
    answer = client.post(stage_url(held), {"photo": refused_upload(case)})
    assert answer.status_code == 400
    assert answer.json() == {"field": "photos", "message": REFUSED[case][2], "name": REFUSED[case][0]}
    assert not StagedUpload.objects.exists() and stored_files() == before


def test_another_township_cannot_reach_the_page_the_staging_or_the_kept_photos(
    client, people, organiser, held
):
    client.force_login(organiser)
    staged = client.post(stage_url(held), {"photo": jpeg()}).json()
    client.force_login(people.inst_b)
    assert client.get(report_url(held)).status_code == 404
    assert client.post(stage_url(held), {"photo": jpeg()}).status_code == 404
    assert client.get(staged["url"]).status_code == 404
    client.force_login(people.inst_a)  # runs the activity, but did not pick the photo
    assert client.get(staged["url"]).status_code == 404
    assert StagedUpload.objects.count() == 1
