"""The service-record list endpoint at scale, against a `.values()` + JsonResponse view of the same rows.

Uses the kept data set of bench/_scale.py with its service records under the name `bench_records_<preset>`
(BENCH_RECORDS_PRESET: `city` by default, 5,000,000 records, built on the first run; `county`, 625,000,
is the first county of the city, so each institute holds as many records in both: about 31,000;
BENCH_RECORDS_DB names another copy of it). The
first run gives the first institute an admin; a rerun finds them. Then, as that admin, it loads
`/api/v1/service-records/?subtree_of=<institute>&page_size=50` and its baseline (bench/_bench_urls.py: the
same scope, the same check of `subtree_of`, its prefix match, latest service first, the stored columns as
`.values()`) alternately through gunicorn, as bench/api_lists.py does, and prints requests per second of
both and their ratio (the target is 0.8 or more), and the queries of each at 1 and at 50 rows. The
volunteer's own list, `/api/v1/me/service-records/`, is counted at 1 and 50 rows too. BENCH_EXPLAIN=1
prints the plan of the endpoint's list query.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows as
its baseline. Without PostgreSQL it says so and exits 0.
"""

import logging
import os
import sys

from _http import gunicorn, wrk_available
from _scale import bench_database  # before Django starts: it sets the kept data set's keys
from api_lists import BenchError, check_pair, measure_pair, server_processes, session_cookie
from api_volunteers import count_queries, print_query_counts
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment

from stations.models import Role, Unit, UnitKind
from stations.scoping import forget_scope
from stations.services import role_grant

PRESET = os.environ.get("BENCH_RECORDS_PRESET", "city")
TARGET = 0.8
CONNECTIONS = 4
ADMIN = "bench-records-institute"


def seeded() -> tuple[Unit, object]:
    """The institute measured (the first of the data set) and its admin, made on the first run."""
    users = get_user_model().objects
    institute = Unit.objects.filter(kind=UnitKind.INSTITUTE).order_by("pk").first()
    admin = users.filter(username=ADMIN).first() or users.create_user(ADMIN)
    role_grant(actor=None, user=admin, role=Role.INSTITUTE_ADMIN, unit=institute)  # kept if held already
    return institute, admin


def volunteer_account(records: int, *, at_least: bool = False):
    """The account of a volunteer with `records` records (or at least that many), the same on every run;
    made on the first run, as the data set's volunteers have none."""
    from records.models import ServiceRecord
    from volunteers.models import Volunteer

    first = Volunteer.objects.order_by("pk").values_list("pk", flat=True).first()
    counts = (
        ServiceRecord.objects.filter(volunteer__lt=first + 20_000)
        .values("volunteer_id")
        .annotate(n=Count("pk"))
        .filter(**{"n__gte" if at_least else "n": records})
        .order_by("volunteer_id")
    )
    volunteer = Volunteer.objects.get(pk=counts[0]["volunteer_id"])
    if volunteer.user_id is None:
        user = get_user_model().objects.create_user(
            f"bench-records-{volunteer.pk}", first_name=volunteer.name
        )
        Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
        return user
    return volunteer.user


def explain(client, user, path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the query that reads the page's rows."""
    forget_scope(user)
    with override_settings(ROOT_URLCONF="_bench_urls"), CaptureQueriesContext(connection) as queries:
        client.get(path)
    listing = [
        q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and "servicerecord" in q["sql"]
    ]
    if not listing:
        print(f"  (no list query found for {path})")
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + listing[-1])
        plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
    print(f"plan of {path}:\n{plan}")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per bench login says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    from records.models import ServiceRecord

    name = os.environ.get("BENCH_RECORDS_DB") or f"bench_records_{PRESET}"
    bench_database(PRESET, name=name)
    setup_test_environment()  # the in-process client's host, as in the other benches
    institute, admin = seeded()
    in_scope = ServiceRecord.objects.visible_to(admin).count()
    print(
        f"database {name}: {ServiceRecord.objects.count():,} service records, {Unit.objects.count():,} "
        f"units; institute {institute.pk} sees {in_scope:,} of the records"
    )
    real = f"/api/v1/service-records/?subtree_of={institute.pk}&page_size=50"
    baseline = f"/api/bench/service-records/?subtree_of={institute.pk}&page_size=50"
    client = Client()
    client.force_login(admin)
    for label, path in (("endpoint", real), ("baseline", baseline)):
        print_query_counts(client, admin, f"service records {label}", path)
    mine = []
    for records, at_least in ((1, False), (50, True)):
        user = volunteer_account(records, at_least=at_least)
        own = Client()
        own.force_login(user)
        mine.append(count_queries(own, user, "/api/v1/me/service-records/?page_size=50"))
    print(
        f"queries, my service records: {mine[0][0]} at {mine[0][1]} row, {mine[1][0]} at {mine[1][1]} rows"
        + (" (equal)" if mine[0][0] == mine[1][0] else " (NOT equal)")
    )
    if os.environ.get("BENCH_EXPLAIN") == "1":
        explain(client, admin, real)
        explain(client, admin, baseline)
    cookie = session_cookie(admin)
    tool = f"wrk -t1 -c{CONNECTIONS}" if wrk_available() else f"Python, {CONNECTIONS} threads"
    print(f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}; {os.cpu_count()} CPUs")
    with gunicorn(connection.settings_dict["NAME"]) as server:
        try:
            rows, fields = check_pair(server.port, real, baseline, cookie)
            pair = measure_pair(server.port, real, baseline, cookie, server_processes(server))
        except BenchError as error:
            print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
            return 1
    print(f"service records, institute admin, subtree_of, {rows} rows: {pair.summary(TARGET)}")
    if fields:
        print(f"fields: {fields}")
    if pair.bad:
        print(f"error: {pair.bad} answers under load were not 2xx: the figures above are not valid")
        return 1
    print(f"kept database {name} for the next run (dropdb it to start over)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
