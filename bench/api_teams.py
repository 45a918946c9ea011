"""The team, membership and transfer list endpoints at city scale, each against a `.values()` + JsonResponse
view of the same rows.

Uses the kept city database of bench/_scale.py (`bench_city`: 5,000 teams, about 570,000 memberships,
built once). It has no transfers: the first run adds TRANSFERS of them for the measured institute's
volunteers, with one INSERT … SELECT, and a rerun adds nothing. Then, as that institute's admin, it loads
`/api/v1/teams/?subtree_of=<institute>&page_size=50`, `/api/v1/memberships/?page_size=50` and
`/api/v1/transfers/?page_size=50`, each alternately with its baseline (bench/_bench_urls.py: the same
scope, filter and order, the stored columns as `.values()`) through gunicorn, as bench/api_lists.py does,
and prints requests per second of both and their ratio (the target is 0.8 or more), and the queries of
each at 1 and at 50 rows.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows as
its baseline. Without PostgreSQL it says so and exits 0.
"""

import logging
import os
import sys

from _http import gunicorn, wrk_available
from _scale import bench_database
from api_lists import BenchError, check_pair, measure_pair, server_processes, session_cookie
from api_volunteers import print_query_counts
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import setup_test_environment

from stations.models import Role, Unit, UnitKind
from stations.services import role_grant

TARGET = 0.8
CONNECTIONS = 4
TRANSFERS = 3000
ADMIN = "bench-teams-institute"


def seeded() -> tuple[Unit, object]:
    """The institute measured (the first one) and its admin, and the transfers, made on the first run."""
    users = get_user_model().objects
    institute = Unit.objects.filter(kind=UnitKind.INSTITUTE).order_by("pk").first()
    admin = users.filter(username=ADMIN).first() or users.create_user(ADMIN)
    role_grant(actor=None, user=admin, role=Role.INSTITUTE_ADMIN, unit=institute)  # kept if held already
    add_transfers(institute, admin)
    return institute, admin


def add_transfers(institute: Unit, requester) -> None:
    """TRANSFERS transfers of the institute's volunteers, unless the database holds some: a third of them
    out to another institute, the rest to the institute itself, one in five of those into its brigade (a
    team transfer); pending, approved, rejected and withdrawn in turn."""
    from volunteers.models import Team, Transfer, Volunteer

    if Transfer.objects.exists():
        return
    other = Unit.objects.filter(kind=UnitKind.INSTITUTE).exclude(pk=institute.pk).order_by("pk").first()
    brigade = Team.objects.filter(unit=institute).order_by("pk").values_list("pk", flat=True).first()
    transfer, volunteer = Transfer._meta.db_table, Volunteer._meta.db_table
    unit = Unit._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {transfer} (volunteer_id, kind, from_unit_id, to_unit_id, from_team_id, to_team_id,
                reason, status, requested_by_id, decided_by_id, decided_at, decision_note, created_at,
                updated_at)
            SELECT v.id,
                CASE WHEN v.id %% 3 <> 0 AND v.id %% 5 = 0 THEN 'team' ELSE 'unit' END,
                v.home_unit_id,
                CASE WHEN v.id %% 3 = 0 THEN %(other)s ELSE %(institute)s END,
                NULL,
                CASE WHEN v.id %% 3 <> 0 AND v.id %% 5 = 0 THEN %(brigade)s END,
                '',
                (ARRAY['pending', 'approved', 'rejected', 'cancelled'])[v.id %% 4 + 1],
                %(requester)s,
                NULL,
                CASE WHEN v.id %% 4 IN (1, 2) THEN now() END,
                '',
                now() - (v.id %% 1000) * interval '1 hour',
                now()
            FROM {volunteer} v JOIN {unit} u ON u.id = v.home_unit_id
            WHERE u.path LIKE %(prefix)s
            ORDER BY v.id
            LIMIT %(count)s
            """,
            {
                "other": other.pk,
                "institute": institute.pk,
                "brigade": brigade,
                "requester": requester.pk,
                "prefix": f"{institute.path}%",
                "count": TRANSFERS,
            },
        )
        cursor.execute(f"ANALYZE {transfer}")
    print(f"added {TRANSFERS:,} transfers (once; reruns reuse them)")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per bench login says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    from volunteers.models import Team, TeamMembership, Transfer

    setup_test_environment()  # the in-process client's host, as in the other benches
    bench_database("city")
    institute, admin = seeded()
    print(
        f"database {connection.settings_dict['NAME']}: {Team.objects.count():,} teams, "
        f"{TeamMembership.objects.count():,} memberships, {Transfer.objects.count():,} transfers; "
        f"institute {institute.pk} sees {Team.objects.visible_to(admin).count():,} teams, "
        f"{TeamMembership.objects.visible_to(admin).count():,} memberships, "
        f"{Transfer.objects.visible_to(admin).count():,} transfers"
    )
    endpoints = [
        (
            "teams",
            f"/api/v1/teams/?subtree_of={institute.pk}&page_size=50",
            f"/api/bench/teams/?subtree_of={institute.pk}&page_size=50",
        ),
        ("memberships", "/api/v1/memberships/?page_size=50", "/api/bench/memberships/?page_size=50"),
        ("transfers", "/api/v1/transfers/?page_size=50", "/api/bench/transfers/?page_size=50"),
    ]
    client = Client()
    client.force_login(admin)
    for name, real, baseline in endpoints:
        for label, path in (("endpoint", real), ("baseline", baseline)):
            print_query_counts(client, admin, f"{name} {label}", path)
    cookie = session_cookie(admin)
    tool = f"wrk -t1 -c{CONNECTIONS}" if wrk_available() else f"Python, {CONNECTIONS} threads"
    print(f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}; {os.cpu_count()} CPUs")
    bad = 0
    with gunicorn(connection.settings_dict["NAME"]) as server:
        for name, real, baseline in endpoints:
            try:
                rows, fields = check_pair(server.port, real, baseline, cookie)
                pair = measure_pair(server.port, real, baseline, cookie, server_processes(server))
            except BenchError as error:
                print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
                return 1
            print(f"{name}, institute admin, {rows} rows: {pair.summary(TARGET)}")
            if fields:
                print(f"  fields: {fields}")
            bad += pair.bad
    if bad:
        print(f"error: {bad} answers under load were not 2xx: the figures above are not valid")
        return 1
    print(f"kept database {connection.settings_dict['NAME']} for the next run (dropdb it to start over)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
