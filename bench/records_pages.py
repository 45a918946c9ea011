"""The queries of a volunteer's "my records" page (/records/) at scale: one volunteer with a single record
against one with 50 or more, in a data set of 625,000 (county) or 5,000,000 (city) records.

Uses the kept data set of bench/_scale.py under its own name: `bench_records_city` when it exists (or
BENCH_RECORDS_PRESET=city asks for it: built on the first run, several minutes), `bench_records_county`
otherwise. The first run gives the two volunteers an account each (the scale data has none); a rerun
finds them. Each page is loaded in-process through Django's test client, logged in as its volunteer, once
to warm up (a session's first page stores what the menu shows, a process's first page reads the site's
name), once with the queries counted, then LOADS times more for its median time. The claim is that the
queries are the same at 1 row and at 50; the time is printed for information.

Nothing is asserted on the figures; the run fails only if a page does not answer 200. Without PostgreSQL
it says so and exits 0.
"""

import logging
import os
import statistics
import sys
import time

from _scale import bench_database
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.urls import reverse

from records.models import ServiceRecord
from volunteers.models import Volunteer

LOADS = 20
MANY = 50


def preset() -> str:
    wanted = os.environ.get("BENCH_RECORDS_PRESET")
    if wanted:
        return wanted
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_records_city'")
        return "city" if cursor.fetchone() else "county"


def volunteer_with(records: int, *, at_least: bool = False) -> Volunteer:
    """A scale volunteer with exactly `records` records (or at least that many), the same on every run."""
    first = Volunteer.objects.order_by("pk").values_list("pk", flat=True).first()
    counts = (
        ServiceRecord.objects.filter(volunteer__lt=first + 20_000)
        .values("volunteer_id")
        .annotate(n=Count("pk"))
        .filter(**{"n__gte" if at_least else "n": records})
        .order_by("volunteer_id")
    )
    return Volunteer.objects.get(pk=counts[0]["volunteer_id"])


def account_of(volunteer: Volunteer):
    users = get_user_model().objects
    if volunteer.user_id is None:
        user = users.create_user(f"bench-records-{volunteer.pk}", first_name=volunteer.name)
        Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
        volunteer.user = user
    return volunteer.user


def load_page(client: Client, path: str) -> int:
    """The rows the page lists."""
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}: {response.content[:300]!r}")
    return len(response.context["records"])


def measure(volunteer: Volunteer, path: str) -> tuple[int, int, float]:
    """(queries, rows shown, median ms) of the page."""
    client = Client()
    client.force_login(account_of(volunteer))

    def load():
        return load_page(client, path)

    load()  # the first of a session stores the menu's answers in it, the first of the process the site's name
    with CaptureQueriesContext(connection) as captured:
        rows = load()
    queries = len(captured)  # now: a new connection clears the log the capture reads from
    times = []
    for _ in range(LOADS):
        started = time.perf_counter()
        load()
        times.append((time.perf_counter() - started) * 1000)
    return queries, rows, statistics.median(times)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    data_set = preset()
    name = f"bench_records_{data_set}"
    bench_database(data_set, name=name)
    setup_test_environment()
    records = ServiceRecord.objects.count()
    print(f"database {name}: {records:,} service records, {Volunteer.objects.count():,} volunteers")
    path = reverse("records:mine")
    results = []
    for volunteer in (volunteer_with(1), volunteer_with(MANY, at_least=True)):
        held = ServiceRecord.objects.filter(volunteer=volunteer).count()
        queries, rows, ms = measure(volunteer, path)
        results.append(queries)
        print(
            f"my records, page {path}: volunteer with {held} record(s), {rows} shown: {queries} queries, "
            f"{ms:.1f} ms (median of {LOADS})"
        )
    print(f"queries at 1 and at {MANY}+ records: {'equal' if results[0] == results[1] else 'NOT equal'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
