"""Locks for writes that race and jobs that must not overlap.

- `lock_objects(Activity, [activity_id])` inside the service's transaction, before counting what the rows
  limit: sign-ups against a capacity, an approval that must happen once. Rows are locked in primary-key
  order, so two services locking the same rows in different orders never deadlock.
- `lock_keys("signup:activity:42")` for something that has no row to lock yet (the first sign-up of a
  person to an activity, a code that must be unique across tables). Released when the transaction ends.
- `with single_run("stations.recount") as mine:` around a periodic task or a long management command;
  when `mine` is False another run holds the guard and this one skips.

Waiting is bounded: after `timeout` seconds the caller gets an ApplicationError asking the user to try again,
which the API and the admin show as a message, never a 500.

PostgreSQL takes real row and advisory locks. SQLite has neither, and needs little: our SQLite transactions
are IMMEDIATE, so a transaction holds the database's single write lock from its start and every other writer
waits for it to end. There lock_objects only reads the rows, lock_keys only checks the transaction, and
single_run keeps a row in RunLock.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    OperationalError,
    connections,
    models,
    transaction,
)
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

BUSY_MESSAGE = _("This record is being changed by someone else; please try again in a moment.")
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out
MAX_KEY_LENGTH = 200  # RunLock.key


def lock_objects(queryset_or_model, ids: Iterable | None = None, *, timeout: float = 5.0) -> list:
    """Lock the rows (SELECT … FOR UPDATE, in primary-key order) until the transaction ends; return them.

    `queryset_or_model` is a model with `ids`, or a queryset (narrowed to `ids` if given). Rows that do not
    exist are simply not in the list. Only the queryset's own table is locked, not the tables it joins.
    """
    if isinstance(queryset_or_model, models.QuerySet):
        queryset = queryset_or_model
    elif isinstance(queryset_or_model, type) and issubclass(queryset_or_model, models.Model):
        if ids is None:
            # Locking a whole table by leaving out the ids is never what a service means.
            raise ValueError("lock_objects(Model) needs ids; pass a queryset to lock every row it selects.")
        queryset = queryset_or_model._default_manager.all()
    else:
        raise TypeError(f"lock_objects() takes a model or a queryset, not {queryset_or_model!r}.")
    _check_timeout(timeout)
    connection = connections[queryset.select_for_update().db]
    _require_transaction(connection, "lock_objects")
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        queryset = queryset.filter(pk__in=ids)
    queryset = queryset.order_by("pk")
    if not connection.features.has_select_for_update:
        return list(queryset)
    # OF self: rows of select_related tables stay unlocked, so their order cannot cause a deadlock either.
    of = ("self",) if connection.features.has_select_for_update_of else ()
    locking = queryset.select_for_update(of=of)
    return _under_lock_timeout(connection, timeout, lambda: list(locking))


def lock_keys(*keys: str, timeout: float = 5.0) -> None:
    """Take a lock on each name until the transaction ends (PostgreSQL transaction advisory locks).

    Every caller takes its keys in the same (sorted) order, so two callers never deadlock on them.
    """
    _check_timeout(timeout)
    for key in keys:
        _check_key(key, "lock_keys")
    connection = connections[DEFAULT_DB_ALIAS]
    _require_transaction(connection, "lock_keys")
    if connection.vendor != "postgresql" or not keys:
        # SQLite: the IMMEDIATE transaction this runs in already holds the one write lock of the database,
        # so nobody else can write until it ends; there is nothing more to take.
        return
    numbers = sorted({_key_number(b"lock_keys", key) for key in keys})

    def take():
        with connection.cursor() as cursor:
            for number in numbers:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])

    _under_lock_timeout(connection, timeout, take)


@contextmanager
def single_run(key: str, *, stale_after: float = 3600.0) -> Iterator[bool]:
    """Guard a job so two runs never overlap: yields True to the one run that got the guard, False to others.

    PostgreSQL: a session advisory lock on a connection of the guard's own, so it outlives whatever the job
    does to its own connections, and is released if the process dies. SQLite: a RunLock row, taken over
    when a run died without removing it and the row is more than `stale_after` seconds old (only then; set it
    above the job's longest run).
    """
    _check_key(key, "single_run")
    if stale_after <= 0:
        raise ValueError("stale_after must be a positive number of seconds.")
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        # On SQLite the guard row must be committed before the job starts, or no other process sees it.
        raise TransactionManagementError(
            "single_run() guards a whole job: call it outside transaction.atomic() and let the job open its "
            "own transactions (in a test, mark it django_db(transaction=True))."
        )
    guard = _advisory_guard if connection.vendor == "postgresql" else _row_guard
    with guard(connection, key, stale_after) as got:
        yield got


# --- helpers ----------------------------------------------------------------------------------------


def _check_timeout(timeout: float) -> None:
    # PostgreSQL reads lock_timeout 0 as "wait for ever", the opposite of a short wait.
    if not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds.")


def _check_key(key: str, caller: str) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"{caller}() keys are non-empty strings of at most {MAX_KEY_LENGTH} characters.")


def _key_number(namespace: bytes, key: str) -> int:
    """A signed 64-bit number for the key, the same in every process and release (unlike hash()).
    lock_keys and single_run hash in namespaces of their own, so one never waits for the other."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=namespace).digest()
    return int.from_bytes(digest, "big", signed=True)


def _require_transaction(connection, caller: str) -> None:
    if connection.get_autocommit():
        raise TransactionManagementError(
            f"{caller}() must run inside transaction.atomic(): its locks last until the transaction ends, "
            "and outside one they would end with the statement."
        )


def _under_lock_timeout(connection, timeout: float, take):
    """Run `take` with PostgreSQL's lock_timeout set to `timeout`, then put the previous value back.

    The savepoint makes a timeout cost only this step: the caller's transaction stays usable (and the
    setting is undone with the savepoint), so a service may catch the ApplicationError and go on.
    """
    milliseconds = max(1, round(timeout * 1000))
    try:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                (previous,) = cursor.fetchone()
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
            result = take()
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
            return result
    except OperationalError as error:
        cause = error.__cause__
        if (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) == LOCK_NOT_AVAILABLE:
            raise ApplicationError(BUSY_MESSAGE) from error
        raise


@contextmanager
def _advisory_guard(connection, key: str, stale_after: float) -> Iterator[bool]:
    number = _key_number(b"single_run", key)
    guard = connection.copy()
    try:
        with guard.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [number])
            (got,) = cursor.fetchone()
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            try:
                with guard.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [number])
            except DatabaseError:
                pass  # the connection is gone, and its locks with it; closing below is all that is left
    finally:
        guard.close()


@contextmanager
def _row_guard(connection, key: str, stale_after: float) -> Iterator[bool]:
    from .models import RunLock

    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    try:
        with transaction.atomic(using=connection.alias):
            RunLock.objects.using(connection.alias).filter(key=key, expires_at__lte=now).delete()
            RunLock.objects.using(connection.alias).create(
                key=key, owner=owner, acquired_at=now, expires_at=now + timedelta(seconds=stale_after)
            )
        got = True
    except IntegrityError:
        got = False
    if not got:
        yield False
        return
    try:
        yield True
    finally:
        # Only our own row: if it went stale and another run took it over, that run's row stays.
        RunLock.objects.using(connection.alias).filter(key=key, owner=owner).delete()
