"""Approving service records one by one through `records.services.record_approve`, against bare single-row
UPDATEs of the same table, on PostgreSQL.

The records are the county data set's (bench/_scale.py keeps it in `bench_records_county`, built once with
`seed_scale`'s phases). An approved record can never be put back to pending (the trigger of migration
0002), so each run works on a copy made for it (`bench_records_approve`, CREATE DATABASE … TEMPLATE,
dropped at the end) and the kept data set stays as built.

Each of three rounds takes the leader of another brigade, gives that volunteer an account, loads it once
as a fresh user object (its scope and its phones are read once, as in one request of the queue page) and
approves 1,000 pending records of the brigade's teams without an open flag, one call each, as the queue
page's bulk approve does. The same round runs 1,000 bare UPDATEs, each in autocommit,
`UPDATE records_servicerecord SET status = 'approved', decided_at = now() WHERE id = …`, on 1,000 other
pending records of another brigade, in blocks of 100 alternating with the approvals, so that both meet
the same moments of a shared server. The baseline is the same table on purpose: its indexes and its
trigger are part of writing a decision wherever it comes from, so the ratio is the price of the service
alone (the lock, the checks of who may decide, the total, the audit event, the approver's week), not of
the table's design. The bare UPDATE sets the decision time too, as the table's CHECK wants it for any
decided row. Which of the two opens a block alternates from round to round.

It prints each round's times and how many of its approvals were flagged for the approver's week (the one
that took the week over SERVICE_FLAG_APPROVER_WEEK_HOURS, as the rule says), the median
ratio (the target is 5 or less), the statements of one approval with their times (the first of the first
round, and its last) and the plan of the slowest SELECT among them.
Nothing is asserted on the figures. Without PostgreSQL it says so and exits 0.
"""

import statistics
import sys
import time

from _scale import bench_database
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from records import services
from records.models import FlagKind, RecordFlag, RecordStatus, ServiceRecord
from volunteers.models import MembershipRole, Team, TeamKind, TeamMembership, Volunteer

KEPT = "bench_records_county"
COPY = "bench_records_approve"
ROUNDS = 3
APPROVALS = 1000
BLOCK = 100
WARM_UP = 100
TARGET = 5.0


def pending_of(brigade: Team, count: int, *, leader: Volunteer | None = None) -> list[int]:
    """`count` pending records of the brigade's teams with no open flag (not the leader's own)."""
    open_flags = RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)
    records = ServiceRecord.objects.filter(status=RecordStatus.PENDING, team__path__startswith=brigade.path)
    if leader is not None:
        records = records.exclude(volunteer=leader)
    ids = list(records.exclude(Exists(open_flags)).order_by("pk").values_list("pk", flat=True)[:count])
    if len(ids) < count:
        raise SystemExit(
            f"brigade {brigade.pk} has only {len(ids)} pending records; the data set is not as built"
        )
    return ids


def leader_account(brigade: Team) -> tuple[Volunteer, int]:
    """The brigade's leader, with an account of their own (the scale data has none)."""
    membership = TeamMembership.objects.select_related("volunteer").get(
        team=brigade, role=MembershipRole.LEADER
    )
    leader = membership.volunteer
    user = get_user_model().objects.create_user(f"bench-records-leader-{brigade.pk}", first_name=leader.name)
    Volunteer.objects.filter(pk=leader.pk).update(user=user)
    return leader, user.pk


def approve(actor, ids: list[int]) -> float:
    started = time.perf_counter()
    for pk in ids:
        services.record_approve(actor=actor, record=pk)
    return time.perf_counter() - started


def interleaved(user_id: int, ids: list[int], baseline_ids: list[int], *, service_first: bool):
    """(service seconds, baseline seconds), run in alternating blocks of BLOCK, so that both meet the same
    moments of the server (a checkpoint, another client's load)."""
    actor = get_user_model().objects.get(pk=user_id)  # fresh: nothing of it cached yet
    service = bare = 0.0
    for start in range(0, len(ids), BLOCK):
        if service_first:
            service += approve(actor, ids[start : start + BLOCK])
        bare += bare_updates(baseline_ids[start : start + BLOCK])
        if not service_first:
            service += approve(actor, ids[start : start + BLOCK])
    return service, bare


def bare_updates(ids: list[int]) -> float:
    table = ServiceRecord._meta.db_table
    sql = f'UPDATE "{table}" SET status = %s, decided_at = now() WHERE id = %s'
    started = time.perf_counter()
    with connection.cursor() as cursor:  # autocommit: each statement its own transaction
        for pk in ids:
            cursor.execute(sql, [RecordStatus.APPROVED, pk])
    return time.perf_counter() - started


