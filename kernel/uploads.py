"""Photos kept between two tries of a form.

A browser forgets the files picked in a form as soon as the form comes back with an error. The form
stages each picked image here instead (cleaned by the one image intake, in protected storage, owned by
whoever picked it); the page shows them as thumbnails with a box to keep each one, and the next try sends
their ids. The service that finally stores a photo takes the staged copy over.
"""

from __future__ import annotations

import datetime
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .files import delete_file_on_commit
from .images import image_intake
from .models import StagedUpload


def _fresh():
    return StagedUpload.objects.filter(
        created_at__gte=timezone.now() - datetime.timedelta(hours=settings.STAGED_UPLOAD_HOURS)
    )


@transaction.atomic
def staged_upload_create(*, owner, upload, field: str = "add_photos") -> StagedUpload:
    """Clean `upload` with the image intake and keep it for `owner`."""
    if hasattr(upload, "seek"):
        upload.seek(0)  # the same request may be read twice (a form shown again after a refusal)
    content = image_intake(upload, field=field)
    staged = StagedUpload(owner=owner, original_name=os.path.basename(getattr(upload, "name", ""))[:200])
    staged.file.save(content.name, content, save=False)
    staged.save()
    return staged


def staged_uploads_of(*, owner, ids) -> list[StagedUpload]:
    """The kept uploads among `ids` that belong to `owner` and are still fresh, in the order given;
    anything else (another's, expired, made up) is left out."""
    wanted = [str(value) for value in ids]
    rows = {str(row.pk): row for row in _fresh().filter(owner=owner, pk__in=_valid_uuids(wanted))}
    return [rows[value] for value in dict.fromkeys(wanted) if value in rows]


def _valid_uuids(values) -> list[str]:
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except (TypeError, ValueError):
            continue
    return valid


def staged_upload_take(*, staged: StagedUpload, field: str = "add_photos") -> ContentFile:
    """The kept file's content, for a service to store; the kept copy goes once that commits."""
    row = StagedUpload.objects.select_for_update().filter(pk=staged.pk).first()
    if row is None:
        raise ApplicationError(_("A kept photo is no longer available; pick it again."), field=field)
    with row.file.open("rb") as handle:
        content = ContentFile(handle.read(), name=os.path.basename(row.file.name))
    storage, name = row.file.storage, row.file.name
    row.delete()
    delete_file_on_commit(storage, name)
    return content


def staged_uploads_sweep() -> int:
    """Remove kept uploads nobody came back for."""
    stale = StagedUpload.objects.exclude(pk__in=_fresh().values("pk"))
    removed = 0
    for row in stale.iterator():
        storage, name = row.file.storage, row.file.name
        with transaction.atomic():
            row.delete()
            delete_file_on_commit(storage, name)
        removed += 1
    return removed
