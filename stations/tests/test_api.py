"""REST API v1 for units and platforms: scoped, filtered, constant in queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from stations.models import UnitKind
from stations.tests.factories import make_platform, make_unit

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units/"


def _ids(response):
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


def test_anonymous_gets_401_or_403(api_client, tree):
    assert api_client.get(UNITS).status_code in (401, 403)


@pytest.mark.smoke
def test_token_authentication_reads_the_scoped_list(api_client, tree, people):
    token = Token.objects.create(user=people.inst_a)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _ids(api_client.get(UNITS)) == {tree.a.pk, tree.a1.pk, tree.a2.pk, tree.a1a.pk}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("inst_a", {"a", "a1", "a2", "a1a"}),
        ("station_a1", {"a1", "a1a"}),
        ("county", {"center", "a", "b", "a1", "a2", "b1", "a1a", "b1a"}),
        ("volunteer", set()),
        ("nobody", set()),
    ],
)
def test_unit_list_is_the_callers_subtree(api_client, tree, people, who, expected):
    api_client.force_authenticate(getattr(people, who))
    assert _ids(api_client.get(UNITS)) == {getattr(tree, name).pk for name in expected}


@pytest.mark.parametrize("who", ["inst_a", "station_a1"])
def test_a_unit_of_the_other_township_is_404(api_client, tree, people, who):
    api_client.force_authenticate(getattr(people, who))
    for unit in (tree.b, tree.b1, tree.b1a, tree.center):
        assert api_client.get(f"{UNITS}{unit.pk}/").status_code == 404
    assert api_client.get(f"{UNITS}{tree.a1a.pk}/").status_code == 200


def test_filters(api_client, tree, people):
    api_client.force_authenticate(people.county)
    assert _ids(api_client.get(UNITS, {"kind": "station"})) == {tree.a1.pk, tree.a2.pk, tree.b1.pk}
    assert _ids(api_client.get(UNITS, {"parent": tree.a.pk})) == {tree.a1.pk, tree.a2.pk}
    assert _ids(api_client.get(UNITS, {"subtree_of": tree.b.pk})) == {tree.b.pk, tree.b1.pk, tree.b1a.pk}
    assert _ids(api_client.get(UNITS, {"search": "甲一"})) == {tree.a1.pk, tree.a1a.pk}
    tree.a1.recognition_level = "provincial"
    tree.a1.save()
    assert _ids(api_client.get(UNITS, {"level": "provincial"})) == {tree.a1.pk}


def test_filtering_by_a_foreign_unit_is_a_400_not_a_leak(api_client, tree, people):
    api_client.force_authenticate(people.inst_a)
    for param in ("subtree_of", "parent"):
        response = api_client.get(UNITS, {param: tree.b.pk})
        assert response.status_code == 400
        assert param in response.json()
    assert api_client.get(UNITS, {"kind": "village"}).status_code == 400


def test_error_messages_are_chinese_by_default(api_client, tree, people):
    api_client.force_authenticate(people.inst_a)
    body = api_client.get(UNITS, {"subtree_of": tree.b.pk}).json()
    assert "选择" in body["subtree_of"][0]


def test_geojson_lists_scoped_units_with_coordinates(api_client, tree, people):
    api_client.force_authenticate(people.inst_a)
    response = api_client.get(f"{UNITS}geojson/")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    features = {f["id"]: f for f in body["features"]}
    assert set(features) == {tree.a.pk, tree.a1.pk}  # a2 and the point have no coordinates
    assert features[tree.a1.pk]["geometry"] == {"type": "Point", "coordinates": [117.81, 26.81]}
    kind_filtered = api_client.get(f"{UNITS}geojson/", {"kind": "station"}).json()
    assert [f["id"] for f in kind_filtered["features"]] == [tree.a1.pk]


def test_platforms_are_those_of_the_callers_center(api_client, tree, people, reference):
    other = make_unit(UnitKind.CENTER, name="邻县中心")
    foreign = make_platform(other, "law")
    api_client.force_authenticate(people.station_a1)
    ids = _ids(api_client.get("/api/v1/platforms/"))
    assert ids == {reference.platform.pk}
    assert api_client.get(f"/api/v1/platforms/{foreign.pk}/").status_code == 404


def _grow(tree, count):
    for i in range(count):
        make_unit(UnitKind.POINT, tree.a1, name=f"点{i}", longitude=117.8, latitude=26.8)


@pytest.mark.parametrize("url", [UNITS, f"{UNITS}geojson/", "/api/v1/platforms/"])
def test_list_endpoints_use_a_constant_number_of_queries(api_client, tree, people, reference, url):
    api_client.force_authenticate(people.inst_a)

    def count_queries():
        people.inst_a.__dict__.pop("_practice_scope", None)
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(url, {"page_size": 100} if "geojson" not in url else {}).status_code == 200
        return len(queries)

    # From one row to 50 rows the number of queries must not move.
    unit_few = count_queries()
    _grow(tree, 50)
    for i in range(50):
        make_platform(tree.center, f"p{i}")
    assert count_queries() == unit_few


def test_unit_list_query_count_for_1_and_50_units(api_client, tree, people, django_assert_num_queries):
    api_client.force_authenticate(people.station_a1)
    with django_assert_num_queries(3):  # roles → scope, count, page
        assert len(_ids(api_client.get(UNITS))) == 2
    people.station_a1.__dict__.pop("_practice_scope", None)
    _grow(tree, 48)
    with django_assert_num_queries(3):
        assert len(_ids(api_client.get(UNITS))) == 50


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/units/" in schema.content and b"subtree_of" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"swagger-ui-bundle.js" in docs.content
