"""The requests admin: scoped to the township (another township's request is a 404 on every page), the
steps through the services with their refusals told, the teams offered only within the scope, the phone
masked, and the changelist's queries the same for 1 and 50 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext

from residents import services
from residents.models import RequestStatus, ServiceRequest
from stations.scoping import forget_scope

pytestmark = pytest.mark.django_db
S = RequestStatus
CHANGELIST = reverse("admin:residents_servicerequest_changelist")


def change(request):
    return reverse("admin:residents_servicerequest_change", args=[request.pk])


def step(request, name):
    return reverse("admin:residents_servicerequest_step", args=[request.pk, name])


def test_a_township_sees_only_its_requests_and_another_is_a_404(client, tree, people, crew, submit):
    in_a, _ = submit(unit=tree.a1)
    in_b, _ = submit(unit=tree.b1)
    client.force_login(people.inst_a)
    listed = {row.pk for row in client.get(CHANGELIST).context["cl"].result_list}
    assert listed == {in_a.pk}
    assert client.get(change(in_a)).status_code == 200
    assert client.get(change(in_b)).status_code == 404
    for name in ("dispatch", "accept", "decline", "link", "complete", "cancel"):
        assert client.get(step(in_b, name)).status_code == 404, name
        assert client.post(step(in_b, name), {"team": crew.team_b.pk, "reason": "x"}).status_code == 404
    assert ServiceRequest.objects.get(pk=in_b.pk).status == S.SUBMITTED


def test_dispatch_offers_only_the_teams_of_the_scope_and_refuses_a_forged_one(
    client, tree, people, crew, submit
):
    request, _ = submit(unit=tree.a1)
    client.force_login(people.inst_a)
    page = client.get(step(request, "dispatch"))
    assert list(page.context["form"].fields["team"].queryset) == [crew.team_a]
    forged = client.post(step(request, "dispatch"), {"team": crew.team_b.pk})
    assert forged.status_code == 200 and forged.context["form"].errors["team"]
    assert ServiceRequest.objects.get(pk=request.pk).status == S.SUBMITTED

    response = client.post(step(request, "dispatch"), {"team": crew.team_a.pk})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.team, request.dispatched_by) == (S.DISPATCHED, crew.team_a, people.inst_a)


def test_the_steps_run_the_services_and_an_illegal_step_is_told(client, tree, people, crew, submit):
    request, _ = submit(unit=tree.a1)
    client.force_login(people.station_a1)
    refused = client.post(step(request, "complete"), {})
    assert refused.status_code == 200
    assert gettext("Only the team the request was dispatched to answers and serves it.") in str(
        refused.context["form"].non_field_errors()
    )
    client.post(step(request, "dispatch"), {"team": crew.team_a.pk})
    buttons = [label for _url, label in client.get(change(request)).context["step_buttons"]]
    expected = ("Accept for the team", "Decline, with the reason", "Cancel, with the reason")
    assert [str(b) for b in buttons] == [gettext(label) for label in expected]
    assert client.post(step(request, "decline"), {"reason": ""}).context["form"].errors["reason"]
    assert client.post(step(request, "accept"), {}).status_code == 302
    assert client.post(step(request, "link"), {"activity": crew.activity_a.pk}).status_code == 302
    assert client.post(step(request, "complete"), {}).status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == S.COMPLETED


def test_the_phone_is_masked_in_the_admin_but_for_the_dispatcher(client, tree, people, crew, submit):
    request, _ = submit(unit=tree.a1)
    services.request_dispatch(actor=people.station_a1, request=request, team=crew.team_a)
    client.force_login(people.inst_a)
    for url in (CHANGELIST, change(request)):
        html = client.get(url).content.decode()
        assert "138****5678" in html and "13812345678" not in html, url
    client.force_login(people.station_a1)
    for url in (CHANGELIST, change(request)):
        assert "13812345678" in client.get(url).content.decode(), url


def test_the_changelist_takes_the_same_queries_for_1_and_50_rows(client, tree, people, crew):
    client.force_login(people.inst_a)

    def grow(count, offset):
        for n in range(offset, offset + count):
            request, _ = services.request_submit(
                resident_name=f"居民{n}", phone=f"1381234{n:04d}", unit=tree.a1, description="需要服务"
            )
            if n % 2:
                services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)

    def count():
        forget_scope(people.inst_a)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST)
            assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    grow(1, 0)
    count()  # the first page of a session also reads the county's name, which is then cached
    few, few_rows = count()
    assert few_rows == 1
    grow(60, 1)
    many, many_rows = count()
    assert many_rows == 50
    assert many == few, (few, many)
