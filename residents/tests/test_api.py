"""The requests API: each role's list, another township's request a 404 for reading and every step, a
team outside the scope refused, the phone masked for all but the dispatcher and the serving team, the
filters, the steps through the services, and the same queries for 1 and 50 rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.relations import PrimaryKeyRelatedField

from residents import services
from residents.models import RequestStatus, ServiceRequest
from stations.scoping import forget_scope
from stations.tests.test_schema import _check, _validator, openapi  # noqa: F401 - openapi is a fixture

pytestmark = pytest.mark.django_db
S = RequestStatus
URL = "/api/v1/service-requests/"
# DRF's message for an id no row has (in Chinese by default), the id written as N.
NO_SUCH_ID = str(PrimaryKeyRelatedField.default_error_messages["does_not_exist"]).format(pk_value="N")


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_each_role_sees_the_requests_of_its_scope(api_client, tree, people, crew, submit):
    in_a, _ = submit(unit=tree.a1)
    in_b, _ = submit(unit=tree.b1)
    for user, expected in (
        (people.county, {in_a.pk, in_b.pk}),
        (people.inst_a, {in_a.pk}),
        (people.inst_b, {in_b.pk}),
        (people.station_a1, {in_a.pk}),
        (crew.leader_a, set()),  # not dispatched to the team yet
        (people.viewer, set()),  # a dashboard holds no personal data
    ):
        api_client.force_authenticate(user)
        assert {row["id"] for row in rows(api_client.get(URL))} == expected, user
    services.request_dispatch(actor=people.inst_a, request=in_a, team=crew.team_a)
    api_client.force_authenticate(crew.leader_a)
    assert {row["id"] for row in rows(api_client.get(URL))} == {in_a.pk}
    api_client.force_authenticate(None)
    assert api_client.get(URL).status_code in (401, 403)


def test_another_townships_request_is_a_404_to_read_and_to_act_on(api_client, tree, people, crew, submit):
    request, _ = submit(unit=tree.a1)
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(f"{URL}{request.pk}/").status_code == 404
    for step, body in (
        ("dispatch", {"team": crew.team_b.pk}),
        ("accept", {}),
        ("decline", {"reason": "x"}),
        ("link-activity", {"activity": crew.activity_a.pk}),
        ("complete", {}),
        ("cancel", {"reason": "x"}),
    ):
        assert api_client.post(f"{URL}{request.pk}/{step}/", body, format="json").status_code == 404, step
    assert ServiceRequest.objects.get(pk=request.pk).status == S.SUBMITTED


def test_a_team_or_activity_outside_the_scope_is_refused_as_one_that_does_not_exist(
    api_client, tree, people, crew, submit
):
    """The answer for another township's team is the answer for an id no row has: it tells nothing."""
    request, _ = submit(unit=tree.a1)
    api_client.force_authenticate(people.inst_a)
    answers = {}
    for team in (crew.team_b.pk, 10**9):
        response = api_client.post(f"{URL}{request.pk}/dispatch/", {"team": team}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["team"], response.content
        answers[team] = response.json()["team"][0].replace(str(team), "N")
    assert answers[crew.team_b.pk] == answers[10**9] == NO_SUCH_ID
    assert ServiceRequest.objects.get(pk=request.pk).status == S.SUBMITTED
    services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)
    services.request_accept(actor=crew.leader_a, request=request)
    api_client.force_authenticate(crew.leader_a)
    answers = {}
    for activity in (crew.activity_b.pk, 10**9):
        response = api_client.post(f"{URL}{request.pk}/link-activity/", {"activity": activity}, format="json")
        assert response.status_code == 400 and list(response.json()) == ["activity"], response.content
        answers[activity] = response.json()["activity"][0].replace(str(activity), "N")
    assert answers[crew.activity_b.pk] == answers[10**9] == NO_SUCH_ID
    assert not ServiceRequest.objects.get(pk=request.pk).activities.exists()


