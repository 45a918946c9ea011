"""The activity-report, residents' request and award list endpoints at city scale, each against a
`.values()` + JsonResponse view of the same rows.

Uses the kept data set of bench/_scale.py (`bench_city` by default: 600,000 volunteers, 50,000 activities
with their reports, 25,000 residents' requests; built on the first run). BENCH_LISTS_PRESET=county or tiny
runs on a smaller set (`bench_county`; for tiny `bench_lists_tiny`, a copy of the benches' own test set).
The scale data has no awards, so the first run adds some to every county (marked by their citation):
3,000 a county over eight years, given by its center, institutes and stations, to volunteers, teams and
units (it has no projects), one in fifty revoked. It also gives the first county's center and its first
institute an admin; a rerun finds them all.

Then, through gunicorn, as bench/api_lists.py does, as the county admin and as the institute admin
(whose scope is a twentieth of the county), it loads each endpoint's first page of 50 and its baseline
(bench/_bench_urls.py: the same scope, newest first, the stored columns as `.values()`):

- `/api/v1/activity-reports/`: the baseline leaves out the photos (one more query for the page);
- `/api/v1/service-requests/`: the baseline masks the resident's phone row by row as the endpoint does
  (the same `sees_phone` and `mask_phone`), and leaves out the step's due time and overdue flag;
- `/api/v1/awards/`: the baseline picks the recipient's name and masks a volunteer's row by row as the
  endpoint does (`volunteer_public_label`).

It prints requests per second of each side and their ratio (the target is 0.8 or more), and the queries of
each at 1 and at 50 rows. BENCH_EXPLAIN=1 prints the plans of the endpoints' list queries.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows (and,
where a baseline masks, the same masked values) as its baseline. Without PostgreSQL it says so and exits 0.
"""

import logging
import os
import sys

from _http import gunicorn, wrk_available
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
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from activities.models import ActivityReport, ActivityReportPhoto
from awards.kinds import ensure_default_kinds
from awards.models import Award, AwardKind
from residents.models import ServiceRequest
from stations.models import Role, Unit, UnitKind
from stations.scoping import forget_scope
from stations.services import role_grant
from volunteers import scale
from volunteers.models import Team, Volunteer

PRESET = os.environ.get("BENCH_LISTS_PRESET", "city")
TARGET = 0.8
CONNECTIONS = 4
ADMINS = {"county": "bench-lists-county", "institute": "bench-lists-institute"}
# name, endpoint, baseline, the table its list query reads (for BENCH_EXPLAIN), and the values a baseline
# computes as its endpoint does: endpoint key → baseline key, compared row by row.
ENDPOINTS = [
    ("activity reports", "/api/v1/activity-reports/", "/api/bench/activity-reports/", "activityreport", {}),
    (
        "service requests",
        "/api/v1/service-requests/",
        "/api/bench/service-requests/",
        "servicerequest",
        {"resident_phone": "phone"},
    ),
    (
        "awards",
        "/api/v1/awards/",
        "/api/bench/awards/",
        "award",
        {"recipient_name": "recipient_name", "volunteer_number": "volunteer_number"},
    ),
]
PAGE = "?page_size=50"
AWARDS_PER_COUNTY = 40 if PRESET == "tiny" else 3000  # the tiny set has 6 stations and 9 teams a county
AWARD_MARK = "基准表彰"
FIRST_YEAR, YEARS = 2019, 8
# The default kinds (awards.kinds) of each type of recipient given here; the scale data has no projects.
AWARD_KINDS = {
    "volunteer": ("最美志愿者", "五星志愿者"),
    "team": ("最佳志愿服务组织",),
    "unit": ("最美志愿服务社区",),
}


