"""REST API v1 for units and platforms: scoped, filtered, constant in queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from stations.models import Role, Unit, UnitKind
from stations.scoping import forget_scope
from stations.services import role_grant
from stations.tests.factories import make_platform, make_unit, make_user

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units/"


def _ids(response):
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


def test_anonymous_gets_401(api_client, tree):
    response = api_client.get(UNITS)
    assert response.status_code == 401
    assert response.json() == {"detail": "身份认证信息未提供。"}
    assert response["WWW-Authenticate"] == "Token"


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
        ("viewer", {"center", "a", "b", "a1", "a2", "b1", "a1a", "b1a"}),
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
        forget_scope(people.inst_a)
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
    with django_assert_num_queries(2):  # roles → scope, then the page: no COUNT over the scope
        assert len(_ids(api_client.get(UNITS))) == 2
    forget_scope(people.station_a1)
    _grow(tree, 48)
    with django_assert_num_queries(2):
        assert len(_ids(api_client.get(UNITS))) == 50


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/units/" in schema.content and b"subtree_of" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"swagger-ui-bundle.js" in docs.content


def test_the_unit_list_walks_every_page_by_cursor_without_gaps_or_repeats(api_client, tree, people):
    _grow(tree, 12)
    api_client.force_authenticate(people.county)
    seen, url, pages = [], UNITS + "?page_size=5", 0
    while url:
        body = api_client.get(url).json()
        assert "count" not in body  # nothing counts the whole scope
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 4 and len(seen) == len(set(seen)) == Unit.objects.count() == 20
    assert seen == list(Unit.objects.order_by("path").values_list("pk", flat=True))


BOX_MESSAGE = "请按“最小经度,最小纬度,最大经度,最大纬度”填写范围。"
PAGE_SIZE_MESSAGE = "请填写 1 到 {} 之间的整数。"
BAD_FILTERS = [
    (url, params, field, message)
    for url, limit in [(UNITS, 500), (f"{UNITS}geojson/", 5000)]
    for params, field, message in [
        ({"page_size": "true"}, "page_size", PAGE_SIZE_MESSAGE.format(limit)),
        ({"page_size": "0"}, "page_size", PAGE_SIZE_MESSAGE.format(limit)),
        ({"page_size": str(limit + 1)}, "page_size", PAGE_SIZE_MESSAGE.format(limit)),
    ]
] + [
    (url, params, field, message)
    for url in (UNITS, f"{UNITS}geojson/")  # the unit filters; platforms take none
    for params, field, message in [
        ({"is_active": "maybe"}, "is_active", "请填写 true 或 false。"),
        ({"bbox": "117,26,118"}, "bbox", BOX_MESSAGE),
        ({"bbox": "118,26,117,27"}, "bbox", BOX_MESSAGE),
        ({"bbox": "nan,26,118,27"}, "bbox", BOX_MESSAGE),
    ]
]


@pytest.mark.parametrize(("url", "params", "field", "message"), BAD_FILTERS)
def test_invalid_filter_values_are_a_400_with_the_field(
    api_client, tree, people, url, params, field, message
):
    api_client.force_authenticate(people.county)
    response = api_client.get(url, params)
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_is_active_filter_takes_true_and_false(api_client, tree, people):
    Unit.objects.filter(pk=tree.a2.pk).update(is_active=False)
    api_client.force_authenticate(people.county)
    assert _ids(api_client.get(UNITS, {"is_active": "false"})) == {tree.a2.pk}
    assert tree.a2.pk not in _ids(api_client.get(UNITS, {"is_active": "true"}))


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999", "-1"])
def test_an_odd_id_is_a_404(api_client, tree, people, bad_id):
    api_client.force_authenticate(people.county)
    assert api_client.get(f"{UNITS}{bad_id}/").status_code == 404


def test_contact_phones_are_masked_for_roles_without_the_need(api_client, tree, people):
    Unit.objects.filter(pk__in=[tree.a1.pk, tree.b1.pk]).update(contact_phone="13812345678")
    mixed = make_user("mixed", role=Role.VIEWER, unit=tree.center)
    role_grant(actor=None, user=mixed, role=Role.STATION_ADMIN, unit=tree.b1)

    def phones(user):
        api_client.force_authenticate(user)
        rows = api_client.get(UNITS).json()["results"]
        detail = api_client.get(f"{UNITS}{tree.a1.pk}/").json()
        return {row["id"]: row["contact_phone"] for row in rows if row["contact_phone"]}, detail[
            "contact_phone"
        ]

    assert phones(people.viewer) == ({tree.a1.pk: "138****5678", tree.b1.pk: "138****5678"}, "138****5678")
    assert phones(people.inst_a) == ({tree.a1.pk: "13812345678"}, "13812345678")
    # A viewer of the county who administers one station sees that station's phone, no other.
    assert phones(mixed) == ({tree.a1.pk: "138****5678", tree.b1.pk: "13812345678"}, "138****5678")


def test_geojson_is_paged_and_bounded(api_client, tree, people):
    api_client.force_authenticate(people.county)
    first = api_client.get(f"{UNITS}geojson/", {"page_size": 2}).json()
    assert len(first["features"]) == 2 and first["next"]
    second = api_client.get(first["next"]).json()
    ids = [f["id"] for f in first["features"] + second["features"]]
    assert len(ids) == len(set(ids))
    assert len(api_client.get(f"{UNITS}geojson/").json()["features"]) == 5  # default page holds them all
    boxed = api_client.get(f"{UNITS}geojson/", {"bbox": "117.85,26.65,117.95,26.75"}).json()
    assert {f["id"] for f in boxed["features"]} == {tree.b.pk, tree.b1.pk}


def test_every_api_view_is_scoped(api_client, tree, people, reference):
    """Every endpoint of the router reads through its model's scope rule: the other township's rows are
    neither listed nor found."""
    from practice_center.api_urls import router
    from stations.api_scoping import ScopedReadOnlyViewSet

    foreign = {"unit": tree.b1.pk, "platform": make_platform(make_unit(UnitKind.CENTER, name="邻县"), "x").pk}
    api_client.force_authenticate(people.inst_a)
    for prefix, viewset, basename in router.registry:
        assert issubclass(viewset, ScopedReadOnlyViewSet), viewset
        visible = set(viewset.model.objects.visible_to(people.inst_a).values_list("pk", flat=True))
        assert _ids(api_client.get(f"/api/v1/{prefix}/", {"page_size": 500})) == visible, prefix
        if basename in foreign:  # other apps' endpoints try their own foreign rows in their tests
            assert api_client.get(f"/api/v1/{prefix}/{foreign[basename]}/").status_code == 404, prefix


def test_an_unknown_ordering_is_a_400(api_client, tree, people):
    api_client.force_authenticate(people.county)
    response = api_client.get(UNITS, {"ordering": "contact_phone"})
    assert response.status_code == 400
    assert response.json() == {"ordering": ["请按以下字段之一排序：code, path。"]}
    assert _ids(api_client.get(UNITS, {"ordering": "-code"})) == set(
        Unit.objects.values_list("pk", flat=True)
    )
