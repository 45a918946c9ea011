"""The volunteer list endpoint at city scale, against a `.values()` + JsonResponse view of the same rows.

Builds (once) a city of 9,684 units and BENCH_VOLUNTEERS volunteers (600,000 by default; a tenth of them
under the measured institute's subtree) in a PostgreSQL database of its own, with COPY, and keeps it:
a rerun with the same count reuses it (BENCH_DROP=1 drops it at the end). Then, as that institute's
admin, it loads `/api/v1/volunteers/?subtree_of=<institute>&page_size=50` and its baseline
(bench/_bench_urls.py: the same scope check of the unit, the same rows, newest first) alternately
through gunicorn, as bench/api_lists.py does, and prints requests per second of both and their ratio
(the target is 0.8 or more), and the queries of each at 1 and at 50 rows.

Nothing is asserted on the figures; the run fails only if an answer is not a 200 with the same rows as
its baseline. Without PostgreSQL it says so and exits 0.
"""

import base64
import datetime
import io
import logging
import os
import secrets
import sys
import time
from contextlib import contextmanager

if not os.environ.get("ID_NUMBER_KEYS") and not os.environ.get("ID_NUMBER_HASH_KEY"):
    # Keys for this run only, in the environment (the server inherits them): nothing here is decrypted.
    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)

from _http import gunicorn, wrk_available
from _tree import build_tree
from api_lists import BenchError, check_pair, measure_pair, server_processes, session_cookie
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from stations.models import Platform, Role, Unit, UnitKind
from stations.scoping import forget_scope
from stations.services import role_grant

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "600000"))
DROP = os.environ.get("BENCH_DROP") == "1"
TARGET = 0.8
CONNECTIONS = 4
BATCH = 50_000


@contextmanager
def bench_database(name: str):
    """A database of its own for this bench, kept between runs (its migrations brought up to date)."""
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = name
    # No serialization: it would read every row into memory for tests that roll back, which this is not.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=not DROP)


def build_city():
    """The unit tree (4 centers × 20 institutes × 40 stations × 2 points) and 6 platforms per center."""
    institutes = build_tree(centers=4, institutes=20, stations=40, points=2)
    centers = list(Unit.objects.filter(kind=UnitKind.CENTER).order_by("pk"))
    Platform.objects.bulk_create(
        Platform(center=center, name=f"平台{center.pk}-{i}", code=f"p{center.pk}-{i}", order=i)
        for center in centers
        for i in range(6)
    )
    return institutes[0]


