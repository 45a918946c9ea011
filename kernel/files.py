"""Stored files that follow the database: an old file goes only once the change that dropped it commits."""

from __future__ import annotations

import logging

from django.core.files.storage import Storage
from django.db import transaction

logger = logging.getLogger(__name__)


def delete_file_on_commit(storage: Storage, name: str | None, *, using: str | None = None) -> None:
    """Delete `name` from `storage` when the current transaction commits; never if it rolls back.

    For a replaced or deleted photo: remember the old name, change the row, then call this, e.g.::

        old = photo.image.name
        photo.image = image_intake(upload)
        photo.save()
        delete_file_on_commit(photo.image.storage, old)

    Deleting at once would leave a row pointing at a missing file whenever the transaction is rolled
    back afterwards; deleting on commit can at worst leave an orphan file, which costs only disk.
    Outside a transaction (autocommit) the file is deleted straight away, as Django runs on_commit
    callbacks immediately there. An empty name (the field had no file) does nothing, and a file that is
    already gone is not an error.
    """
    if not name:
        return

    def delete() -> None:
        try:
            storage.delete(name)
        except FileNotFoundError:
            pass  # already gone: what was wanted
        except Exception:
            # The database change has committed and stays; a storage that is down for a moment must not
            # turn that success into an error page. The file becomes an orphan, and the log says which.
            logger.exception("Could not delete the replaced file %s", name)

    transaction.on_commit(delete, using=using)
