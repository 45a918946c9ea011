"""Shared fixtures: a small county with two townships, and the people who work in it.

center ─┬─ institute A ─┬─ station A1 ── point A1a
        │               └─ station A2
        └─ institute B ─── station B1 ── point B1a
"""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from stations.models import Role, UnitKind
from stations.tests.factories import make_checklist, make_platform, make_unit, make_user

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def tree(db):
    center = make_unit(UnitKind.CENTER, name="顺昌县新时代文明实践中心", longitude=117.81, latitude=26.79)
    a = make_unit(UnitKind.INSTITUTE, center, name="甲镇新时代文明实践所", longitude=117.80, latitude=26.80)
    b = make_unit(UnitKind.INSTITUTE, center, name="乙镇新时代文明实践所", longitude=117.90, latitude=26.70)
    a1 = make_unit(UnitKind.STATION, a, name="甲一村新时代文明实践站", longitude=117.81, latitude=26.81)
    a2 = make_unit(UnitKind.STATION, a, name="甲二村新时代文明实践站")
    b1 = make_unit(UnitKind.STATION, b, name="乙一村新时代文明实践站", longitude=117.91, latitude=26.71)
    a1a = make_unit(UnitKind.POINT, a1, name="甲一小学实践点", category="school")
    b1a = make_unit(UnitKind.POINT, b1, name="乙一公园实践点", category="park")
    return SimpleNamespace(center=center, a=a, b=b, a1=a1, a2=a2, b1=b1, a1a=a1a, b1a=b1a)


@pytest.fixture
def people(tree):
    return SimpleNamespace(
        county=make_user("county", role=Role.COUNTY_ADMIN, unit=tree.center),
        inst_a=make_user("inst_a", role=Role.INSTITUTE_ADMIN, unit=tree.a),
        inst_b=make_user("inst_b", role=Role.INSTITUTE_ADMIN, unit=tree.b),
        station_a1=make_user("station_a1", role=Role.STATION_ADMIN, unit=tree.a1),
        viewer=make_user("viewer", role=Role.VIEWER, unit=tree.center),
        nobody=make_user("nobody"),
    )


@pytest.fixture
def reference(tree):
    """Platforms and a station standard of the center."""
    return SimpleNamespace(
        platform=make_platform(tree.center, "theory", "理论宣讲平台"),
        checklist=make_checklist(tree.center, UnitKind.STATION),
        point_checklist=make_checklist(tree.center, UnitKind.POINT),
    )


@pytest.fixture
def api_client():
    return APIClient()


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A county clerk's browser speaks Chinese: the file pickers and date widgets then do too.
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


# live_server runs in a thread next to Playwright's event loop; Django must allow that.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# The rows data migrations write, which every database the app runs on has: (migration module, function).
MIGRATION_ROWS = [
    ("volunteers.migrations.0002_privacy_notice_v1", "add_notice"),
    ("awards.migrations.0001_initial", "add_default_kinds"),
]
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def _rows_the_migrations_made(request):
    """A transactional test ends by flushing the tables, which takes what the data migrations wrote (the
    privacy notice, the award kinds) from the tests after it on the same worker. Each test that uses the
    database finds them again: the migrations' own functions make what is missing (a no-op when present)."""
    if request.node.get_closest_marker("django_db") is None and not (
        DATABASE_FIXTURES & set(request.fixturenames)
    ):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("_django_db_helper")  # the test's database access, as its marker asks
    for module, function in MIGRATION_ROWS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _no_county_name_from_another_test():
    # The county's name is cached across requests, and the cache outlives each test's database.
    from django.core.cache import cache

    from stations.selectors import COUNTY_NAME_CACHE_KEY

    cache.delete(COUNTY_NAME_CACHE_KEY)


@pytest.fixture(autouse=True)
def _no_registration_checks_from_another_test():
    # The registration page counts "already registered" answers per client address in the cache,
    # which outlives each test; the test client and the live server come from 127.0.0.1.
    from django.core.cache import cache

    from volunteers.views import registration_checks_key

    cache.delete_many([registration_checks_key(address) for address in ("127.0.0.1", None)])


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    # Tests make rows without the services that drop a cached page; the page cache's own tests turn it on.
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs ~0.3 s a user on purpose; tests make dozens of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    # The logging SMS backend keeps what it "sent" in a module list, which outlives each test.
    from kernel import sms

    sms.outbox.clear()
