"""The deployment files: docker-compose.yml, the Dockerfile, .dockerignore and deploy/production.env.example.

No Docker engine is needed: the compose file is validated against the compose specification offline, every
command the containers run is resolved against the code, and the production environment is put through
Django's deployment checklist.
"""

import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from celery import Celery
from cryptography.fernet import Fernet
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PRODUCTION_ENV = ROOT / "deploy" / "production.env.example"
SETTINGS = ROOT / "practice_center" / "settings.py"

# Variables that only the embedded default (no DATABASE_URL / REDIS_URL) reads.
EMBEDDED_ONLY = {"SQLITE_PATH", "CELERY_BROKER_FOLDER"}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as docker compose reads an env_file (no quotes, whole-line comments)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not a KEY=VALUE line in {path.name}: {line!r}"
        values[key.strip()] = value.strip()
    return values


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comment lines dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            keyword, _, arguments = current.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(arguments))
    return env


def command_lines(command) -> list[list[str]]:
    """The programs a compose `command` runs: `sh -c "a && exec b"` is two of them."""
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    lines = [shlex.split(part) for part in argv[2].split("&&")]
    return [line[1:] if line[0] == "exec" else line for line in lines]


def assert_runnable(argv: list[str]) -> None:
    """The module, object or management command an argv names exists in this code base."""
    program = argv[0]
    if program == "gunicorn":
        target = next(arg for arg in argv[1:] if not arg.startswith("-") and ":" in arg)
        module_name, attribute = target.split(":")
        assert callable(getattr(importlib.import_module(module_name), attribute)), target
    elif program == "celery":
        module_name = argv[argv.index("-A") + 1]
        assert isinstance(importlib.import_module(module_name).celery_app, Celery)
        assert {"worker", "beat"} & set(argv), argv
    elif program == "python":
        assert argv[1] == "manage.py", argv
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}"
    else:
        pytest.fail(f"unexpected program {program!r} in {argv}")


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The production values on the embedded default (SQLite), and nothing else of this process's environment:
    the test run sets variables (DJANGO_ALLOW_ASYNC_UNSAFE, DATABASE_URL) that a deployment must not have."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {name: os.environ[name] for name in kept if name in os.environ}
    env.update(read_env_file(PRODUCTION_ENV))
    # The operator's real ID-number keys (README, Deployment); tests of them override these.
    env.update(ID_NUMBER_KEYS=Fernet.generate_key().decode(), ID_NUMBER_HASH_KEY=secrets.token_urlsafe(32))
    env.update(VAR_DIR=str(tmp_path / "var"), **overrides)
    return env


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def compose():
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


# --- docker-compose.yml ---------------------------------------------------------------------------


