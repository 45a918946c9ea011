"""A request through every step, through the services: each refusal names the field and what the request
allows; the rating is taken once; the reference numbers are the day's, in order; the time limits."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from kernel.errors import ApplicationError
from residents import services
from residents.models import RequestEvent, RequestStatus, ServiceRequest
from residents.selectors import overdue_requests

pytestmark = pytest.mark.django_db
S = RequestStatus


def only(status, *allowed) -> str:
    """The refusal of a move `status` does not allow, as the service words it."""
    return gettext("A request that is %(status)s can only become %(allowed)s.") % {
        "status": S(status).label,
        "allowed": gettext(" or ").join(str(S(a).label) for a in allowed),
    }


def refused(call, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value


def test_a_request_goes_through_every_step_and_refuses_illegal_jumps(tree, people, crew, submit):
    request, token = submit()
    assert request.status == S.SUBMITTED
    assert request.reference.startswith(f"QD{timezone.localdate():%Y%m%d}-")
    assert len(token) >= 43 and token not in request.token_hash
    assert request.token_hash == services.token_hash(token)

    error = refused(services.request_accept, actor=None, request=request)
    assert error.field == "status"
    assert error.message == only(S.SUBMITTED, S.DISPATCHED, S.CANCELLED)
    error = refused(services.request_complete, actor=None, request=request)
    assert (error.field, error.message) == (
        "status",
        only(S.SUBMITTED, S.DISPATCHED, S.CANCELLED),
    )
    error = refused(services.request_rate, token=token, score=5)
    assert (error.field, error.message) == (
        "status",
        only(S.SUBMITTED, S.DISPATCHED, S.CANCELLED),
    )

    request = services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)
    assert (request.status, request.team, request.dispatched_by) == (S.DISPATCHED, crew.team_a, people.inst_a)

    request = services.request_decline(actor=crew.leader_a, request=request, reason="人手不足")
    assert (request.status, request.decline_reason) == (S.DECLINED, "人手不足")
    error = refused(services.request_accept, actor=crew.leader_a, request=request)
    assert (error.field, error.message) == (
        "status",
        only(S.DECLINED, S.DISPATCHED, S.CANCELLED),
    )
    error = refused(services.request_dispatch, actor=people.inst_a, request=request, team=crew.team_a)
    assert (error.field, error.message) == (
        "team",
        gettext("This team declined the request: choose another team."),
    )

    other = services.dispatch_teams(people.inst_a).exclude(pk=crew.team_a.pk)
    assert not other.exists()  # township A has one team; the county dispatches it again, to the same
    request = services.request_dispatch(actor=people.county, request=request, team=crew.team_b)
    assert request.team == crew.team_b and request.decline_reason == ""
    error = refused(services.request_accept, actor=crew.leader_a, request=request)
    assert (error.field, error.message) == (
        "status",
        gettext("Only the team the request was dispatched to answers and serves it."),
    )
    request = services.request_decline(actor=crew.leader_b, request=request, reason="不在本镇")
    request = services.request_dispatch(actor=people.station_a1, request=request, team=crew.team_a)
    request = services.request_accept(actor=crew.leader_a, request=request)
    assert (request.status, request.accepted_by) == (S.ACCEPTED, crew.leader_a)
    error = refused(services.request_complete, actor=crew.leader_a, request=request)
    assert (error.field, error.message) == (
        "status",
        only(S.ACCEPTED, S.SERVING, S.CANCELLED),
    )

    request = services.request_link_activity(actor=crew.leader_a, request=request, activity=crew.activity_a)
    assert request.status == S.SERVING and request.serving_at is not None
    error = refused(
        services.request_link_activity, actor=crew.leader_a, request=request, activity=crew.activity_a
    )
    assert (error.field, error.message) == ("activity", gettext("This activity already serves the request."))
    error = refused(services.request_cancel, actor=people.inst_a, request=request, reason="重复")
    assert (error.field, error.message) == (
        "status",
        only(S.SERVING, S.COMPLETED),
    )

    request = services.request_complete(actor=crew.leader_a, request=request)
    assert request.status == S.COMPLETED
    error = refused(services.request_rate, token=token, score=6)
    assert (error.field, error.message) == ("score", gettext("Choose from 1 to 5 stars."))
    error = refused(services.request_rate, token="wrong" + token, score=5)
    assert (error.field, error.message) == ("token", gettext("This link opens no request."))

    request = services.request_rate(token=token, score=5, comment="很满意")
    assert (request.status, request.rating, request.rating_comment) == (S.RATED, 5, "很满意")
    error = refused(services.request_rate, token=token, score=1)
    assert (error.field, error.message) == (
        "score",
        gettext("This request has been rated already; thank you."),
    )
    error = refused(services.request_accept, actor=None, request=request)
    assert (error.field, error.message) == (
        "status",
        gettext("A request that is %(status)s moves no more.") % {"status": S.RATED.label},
    )
    assert ServiceRequest.objects.get(pk=request.pk).rating == 5

    steps = list(RequestEvent.objects.filter(request=request).values_list("to_status", flat=True))
    assert steps == [
        S.SUBMITTED, S.DISPATCHED, S.DECLINED, S.DISPATCHED, S.DECLINED, S.DISPATCHED,
        S.ACCEPTED, S.SERVING, S.COMPLETED, S.RATED,
    ]  # fmt: skip
    actors = list(RequestEvent.objects.filter(request=request).values_list("actor__username", flat=True))
    assert actors[:3] == [None, "inst_a", crew.leader_a.username]


def test_the_database_refuses_a_second_rating_and_a_rating_out_of_range(tree, crew, submit):
    request, _token = submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(rating=5)  # not rated: no rating
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=request.pk).update(status=S.RATED, rating=9, rated_at=timezone.now())


def test_dispatching_needs_the_request_and_the_team_in_the_dispatchers_scope(tree, people, crew, submit):
    request, _token = submit(unit=tree.a1)
    error = refused(services.request_dispatch, actor=people.inst_b, request=request, team=crew.team_b)
    assert (error.field, error.message) == (
        "status",
        gettext("This request is for a unit outside the area you administer."),
    )
    error = refused(services.request_dispatch, actor=people.inst_a, request=request, team=crew.team_b)
    assert (error.field, error.message) == ("team", gettext("Choose a team of the units you administer."))
    error = refused(services.request_cancel, actor=people.inst_b, request=request, reason="x")
    assert error.field == "status"
    assert list(services.dispatch_teams(people.inst_a)) == [crew.team_a]
    assert ServiceRequest.objects.get(pk=request.pk).status == S.SUBMITTED


def test_a_request_is_cancelled_with_a_reason_before_its_service(tree, people, crew, submit):
    request, _token = submit()
    error = refused(services.request_cancel, actor=people.inst_a, request=request, reason=" ")
    assert (error.field, error.message) == ("reason", gettext("Give the reason for cancelling."))
    request = services.request_cancel(actor=people.inst_a, request=request, reason="居民已自行解决")
    assert request.status == S.CANCELLED and request.cancelled_at is not None
    error = refused(services.request_dispatch, actor=people.inst_a, request=request, team=crew.team_a)
    assert (error.field, error.message) == (
        "status",
        gettext("A request that is %(status)s moves no more.") % {"status": S.CANCELLED.label},
    )


def test_submitting_checks_the_phone_the_text_and_the_unit(tree, submit):
    error = refused(submit, phone="12345")
    assert (error.field, error.message) == (
        "phone",
        gettext("Enter a mainland mobile number of 11 digits, e.g. 13812345678."),
    )
    error = refused(submit, description="  ")
    assert (error.field, error.message) == ("description", gettext("Say what service you need."))
    request, _token = submit(phone="+86 138-1234-5678")
    assert request.phone == "13812345678"


def test_reference_numbers_count_the_day_in_order(tree, submit):
    first, _ = submit()
    second, _ = submit()
    day = timezone.localdate()
    assert first.reference == f"QD{day:%Y%m%d}-0001"
    assert second.reference == f"QD{day:%Y%m%d}-0002"


def test_each_step_is_due_after_its_limit_and_the_overdue_are_listed(tree, people, crew, submit, settings):
    settings.REQUEST_DISPATCH_HOURS, settings.REQUEST_ACCEPT_HOURS, settings.REQUEST_FINISH_DAYS = 24, 12, 7
    waiting, _ = submit()
    answered, _ = submit()
    answered = services.request_dispatch(actor=people.inst_a, request=answered, team=crew.team_a)
    now = timezone.now()
    assert (
        abs(waiting.due_at - (waiting.status_changed_at + datetime.timedelta(hours=24))).total_seconds() < 1
    )
    assert answered.due_at == answered.dispatched_at + datetime.timedelta(hours=12)

    assert list(overdue_requests(now=now)) == []
    in_13_hours = now + datetime.timedelta(hours=13)
    assert [r.pk for r in overdue_requests(now=in_13_hours)] == [answered.pk]
    in_2_days = now + datetime.timedelta(days=2)
    assert [r.pk for r in overdue_requests(now=in_2_days)] == [answered.pk, waiting.pk]  # most overdue first

    answered = services.request_accept(actor=crew.leader_a, request=answered)
    assert answered.due_at == answered.accepted_at + datetime.timedelta(days=7)
    assert [r.pk for r in overdue_requests(now=in_2_days)] == [waiting.pk]
    assert [r.pk for r in overdue_requests(now=now + datetime.timedelta(days=8))] == [waiting.pk, answered.pk]
    services.request_cancel(actor=people.inst_a, request=waiting, reason="重复")
    assert [r.pk for r in overdue_requests(now=in_2_days)] == []


def test_the_due_time_in_python_is_the_one_in_sql_in_every_state(tree, people, crew, submit):
    """models.step_due (the model, the API's rows) and with_due() (the overdue list, the filter) agree."""
    submitted, _ = submit()
    dispatched = services.request_dispatch(actor=people.inst_a, request=submit()[0], team=crew.team_a)
    accepted = services.request_accept(
        actor=crew.leader_a,
        request=services.request_dispatch(actor=people.inst_a, request=submit()[0], team=crew.team_a),
    )
    declined = services.request_decline(
        actor=crew.leader_a,
        request=services.request_dispatch(actor=people.inst_a, request=submit()[0], team=crew.team_a),
        reason="人手不够",
    )
    cancelled = services.request_cancel(actor=people.inst_a, request=submit()[0], reason="重复")
    states = {r.status for r in (submitted, dispatched, accepted, declined, cancelled)}
    assert states == {S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.DECLINED, S.CANCELLED}
    for row in ServiceRequest.objects.with_due():
        assert row.step_due_at == row.due_at, row.status
    assert ServiceRequest.objects.with_due().get(pk=cancelled.pk).step_due_at is None
