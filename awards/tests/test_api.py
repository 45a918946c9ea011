"""GET /api/v1/awards/: each role sees the awards its scope holds; another township's award is a 404; a
volunteer's name is masked without their consent; the same queries for 1 row and 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from awards.models import Award
from stations.scoping import forget_scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/awards/"


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("county", {"a", "b", "team_award"}),
        ("inst_a", {"a", "team_award"}),
        ("inst_b", {"b"}),
        ("nobody", set()),
    ],
)
def test_each_role_sees_its_scope(api_client, people, honours, who, expected):
    api_client.force_authenticate(getattr(people, who))
    assert _ids(api_client.get(URL)) == {getattr(honours, name).pk for name in expected}


def test_another_townships_award_is_404(api_client, people, honours):
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(f"{URL}{honours.a.pk}/").status_code == 404
    assert api_client.get(f"{URL}{honours.b.pk}/").status_code == 200


def test_anonymous_is_refused(api_client, honours):
    assert api_client.get(URL).status_code in (401, 403)


def test_names_as_the_public_pages_show_them(api_client, people, honours):
    api_client.force_authenticate(people.county)
    rows = {row["id"]: row for row in api_client.get(URL).json()["results"]}
    shown, masked = rows[honours.a.pk], rows[honours.b.pk]
    assert (shown["recipient_name"], shown["volunteer_number"]) == ("林小明", honours.shown.number)
    assert (masked["recipient_name"], masked["volunteer_number"]) == ("王**", None)
    assert rows[honours.team_award.pk]["recipient_name"] == "甲一村志愿服务队"
    assert shown["kind_name"] == "最美志愿者" and shown["recipient_type"] == "volunteer"


def test_filters(api_client, people, honours):
    api_client.force_authenticate(people.county)
    assert _ids(api_client.get(URL, {"year": 2025})) == {honours.team_award.pk}


def _queries(api_client) -> int:
    forget_scope(api_client.handler._force_user)  # as a new request reads it
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(URL).status_code == 200
    return len(queries)


def test_the_same_queries_for_1_row_and_50(api_client, tree, people, honours):
    Award.objects.exclude(pk=honours.a.pk).delete()
    api_client.force_authenticate(people.inst_a)
    one = _queries(api_client)
    Award.objects.bulk_create(
        Award(year=2030 + n, kind=honours.a.kind, volunteer=honours.shown, giving_unit=tree.a1)
        for n in range(49)
    )
    assert len(api_client.get(URL).json()["results"]) == 50
    assert _queries(api_client) == one
