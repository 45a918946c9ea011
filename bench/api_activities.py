"""The activity list endpoint and the public activity page at city scale, each against a `.values()` +
JsonResponse view of the same rows.

Uses the kept data set of bench/_scale.py (`bench_city`: 600,000 volunteers, 5,000,000 service records,
50,000 activities with their sign-ups; built on the first run). The first run gives the first institute an
admin; a rerun finds them. Then, through gunicorn, as bench/api_lists.py does:

- as that admin, `/api/v1/activities/?subtree_of=<institute>&page_size=50` against its baseline
  (bench/_bench_urls.py: the same check of `subtree_of`, its prefix match, latest start first, the stored
  columns as `.values()`);
- signed out, the public page `/activities/` (HTML, its first 50 rows with the filter form and the count)
  against `/api/bench/public-activities/`: the same selector's first 50 rows as `.values()`, no template;
  first as served (from the page cache, kernel.pagecache: a visitor without a session), then by a second
  gunicorn with PUBLIC_PAGE_CACHE_SECONDS=0 (the page made for every request).

It prints requests per second of each side and their ratio (the target is 0.8 or more), and the queries of
each at 1 and at 50 rows: the endpoint at page_size 1 and 50, the page filtered to an institute and one day
with one activity, and to the same institute and a wide range (a full page). BENCH_EXPLAIN=1 prints the
plans of the public page's queries.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows, in
the same order, as its baseline. Without PostgreSQL it says so and exits 0.
"""

import logging
import os
import re
import sys

from _http import get, gunicorn, wrk_available
from _scale import bench_database  # before Django starts: it sets the kept data set's keys
from api_lists import (
    BenchError,
    check_pair,
    fetch_json,
    measure_pair,
    rows_of,
    server_processes,
    session_cookie,
)
from api_volunteers import print_query_counts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from activities import selectors
from activities.forms import ActivityFilterForm
from activities.models import Activity
from activities.views import PAGE_SIZE
from stations.models import Role, Unit, UnitKind
from stations.paths import path_length
from stations.scoping import forget_scope
from stations.services import role_grant

TARGET = 0.8
CONNECTIONS = 4
ADMIN = "bench-activities-institute"
PUBLIC_PAGE = "/activities/"
PUBLIC_BASELINE = "/api/bench/public-activities/"
ROW_ID = re.compile(rb'<li class="activity-row" id="activity-(\d+)">')


def seeded() -> tuple[Unit, object]:
    """The institute measured (the first of the data set) and its admin, made on the first run."""
    users = get_user_model().objects
    institute = Unit.objects.filter(kind=UnitKind.INSTITUTE).order_by("pk").first()
    admin = users.filter(username=ADMIN).first() or users.create_user(ADMIN)
    role_grant(actor=None, user=admin, role=Role.INSTITUTE_ADMIN, unit=institute)  # kept if held already
    return institute, admin


def page_queries(client, path) -> tuple[int, int]:
    """(queries, rows) of one in-process load of the public page."""
    with (
        override_settings(ROOT_URLCONF="_bench_urls", PUBLIC_PAGE_CACHE_SECONDS=0),
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"{path}: HTTP {response.status_code}")
    return len(queries), len(ROW_ID.findall(response.content))


def query_string(form: dict) -> str:
    return "&".join(f"{key}={value}" for key, value in form.items())


def institute_filters() -> tuple[str, str]:
    """Two query strings of the same kind for the public page, an institute and a date range: one leaves it
    exactly one activity (a day with one), the other a full page (a wide range of the same institute)."""
    for activity in Activity.objects.public().select_related("unit").order_by("pk")[:500]:
        prefix = activity.unit.path[: path_length(depth=1)]  # the center's segment, then the institute's
        institute = Unit.objects.filter(path=prefix, kind=UnitKind.INSTITUTE).first()
        if institute is None:
            continue
        day = timezone.localdate(activity.started_at)
        one = {"unit": institute.pk, "date_from": day.isoformat(), "date_to": day.isoformat()}
        if selectors.public_activities(**ActivityFilterForm(one).filters()).count() != 1:
            continue
        wide = {**one, "date_from": f"{day.year - 5}-01-01", "date_to": f"{day.year + 5}-12-31"}
        if selectors.public_activities(**ActivityFilterForm(wide).filters()).count() >= PAGE_SIZE:
            return query_string(one), query_string(wide)
    raise BenchError("no day and institute with exactly one public activity among the first 500")