def copy_volunteers(count: int, institute: Unit) -> None:
    """`count` volunteers through COPY, a tenth under `institute`, the rest over the other units; one or
    two service domains each. ID numbers are well-formed fakes, encrypted and hashed as the real ones."""
    from volunteers import crypto
    from volunteers.identity import fake_resident_id, mask_id_number
    from volunteers.models import PrivacyNotice, Volunteer

    notice = PrivacyNotice.objects.order_by("-effective_from").values_list("pk", flat=True).first()
    if notice is None:
        notice = PrivacyNotice.objects.create(
            version="bench", title="隐私政策", body="…", effective_from=datetime.date(2026, 1, 1)
        ).pk
    own = list(Unit.objects.subtree_of(institute).exclude(kind=UnitKind.INSTITUTE).values_list("pk", "path"))
    others = list(
        Unit.objects.exclude(path__startswith=institute.path)
        .filter(kind__in=[UnitKind.STATION, UnitKind.POINT])
        .values_list("pk", "path")
    )
    platforms: dict[str, list[int]] = {}
    for pk, center_path in Platform.objects.values_list("pk", "center__path"):
        platforms.setdefault(center_path, []).append(pk)
    volunteer_table = Volunteer._meta.db_table
    domain_table = Volunteer.domains.through._meta.db_table
    columns = (
        "created_at, updated_at, number, name, id_type, id_number_encrypted, id_number_hash, "
        "id_number_masked, birth_date, gender, phone, political_status, education, skills, home_unit_id, "
        "status, registered_on, privacy_notice_id, consented_at, guardian_name, guardian_phone"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {volunteer_table}")
        first_id = cursor.fetchone()[0] + 1
    now = timezone.now().isoformat()
    statuses = ["active"] * 18 + ["suspended", "left"]
    politics = ["masses", "cpc_member", "cyl_member", "non_party"]
    educations = ["", "senior", "college", "bachelor"]
    started = time.monotonic()
    for start in range(0, count, BATCH):
        people, domains = io.StringIO(), io.StringIO()
        for i in range(start, min(start + BATCH, count)):
            pk, path = own[i % len(own)] if i % 10 == 0 else others[i % len(others)]
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
            id_number = fake_resident_id("350721", birth, i)
            registered = datetime.date(2020, 1, 1) + datetime.timedelta(days=i * 2000 // count)
            fields = (
                now,
                now,
                f"ZY{i + 1:010d}",
                f"志愿者{i % 997}",
                "resident",
                crypto.encrypt(id_number),
                crypto.id_hash("resident", id_number),
                mask_id_number(id_number),
                birth.isoformat(),
                "male" if int(id_number[16]) % 2 else "female",
                f"13{i:09d}",
                politics[i % len(politics)],
                educations[i % len(educations)],
                "",
                str(pk),
                statuses[i % len(statuses)],
                registered.isoformat(),
                str(notice),
                now,
                "",
                "",
            )
            people.write("\t".join(fields) + "\n")
            choices = platforms[path[:9]] if path[:9] in platforms else next(iter(platforms.values()))
            volunteer_id = first_id + i
            domains.write(f"{volunteer_id}\t{choices[i % len(choices)]}\n")
            if i % 3 == 0:
                domains.write(f"{volunteer_id}\t{choices[(i + 1) % len(choices)]}\n")
        people.seek(0)
        domains.seek(0)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {volunteer_table} ({columns}) FROM STDIN", people)
            cursor.cursor.copy_expert(f"COPY {domain_table} (volunteer_id, platform_id) FROM STDIN", domains)
        done = min(start + BATCH, count)
        print(f"  {done:,} volunteers, {time.monotonic() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        sequence = f"pg_get_serial_sequence('{volunteer_table}', 'id')"
        cursor.execute(f"SELECT setval({sequence}, max(id)) FROM {volunteer_table}")
        cursor.execute("ANALYZE")


def seeded() -> tuple[Unit, object]:
    """The institute measured and its admin; the city built first if this database has no volunteers."""
    from volunteers.models import Volunteer

    users = get_user_model().objects
    if not Volunteer.objects.exists():
        started = time.monotonic()
        print(f"building the city: {VOLUNTEERS:,} volunteers (once; reruns reuse this database)")
        institute = build_city()
        copy_volunteers(VOLUNTEERS, institute)
        admin = users.create_user("bench-institute")
        role_grant(actor=None, user=admin, role=Role.INSTITUTE_ADMIN, unit=institute)
        print(f"built in {time.monotonic() - started:.0f} s")
    admin = users.get(username="bench-institute")
    institute = Unit.objects.get(pk=admin.roles.values_list("unit", flat=True).first())
    return institute, admin


def count_queries(client, user, path) -> tuple[int, int]:
    """(queries, rows) of one in-process request: the same count at 1 row and at 50 is the claim."""
    forget_scope(user)
    with override_settings(ROOT_URLCONF="_bench_urls"), CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"{path}: HTTP {response.status_code}: {response.content[:300]!r}")
    return len(queries), len(response.json()["results"])


def print_query_counts(client, user, label, path) -> None:
    """The queries of `path` (its `page_size=50`) at 1 row and at 50, on one line: equal is the claim."""
    one, full = (
        count_queries(client, user, path.replace("page_size=50", f"page_size={size}")) for size in (1, 50)
    )
    print(
        f"queries, {label}: {one[0]} at {one[1]} row, {full[0]} at {full[1]} rows"
        + (" (equal)" if one[0] == full[0] else " (NOT equal)")
    )


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per bench login says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    from volunteers.models import Volunteer

    name = f"bench_volunteers_{VOLUNTEERS}"
    with bench_database(name):
        institute, admin = seeded()
        in_scope = Volunteer.objects.filter(home_unit__path__startswith=institute.path).count()
        print(
            f"database {name}: {Volunteer.objects.count():,} volunteers, {Unit.objects.count():,} units; "
            f"institute {institute.pk} holds {in_scope:,} of the volunteers"
        )
        real = f"/api/v1/volunteers/?subtree_of={institute.pk}&page_size=50"
        baseline = f"/api/bench/volunteers/?subtree_of={institute.pk}&page_size=50"
        client = Client()
        client.force_login(admin)
        for label, path in (("endpoint", real), ("baseline", baseline)):
            print_query_counts(client, admin, label, path)
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
        print(f"volunteers, institute admin, {rows} rows: {pair.summary(TARGET)}")
        if fields:
            print(f"fields: {fields}")
        if pair.bad:
            print(f"error: {pair.bad} answers under load were not 2xx: the figures above are not valid")
            return 1
    if not DROP:
        print(f"kept database {name} for the next run (BENCH_DROP=1 drops it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
