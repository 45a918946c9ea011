"""/healthz against real backends taken down for real: closed ports, missing folders, an unopenable database.

Each test takes one part down only for itself: a settings override (the cache), the Celery app's own setting
for the length of the test (the broker), or a separate process (the database).
"""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from kernel.tasks import HEARTBEAT_KEY
from practice_center.celery import app

CLOSED_PORT = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once


def _health(client):
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json(), elapsed


@pytest.mark.smoke
def test_everything_up_answers_200_and_the_worker_heartbeat_is_only_reported(client, db):
    cache.delete(HEARTBEAT_KEY)
    status, body, _ = _health(client)
    assert status == 200
    assert body == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "stale",
        "last_heartbeat": None,
        "down": [],
    }

    long_ago = (timezone.now() - timedelta(hours=1)).isoformat()
    cache.set(HEARTBEAT_KEY, long_ago, timeout=None)
    status, body, _ = _health(client)
    assert (status, body["worker"], body["last_heartbeat"]) == (200, "stale", long_ago)

    just_now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, just_now, timeout=None)
    status, body, _ = _health(client)
    assert (status, body["worker"], body["last_heartbeat"]) == (200, "ok", just_now)
    cache.delete(HEARTBEAT_KEY)


@pytest.mark.smoke
@pytest.mark.parametrize(
    "backend",
    [
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://{CLOSED_PORT}/0"},
        # A folder that can never be made: /dev/null is a file.
        {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/dev/null/cache"},
    ],
    ids=["redis-closed-port", "file-unwritable"],
)
def test_cache_down_answers_503_naming_the_cache(client, db, settings, backend):
    settings.CACHES = {"default": backend}
    status, body, elapsed = _health(client)
    assert status == 503
    assert body["cache"] == "down" and body["down"] == ["cache"]
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["worker"] == "unknown"  # the heartbeat lives in the cache
    assert elapsed < 10


@pytest.mark.smoke
def test_broker_down_answers_503_naming_the_broker(client, db, monkeypatch):
    # Celery read its settings once at start; its own setting is what a real outage would leave stale.
    monkeypatch.setitem(app.conf, "broker_url", f"redis://{CLOSED_PORT}/0")
    status, body, elapsed = _health(client)
    assert status == 503
    assert body["broker"] == "down" and body["down"] == ["broker"]
    assert body["database"] == "ok" and body["cache"] == "ok"
    assert elapsed < 10


@pytest.mark.smoke
def test_embedded_broker_without_its_folder_answers_503(client, db, monkeypatch, tmp_path):
    missing = str(tmp_path / "gone")
    monkeypatch.setitem(app.conf, "broker_url", "filesystem://")
    monkeypatch.setitem(
        app.conf, "broker_transport_options", {"data_folder_in": missing, "data_folder_out": missing}
    )
    status, body, _ = _health(client)
    assert (status, body["broker"], body["down"]) == (503, "down", ["broker"])


HEALTH_IN_A_FRESH_PROCESS = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/healthz")
print(response.status_code, response["Content-Type"])
print(response.content.decode())
"""


@pytest.mark.smoke
@pytest.mark.parametrize(
    "database",
    [{"DATABASE_URL": f"postgres://postgres@{CLOSED_PORT}/h1"}, {"SQLITE_PATH": "/dev/null/db.sqlite3"}],
    ids=["postgresql-closed-port", "sqlite-unopenable"],
)
def test_database_down_answers_503_naming_the_database(tmp_path, database):
    # A process of its own: taking this process's database away would break every test after this one.
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(DJANGO_SETTINGS_MODULE="practice_center.settings", VAR_DIR=str(tmp_path / "var"), **database)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HEALTH_IN_A_FRESH_PROCESS],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status_line, content = result.stdout.split("\n", 1)
    assert status_line == "503 application/json"
    body = json.loads(content)
    assert body["database"] == "down" and body["down"] == ["database"]
    assert body["cache"] == "ok" and body["broker"] == "ok"
    assert time.monotonic() - started < 30
