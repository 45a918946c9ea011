"""The list endpoints under HTTP load, each against a baseline of the same rows measured in the same run.

Builds a county of more than 10,000 units (and a small neighbouring county outside its scope) in a
throwaway PostgreSQL database, starts gunicorn (2 sync workers) on loopback over it with DEBUG off, and
loads each endpoint of ENDPOINTS and its baseline alternately with wrk, as the same signed-in user. A
baseline (bench/_bench_urls.py) is a plain Django view that reads the same rows through the same selector
and returns them as `.values()` in a JsonResponse. Prints requests per second of both, the ratio
real/baseline (the target is 0.8 or more), p99 latencies and the server's CPU time per request (workers
and their database backends, from /proc), then the size and time of the county GeoJSON.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows as
its baseline, since a ratio between an error page and a list would mean nothing.

Needs PostgreSQL (DATABASE_URL): the measurement is of the deployed stack, and gunicorn's workers must
share the database the bench builds. Without it, it says so and exits 0. BENCH_SECONDS sets the
length of one load run (3 s by default), BENCH_ROUNDS the runs of each side (3); BENCH_LOAD=python uses
the Python load generator even where wrk is installed.
"""

import json
import os
import statistics
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from _http import Load, get, gunicorn, load, wrk_available
from _tree import build_tree, throwaway_database
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from stations.models import Platform, Role, Unit
from stations.services import role_grant

# Each measured endpoint, the user who asks, and its baseline in bench/_bench_urls.py. A later issue adds its
# endpoint with one row here (and, for a new selector, one row of BASELINES there).
ENDPOINTS = [
    # (name, user, real URL, baseline URL)
    ("units, county admin", "county", "/api/v1/units/?page_size=50", "/api/bench/units/?page_size=50"),
    ("units, institute admin", "institute", "/api/v1/units/?page_size=50", "/api/bench/units/?page_size=50"),
    ("platforms, county admin", "county", "/api/v1/platforms/", "/api/bench/platforms/"),
    ("trivial: DRF / bare view", "county", "/api/bench/drf-ok/", "/api/bench/django-ok/"),
]
# Whole-county documents: their size, the time of one request and, once paginated, of all pages.
DOCUMENTS = [
    # (name, user, URL)
    ("county GeoJSON", "county", "/api/v1/units/geojson/"),
]

TARGET = 0.8
# Runs of each side, alternated real, baseline, real, …, and the best of each kept: a burst of load from
# elsewhere on the machine (a test run) then costs one run, not one side.
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = 4


class BenchError(Exception):
    pass


def build():
    """A county of 10,165 units (1 center, 84 institutes, 40 stations each, 2 points a station), a
    neighbouring county of 364 that nobody here may see, platforms for both, and the two users."""
    county = build_tree(centers=1, institutes=84, stations=40, points=2)
    center = county[0].parent
    other = build_tree(centers=1, institutes=3, stations=40, points=2, first_id=Unit.objects.count() + 1)
    for owner, count in ((center, 6), (other[0].parent, 2)):
        Platform.objects.bulk_create(
            Platform(
                center=owner,
                name=f"平台{owner.pk}-{i}",
                code=f"p{owner.pk}-{i}",
                responsible_department="宣传部",
                description="新时代文明实践服务平台" * 5,
                order=i,
            )
            for i in range(count)
        )
    users = get_user_model().objects
    county_admin = users.create_user("bench-county")
    role_grant(actor=None, user=county_admin, role=Role.COUNTY_ADMIN, unit=center)
    institute_admin = users.create_user("bench-institute")
    role_grant(actor=None, user=institute_admin, role=Role.INSTITUTE_ADMIN, unit=county[0])
    return center, county[0], {"county": county_admin, "institute": institute_admin}


