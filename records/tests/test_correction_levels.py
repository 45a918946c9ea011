"""A level below never rewrites the level above's decision: a correction of a record approved by an
institute admin is not decided by the station admin below it, nor by a team leader."""

import pytest
from django.utils.translation import gettext

from kernel.testing import assert_refused_unchanged
from records import services
from records.models import CorrectionRequest, CorrectionStatus, ServiceRecord

from .factories import day_at, stored_total, submit

pytestmark = pytest.mark.django_db


def _approved_with_correction(crew, approver):
    record = submit(crew.volunteer, start=day_at(2, 9), hours=2, team=crew.team)
    services.record_approve(actor=approver, record=record)
    correction = services.correction_request(
        actor=crew.volunteer.user, record=record, reason="实际服务三小时", ended_at=day_at(2, 12)
    )
    return record, correction


def _state(crew):
    return (
        list(ServiceRecord.objects.order_by("pk").values_list("pk", "status", "hours")),
        list(CorrectionRequest.objects.values_list("pk", "status")),
        stored_total(crew.volunteer),
    )


@pytest.mark.parametrize("below", ["station_a1", "leader"])
def test_a_correction_of_an_institute_approval_is_not_decided_below_it(crew, people, below):
    _record, correction = _approved_with_correction(crew, people.inst_a)
    actor = people.station_a1 if below == "station_a1" else crew.leader.user
    assert_refused_unchanged(
        lambda: _state(crew),
        services.correction_decide,
        actor=actor,
        correction=correction,
        accept=True,
        field=None,
        message=gettext("This record was decided above your level; a correction of it is decided there."),
    )


def test_the_approver_level_and_above_decide_it(crew, people):
    record, correction = _approved_with_correction(crew, people.inst_a)
    services.correction_decide(actor=people.county, correction=correction, accept=True)
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.ACCEPTED
    assert correction.new_record.supersedes_id == record.pk
    assert stored_total(crew.volunteer) == 3


def test_a_leaders_approval_is_corrected_by_the_station_admin(crew, people):
    _record, correction = _approved_with_correction(crew, crew.leader.user)
    services.correction_decide(actor=people.station_a1, correction=correction, accept=True)
    assert stored_total(crew.volunteer) == 3
