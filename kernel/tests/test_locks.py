"""kernel.locks against the real databases: threads with connections of their own race on PostgreSQL, where
locks really block; on SQLite (one writer at a time) the same API keeps its promises with the RunLock row.

The rows locked are auth groups: any table would do, and this one is always there.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone, translation

from kernel.errors import ApplicationError
from kernel.locks import lock_keys, lock_objects, single_run
from kernel.models import RunLock

POSTGRESQL = connection.vendor == "postgresql"
needs_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="row and advisory locks need PostgreSQL to race")
needs_sqlite = pytest.mark.skipif(POSTGRESQL, reason="the RunLock row is the guard where SQLite runs")
BUSY = "This record is being changed by someone else; please try again in a moment."


def _groups(count):
    return [group.pk for group in Group.objects.bulk_create(Group(name=f"lock-{n}") for n in range(count))]


def _in_thread(target, *args):
    """Start `target` in a thread with its own connection; the dict returned gets its result or error."""
    outcome = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    outcome["thread"] = thread
    return outcome


def _busy_message(error: ApplicationError) -> str:
    with translation.override("en"):
        return str(error.message)


# --- everywhere -------------------------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.django_db(transaction=True)
def test_row_and_key_locks_refuse_to_run_outside_a_transaction():
    (pk,) = _groups(1)
    with pytest.raises(TransactionManagementError) as caught:
        lock_objects(Group, [pk])
    assert str(caught.value) == (
        "lock_objects() must run inside transaction.atomic(): its locks last until the transaction ends, "
        "and outside one they would end with the statement."
    )
    with pytest.raises(TransactionManagementError) as caught:
        lock_keys("signup:activity:42")
    assert str(caught.value).startswith("lock_keys() must run inside transaction.atomic(): its locks last")


@pytest.mark.smoke
def test_rows_come_back_in_primary_key_order_whatever_order_is_asked(db):
    first, second, third = _groups(3)
    with transaction.atomic():
        assert [g.pk for g in lock_objects(Group, [third, first, second])] == [first, second, third]
        assert [g.pk for g in lock_objects(Group.objects.filter(pk__in=[third, first]))] == [first, third]
        assert [g.pk for g in lock_objects(Group.objects.all(), [second, 10**9])] == [second]  # no such row
        assert lock_objects(Group, []) == []
        lock_keys("b", "a", "a")
    with pytest.raises(ValueError, match=r"^lock_objects\(Model\) needs ids; pass a queryset"):
        lock_objects(Group)


@pytest.mark.smoke
def test_single_run_refuses_to_run_inside_a_transaction(db):
    # The `db` fixture runs each test inside a transaction.
    with pytest.raises(TransactionManagementError) as caught, single_run("kernel.tests.job"):
        pass
    assert str(caught.value) == (
        "single_run() guards a whole job: call it outside transaction.atomic() and let the job open its "
        "own transactions (in a test, mark it django_db(transaction=True))."
    )


def _try_job():
    with single_run("kernel.tests.job") as mine:
        return mine


@pytest.mark.smoke
@pytest.mark.django_db(transaction=True)
def test_single_run_lets_one_holder_in_at_a_time():
    with single_run("kernel.tests.job") as mine:
        assert mine is True
        other = _in_thread(_try_job)
        other["thread"].join(30)
        assert other == {"thread": other["thread"], "result": False}
        with single_run("kernel.tests.job") as again:
            assert again is False  # not even for a second try from the same process
        with single_run("kernel.tests.other-job") as unrelated:
            assert unrelated is True
    with single_run("kernel.tests.job") as after:
        assert after is True


# --- PostgreSQL -------------------------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_callers_locking_many_rows_in_opposite_orders_do_not_deadlock():
    ids = _groups(600)

    def lock(start, order):
        with transaction.atomic():
            start.wait(10)
            rows = lock_objects(Group, order, timeout=10)
            time.sleep(0.1)
            return [row.pk for row in rows]

    for _round in range(3):
        start = threading.Barrier(2)
        callers = [_in_thread(lock, start, ids), _in_thread(lock, start, ids[::-1])]
        for caller in callers:
            caller["thread"].join(60)
        assert [caller.get("error") for caller in callers] == [None, None]
        assert [caller["result"] for caller in callers] == [ids, ids]


def _hold(locker, holding, release):
    def hold():
        with transaction.atomic():
            locker()
            holding.set()
            release.wait(30)

    return _in_thread(hold)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_rows_are_locked_one_by_one_in_primary_key_order_whatever_order_is_asked():
    # What keeps callers from deadlocking, seen directly: a caller stopped at the middle row already
    # holds the lower one and not yet the higher one.
    low, middle, high = _groups(3)
    holding, release = threading.Event(), threading.Event()
    holder = _hold(lambda: lock_objects(Group, [middle]), holding, release)
    try:
        assert holding.wait(10)
        caller = _in_thread(lambda: _lock_and_commit([high, middle, low]))
        deadline, free = time.monotonic() + 10, [low, high]
        while free == [low, high] and time.monotonic() < deadline:
            time.sleep(0.05)
            with transaction.atomic():
                unlocked = Group.objects.select_for_update(skip_locked=True).filter(pk__in=[low, high])
                free = sorted(unlocked.values_list("pk", flat=True))
        assert free == [high]
    finally:
        release.set()
        holder["thread"].join(30)
    caller["thread"].join(30)
    assert caller.get("result") == [low, middle, high], caller.get("error")


def _lock_and_commit(ids):
    with transaction.atomic():
        return [row.pk for row in lock_objects(Group, ids, timeout=10)]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_row_held_elsewhere_makes_the_caller_give_up_after_the_timeout_with_a_message():
    first, second = _groups(2)
    holding, release = threading.Event(), threading.Event()
    holder = _hold(lambda: lock_objects(Group, [second]), holding, release)
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '7s'")
            started = time.monotonic()
            with pytest.raises(ApplicationError) as caught:
                lock_objects(Group, [first, second], timeout=0.3)
            assert 0.3 <= time.monotonic() - started < 3
            assert _busy_message(caught.value) == BUSY
            with translation.override("zh-hans"):  # what staff see
                assert caught.value.as_dict() == {"non_field_errors": ["该记录正由他人修改，请稍后再试。"]}
            # Only the lock step was undone: the transaction goes on, with its own lock_timeout back.
            with connection.cursor() as cursor:
                cursor.execute("SHOW lock_timeout")
                assert cursor.fetchone() == ("7s",)
            assert [g.pk for g in lock_objects(Group, [first], timeout=0.3)] == [first]
            with connection.cursor() as cursor:
                cursor.execute("SHOW lock_timeout")
                assert cursor.fetchone() == ("7s",)
    finally:
        release.set()
        holder["thread"].join(30)
    assert "error" not in holder
    with transaction.atomic():
        assert [g.pk for g in lock_objects(Group, [first, second], timeout=0.3)] == [first, second]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_key_held_elsewhere_makes_the_caller_give_up_and_other_keys_stay_free():
    holding, release = threading.Event(), threading.Event()
    holder = _hold(lambda: lock_keys("signup:activity:42"), holding, release)
    try:
        assert holding.wait(10)
        with transaction.atomic():
            started = time.monotonic()
            with pytest.raises(ApplicationError) as caught:
                lock_keys("signup:person:7", "signup:activity:42", timeout=0.3)
            assert 0.3 <= time.monotonic() - started < 3
            assert _busy_message(caught.value) == BUSY
            started = time.monotonic()
            lock_keys("signup:activity:43", timeout=0.3)
            assert time.monotonic() - started < 0.3
    finally:
        release.set()
        holder["thread"].join(30)
    assert "error" not in holder
    # Released with the holder's transaction.
    with transaction.atomic():
        lock_keys("signup:activity:42", timeout=0.3)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_callers_taking_keys_in_opposite_orders_do_not_deadlock():
    keys = [f"kernel.tests.key:{n}" for n in range(20)]

    def take(start, order):
        with transaction.atomic():
            start.wait(10)
            lock_keys(*order, timeout=10)
            time.sleep(0.02)

    for _round in range(10):
        start = threading.Barrier(2)
        callers = [_in_thread(take, start, keys), _in_thread(take, start, keys[::-1])]
        for caller in callers:
            caller["thread"].join(60)
        assert [caller.get("error") for caller in callers] == [None, None]


HOLD_A_GUARD = """
import time, django
django.setup()
from kernel.locks import single_run
with single_run("kernel.tests.job") as mine:
    print(mine, flush=True)
    time.sleep(120)
