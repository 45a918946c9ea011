"""Sign-ups, cancellations and the offline roster at once, in real threads with a connection each: the
counted places never exceed the capacity, the waitlist moves up in its order, and nothing is done twice.

On PostgreSQL the requests really run in parallel. On SQLite the writers queue behind the write lock
(transaction_mode IMMEDIATE) of a file database, as in production: each test runs on a file copy of the
in-memory test database (see `_shared_database`).
"""

import datetime
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext

from activities import checkin, services
from activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    OfflineEntry,
    Signup,
    SignupStatus,
)
from activities.tests.factories import at, make_activity, write_activity
from kernel.errors import ApplicationError
from volunteers.models import Volunteer
from volunteers.tests.factories import notice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _shared_database(tmp_path):
    """On SQLite, run the test on a file copy of the in-memory test database: threads that write to one
    in-memory database fail at once ("table is locked") instead of queueing as they do on a file."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    settings_dict = connection.settings_dict  # shared by every thread's connection
    memory_name = settings_dict["NAME"]
    # The in-memory database lives as long as a connection to it does: keep one open meanwhile.
    keeper = sqlite3.connect(memory_name, uri=True)
    copy = sqlite3.connect(tmp_path / "race.sqlite3")
    keeper.backup(copy)
    copy.close()
    settings_dict["NAME"] = str(tmp_path / "race.sqlite3")
    connection.close()  # only now a real close: the wrapper keeps an in-memory database open
    try:
        yield
    finally:
        connections.close_all()
        settings_dict["NAME"] = memory_name
        connection.ensure_connection()
        keeper.close()


def many_volunteers(unit, count: int) -> list[Volunteer]:
    """Active volunteers written straight to the table (registration is tested on its own)."""
    privacy = notice()
    now = timezone.now()
    base = uuid.uuid4().hex[:8]
    rows = [
        Volunteer(
            number=f"T{base}{n:05d}",
            name="并发志愿者",
            id_number_encrypted="-",
            id_number_hash=f"{base}{n:056d}",
            id_number_masked="3507**********0000",
            birth_date=datetime.date(1990, 1, 1),
            gender="female",
            phone=f"13{int(base, 16) % 10**4:04d}{n:05d}",
            home_unit=unit,
            registered_on=now.date(),
            privacy_notice=privacy,
            consented_at=now,
        )
        for n in range(count)
    ]
    Volunteer.objects.bulk_create(rows)
    return list(Volunteer.objects.filter(number__startswith=f"T{base}").order_by("number"))


def at_once(targets, *, workers: int = 20):
    """Run every target on a pool of threads, the first round released together, each target on a
    connection of its own; return (results, errors). The pool stays below the server's connection limit."""
    barrier = threading.Barrier(min(workers, len(targets)))
    local = threading.local()
    lock = threading.Lock()
    results, errors = [], []

    def run(target):
        if not getattr(local, "started", False):
            local.started = True
            barrier.wait(timeout=20)
        try:
            value = target()
        except Exception as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(value)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, targets, timeout=120))
    return results, errors


def test_two_hundred_sign_ups_for_fifty_places(tree, organiser):
    activity = make_activity(tree.a1, capacity=50, organisers=[organiser])
    volunteers = many_volunteers(tree.a1, 200)

    def sign_up(volunteer_id):
        return lambda: services.signup_create(
            actor=None, activity=activity.pk, volunteer=Volunteer.objects.get(pk=volunteer_id)
        )

    results, errors = at_once([sign_up(volunteer.pk) for volunteer in volunteers])

    assert errors == [] and len(results) == 200
    statuses = [signup.status for signup in Signup.objects.filter(activity=activity)]
    assert statuses.count(SignupStatus.ACCEPTED) == 50
    assert statuses.count(SignupStatus.WAITLISTED) == 150
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (50, 150)
    # The first fifty in the queue are the accepted ones.
    queue = list(Signup.objects.filter(activity=activity).order_by("queued_at", "id"))
    assert {signup.status for signup in queue[:50]} == {SignupStatus.ACCEPTED}


