"""Shared by the bench scripts that need benchmark-scale data: a database seeded once and kept.

`bench_database("city")` points Django at the database `bench_city` on the server of DATABASE_URL, creating
and migrating it if needed, and builds the preset there unless its rows are already complete (the phases'
own counts are the marker), so a bench of the API reads 600,000 volunteers without rebuilding them each run.
Drop the database (`dropdb bench_city`) to start over.
"""

import base64
import hashlib
import os

if not os.environ.get("ID_NUMBER_KEYS"):
    # The kept database outlives a run, so its keys must too: fixed keys, public on purpose, as the data
    # they protect is fake. Import this module before _tree, so Django starts with them.
    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(
        hashlib.sha256(b"bench scale data").digest()
    ).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = "bench-scale-data-hash-key"

import _tree  # noqa: F401 - Django set up as the other benches have it
from django.core.management import call_command
from django.db import connection

from volunteers import scale


def bench_database(preset: str = "city", *, progress: bool = True, name: str | None = None):
    """The connection, on `name` (default `bench_<preset>`) with the preset's data in place."""
    if connection.vendor != "postgresql":
        raise SystemExit("bench_database needs PostgreSQL: set DATABASE_URL to a PostgreSQL server.")
    name = name or f"bench_{preset}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0, interactive=False)
    if not scale.is_complete(preset):
        scale.build(preset, progress=progress, force=True)
    return connection
