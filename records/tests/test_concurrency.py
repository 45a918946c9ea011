"""Approvals, corrections and submissions at once, on PostgreSQL where they really run in parallel (SQLite
serializes writers): the stored total stays the sum of the approved, current records, and the overlap
rule holds between two submissions that each checked before the other saved."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from records import services
from records.models import CorrectionRequest, CorrectionStatus, RecordStatus, ServiceRecord
from volunteers.models import PrivacyNotice, Volunteer

from .factories import day_at, stored_total, submit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL) to race"),
]


@pytest.fixture(autouse=True)
def _notice_in_force(db):
    # A transactional test's database is emptied after each test, the migration's privacy notice with it;
    # the crew registers through the service, which needs one.
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(
            version="2026-1", title="隐私政策", body="……", effective_from=timezone.localdate()
        )


def at_once(*targets):
    """Run each target in a thread of its own (its own connection), all released together; return
    (results, errors)."""
    barrier = threading.Barrier(len(targets))
    results, errors = [], []
    lock = threading.Lock()

    def guarded(target):
        def run():
            try:
                barrier.wait(timeout=10)
                value = target()
            except Exception as error:
                with lock:
                    errors.append(error)
            else:
                with lock:
                    results.append(value)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def user(pk):
    # A fresh object in each thread: the scope and the phones are remembered on the user object.
    return get_user_model().objects.get(pk=pk)


def test_twenty_approvals_and_five_corrections_at_once_keep_the_total(crew, people):
    volunteer = crew.volunteer
    # Five approved records, each with a correction waiting; twenty pending records: one a day, 2 h each.
    corrected = []
    for day in range(1, 6):
        record = submit(volunteer, start=day_at(day, 8), hours=2, team=crew.team)
        services.record_approve(actor=crew.leader.user, record=record)
        corrected.append(
            services.correction_request(
                actor=volunteer.user,
                record=record,
                reason="签退时间记错",
                ended_at=day_at(day, 8) + datetime.timedelta(hours=2 + day * 0.5),
            )
        )
    pending = [submit(volunteer, start=day_at(day, 14), hours=2, team=crew.team) for day in range(1, 21)]
    assert stored_total(volunteer) == Decimal("10.00")
    approvers = [crew.leader.user.pk, people.station_a1.pk, people.inst_a.pk, people.county.pk]

    def approve(index, record_id):
        return lambda: services.record_approve(actor=user(approvers[index % 4]), record=record_id)

    def accept(correction_id):
        return lambda: services.correction_decide(
            actor=user(people.station_a1.pk), correction=CorrectionRequest(pk=correction_id), accept=True
        )

    targets = [approve(i, record.pk) for i, record in enumerate(pending)]
    targets += [accept(correction.pk) for correction in corrected]
    results, errors = at_once(*targets)

    assert errors == [] and len(results) == 25
    assert (
        ServiceRecord.objects.filter(pk__in=[r.pk for r in pending], status=RecordStatus.APPROVED).count()
        == 20
    )
    assert CorrectionRequest.objects.filter(status=CorrectionStatus.ACCEPTED).count() == 5
    # 20 × 2 h, and the five corrected: 2.5, 3, 3.5, 4 and 4.5 h instead of 5 × 2 h.
    expected = Decimal("40") + Decimal("17.5")
    assert services.total_from_records(volunteer.pk) == expected
    assert stored_total(volunteer) == expected
    assert services.totals_rebuild(volunteer_ids=[volunteer.pk]) == 0


def test_two_overlapping_submissions_at_once_save_one_and_refuse_the_other(crew):
    volunteer_id = crew.volunteer.pk

    def report(hour):
        def run():
            volunteer = Volunteer.objects.select_related("user", "home_unit").get(pk=volunteer_id)
            return submit(volunteer, start=day_at(2, hour), hours=3)

        return run

    results, errors = at_once(report(9), report(10))

    assert len(results) == 1 and len(errors) == 1
    saved = results[0]
    assert ServiceRecord.objects.filter(volunteer_id=volunteer_id).get() == saved
    error = errors[0]
    start, end = saved.started_at, saved.ended_at
    span = f"{timezone.localtime(start):%Y-%m-%d %H:%M}–{timezone.localtime(end):%H:%M}"
    assert (error.field, str(error.message)) == (
        "started_at",
        _("This overlaps the volunteer's service of %(span)s.") % {"span": span},
    )


def test_two_approvals_of_one_record_at_once_count_it_once(crew, people):
    record = submit(crew.volunteer, start=day_at(2, 9), hours=3, team=crew.team)
    approvers = (crew.leader.user.pk, people.station_a1.pk)

    results, errors = at_once(
        *[(lambda pk=pk: services.record_approve(actor=user(pk), record=record.pk)) for pk in approvers]
    )

    assert len(results) == 1 and len(errors) == 1
    assert (errors[0].field, str(errors[0].message)) == (
        None,
        _("This record has been decided already (%(status)s).") % {"status": RecordStatus.APPROVED.label},
    )
    record = ServiceRecord.objects.get(pk=record.pk)
    assert record.status == RecordStatus.APPROVED and record.decided_by_id == results[0].decided_by_id
    assert record.events.filter(action="approved").count() == 1
    assert stored_total(crew.volunteer) == Decimal("3.00") == services.total_from_records(crew.volunteer.pk)


def test_an_approval_and_a_correction_of_the_same_volunteer_at_once_do_not_deadlock(crew, people):
    old = submit(crew.volunteer, start=day_at(3, 9), hours=2, team=crew.team)
    services.record_approve(actor=crew.leader.user, record=old)
    correction = services.correction_request(
        actor=crew.volunteer.user, record=old, reason="多记了", ended_at=day_at(3, 10)
    )
    new = submit(crew.volunteer, start=day_at(2, 9), hours=2, team=crew.team)
    late = (day_at(4, 9), day_at(4, 12))

    def report():
        volunteer = Volunteer.objects.select_related("user", "home_unit").get(pk=crew.volunteer.pk)
        return services.record_submit(
            actor=volunteer.user,
            volunteer=volunteer,
            unit=volunteer.home_unit,
            content="夜间巡逻",
            started_at=late[0],
            ended_at=late[1],
            evidence_note="队长作证",
        )

    results, errors = at_once(
        lambda: services.record_approve(actor=user(crew.leader.user.pk), record=new.pk),
        lambda: services.correction_decide(
            actor=user(people.station_a1.pk), correction=CorrectionRequest(pk=correction.pk), accept=True
        ),
        report,
    )

    assert errors == [] and len(results) == 3
    assert stored_total(crew.volunteer) == Decimal("3.00") == services.total_from_records(crew.volunteer.pk)
