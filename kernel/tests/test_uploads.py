"""Photos kept between two tries of a form: owned, cleaned, and swept away when nobody comes back."""

import datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from kernel.models import StagedUpload
from kernel.testing import assert_refused
from kernel.uploads import staged_upload_create, staged_upload_take, staged_uploads_of, staged_uploads_sweep
from stations.tests.factories import make_user

pytestmark = pytest.mark.django_db


def _jpeg_with_gps():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (26.0, 47.0, 30.0)}
    buffer = BytesIO()
    Image.new("RGB", (20, 10), (10, 20, 30)).save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("门牌.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def owner():
    return make_user("keeper")


def test_a_kept_upload_is_cleaned_and_belongs_to_its_owner(owner, django_capture_on_commit_callbacks):
    staged = staged_upload_create(owner=owner, upload=_jpeg_with_gps())
    with staged.file.open("rb") as handle:
        assert b"Exif" not in handle.read()
    assert staged.original_name == "门牌.jpg" and staged.file.name.startswith("staging/")
    other = make_user("other")
    assert staged_uploads_of(owner=other, ids=[staged.pk]) == []
    assert staged_uploads_of(owner=owner, ids=["not-a-uuid", str(staged.pk), str(staged.pk)]) == [staged]
    storage, name = staged.file.storage, staged.file.name
    with django_capture_on_commit_callbacks(execute=True):
        content = staged_upload_take(staged=staged)
    assert content.read()[:2] == b"\xff\xd8" and not storage.exists(name)
    assert_refused(
        staged_upload_take,
        staged=staged,
        field="add_photos",
        message="暂存的照片已失效，请重新选择。",
    )


def test_a_non_image_is_refused_on_the_field(owner):
    assert_refused(
        staged_upload_create,
        owner=owner,
        upload=SimpleUploadedFile("x.png", b"nope"),
        field="add_photos",
        message="该文件不是图片，请上传以下格式之一的照片：JPEG, PNG, WebP。",
    )
    assert not StagedUpload.objects.exists()


def test_old_kept_uploads_are_swept_and_fresh_ones_stay(settings, owner, django_capture_on_commit_callbacks):
    settings.STAGED_UPLOAD_HOURS = 2
    old, fresh = (staged_upload_create(owner=owner, upload=_jpeg_with_gps()) for _ in range(2))
    StagedUpload.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert staged_uploads_sweep() == 1
    assert list(StagedUpload.objects.all()) == [fresh]
    assert not old.file.storage.exists(old.file.name)
    assert staged_uploads_of(owner=owner, ids=[old.pk, fresh.pk]) == [fresh]
    with django_capture_on_commit_callbacks(execute=True):
        assert staged_uploads_sweep() == 0
    fresh.file.delete(save=False)
