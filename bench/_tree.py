"""Shared by the bench scripts: Django set up on a throwaway test database, and a city-sized unit tree."""

import os
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice_center.settings")
if not os.environ.get("SECRET_KEY") and not os.environ.get("SECRET_KEY_FILE"):
    # A key for this run only, kept in the environment and nowhere else: a server a bench starts inherits
    # it, so the sessions made here are valid there, and settings that insist on a key get one.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
if not os.environ.get("ID_NUMBER_KEYS"):
    # The same for the keys that protect ID numbers (volunteers.crypto).
    import base64

    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)

import django

django.setup()

from django.db import connection, transaction  # noqa: E402 - after django.setup()
from django.test.utils import setup_test_environment  # noqa: E402

from stations.models import Unit, UnitKind  # noqa: E402


@contextmanager
def throwaway_database():
    """A test database (SQLite by default, PostgreSQL with DATABASE_URL), dropped afterwards.

    On a server it is named after this process, not test_<name>: a test run or another bench working on the
    same server at the same time keeps its database (create_test_db clobbers one of the same name)."""
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def build_tree(*, centers=4, institutes=20, stations=40, points=2, first_id=1) -> list[Unit]:
    """Bulk insert a tree, assigning paths from pre-computed ids (the service is for single writes).
    Returns the institutes."""
    next_id = first_id
    rows: list[Unit] = []

    def add(kind, parent, name):
        nonlocal next_id
        path = (parent.path if parent else "") + Unit.path_segment(next_id)
        depth = parent.depth + 1 if parent else 0
        unit = Unit(
            id=next_id,
            kind=kind,
            name=name,
            code=f"B{next_id}",
            parent=parent,
            path=path,
            depth=depth,
            longitude=117.8,
            latitude=26.8,
        )
        rows.append(unit)
        next_id += 1
        return unit

    made = []
    for c in range(centers):
        center = add(UnitKind.CENTER, None, f"中心{first_id}-{c}")
        for i in range(institutes):
            institute = add(UnitKind.INSTITUTE, center, f"所{c}-{i}")
            made.append(institute)
            for s in range(stations):
                station = add(UnitKind.STATION, institute, f"站{c}-{i}-{s}")
                for p in range(points):
                    add(UnitKind.POINT, station, f"点{c}-{i}-{s}-{p}")
    with transaction.atomic():
        Unit.objects.bulk_create(rows, batch_size=2000)
    return made
