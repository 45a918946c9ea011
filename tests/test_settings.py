"""Settings that decide safety: the secret key and where the cache lives."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from practice_center.settings import _next_redis_database


def test_processes_starting_together_share_one_generated_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    env["VAR_DIR"] = str(tmp_path)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"

    def start(_):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='practice_center.settings'; {code}",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(start, range(8)))
    assert len(keys) == 1
    key = keys.pop()
    assert len(key) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("secret_key")] == ["secret_key"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("rediss://user:pw@cache.example:6380/4", "rediss://user:pw@cache.example:6380/5"),
    ],
)
def test_the_cache_takes_the_next_redis_database(url, expected):
    assert _next_redis_database(url) == expected


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/15", "unix:///run/redis.sock", "redis://h:6379/x"])
def test_no_next_database_asks_for_redis_cache_url(url):
    with pytest.raises(ImproperlyConfigured, match="REDIS_CACHE_URL"):
        _next_redis_database(url)
