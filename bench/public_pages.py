"""The public home page and the public activity list against a trivial template view, at city scale.

Uses the kept data set of bench/_scale.py (`bench_city` by default, built on the first run;
BENCH_PUBLIC_PRESET=county or tiny for a quicker run: `bench_county`, `bench_tiny`, the sets the other
benches keep). The first run adds what the public pages show and the scale data lacks: reports published
as news on the latest held activities, brand projects running, and awards; a rerun finds them.

Signed out, through gunicorn (2 sync workers on loopback, as bench/api_activities.py runs it), it measures
requests per second of `/` and `/activities/` against `/bench/template-ok/` (bench/_bench_urls.py: a tiny
template through render(), no query), measured in the same run, first as served (the page cache on), then
by a second gunicorn with PUBLIC_PAGE_CACHE_SECONDS=0 (every page made for its request). It prints each
ratio (the target is 0.5 or more) and the queries of each page, in process, with the data set as found
and with 50 more published reports and upcoming activities: they must be equal.

Nothing is asserted on the figures; the run fails only if a page does not answer 200. Without PostgreSQL it
says so and exits 0.
"""

import datetime
import logging
import os
import sys

from _http import get, gunicorn, wrk_available
from _scale import bench_database  # before Django starts: it sets the kept data set's keys
from api_lists import BenchError, measure_pair, server_processes
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from activities.models import Activity, ActivityReport, ActivityStatus
from awards.kinds import ensure_default_kinds
from awards.models import Award, AwardKind
from projects.models import Project, ProjectStatus
from stations.models import Unit, UnitKind
from volunteers.models import Volunteer

TARGET = 0.5
PAGES = {"home": "/", "activity list": "/activities/", "news": "/news/", "honours": "/honours/"}
MEASURED = ("home", "activity list")
BASELINE = "/bench/template-ok/"
REPORTS = 200


def published_news(count: int, *, label: str) -> int:
    """Reports published on the latest held activities that have none, `count` at most: how many made."""
    now = timezone.now()
    held = (
        Activity.objects.filter(ended_at__lte=now, report__isnull=True)
        .exclude(status__in=[ActivityStatus.DRAFT, ActivityStatus.CANCELLED])
        .order_by("-ended_at")
        .values_list("pk", flat=True)[:count]
    )
    rows = [
        ActivityReport(
            activity_id=pk,
            text=f"{label}：志愿者为群众提供了服务。",
            people_served=30 + n % 50,
            published_at=now - datetime.timedelta(minutes=n),
        )
        for n, pk in enumerate(held)
    ]
    ActivityReport.objects.bulk_create(rows)
    return len(rows)


def upcoming_activities(count: int) -> None:
    """`count` more published activities starting in the coming days, copies of the latest public one."""
    model = Activity.objects.public().order_by("-id").first()
    now = timezone.now()
    rows = []
    for n in range(count):
        start = now + datetime.timedelta(days=1, hours=n)
        rows.append(
            Activity(
                unit_id=model.unit_id,
                title=f"基准活动{n}",
                venue=model.venue,
                started_at=start,
                ended_at=start + datetime.timedelta(hours=2),
                capacity=20,
                signup_opens_at=now - datetime.timedelta(days=1),
                signup_closes_at=start,
                status=ActivityStatus.PUBLISHED,
                published_at=now,
            )
        )
    Activity.objects.bulk_create(rows)


@transaction.atomic
def seeded() -> None:
    """What the public pages show and the scale data lacks, made once."""
    if not ActivityReport.objects.published().exists():
        print(f"adding {published_news(REPORTS, label='基准新闻')} published reports")
    if not Project.objects.filter(is_brand=True, status__in=[ProjectStatus.PUBLISHED, ProjectStatus.RUNNING]):
        center = Unit.objects.filter(kind=UnitKind.CENTER).order_by("pk").first()
        for n in range(6):
            Project.objects.get_or_create(
                unit=center,
                name=f"基准品牌项目{n}",
                defaults={"is_brand": True, "status": ProjectStatus.RUNNING, "description": "品牌项目。"},
            )
    ensure_default_kinds(AwardKind)
    if not Award.objects.exists():
        center = Unit.objects.filter(kind=UnitKind.CENTER).order_by("pk").first()
        kind = AwardKind.objects.get(name="最美志愿者")
        volunteers = Volunteer.objects.order_by("pk").values_list("pk", flat=True)[:100]
        Award.objects.bulk_create(
            Award(year=timezone.localdate().year, kind=kind, volunteer_id=pk, giving_unit=center)
            for pk in volunteers
        )


def page_queries(client: Client) -> dict[str, int]:
    counts = {}
    with override_settings(ROOT_URLCONF="_bench_urls", PUBLIC_PAGE_CACHE_SECONDS=0):
        for name, path in PAGES.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            if response.status_code != 200:
                raise BenchError(f"{path}: HTTP {response.status_code}")
            counts[name] = len(queries)
    return counts


def query_counts() -> None:
    """The queries of each page with the data as found, then with up to 50 more published reports (as many
    held activities as lack one) and 50 more upcoming activities, made in a transaction rolled back after."""
    client = Client()
    page_queries(client)  # the county's name, cached for a few minutes
    before = page_queries(client)
    with transaction.atomic():
        more = published_news(50, label="多出的新闻")
        upcoming_activities(50)
        after = page_queries(client)
        transaction.set_rollback(True)
    for name in PAGES:
        same = "equal" if before[name] == after[name] else "NOT equal"
        print(
            f"queries, {name} ({PAGES[name]}): {before[name]}; with {more} more published reports and 50 more"
            f" upcoming activities: {after[name]} ({same})"
        )


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    preset = os.environ.get("BENCH_PUBLIC_PRESET", "city")
    # The tiny set is the benches' own test data: this bench adds its rows to a copy of its own.
    bench_database(preset, name="bench_public_tiny" if preset == "tiny" else None)
    setup_test_environment()
    seeded()
    print(
        f"database {connection.settings_dict['NAME']}: {Activity.objects.count():,} activities, "
        f"{ActivityReport.objects.published().count():,} published reports, {Award.objects.count():,} awards"
    )
    query_counts()
    tool = "wrk -t1 -c4" if wrk_available() else "Python, 4 threads"
    print(f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}; {os.cpu_count()} CPUs")
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    bad = 0
    for label, env in (
        (f"page cache on ({cache})", {}),
        ("page cache off", {"PUBLIC_PAGE_CACHE_SECONDS": "0"}),
    ):
        with gunicorn(connection.settings_dict["NAME"], env=env) as server:
            try:
                for name in MEASURED:
                    path = PAGES[name]
                    answer = get(server.port, path)
                    if answer.status != 200:
                        raise BenchError(f"{path}: HTTP {answer.status}: {answer.body[:300]!r}")
                    pair = measure_pair(server.port, path, BASELINE, "", server_processes(server))
                    print(
                        f"{name} {path} against a trivial template, signed out, {label}: "
                        f"{pair.summary(TARGET)}"
                    )
                    bad += pair.bad
            except BenchError as error:
                print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
                return 1
    if bad:
        print(f"error: {bad} answers under load were not 2xx: the figures above are not valid")
        return 1
    print(f"kept database {connection.settings_dict['NAME']} for the next run (dropdb it to start over)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