def session_cookie(user) -> str:
    """A signed-in session in the database, as after a login: every request then does the same session and
    user look-ups, real or baseline."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def rows_of(body):
    if isinstance(body, list):
        return body
    for key in ("results", "features"):
        if key in body:
            return body[key]
    return [body]


def next_link(answer, body) -> str | None:
    """The next page: a `next` in the body (DRF's paginations) or a Link header; as a path on this server."""
    link = body.get("next") if isinstance(body, dict) else None
    if link is None and isinstance(body, dict) and isinstance(body.get("links"), dict):
        link = body["links"].get("next")
    if link is None:
        for part in (answer.headers.get("Link") or "").split(","):
            if 'rel="next"' in part:
                link = part.split(";")[0].strip().strip("<>")
    if not link:
        return None
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetch_json(port, path, cookie):
    answer = get(port, path, cookie)
    if answer.status != 200:
        raise BenchError(f"{path}: HTTP {answer.status}: {answer.body[:300]!r}")
    try:
        return answer, json.loads(answer.body)
    except ValueError as error:
        raise BenchError(f"{path}: not JSON ({error}): {answer.body[:300]!r}") from error


def check_pair(port, real, baseline, cookie) -> int:
    """Both answer 200 with JSON, with the same number of rows, and the same ids in the same order when the
    rows have ids: the bench then compares the cost of the same work."""
    real_rows = rows_of(fetch_json(port, real, cookie)[1])
    base_rows = rows_of(fetch_json(port, baseline, cookie)[1])
    if len(real_rows) != len(base_rows):
        raise BenchError(f"{real} gives {len(real_rows)} rows, its baseline {baseline} {len(base_rows)}")
    ids = [[row.get("id") for row in rows if isinstance(row, dict)] for rows in (real_rows, base_rows)]
    if ids[0] != ids[1]:
        raise BenchError(
            f"{real} and its baseline {baseline} give different rows: {ids[0][:5]}, {ids[1][:5]}"
        )
    return len(real_rows), field_difference(real_rows, base_rows)


def field_difference(real_rows, base_rows) -> str:
    """Fields one side gives and the other does not (a baseline's "parent__name" counts as "parent_name"):
    the work a ratio leaves out, such as labels the API computes per row, or a baseline gone stale."""
    if not (real_rows and base_rows and isinstance(real_rows[0], dict) and isinstance(base_rows[0], dict)):
        return ""
    real, base = set(real_rows[0]), {key.replace("__", "_") for key in base_rows[0]}
    parts = []
    if real - base:
        parts.append("only the endpoint gives " + ", ".join(sorted(real - base)))
    if base - real:
        parts.append("only the baseline gives " + ", ".join(sorted(base - real)))
    return "; ".join(parts)


@dataclass
class Pair:
    real: Load  # the fastest run of each side
    base: Load
    real_cpu_ms: float | None  # the least server CPU per request of each side's runs
    base_cpu_ms: float | None
    spread: float  # how far the slowest run of a side fell below its fastest
    bad: int

    @property
    def ratio(self) -> float:
        return self.real.requests_per_second / self.base.requests_per_second

    @property
    def cpu_ratio(self) -> float | None:
        return self.base_cpu_ms / self.real_cpu_ms if self.real_cpu_ms and self.base_cpu_ms else None

    def summary(self, target: float) -> str:
        """The pair in one line: both sides' requests per second, their ratio against `target`, p99, the
        server's CPU a request and the spread of the runs."""
        cpu = (
            f"; server CPU a request {self.real_cpu_ms:.1f} / {self.base_cpu_ms:.1f} ms "
            f"(ratio {self.cpu_ratio:.2f})"
            if self.cpu_ratio
            else ""
        )
        return (
            f"{self.real.requests_per_second:.0f} req/s, baseline {self.base.requests_per_second:.0f} req/s, "
            f"ratio {self.ratio:.2f} (target ≥ {target}: {'yes' if self.ratio >= target else 'no'}); "
            f"p99 {self.real.p99_ms:.1f} / {self.base.p99_ms:.1f} ms{cpu}; spread {self.spread:.0%}"
        )


def measure_pair(port, real, baseline, cookie, watch) -> Pair:
    for path in (real, baseline):  # warm both workers: imports, URL resolvers, database connections
        load(port, path, cookie, seconds=1, connections=CONNECTIONS)
    runs = {real: [], baseline: []}
    for _ in range(ROUNDS):
        for path in (real, baseline):
            runs[path].append(load(port, path, cookie, seconds=SECONDS, connections=CONNECTIONS, watch=watch))

    def fastest(side):
        return max(side, key=lambda run: run.requests_per_second)

    def least_cpu(side):
        return min((run.cpu_ms for run in side if run.cpu_ms), default=None)

    def spread(side):
        return 1 - min(run.requests_per_second for run in side) / fastest(side).requests_per_second

    sides = (runs[real], runs[baseline])
    return Pair(
        real=fastest(sides[0]),
        base=fastest(sides[1]),
        real_cpu_ms=least_cpu(sides[0]),
        base_cpu_ms=least_cpu(sides[1]),
        spread=max(spread(side) for side in sides),
        bad=sum(run.bad for side in sides for run in side),
    )


def measure_document(port, name, path, cookie, watch) -> int:
    answer, body = fetch_json(port, path, cookie)
    features = len(rows_of(body))
    times = [get(port, path, cookie).seconds for _ in range(5)]
    print(f"{name}: GET {path}")
    print(
        f"  first answer: {features:,} features, {len(answer.body):,} bytes, "
        f"{min(times) * 1000:.0f} ms (best of 5; median {statistics.median(times) * 1000:.0f} ms)"
    )
    if next_link(answer, body):
        walks = []
        for _ in range(3):
            pages, size, total, seconds, link = 0, 0, 0, 0.0, path
            while link:
                page, page_body = fetch_json(port, link, cookie)
                pages, size, seconds = pages + 1, size + len(page.body), seconds + page.seconds
                total += len(rows_of(page_body))
                link = next_link(page, page_body)
            walks.append((seconds, pages, size, total))
        seconds, pages, size, total = min(walks)
        print(
            f"  all pages: {pages} pages, {total:,} features, {size:,} bytes, "
            f"{seconds * 1000:.0f} ms to fetch them one after another (best of 3)"
        )
    else:
        print("  not paginated: the first answer is the whole document")
    run = load(port, path, cookie, seconds=SECONDS, connections=CONNECTIONS, watch=watch)
    cpu = f", server CPU {run.cpu_ms:.1f} ms a request" if run.cpu_ms else ""
    print(
        f"  first page under load: {run.requests_per_second:.1f} req/s, p99 {run.p99_ms:.0f} ms{cpu} "
        f"({run.requests} requests in {SECONDS:g} s)"
    )
    return run.bad


def server_processes(server):
    """The gunicorn workers and their PostgreSQL backends: the CPU a request costs on the server side."""

    def pids():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        return server.worker_pids() + backends

    return pids


def main():
    sys.stdout.reconfigure(line_buffering=True)  # lines appear as measured, in order with errors, under make
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    with throwaway_database():
        center, institute, users = build()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        cookies = {who: session_cookie(user) for who, user in users.items()}
        scoped = Unit.objects.subtree_of(center).count()
        print(
            f"tree: {Unit.objects.count():,} units (county admin's scope {scoped:,}, institute admin's "
            f"{Unit.objects.subtree_of(institute).count():,}), {Platform.objects.count()} platforms, "
            f"PostgreSQL {version}"
        )
        tool = f"wrk -t1 -c{CONNECTIONS}" if wrk_available() else f"Python, {CONNECTIONS} threads"
        print(
            f"server: gunicorn, 2 sync workers, loopback, DEBUG off; load: {tool}, {SECONDS:g} s a run, "
            f"real and baseline alternated, {ROUNDS} run{'s' if ROUNDS > 1 else ''} each; "
            f"{os.cpu_count()} CPUs shared by all"
        )
        if not wrk_available():
            print(
                "note: no wrk; a Python load generator stands in, GIL-bound: req/s are lower, ratios nearer 1"
            )
        with gunicorn(connection.settings_dict["NAME"]) as server:
            try:
                return report(server.port, cookies, server_processes(server))
            except BenchError as error:
                print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
                return 1


def report(port, cookies, watch) -> int:
    # Every pair is checked before any is loaded, so a broken one fails the run in seconds.
    checked = [check_pair(port, real, baseline, cookies[who]) for _name, who, real, baseline in ENDPOINTS]
    line = "{:<26} {:>4} {:>10} {:>10} {:>9} {:>18} {:>7} {:>18} {:>9} {:>6}"
    print()
    print(
        line.format(
            "endpoint",
            "rows",
            "real req/s",
            "base req/s",
            "real/base",
            "p99 real / base",
            "spread",
            "CPU/req real/base",
            "CPU ratio",
            f"≥ {TARGET}",
        )
    )
    bad, met = 0, 0
    for (name, who, real, baseline), (count, _fields) in zip(ENDPOINTS, checked, strict=True):
        pair = measure_pair(port, real, baseline, cookies[who], watch)
        bad += pair.bad
        met += pair.ratio >= TARGET
        cpu = f"{pair.real_cpu_ms:.1f} / {pair.base_cpu_ms:.1f} ms" if pair.cpu_ratio else "n/a"
        print(
            line.format(
                name,
                count,
                f"{pair.real.requests_per_second:.0f}",
                f"{pair.base.requests_per_second:.0f}",
                f"{pair.ratio:.2f}",
                f"{pair.real.p99_ms:.1f} / {pair.base.p99_ms:.1f} ms",
                f"{pair.spread:.0%}",
                cpu,
                f"{pair.cpu_ratio:.2f}" if pair.cpu_ratio else "n/a",
                ("yes" if pair.ratio >= TARGET else "no") + (" (errors!)" if pair.bad else ""),
            )
        )
    print(f"{met} of {len(ENDPOINTS)} at {TARGET} or more of their baseline's requests per second")
    print(
        "req/s: the fastest run of each side; spread: how far a side's slowest run fell below its fastest.\n"
        "CPU/req: gunicorn workers plus their PostgreSQL backends, the least of each side's runs; its ratio\n"
        "(base/real) moves little when something else on the machine takes CPU: read it when spread is large."
    )
    for (name, *_urls), (_count, fields) in zip(ENDPOINTS, checked, strict=True):
        if fields:
            print(f"fields, {name}: {fields}")
    print()
    for name, who, path in DOCUMENTS:
        bad += measure_document(port, name, path, cookies[who], watch)
    if bad:
        print(f"error: {bad} answers under load were not 2xx or failed: the figures above are not valid")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