"""


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_single_run_is_released_when_the_holding_process_dies():
    db = connection.settings_dict
    login = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{login}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"  # the test database
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="practice_center.settings", DATABASE_URL=url)
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_GUARD],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "True", process.stderr.read()
        with single_run("kernel.tests.job") as mine:
            assert mine is False
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    deadline = time.monotonic() + 10
    while True:
        with single_run("kernel.tests.job") as mine:
            if mine or time.monotonic() > deadline:
                break
        time.sleep(0.1)
    assert mine is True


# --- SQLite: the RunLock row ------------------------------------------------------------------------


@pytest.mark.smoke
@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_single_run_keeps_a_row_while_it_runs_and_removes_it():
    with single_run("kernel.tests.job", stale_after=60) as mine:
        assert mine is True
        row = RunLock.objects.get(key="kernel.tests.job")
        assert row.owner.startswith(f"{socket.gethostname()}:{os.getpid()}:")
        assert timedelta(seconds=59) < row.expires_at - row.acquired_at <= timedelta(seconds=60)
    assert not RunLock.objects.exists()


@pytest.mark.smoke
@needs_sqlite
@pytest.mark.django_db(transaction=True)
def test_a_fresh_row_of_another_run_is_respected_and_a_stale_one_taken_over():
    now = timezone.now()
    RunLock.objects.create(
        key="kernel.tests.job", owner="elsewhere:1:a", acquired_at=now, expires_at=now + timedelta(hours=1)
    )
    with single_run("kernel.tests.job") as mine:
        assert mine is False
    assert RunLock.objects.get().owner == "elsewhere:1:a"  # a run that skipped leaves the other's row

    RunLock.objects.update(acquired_at=now - timedelta(hours=2), expires_at=now - timedelta(seconds=1))
    with single_run("kernel.tests.job") as mine:
        assert mine is True
        assert RunLock.objects.get().owner != "elsewhere:1:a"
        # Had this run been slow enough for another to take its row over, it must leave that row alone.
        RunLock.objects.update(owner="elsewhere:2:b")
    assert RunLock.objects.get().owner == "elsewhere:2:b"
