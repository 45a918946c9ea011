"""Settings that decide safety: the secret key, the values read from the environment, the cache location."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from practice_center.settings import _next_redis_database, env_bool, env_int, env_list

# Variables a test sets itself; the rest of this process's environment (PATH, the venv) is kept.
OWN = {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DATABASE_URL", "REDIS_URL", "VAR_DIR"}
PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def start_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process, as a server starting with these variables would."""
    environment = {name: value for name, value in os.environ.items() if name not in OWN}
    environment.update(
        DJANGO_SETTINGS_MODULE="practice_center.settings", VAR_DIR=str(tmp_path / "var"), **env
    )
    return subprocess.run(
        [sys.executable, "-c", PRINT_KEY],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last.removeprefix("django.core.exceptions.ImproperlyConfigured: ")


# --- the secret key -----------------------------------------------------------------------------------


@pytest.mark.smoke
def test_development_processes_starting_together_share_one_generated_secret_key(tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: start_settings(tmp_path, DEBUG="true"), range(8)))
    assert all(result.returncode == 0 for result in results), [r.stderr for r in results]
    keys = {result.stdout.strip() for result in results}
    assert len(keys) == 1
    key = keys.pop()
    assert len(key) >= 50
    var = tmp_path / "var"
    assert (var / "secret_key").read_text() == key
    assert (var / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert [p.name for p in var.iterdir() if p.name.startswith("secret_key")] == ["secret_key"]


@pytest.mark.smoke
@pytest.mark.parametrize("debug", [None, "", "false", "0"])
def test_without_a_key_and_debug_off_the_start_is_refused(tmp_path, debug):
    env = {} if debug is None else {"DEBUG": debug}
    message = refusal(start_settings(tmp_path, SECRET_KEY="", **env))
    assert message.startswith("SECRET_KEY is not set: with DEBUG off, set SECRET_KEY (or SECRET_KEY_FILE")
    assert not (tmp_path / "var" / "secret_key").exists()  # no made-up key left behind either


@pytest.mark.smoke
def test_the_key_can_come_from_a_file(tmp_path):
    path = tmp_path / "key"
    path.write_text("  a-key-from-a-docker-secret-0123456789-0123456789-0123456789\n")
    result = start_settings(tmp_path, SECRET_KEY_FILE=str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a-key-from-a-docker-secret-0123456789-0123456789-0123456789"
    assert not (tmp_path / "var" / "secret_key").exists()


@pytest.mark.smoke
def test_a_key_file_that_cannot_serve_is_refused(tmp_path):
    missing, empty = tmp_path / "missing", tmp_path / "empty"
    empty.write_text(" \n")
    message = refusal(start_settings(tmp_path, SECRET_KEY_FILE=str(missing)))
    assert message.startswith(f"SECRET_KEY_FILE={missing}: cannot read it")
    assert (
        refusal(start_settings(tmp_path, SECRET_KEY_FILE=str(empty))) == f"SECRET_KEY_FILE={empty} is empty."
    )
    both = start_settings(tmp_path, SECRET_KEY="k" * 50, SECRET_KEY_FILE=str(empty), DEBUG="true")
    assert refusal(both) == "Set SECRET_KEY or SECRET_KEY_FILE, not both (leave the other empty)."


@pytest.mark.smoke
def test_the_placeholder_is_refused_however_it_arrives(tmp_path):
    placeholder = "change-me-to-a-long-random-string-of-at-least-50-characters"
    path = tmp_path / "key"
    path.write_text(placeholder)
    expected = "SECRET_KEY is still the placeholder: set a real one (README, Deployment)."
    assert refusal(start_settings(tmp_path, SECRET_KEY=placeholder, DEBUG="true")) == expected
    assert refusal(start_settings(tmp_path, SECRET_KEY_FILE=str(path))) == expected


# --- values read from the environment -------------------------------------------------------------


@pytest.mark.smoke
def test_a_mistyped_yes_no_value_stops_the_start(tmp_path):
    message = refusal(start_settings(tmp_path, SECRET_KEY="k" * 50, SESSION_COOKIE_SECURE="ture"))
    assert message == (
        "SESSION_COOKIE_SECURE='ture' is not a yes/no value: use one of 1/0, true/false, yes/no, on/off, "
        "or leave it empty for the default."
    )


@pytest.mark.smoke
def test_a_mistyped_number_stops_the_start(tmp_path):
    message = refusal(start_settings(tmp_path, SECRET_KEY="k" * 50, SECURE_HSTS_SECONDS="1y"))
    assert message == "SECURE_HSTS_SECONDS='1y' is not valid: use a whole number of at least 0."


def test_yes_no_values_take_the_usual_spellings_and_empty_means_the_default(monkeypatch):
    for value in ("1", "true", "TRUE", "Yes", " on "):
        monkeypatch.setenv("SOME_FLAG", value)
        assert env_bool("SOME_FLAG") is True, value
    for value in ("0", "false", "False", "NO", "off"):
        monkeypatch.setenv("SOME_FLAG", value)
        assert env_bool("SOME_FLAG", default=True) is False, value
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", default=True) is True
    monkeypatch.delenv("SOME_FLAG")
    assert env_bool("SOME_FLAG", default=True) is True
    for value in ("ture", "y", "2", "enabled", "'true'"):
        monkeypatch.setenv("SOME_FLAG", value)
        with pytest.raises(
            ImproperlyConfigured, match=r"^SOME_FLAG=.* is not a yes/no value: use one of 1/0"
        ):
            env_bool("SOME_FLAG")


def test_numbers_are_whole_and_in_range(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", " 587 ")
    assert env_int("EMAIL_PORT", 25, minimum=1, maximum=65535) == 587
    monkeypatch.setenv("EMAIL_PORT", "")
    assert env_int("EMAIL_PORT", 25, minimum=1, maximum=65535) == 25
    for value in ("smtp", "5.5", "0", "70000"):
        monkeypatch.setenv("EMAIL_PORT", value)
        with pytest.raises(ImproperlyConfigured) as caught:
            env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
        assert str(caught.value) == f"EMAIL_PORT={value!r} is not valid: use a whole number from 1 to 65535."


def test_lists_are_comma_separated_without_quotes_or_spaces(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " portal.example.org, .example.net ,")
    assert env_list("ALLOWED_HOSTS") == ["portal.example.org", ".example.net"]
    monkeypatch.setenv("ALLOWED_HOSTS", "")
    assert env_list("ALLOWED_HOSTS", "127.0.0.1,localhost") == ["127.0.0.1", "localhost"]
    for value, bad in (('"portal.example.org"', '"portal.example.org"'), ("a.org b.org", "a.org b.org")):
        monkeypatch.setenv("ALLOWED_HOSTS", value)
        with pytest.raises(ImproperlyConfigured) as caught:
            env_list("ALLOWED_HOSTS")
        assert str(caught.value) == (
            f"ALLOWED_HOSTS has {bad!r}: use comma-separated values without spaces or quotes, "
            "e.g. portal.example.org,www.example.org."
        )


# --- the cache ------------------------------------------------------------------------------------


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


@pytest.mark.smoke
def test_a_mistyped_log_level_stops_the_start(tmp_path):
    message = refusal(start_settings(tmp_path, SECRET_KEY="k" * 50, LOG_LEVEL="verbose"))
    assert message == "LOG_LEVEL='verbose' is not valid: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