def queries_of_one(user_id: int, pk: int) -> list[tuple[str, float]]:
    """(SQL, seconds) of each statement of one approval by a fresh user object, BEGIN and COMMIT too."""
    actor = get_user_model().objects.get(pk=user_id)
    timed = []

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        services.record_approve(actor=actor, record=pk)
    seconds = iter(timed)
    # Transaction statements are logged but do not pass the wrapper: theirs is the log's own time.
    return [
        (query["sql"], float(query["time"]) if _is_transaction(query["sql"]) else next(seconds))
        for query in captured.captured_queries
    ]


def _is_transaction(sql: str) -> bool:
    return sql.split(" ", 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def show_queries(label: str, statements: list[tuple[str, float]]) -> tuple[str, float]:
    """Print the statements; the slowest SELECT is returned, to explain."""
    print(f"queries of one approval, {label}: {len(statements)}")
    for sql, seconds in statements:
        print(f"  {seconds * 1000:6.2f} ms  {sql[:140]}")
    selects = [statement for statement in statements if statement[0].lstrip().upper().startswith("SELECT")]
    return max(selects, key=_seconds)


def explain(statement: tuple[str, float]) -> None:
    sql = statement[0]
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.execute("ROLLBACK")
    print("plan of the slowest SELECT:\n  " + "\n  ".join(plan))


def use(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = name


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    server_database = connection.settings_dict["NAME"]
    bench_database("county", name=KEPT)
    use(server_database)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{COPY}"')
        started = time.perf_counter()
        cursor.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{KEPT}" STRATEGY FILE_COPY')
    print(f"copied {KEPT} to {COPY} in {time.perf_counter() - started:.1f} s")
    use(COPY)
    try:
        return measure()
    finally:
        use(server_database)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{COPY}"')


def measure() -> int:
    records = ServiceRecord.objects.count()
    pending = ServiceRecord.objects.filter(status=RecordStatus.PENDING).count()
    print(f"database {COPY}: {records:,} service records, {pending:,} pending")
    brigades = list(Team.objects.filter(kind=TeamKind.BRIGADE).order_by("pk")[: 2 * ROUNDS + 1])
    # A warm-up on a brigade of its own: the copy's pages into the server's cache, the code paths run once.
    leader, user_id = leader_account(brigades[-1])
    warm_up = pending_of(brigades[-1], 2 * WARM_UP, leader=leader)
    interleaved(user_id, warm_up[:WARM_UP], warm_up[WARM_UP:], service_first=True)
    ratios = []
    for round_ in range(ROUNDS):
        brigade, other = brigades[round_], brigades[ROUNDS + round_]
        leader, user_id = leader_account(brigade)
        # Two more than measured: the first and the last approval of the round have their queries counted.
        probe_first, *ids, probe_late = pending_of(brigade, APPROVALS + 2, leader=leader)
        baseline_ids = pending_of(other, APPROVALS)
        if round_ == 0:
            slowest = show_queries("the first of the round", queries_of_one(user_id, probe_first))
        else:
            services.record_approve(actor=get_user_model().objects.get(pk=user_id), record=probe_first)
        service, bare = interleaved(user_id, ids, baseline_ids, service_first=bool(round_ % 2))
        if round_ == 0:
            late = queries_of_one(user_id, probe_late)
            slowest = max(slowest, show_queries("the last, the approver's week flagged", late), key=_seconds)
            explain(slowest)
        else:
            services.record_approve(actor=get_user_model().objects.get(pk=user_id), record=probe_late)
        ratio = service / bare
        ratios.append(ratio)
        flagged = RecordFlag.objects.filter(record__in=ids, kind=FlagKind.APPROVER_WEEK).count()
        print(
            f"round {round_ + 1}: {len(ids)} approvals through the service {service:.2f} s "
            f"({service / len(ids) * 1000:.2f} ms each; {flagged} flagged for the approver's week), "
            f"{len(baseline_ids)} bare UPDATEs {bare:.2f} s ({bare / len(baseline_ids) * 1000:.2f} ms each), "
            f"ratio {ratio:.2f}"
        )
    ratio = statistics.median(ratios)
    print(
        f"approve one by one ÷ bare UPDATE, median of {ROUNDS}: {ratio:.2f} (target ≤ {TARGET:g}: "
        f"{'yes' if ratio <= TARGET else 'no'})"
    )
    return 0


def _seconds(statement: tuple[str, float]) -> float:
    return statement[1]


if __name__ == "__main__":
    sys.exit(main())