def check_public_page(port) -> int:
    """The page's rows are the baseline's, in the same order."""
    answer = get(port, PUBLIC_PAGE)
    if answer.status != 200:
        raise BenchError(f"{PUBLIC_PAGE}: HTTP {answer.status}: {answer.body[:300]!r}")
    page_ids = [int(pk) for pk in ROW_ID.findall(answer.body)]
    base_ids = [row["id"] for row in rows_of(fetch_json(port, PUBLIC_BASELINE, "")[1])]
    if page_ids != base_ids:
        raise BenchError(
            f"{PUBLIC_PAGE} and its baseline give different rows: {page_ids[:5]}, {base_ids[:5]}"
        )
    return len(page_ids)


def explain_public() -> None:
    """The plans of the first page's queries: the two bounded counts, then the rows of each part it reads."""
    activities = selectors.public_activities()
    with CaptureQueriesContext(connection) as queries:
        activities.count()
        activities[:PAGE_SIZE]
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
            print(f"plan of a public page query:\n    {query['sql'][:160]}…\n{plan}")


def report(name, pair, rows) -> None:
    print(f"{name}, {rows} rows: {pair.summary(TARGET)}")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per bench login says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    bench_database("city")
    setup_test_environment()  # the in-process client's host, as in the other benches
    institute, admin = seeded()
    forget_scope(admin)
    print(
        f"database {connection.settings_dict['NAME']}: {Activity.objects.count():,} activities, "
        f"{Activity.objects.public().count():,} public; institute {institute.pk} holds "
        f"{Activity.objects.filter(unit__path__startswith=institute.path).count():,}"
    )
    real = f"/api/v1/activities/?subtree_of={institute.pk}&page_size=50"
    baseline = f"/api/bench/activities/?subtree_of={institute.pk}&page_size=50"
    client = Client()
    client.force_login(admin)
    for label, path in (("endpoint", real), ("baseline", baseline)):
        print_query_counts(client, admin, f"activities {label}", path)
    visitor = Client()
    page_queries(visitor, PUBLIC_PAGE)  # once first: the county's name is cached for a few minutes
    one, full = (page_queries(visitor, f"{PUBLIC_PAGE}?{query}") for query in institute_filters())
    print(
        f"queries, public activity page: {one[0]} at {one[1]} row, {full[0]} at {full[1]} rows"
        + (" (equal)" if one[0] == full[0] else " (NOT equal)")
    )
    if os.environ.get("BENCH_EXPLAIN") == "1":
        explain_public()
    cookie = session_cookie(admin)
    tool = f"wrk -t1 -c{CONNECTIONS}" if wrk_available() else f"Python, {CONNECTIONS} threads"
    print(f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}; {os.cpu_count()} CPUs")
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    bad = 0
    with gunicorn(connection.settings_dict["NAME"]) as server:
        try:
            rows, fields = check_pair(server.port, real, baseline, cookie)
            pair = measure_pair(server.port, real, baseline, cookie, server_processes(server))
            report("activities endpoint, institute admin, subtree_of", pair, rows)
            if fields:
                print(f"fields: {fields}")
            bad += pair.bad
        except BenchError as error:
            print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
            return 1
    # As served (visitors without a session get the page cache), then made for every request: what a
    # visitor with a session, or the first after a change, waits.
    for label, env in (
        (f"from the page cache ({cache})", {}),
        ("page cache off", {"PUBLIC_PAGE_CACHE_SECONDS": "0"}),
    ):
        with gunicorn(connection.settings_dict["NAME"], env=env) as server:
            try:
                rows = check_public_page(server.port)
                pair = measure_pair(server.port, PUBLIC_PAGE, PUBLIC_BASELINE, "", server_processes(server))
                report(f"public activity page (HTML), signed out, {label}", pair, rows)
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