@pytest.mark.smoke
def test_compose_file_follows_the_compose_specification():
    checker = Path(sys.executable).parent / "check-jsonschema"
    assert checker.exists(), "check-jsonschema is a test dependency (pip install -e '.[test]')"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_five_services_and_waits_for_healthy_backends(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert "version" not in compose
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["build"] == "."
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["DATABASE_URL"].endswith("@db:5432/practice")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert any(volume.endswith(":/app/var/media") for volume in services["web"]["volumes"])
    assert set(compose["volumes"]) >= {"pgdata", "media"}


def test_every_compose_command_names_code_that_exists(compose):
    services = compose["services"]
    commands = {name: service["command"] for name, service in services.items() if "build" in service}
    assert set(commands) == {"web", "worker", "beat"}
    for command in commands.values():
        for argv in command_lines(command):
            assert_runnable(argv)
    web = command_lines(commands["web"])
    assert web[0] == ["python", "manage.py", "migrate", "--noinput"]
    assert web[1][0] == "gunicorn"
    assert web[1][web[1].index("--bind") + 1] == "0.0.0.0:8000"


def test_beat_keeps_its_schedule_in_a_folder_the_image_makes_writable(compose):
    argv = command_lines(compose["services"]["beat"]["command"])[0]
    schedule = Path(argv[argv.index("--schedule") + 1])
    run_steps = " ".join(arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN")
    assert re.search(rf"mkdir -p [^&]*{re.escape(str(schedule.parent))}", run_steps)
    assert "chown -R app:app /app/var" in run_steps


def test_env_files_of_the_compose_file_exist(compose):
    for name in ("web", "worker", "beat"):
        entries = compose["services"][name]["env_file"]
        entries = [{"path": entry} if isinstance(entry, str) else entry for entry in entries]
        required = [entry["path"] for entry in entries if entry.get("required", True)]
        assert required == ["deploy/production.env.example"]
        for path in required:
            assert (ROOT / path).is_file(), path


# --- Dockerfile and .dockerignore -----------------------------------------------------------------


def test_dockerfile_command_names_code_that_exists():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    commands = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert len(commands) == 1
    argv = json.loads(commands[0])
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    assert_runnable(argv)


def test_image_installs_the_project_and_runs_as_a_plain_user():
    instructions = dockerfile_instructions()
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    assert any(run.startswith("pip install .") for run in runs)
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    env = dockerfile_env()
    assert env["VAR_DIR"] == "/app/var"
    assert env["MEDIA_ROOT"].startswith(env["VAR_DIR"] + "/")
    # Static files live outside VAR_DIR, so the media volume mounted there cannot hide them.
    assert not env["STATIC_ROOT"].startswith(env["VAR_DIR"] + "/")
    assert env["PYTHONPATH"] == "/app"


def test_dockerignore_lets_in_every_package_and_the_site_files():
    lines = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert next(line for line in lines if line and not line.startswith("#")) == "*"  # an allow-list
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    assert packages <= allowed
    assert {"pyproject.toml", "manage.py", "templates", "static", "locale"} <= allowed
    assert not {".venv", "var", ".git", "tests", "deploy"} & allowed


def test_every_app_of_the_project_is_packaged_and_tested():
    """An app added to INSTALLED_APPS is installed by `pip install .` (the image), let into the image,
    and its tests collected by `make test`."""
    from django.apps import apps

    ours = {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if (ROOT / config.name.split(".")[0]).is_dir()
    }
    assert {"residents", "awards", "activities"} <= ours
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    testpaths = set(pyproject["tool"]["pytest"]["ini_options"]["testpaths"])
    allowed = {
        line.strip()[1:]
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert ours <= packages
    assert ours <= testpaths
    assert ours <= allowed


# --- deploy/production.env.example ----------------------------------------------------------------


def test_production_env_sets_every_variable_the_settings_read(compose):
    names_read = set(
        re.findall(
            r'(?:os\.environ\.get|os\.getenv|_env|env_\w+|os\.environ\[)\(?\s*"([A-Z][A-Z0-9_]*)"',
            SETTINGS.read_text(encoding="utf-8"),
        )
    )
    # The pattern still finds them, whichever helper reads them.
    assert {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DATABASE_URL", "EMAIL_PORT"} <= names_read
    production = read_env_file(PRODUCTION_ENV)
    provided = set(production) | set(dockerfile_env()) | set(compose["services"]["web"]["environment"])
    assert names_read - EMBEDDED_ONLY - provided == set()
    # And nothing in the file is a misspelt name that settings would silently ignore.
    assert set(production) - names_read == set()


def test_production_env_holds_placeholders_only():
    production = read_env_file(PRODUCTION_ENV)
    key = production["SECRET_KEY"]
    assert key.startswith("change-me")
    assert len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure-")
    assert production["EMAIL_HOST_PASSWORD"] == "change-me"
    assert production["DEBUG"] == "false"
    assert all(origin.startswith("https://") for origin in production["CSRF_TRUSTED_ORIGINS"].split(","))


@pytest.mark.smoke
def test_production_env_passes_the_deployment_checklist(tmp_path):
    # The operator's real key, as the README says; the rest is the example file as it stands.
    result = run_deploy_check(production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.smoke
def test_deployment_checklist_fails_with_debug_on(tmp_path):
    result = run_deploy_check(production_env(tmp_path, DEBUG="true", SECRET_KEY=secrets.token_urlsafe(64)))
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout


def test_the_placeholder_key_is_refused(tmp_path):
    result = run_deploy_check(production_env(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is still the placeholder" in result.stderr


@pytest.mark.smoke
def test_production_without_any_key_is_refused_rather_than_given_a_made_up_one(tmp_path):
    # Each container would otherwise make its own key, and a session signed by one web replica would be
    # refused by the next.
    result = run_deploy_check(production_env(tmp_path, SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY is not set: with DEBUG off, set SECRET_KEY (or SECRET_KEY_FILE" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_compose_leaves_the_key_to_the_env_files(compose):
    # A key (or an empty one) in `environment` would override deploy/production.env, the only place a real
    # key belongs; without one there, the placeholder of the example file reaches settings and is refused.
    for name in ("web", "worker", "beat"):
        environment = compose["services"][name]["environment"]
        assert not {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG"} & set(environment)
    assert read_env_file(PRODUCTION_ENV)["SECRET_KEY"].startswith("change-me")
    assert read_env_file(PRODUCTION_ENV)["SECRET_KEY_FILE"] == ""


def test_placeholder_id_number_keys_are_refused(tmp_path):
    example = read_env_file(PRODUCTION_ENV)
    env = production_env(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ID_NUMBER_KEYS=example["ID_NUMBER_KEYS"],
        ID_NUMBER_HASH_KEY=example["ID_NUMBER_HASH_KEY"],
    )
    result = run_deploy_check(env)
    assert result.returncode != 0
    assert "ID_NUMBER_KEYS or ID_NUMBER_HASH_KEY is still the placeholder" in result.stderr


def test_production_without_id_number_keys_is_refused(tmp_path):
    env = production_env(
        tmp_path, SECRET_KEY=secrets.token_urlsafe(64), ID_NUMBER_KEYS="", ID_NUMBER_HASH_KEY=""
    )
    result = run_deploy_check(env)
    assert result.returncode != 0
    assert "ID_NUMBER_KEYS and ID_NUMBER_HASH_KEY are not set" in result.stderr
