"""A burst of sign-ups for one activity, through `POST /api/v1/activities/{id}/signup/`, against a trivial
token-authenticated DRF POST in the same run.

Builds, in a throwaway PostgreSQL database, one county with one station, 500 active volunteers, each
with an account and a DRF token, and a staff organiser; then starts gunicorn (2 sync workers, as the
other HTTP benches; BENCH_WORKERS for more) on loopback over it with DEBUG off. A burst is 500 clients,
one thread and one connection each, held at a barrier and released at once, each POSTing with its own
volunteer's token.

Each of three rounds publishes a new activity with 100 places (open for sign-up, no insurance needed,
on a day of its own so that no one's accepted sign-up clashes with the next one) and fires three
bursts: the 500 sign-ups, the same 500 again (signing up twice changes nothing), and the same clients
on `POST /api/bench/drf-ok/` (bench/_bench_urls.py: the same token look-up, permission check and JSON
rendering, no query beyond those, nothing written), the baseline before the sign-ups in one round and
after them in the next. A warm-up round on an activity of its own goes first, unmeasured but checked.

It prints each round's requests per second (500 over the time from the release to the last answer),
p50 and p99 of the answers' latencies (queueing behind the workers included: a sync worker serves one
request at a time) and the server's CPU time per request (workers and their PostgreSQL backends, from
/proc), then the median of the three rounds and the ratio sign-up/baseline (the target is 0.3 or
more). The clients are Python threads: on a cheap endpoint they take a share of the CPU the server
would have, so the baseline's figure is low and the ratio flattered rather than harmed.

Nothing is asserted on the figures. The run fails (exit 1) on a wrong answer: every sign-up of the
first burst must be a 201 and every one of the second a 200 with the same sign-up; the database must
then hold exactly 500 sign-ups for the activity, 100 accepted and 400 on the waitlist, with the
activity's accepted_count 100 and waitlisted_count 400, the accepted queued before anyone waitlisted,
and the second burst must have changed no row. Every baseline answer must be a 200. Without PostgreSQL
it says so and exits 0.
"""

import datetime
import http.client
import json
import logging
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass

from _http import HOST, cpu_seconds, gunicorn
from _tree import throwaway_database
from api_lists import server_processes
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from activities import services
from activities.models import Activity, Signup, SignupStatus
from stations.models import Role, UnitKind
from stations.services import role_grant, unit_create
from volunteers.identity import fake_resident_id
from volunteers.services import current_privacy_notice, volunteer_register

VOLUNTEERS = 500
CAPACITY = 100
ROUNDS = 3
TARGET = 0.3
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BASELINE = "/api/bench/drf-ok/"
# A name has no digits: 25 surnames by 20 given names make the 500 volunteers' names.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平"


class BenchError(Exception):
    pass


# --- Data --------------------------------------------------------------------------------------------


def build():
    """One county (center, institute, station), the station's admin as organiser, and the volunteers'
    tokens, in the order of their clients."""
    center = unit_create(actor=None, kind=UnitKind.CENTER, name="顺昌县新时代文明实践中心", code="350721")
    institute = unit_create(actor=None, kind=UnitKind.INSTITUTE, parent=center, name="甲镇新时代文明实践所")
    station = unit_create(actor=None, kind=UnitKind.STATION, parent=institute, name="甲一村新时代文明实践站")
    organiser = get_user_model().objects.create_user("bench-signup-organiser")
    role_grant(actor=None, user=organiser, role=Role.STATION_ADMIN, unit=station)
    notice = current_privacy_notice()
    tokens = []
    for n in range(VOLUNTEERS):
        volunteer = volunteer_register(
            actor=None,
            privacy_notice=notice,
            consent=True,
            name=SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)],
            # A birth date a volunteer: the fake numbers' serial repeats every 1,000.
            id_number=fake_resident_id("350721", datetime.date(1980, 1, 1) + datetime.timedelta(days=n), n),
            phone=f"139{n:08d}",
            home_unit=station,
        )
        tokens.append(Token.objects.create(user=volunteer.user).key)
    return station, organiser, tokens


def new_activity(station, organiser, day: int) -> Activity:
    """A published activity of 3 hours on day `day` from now, its sign-up open from now to its start."""
    start = (timezone.now() + datetime.timedelta(days=day)).replace(hour=2, minute=0, second=0, microsecond=0)
    activity = services.activity_create(
        actor=None,
        unit=station,
        title=f"社区环境整治 第{day}天",
        venue="村委会广场",
        started_at=start,
        ended_at=start + datetime.timedelta(hours=3),
        capacity=CAPACITY,
        organisers=[organiser],
        needs_insurance=False,
    )
    return services.activity_publish(actor=None, activity=activity)


# --- A burst -----------------------------------------------------------------------------------------


@dataclass
class Burst:
    seconds: float  # from the release to the last answer
    latencies: list[float]  # sorted
    answers: list[tuple[int, bytes]]  # each client's status and body, in the order of the tokens
    cpu_ms: float | None

    @property
    def requests_per_second(self) -> float:
        return len(self.answers) / self.seconds

    def percentile(self, share: float) -> float:
        return self.latencies[min(len(self.latencies) - 1, int(len(self.latencies) * share))] * 1000