def test_one_volunteer_posting_ten_times_at_once_signs_up_once(tree, crew, organiser):
    activity = make_activity(tree.a1, capacity=5, organisers=[organiser])
    volunteer_id = crew.volunteer.pk

    def sign_up():
        return services.signup_create(
            actor=None, activity=activity.pk, volunteer=Volunteer.objects.get(pk=volunteer_id)
        )

    results, errors = at_once([sign_up] * 10, workers=10)

    assert errors == [] and len({signup.pk for signup in results}) == 1
    # One call made it (the API's 201); the nine others found it (their 200).
    assert sorted(signup.made for signup in results) == [False] * 9 + [True]
    assert Signup.objects.filter(activity=activity).count() == 1
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (1, 0)


def test_cancellations_at_once_promote_as_many_as_freed_in_queue_order(tree, organiser):
    activity = make_activity(tree.a1, capacity=10, organisers=[organiser])
    volunteers = many_volunteers(tree.a1, 20)
    signups = [services.signup_create(actor=None, activity=activity, volunteer=v) for v in volunteers]
    accepted, waiting = signups[:10], signups[10:]
    assert {s.status for s in accepted} == {SignupStatus.ACCEPTED}
    assert {s.status for s in waiting} == {SignupStatus.WAITLISTED}

    def cancel(signup_id):
        return lambda: services.signup_cancel(actor=None, signup=signup_id)

    results, errors = at_once([cancel(signup.pk) for signup in accepted[:6]], workers=6)

    assert errors == [] and len(results) == 6
    status = dict(Signup.objects.filter(activity=activity).values_list("pk", "status"))
    assert [status[s.pk] for s in waiting] == [SignupStatus.ACCEPTED] * 6 + [SignupStatus.WAITLISTED] * 4
    assert [status[s.pk] for s in accepted[6:]] == [SignupStatus.ACCEPTED] * 4
    activity.refresh_from_db()
    assert (activity.accepted_count, activity.waitlisted_count) == (10, 4)


def test_one_volunteer_signing_up_for_two_overlapping_activities_at_once_gets_one(tree, crew, organiser):
    one = make_activity(tree.a1, title="上午活动", start=at(days=3), organisers=[organiser])
    other = make_activity(tree.a1, title="重叠活动", start=at(1, days=3), organisers=[organiser])
    volunteer_id = crew.volunteer.pk

    def sign_up(activity_id):
        return lambda: services.signup_create(
            actor=None, activity=activity_id, volunteer=Volunteer.objects.get(pk=volunteer_id)
        )

    results, errors = at_once([sign_up(one.pk), sign_up(other.pk)], workers=2)

    assert len(results) == 1 and len(errors) == 1
    winner = Activity.objects.get(pk=results[0].activity_id)
    assert isinstance(errors[0], ApplicationError) and errors[0].field == "activity"
    assert errors[0].message == gettext("You are signed up for “%(title)s” at the same time (%(span)s).") % {
        "title": winner.title,
        "span": services._span(winner),
    }
    assert Signup.objects.filter(volunteer_id=volunteer_id).count() == 1
    assert Signup.objects.get(volunteer_id=volunteer_id).status == SignupStatus.ACCEPTED
    assert sorted(Activity.objects.values_list("accepted_count", flat=True)) == [0, 1]


def test_the_same_offline_entry_sent_at_once_applies_once(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-2), hours=4, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    entry = {"key": uuid.uuid4(), "volunteer": crew.volunteer.pk, "action": "in", "at": at(-1.5)}
    organiser_id = organiser.pk

    def send():
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.get(pk=organiser_id)
        return services.attendance_sync(actor=actor, activity=activity.pk, entries=[dict(entry)])

    results, errors = at_once([send] * 8, workers=8)

    assert errors == [] and len(results) == 8
    assert len({answer[0].pk for answer in results}) == 1
    assert OfflineEntry.objects.count() == 1 and Attendance.objects.count() == 1
    assert Attendance.objects.get().checked_in_at == entry["at"]


def test_a_double_tap_on_the_code_checks_in_once(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-1), hours=4, status=ActivityStatus.RUNNING)
    activity.organiser_links.create(user=organiser)
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    token = checkin.token_for(activity.pk)
    user_id = crew.volunteer.user_id

    def scan():
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.get(pk=user_id)
        return services.attendance_scan(actor=actor, activity=activity.pk, token=token)[1]

    results, errors = at_once([scan] * 6, workers=6)

    assert errors == []
    assert sorted(results) == [services.ScanOutcome.CHECKED_IN] + [services.ScanOutcome.UNCHANGED] * 5
    assert Attendance.objects.count() == 1
