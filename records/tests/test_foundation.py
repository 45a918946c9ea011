"""The first checks of the records foundation: a record goes from submitted to approved, the total moves
with it, and a decided record is frozen in the database itself."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from records import services
from records.models import RecordStatus, ServiceRecord

from .factories import hours_ago, stored_total, submit

pytestmark = pytest.mark.django_db


def test_submit_approve_moves_the_total(crew, people):
    record = submit(crew.volunteer, start=hours_ago(5), hours=1.9, team=crew.team)
    assert record.status == RecordStatus.PENDING and record.hours == Decimal("1.50")
    services.record_approve(actor=crew.leader.user, record=record)
    assert stored_total(crew.volunteer) == Decimal("1.50") == services.total_from_records(crew.volunteer.pk)


def test_a_decided_record_is_frozen_in_the_database(crew, people):
    record = submit(crew.volunteer, start=hours_ago(5), team=crew.team)
    services.record_approve(actor=crew.leader.user, record=record)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.filter(pk=record.pk).update(hours=Decimal("9"))
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            ServiceRecord.objects.filter(pk=record.pk).delete()
    assert ServiceRecord.objects.get(pk=record.pk).hours == Decimal("2.00")