def county_awards(center: Unit, kinds: dict[str, AwardKind], now) -> list[Award]:
    """`AWARDS_PER_COUNTY` awards of one county: four in five to volunteers, one in ten to a team, one in ten
    to a station; given by the center (one in five), an institute (two) or a station (two). A recipient
    gets an award of a kind once a year: each type's recipients are taken in turn, each for eight years."""
    units = Unit.objects.filter(path__startswith=center.path, is_active=True).order_by("pk")
    institutes = list(units.filter(kind=UnitKind.INSTITUTE).values_list("pk", flat=True))
    stations = list(units.filter(kind=UnitKind.STATION).values_list("pk", flat=True))
    recipients = {
        "volunteer": list(
            Volunteer.objects.filter(home_unit__path__startswith=center.path)
            .order_by("pk")
            .values_list("pk", flat=True)[:AWARDS_PER_COUNTY]
        ),
        "team": list(
            Team.objects.filter(unit__path__startswith=center.path)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "unit": stations,
    }
    taken = dict.fromkeys(recipients, 0)
    givers = {"institute": institutes, "station": stations}
    given = dict.fromkeys(givers, 0)
    awards = []
    for i in range(AWARDS_PER_COUNTY):
        kind = "volunteer" if i % 10 < 8 else ("team" if i % 10 == 8 else "unit")
        pool, n = recipients[kind], taken[kind]
        taken[kind] += 1
        if i % 5 == 0:
            giver = center.pk
        else:
            by = "institute" if i % 5 < 3 else "station"  # each in turn, so every one gives some
            giver = givers[by][given[by] % len(givers[by])]
            given[by] += 1
        revoked = i % 50 == 49
        awards.append(
            Award(
                year=FIRST_YEAR + n % YEARS,
                kind=kinds[AWARD_KINDS[kind][i % len(AWARD_KINDS[kind])]],
                **{f"{kind}_id": pool[n // YEARS % len(pool)]},
                giving_unit_id=giver,
                citation=f"{AWARD_MARK}：在新时代文明实践志愿服务中表现突出，特予表彰。",
                revoked_at=now if revoked else None,
                revoke_reason="基准：撤销的表彰" if revoked else "",
            )
        )
    return awards


@transaction.atomic
def seeded_awards() -> int:
    """The data set's awards, made on the first run: how many made."""
    if Award.objects.filter(citation__startswith=AWARD_MARK).exists():
        return 0
    ensure_default_kinds(AwardKind)
    kinds = {kind.name: kind for kind in AwardKind.objects.all()}
    codes = scale.PRESETS[PRESET].county_codes()
    now = timezone.now()
    for center in Unit.objects.filter(kind=UnitKind.CENTER, code__in=codes).order_by("pk"):
        # An award another bench gave (bench/public_pages.py gives a hundred) is not given twice.
        Award.objects.bulk_create(county_awards(center, kinds, now), batch_size=2000, ignore_conflicts=True)
    return Award.objects.filter(citation__startswith=AWARD_MARK).count()


def seeded_admins() -> dict:
    """The admins of the first county's center and of its first institute, made on the first run."""
    users = get_user_model().objects
    center = Unit.objects.filter(kind=UnitKind.CENTER).order_by("pk").first()
    institute = Unit.objects.filter(kind=UnitKind.INSTITUTE, path__startswith=center.path).order_by("pk")[0]
    admins = {}
    for who, role, unit in (
        ("county", Role.COUNTY_ADMIN, center),
        ("institute", Role.INSTITUTE_ADMIN, institute),
    ):
        admin = users.filter(username=ADMINS[who]).first() or users.create_user(ADMINS[who])
        role_grant(actor=None, user=admin, role=role, unit=unit)  # kept if held already
        forget_scope(admin)
        admins[who] = admin
    return admins


def explain(client, user, path, table) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the query that reads the page's rows."""
    forget_scope(user)
    with override_settings(ROOT_URLCONF="_bench_urls"), CaptureQueriesContext(connection) as queries:
        client.get(path)
    listing = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and f'_{table}"' in q["sql"]]
    if not listing:
        print(f"  (no list query found for {path})")
        return
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + listing[-1])
        plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
    print(f"plan of {path}:\n{plan}")


def check_values(port, real, baseline, cookie, same: dict) -> None:
    """The values a baseline computes as its endpoint does (a masked phone, a recipient's name) are the
    same, row by row: else the baseline does other work than the endpoint."""
    if not same:
        return
    real_rows = rows_of(fetch_json(port, real, cookie)[1])
    base_rows = rows_of(fetch_json(port, baseline, cookie)[1])
    for real_row, base_row in zip(real_rows, base_rows, strict=True):
        for real_key, base_key in same.items():
            if real_row[real_key] != base_row[base_key]:
                raise BenchError(
                    f"{real} row {real_row['id']}: {real_key} {real_row[real_key]!r}, "
                    f"its baseline's {base_key} {base_row[base_key]!r}"
                )


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per bench login says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    # The tiny set is the benches' own test data: this bench adds its awards to a copy of its own.
    name = "bench_lists_tiny" if PRESET == "tiny" else f"bench_{PRESET}"
    bench_database(PRESET, name=name)
    setup_test_environment()  # the in-process client's host, as in the other benches
    made = seeded_awards()
    if made:
        print(f"added {made:,} awards")
    admins = seeded_admins()
    print(
        f"database {name}: {ActivityReport.objects.count():,} activity reports "
        f"({ActivityReportPhoto.objects.count():,} photos), {ServiceRequest.objects.count():,} residents' "
        f"requests, {Award.objects.count():,} awards"
    )
    for who, admin in admins.items():
        print(
            f"  the {who} admin sees {ActivityReport.objects.visible_to(admin).count():,} reports, "
            f"{ServiceRequest.objects.visible_to(admin).count():,} requests, "
            f"{Award.objects.visible_to(admin).count():,} awards"
        )
        forget_scope(admin)
    clients = {}
    for who, admin in admins.items():
        clients[who] = Client()
        clients[who].force_login(admin)
        for label, real, baseline, _table, _same in ENDPOINTS:
            for side, path in (("endpoint", real), ("baseline", baseline)):
                print_query_counts(clients[who], admin, f"{label} {side}, {who} admin", path + PAGE)
    if os.environ.get("BENCH_EXPLAIN") == "1":
        for who, admin in admins.items():
            for _label, real, baseline, table, _same in ENDPOINTS:
                for path in (real, baseline):
                    explain(clients[who], admin, path + PAGE, table)
    cookies = {who: session_cookie(admin) for who, admin in admins.items()}
    tool = f"wrk -t1 -c{CONNECTIONS}" if wrk_available() else f"Python, {CONNECTIONS} threads"
    print(f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}; {os.cpu_count()} CPUs")
    bad = 0
    with gunicorn(connection.settings_dict["NAME"]) as server:
        try:
            for label, real, baseline, _table, same in ENDPOINTS:
                for who, cookie in cookies.items():
                    real_page, base_page = real + PAGE, baseline + PAGE
                    rows, fields = check_pair(server.port, real_page, base_page, cookie)
                    check_values(server.port, real_page, base_page, cookie, same)
                    pair = measure_pair(server.port, real_page, base_page, cookie, server_processes(server))
                    print(f"{label}, {who} admin, {rows} rows: {pair.summary(TARGET)}")
                    if fields:
                        print(f"  fields: {fields}")
                    bad += pair.bad
        except BenchError as error:
            print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
            return 1
    if bad:
        print(f"error: {bad} answers under load were not 2xx: the figures above are not valid")
        return 1
    print(f"kept database {name} for the next run (dropdb it to start over)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