def burst(port: int, path: str, tokens: list[str], watch) -> Burst:
    """One POST of `path` per token, each client on its own connection, all released by one barrier."""
    count = len(tokens)
    barrier = threading.Barrier(count + 1)
    answers: list = [None] * count
    spans: list = [None] * count

    def client(index):
        connection_ = http.client.HTTPConnection(HOST, port, timeout=120)
        headers = {"Authorization": f"Token {tokens[index]}", "Accept": "application/json"}
        barrier.wait()
        started = time.perf_counter()
        try:
            connection_.request("POST", path, headers=headers)
            response = connection_.getresponse()
            answers[index] = (response.status, response.read())
        except (OSError, http.client.HTTPException) as error:
            answers[index] = (0, repr(error).encode())
        finally:
            connection_.close()
            spans[index] = (started, time.perf_counter())

    threading.stack_size(256 * 1024)  # 500 threads: a small stack each is plenty for http.client
    threads = [threading.Thread(target=client, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    pids = watch()
    before = cpu_seconds(pids)
    barrier.wait()
    for thread in threads:
        thread.join()
    after = cpu_seconds(pids)
    released = min(start for start, _end in spans)
    spent = sum(after[pid] - before[pid] for pid in before if pid in after)
    return Burst(
        seconds=max(end for _start, end in spans) - released,
        latencies=sorted(end - start for start, end in spans),
        answers=answers,
        cpu_ms=spent / count * 1000 if before else None,
    )


# --- Checks ------------------------------------------------------------------------------------------


def _unexpected(answers, expected: int) -> list[str]:
    return [
        f"client {i}: HTTP {status} {body[:200]!r}"
        for i, (status, body) in enumerate(answers)
        if status != expected
    ]


def check_baseline(run: Burst) -> None:
    wrong = _unexpected(run.answers, 200)
    if wrong:
        raise BenchError(f"{len(wrong)} baseline answers were not 200, first: {wrong[0]}")


def signup_rows(activity: Activity) -> list[dict]:
    return list(
        Signup.objects.filter(activity=activity)
        .order_by("pk")
        .values("id", "volunteer_id", "status", "queued_at", "updated_at")
    )


def check_first(activity: Activity, run: Burst) -> list[dict]:
    """Every answer a 201 with a sign-up of its own for this activity; the database as the rules say."""
    wrong = _unexpected(run.answers, 201)
    if wrong:
        raise BenchError(f"{len(wrong)} of the first sign-ups were not 201, first: {wrong[0]}")
    bodies = [json.loads(body) for _status, body in run.answers]
    if {body["activity"] for body in bodies} != {activity.pk}:
        raise BenchError(f"answers name other activities than {activity.pk}")
    if len({body["id"] for body in bodies}) != VOLUNTEERS:
        raise BenchError("two clients were answered with the same sign-up")
    answered = Counter(body["status"] for body in bodies)
    rows = signup_rows(activity)
    stored = Counter(row["status"] for row in rows)
    activity.refresh_from_db()
    waitlist = VOLUNTEERS - CAPACITY
    facts = {
        "sign-ups stored": (len(rows), VOLUNTEERS),
        "accepted stored": (stored[SignupStatus.ACCEPTED], CAPACITY),
        "waitlisted stored": (stored[SignupStatus.WAITLISTED], waitlist),
        "accepted answered": (answered[SignupStatus.ACCEPTED], CAPACITY),
        "waitlisted answered": (answered[SignupStatus.WAITLISTED], waitlist),
        "accepted_count": (activity.accepted_count, CAPACITY),
        "waitlisted_count": (activity.waitlisted_count, waitlist),
        "volunteers signed up": (len({row["volunteer_id"] for row in rows}), VOLUNTEERS),
    }
    wrong = [f"{name} {got} (not {wanted})" for name, (got, wanted) in facts.items() if got != wanted]
    if wrong:
        raise BenchError(f"activity {activity.pk} after the burst: " + ", ".join(wrong))
    if {body["id"] for body in bodies} != {row["id"] for row in rows}:
        raise BenchError("the sign-ups answered are not the ones stored")
    last_accepted = max(row["queued_at"] for row in rows if row["status"] == SignupStatus.ACCEPTED)
    first_waiting = min(row["queued_at"] for row in rows if row["status"] == SignupStatus.WAITLISTED)
    if last_accepted > first_waiting:
        raise BenchError(f"one queued at {first_waiting} waits while one queued at {last_accepted} got in")
    return rows


def check_again(activity: Activity, first: Burst, again: Burst, rows: list[dict]) -> None:
    """Every answer a 200 with the client's sign-up as first answered; no row and no count changed."""
    wrong = _unexpected(again.answers, 200)
    if wrong:
        raise BenchError(f"{len(wrong)} of the repeated sign-ups were not 200, first: {wrong[0]}")
    for index, ((_s1, body1), (_s2, body2)) in enumerate(zip(first.answers, again.answers, strict=True)):
        if json.loads(body1) != json.loads(body2):
            raise BenchError(f"client {index} signed up again and got another answer: {body1!r}, {body2!r}")
    if signup_rows(activity) != rows:
        raise BenchError(f"signing up again changed the sign-ups of activity {activity.pk}")
    activity.refresh_from_db()
    counts = (activity.accepted_count, activity.waitlisted_count)
    if counts != (CAPACITY, VOLUNTEERS - CAPACITY):
        raise BenchError(f"signing up again changed the counts of activity {activity.pk} to {counts}")


# --- The run -----------------------------------------------------------------------------------------


@dataclass
class Round:
    baseline: Burst
    signup: Burst
    again: Burst

    @property
    def ratio(self) -> float:
        return self.signup.requests_per_second / self.baseline.requests_per_second


def run_round(port, activity, tokens, watch, *, baseline_first: bool) -> Round:
    path = f"/api/v1/activities/{activity.pk}/signup/"
    baseline = burst(port, BASELINE, tokens, watch) if baseline_first else None
    signup = burst(port, path, tokens, watch)
    rows = check_first(activity, signup)
    again = burst(port, path, tokens, watch)
    check_again(activity, signup, again, rows)
    if baseline is None:
        baseline = burst(port, BASELINE, tokens, watch)
    check_baseline(baseline)
    return Round(baseline, signup, again)


def describe(run: Burst) -> str:
    cpu = f", CPU {run.cpu_ms:.1f} ms/req" if run.cpu_ms else ""
    return (
        f"{run.requests_per_second:6.0f} req/s ({run.seconds:.2f} s), "
        f"p50 {run.percentile(0.5):6.0f} ms, p99 {run.percentile(0.99):6.0f} ms{cpu}"
    )


def main():
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("axes").setLevel(logging.WARNING)  # its start-up line says nothing here
    if connection.vendor != "postgresql":
        print("skipped: this bench needs PostgreSQL (set DATABASE_URL); it does not run on SQLite")
        return 0
    with throwaway_database():
        started = time.perf_counter()
        station, organiser, tokens = build()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(
            f"data: 1 station, {len(tokens)} volunteers with tokens, activities of {CAPACITY} places; "
            f"built in {time.perf_counter() - started:.1f} s; PostgreSQL {version}"
        )
        print(
            f"server: gunicorn, {WORKERS} sync workers, loopback, DEBUG off; load: {len(tokens)} Python "
            f"threads released at once, one POST and one connection each; {os.cpu_count()} CPUs shared by all"
        )
        with gunicorn(connection.settings_dict["NAME"], workers=WORKERS) as server:
            watch = server_processes(server)
            try:
                # Warm-up on an activity of its own (imports, URL resolvers, connections), checked too.
                warm_up = new_activity(station, organiser, 2)
                run_round(server.port, warm_up, tokens, watch, baseline_first=True)
                rounds = []
                for number in range(ROUNDS):
                    activity = new_activity(station, organiser, 3 + number)
                    rounds.append(
                        run_round(server.port, activity, tokens, watch, baseline_first=not number % 2)
                    )
                    result = rounds[-1]
                    print(f"round {number + 1}, activity {activity.pk}:")
                    print(f"  baseline  {describe(result.baseline)}")
                    print(f"  sign-up   {describe(result.signup)}  201 ×{len(tokens)}")
                    print(f"  again     {describe(result.again)}  200 ×{len(tokens)}, nothing changed")
                    print(f"  sign-up/baseline {result.ratio:.2f}")
            except BenchError as error:
                print(f"error: {error}\n--- gunicorn log ---\n{server.log_tail()}")
                return 1
    report(rounds)
    return 0


def report(rounds: list[Round]) -> None:
    def median(pick) -> float:
        return statistics.median(pick(result) for result in rounds)

    print(f"median of {len(rounds)} rounds:")
    for name, side in (("baseline", "baseline"), ("sign-up", "signup"), ("again", "again")):
        cpu = median(lambda r, side=side: getattr(r, side).cpu_ms or 0)
        print(
            f"  {name:<9} {median(lambda r, side=side: getattr(r, side).requests_per_second):6.0f} req/s, "
            f"p50 {median(lambda r, side=side: getattr(r, side).percentile(0.5)):6.0f} ms, "
            f"p99 {median(lambda r, side=side: getattr(r, side).percentile(0.99)):6.0f} ms"
            + (f", CPU {cpu:.1f} ms/req" if cpu else "")
        )
    ratio = median(lambda r: r.ratio)
    print(
        f"sign-up ÷ baseline requests per second, median of {len(rounds)}: {ratio:.2f} "
        f"(target ≥ {TARGET}: {'yes' if ratio >= TARGET else 'no'})"
    )
    print(
        f"each burst: {VOLUNTEERS} sign-ups for {CAPACITY} places gave {CAPACITY} accepted and "
        f"{VOLUNTEERS - CAPACITY} waitlisted; the repeated burst changed nothing"
    )


if __name__ == "__main__":
    sys.exit(main())