def test_the_steps_go_through_the_services(api_client, tree, people, crew, submit):
    request, token = submit(unit=tree.a1)
    api_client.force_authenticate(people.inst_a)
    response = api_client.post(f"{URL}{request.pk}/accept/")
    assert response.status_code == 400 and list(response.json()) == ["status"]
    answer = api_client.post(f"{URL}{request.pk}/dispatch/", {"team": crew.team_a.pk}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == S.DISPATCHED
    assert answer.json()["resident_phone"] == "13812345678"  # the dispatcher sees it whole

    api_client.force_authenticate(crew.leader_a)
    assert api_client.post(f"{URL}{request.pk}/accept/").json()["status"] == S.ACCEPTED
    body = {"activity": crew.activity_a.pk}
    assert (
        api_client.post(f"{URL}{request.pk}/link-activity/", body, format="json").json()["status"]
        == S.SERVING
    )
    done = api_client.post(f"{URL}{request.pk}/complete/").json()
    assert done["status"] == S.COMPLETED and done["resident_phone"] == "13812345678"
    services.request_rate(token=token, score=5)
    assert api_client.get(f"{URL}{request.pk}/").json()["rating"] == 5


def test_the_phone_is_masked_for_all_but_the_dispatcher_and_the_serving_team(
    api_client, tree, people, crew, submit
):
    request, _ = submit(unit=tree.a1)
    for user in (people.county, people.inst_a, people.station_a1):
        api_client.force_authenticate(user)
        assert rows(api_client.get(URL))[0]["resident_phone"] == "138****5678", user
    services.request_dispatch(actor=people.station_a1, request=request, team=crew.team_a)
    for user, phone in (
        (people.county, "138****5678"),
        (people.inst_a, "138****5678"),
        (people.station_a1, "13812345678"),
        (crew.leader_a, "13812345678"),
    ):
        forget_scope(user)
        api_client.force_authenticate(user)
        assert rows(api_client.get(URL))[0]["resident_phone"] == phone, user
        assert api_client.get(f"{URL}{request.pk}/").json()["resident_phone"] == phone, user


def test_filters_by_status_unit_and_overdue(api_client, tree, people, crew, submit):
    old, _ = submit(unit=tree.a1)
    new, _ = submit(unit=tree.a2)
    other, _ = submit(unit=tree.b1)
    past = timezone.now() - datetime.timedelta(days=3)
    ServiceRequest.objects.filter(pk=old.pk).update(status_changed_at=past)
    services.request_dispatch(actor=people.inst_a, request=new, team=crew.team_a)
    api_client.force_authenticate(people.county)

    def ids(**params):
        return {row["id"] for row in rows(api_client.get(URL, params))}

    assert ids(status="dispatched") == {new.pk}
    assert ids(unit=tree.a.pk) == {old.pk, new.pk}
    assert ids(unit=tree.a1.pk) == {old.pk}
    assert ids(overdue="true") == {old.pk}
    assert ids(overdue="false") == {new.pk, other.pk}
    assert rows(api_client.get(URL, {"overdue": "true"}))[0]["overdue"] is True
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(URL, {"unit": tree.a1.pk}).status_code == 400
    assert api_client.get(URL, {"overdue": "maybe"}).status_code == 400


def _grow(tree, people, crew, count, offset=0):
    for n in range(offset, offset + count):
        request, _ = services.request_submit(
            resident_name=f"居民{n}", phone=f"1381234{n:04d}", unit=[tree.a1, tree.a2, tree.a1a][n % 3],
            description="需要服务",
        )  # fmt: skip
        if n % 2:
            services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)


@pytest.mark.parametrize("who", ["inst_a", "leader_a"])
def test_the_list_takes_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, crew, django_assert_num_queries, who
):
    user = getattr(people, who, None) or getattr(crew, who)
    _grow(tree, people, crew, 2)
    api_client.force_authenticate(user)

    def get():
        forget_scope(user)
        return rows(api_client.get(URL, {"page_size": 50}))

    with CaptureQueriesContext(connection) as one:
        first = get()
    assert len(first) == (2 if who == "inst_a" else 1)
    _grow(tree, people, crew, 110, offset=2)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


def test_every_answer_matches_the_schema(api_client, tree, people, crew, submit, openapi):  # noqa: F811
    request, _ = submit(unit=tree.a1)
    services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)
    api_client.force_authenticate(people.county)
    _check(openapi, URL, api_client.get(URL).json())
    _check(openapi, f"{URL}{{id}}/", api_client.get(f"{URL}{request.pk}/").json())
    _check(openapi, f"{URL}{{id}}/", api_client.get(f"{URL}99999999/").json(), "404")
    api_client.force_authenticate(crew.leader_a)
    for path, response in (
        ("accept", api_client.post(f"{URL}{request.pk}/accept/")),
        ("complete", api_client.post(f"{URL}{request.pk}/complete/")),  # refused: not served yet
    ):
        status = str(response.status_code)
        validator = _validator(openapi, f"{URL}{{id}}/{path}/", method="post", status=status)
        assert not list(validator.iter_errors(response.json())), (path, response.json())
    assert set(openapi["paths"][URL]) == {"get"}
    for step in ("dispatch", "accept", "decline", "link-activity", "complete", "cancel"):
        assert set(openapi["paths"][f"{URL}{{id}}/{step}/"]) == {"post"}, step
    parameters = {parameter["name"] for parameter in openapi["paths"][URL]["get"]["parameters"]}
    assert {"status", "unit", "overdue", "cursor", "page_size"} <= parameters
