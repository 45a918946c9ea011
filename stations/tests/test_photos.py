"""Evidence photos go through the one image intake; a replaced or deleted photo leaves no file behind."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from kernel.testing import assert_refused
from stations import services
from stations.models import InspectionPhoto
from stations.tests.admin_forms import inspection_change_data

pytestmark = pytest.mark.django_db


def _jpeg_with_gps(name="sign.jpg", colour=(200, 30, 30)):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (26.0, 47.0, 30.0), 3: "E", 4: (117.0, 48.0, 36.0)}  # GPS IFD
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, format="JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the source really carries GPS
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@pytest.fixture
def inspection(tree, people, reference):
    record = services.inspection_record(
        actor=people.inst_a,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 2),
    )
    yield record
    for photo in InspectionPhoto.objects.all():
        photo.image.delete(save=False)


def _stored(photo):
    with photo.image.open("rb") as handle:
        return handle.read()


def test_an_admin_upload_is_stored_without_its_gps(client, people, inspection):
    client.force_login(people.inst_a)
    data = inspection_change_data(inspection, add_photos=[_jpeg_with_gps()])
    response = client.post(reverse("admin:stations_inspection_change", args=[inspection.pk]), data)
    assert response.status_code == 302
    stored = _stored(inspection.photos.get())
    assert b"Exif" not in stored and not Image.open(io.BytesIO(stored)).getexif()


def test_a_gif_named_jpg_is_refused_in_the_admin(client, people, inspection):
    client.force_login(people.inst_a)
    buffer = io.BytesIO()
    Image.new("P", (8, 8)).save(buffer, format="GIF")
    fake = SimpleUploadedFile("photo.jpg", buffer.getvalue() + b"<?php system($_GET['c']); ?>")
    data = {
        "inspected_on": "2026-11-02",
        "note": "",
        "results-TOTAL_FORMS": "0",
        "results-INITIAL_FORMS": "0",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "follow_ups-TOTAL_FORMS": "0",
        "follow_ups-INITIAL_FORMS": "0",
        "add_photos": [fake],
    }
    response = client.post(reverse("admin:stations_inspection_change", args=[inspection.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["add_photos"] == [
        "photo.jpg: 不接受 GIF 格式的图片，请上传以下格式之一的照片：JPEG, PNG, WebP。"
    ]
    assert not inspection.photos.exists()


def test_replacing_and_deleting_a_photo_remove_the_old_file(
    people, inspection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.photo_add(
            actor=people.inst_a, inspection=inspection, image=_jpeg_with_gps(), caption="x"
        )
    storage, first = photo.image.storage, photo.image.name
    with django_capture_on_commit_callbacks(execute=True):
        photo = services.photo_update(
            actor=people.inst_a, photo=photo, image=_jpeg_with_gps("b.jpg", (0, 0, 200)), caption="换了"
        )
    assert not storage.exists(first) and storage.exists(photo.image.name)
    assert InspectionPhoto.objects.get(pk=photo.pk).caption == "换了"
    second = photo.image.name
    with django_capture_on_commit_callbacks(execute=True):
        services.photo_delete(actor=people.inst_a, photo=photo)
    assert not storage.exists(second) and not InspectionPhoto.objects.exists()


def test_only_an_inspector_from_above_adds_photos(people, inspection):
    assert_refused(
        services.photo_add,
        field="unit",
        message="只能督查本单位的下级单位。",
        actor=people.station_a1,
        inspection=inspection,
        image=_jpeg_with_gps(),
    )
