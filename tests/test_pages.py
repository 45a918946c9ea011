"""Server-rendered pages: the home page, health, and the language switch."""

import pytest
from django.urls import reverse

from stations import services
from stations.models import UnitKind
from stations.selectors import forget_county_name
from stations.tests.factories import make_unit

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_home_page_says_what_the_portal_is_and_lists_institutes(client, tree):
    make_unit(UnitKind.INSTITUTE, tree.center, name="停用镇新时代文明实践所", is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 class="h3">{tree.center.name}</h1>' in html and 'lang="zh-hans"' in html
    assert tree.a.name in html and tree.b.name in html
    assert "停用镇" not in html
    # each township links to its own page
    assert (
        reverse("public-unit", args=[tree.a.pk]) in html and reverse("public-unit", args=[tree.b.pk]) in html
    )
    assert reverse("admin:index") in html
    # the API documentation is for developers: a small footer link, not a button for residents
    hero = html.split('<section class="portal-hero')[1].split("</section>")[0]
    assert reverse("api-docs") not in hero and reverse("api-docs") in html.split("<footer")[1]
    # promises only what exists: key projects and hours are not built yet
    for unbuilt in ("重点项目", "服务时长"):
        assert unbuilt not in html
    assert 'name="viewport"' in html  # mobile-friendly
    assert "cdn" not in html.lower()


def test_home_page_institutes_cost_a_constant_number_of_queries(client, tree, django_assert_max_num_queries):
    for i in range(20):
        make_unit(UnitKind.INSTITUTE, tree.center, name=f"新增{i}镇新时代文明实践所")
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200


def test_english_through_the_language_switch(client, tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Practice institutes" in html and 'lang="en"' in html


def test_browser_accept_language_does_not_switch_pages_away_from_chinese(client, db):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html


def test_admin_login_page_is_chinese(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "新时代文明实践中心" in response.content.decode()


@pytest.mark.smoke
def test_health_reports_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_home_page_names_the_generic_center_when_there_is_none(client, db):
    forget_county_name()  # a center of an earlier test may still be cached
    html = client.get("/").content.decode()
    assert '<h1 class="h3">新时代文明实践中心</h1>' in html


def test_unit_page_of_an_institute_lists_its_active_stations_with_a_masked_phone(client, tree):
    services.unit_update(
        actor=None,
        unit=tree.a,
        address="甲镇人民路1号",
        contact_person="张三",
        contact_phone="13812345678",
        recognition_level="provincial",
        highlight="一所一亮点：红色宣讲",
    )
    make_unit(UnitKind.STATION, tree.a, name="停用村新时代文明实践站", is_active=False)
    response = client.get(reverse("public-unit", args=[tree.a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert tree.a.name in html and "甲镇人民路1号" in html and "张三" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "省级示范单位" in html and "一所一亮点：红色宣讲" in html
    assert reverse("public-unit", args=[tree.a1.pk]) in html and tree.a2.name in html
    assert "停用村" not in html and tree.b1.name not in html
    assert tree.a1a.name not in html  # points have no page and are not stations


def test_unit_page_of_a_station_links_back_to_its_institute(client, tree):
    html = client.get(reverse("public-unit", args=[tree.a1.pk])).content.decode()
    assert tree.a1.name in html and reverse("public-unit", args=[tree.a.pk]) in html


def test_unit_page_is_404_for_inactive_units_points_centers_and_unknown_ids(client, tree):
    inactive = make_unit(UnitKind.STATION, tree.a, name="停用村新时代文明实践站", is_active=False)
    services.unit_update(actor=None, unit=tree.b, is_active=False)
    for unit_id in (inactive.pk, tree.a1a.pk, tree.center.pk, tree.b1.pk, 999999):
        assert client.get(reverse("public-unit", args=[unit_id])).status_code == 404, unit_id
    assert client.get("/units/abc/").status_code == 404


def test_unit_page_costs_a_constant_number_of_queries(client, tree, django_assert_num_queries):
    url = reverse("public-unit", args=[tree.a.pk])
    client.get(url)  # the county name is cached from here on
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200
    for i in range(30):
        make_unit(UnitKind.STATION, tree.a, name=f"新增{i}村新时代文明实践站")
    client.get(url)
    with django_assert_num_queries(2):
        html = client.get(url).content.decode()
    assert "新增29村" in html


def test_favicon_is_served_with_a_long_cache(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"
    assert "max-age=2592000" in response["Cache-Control"]


def test_home_page_leads_volunteers_to_registration_and_login(client, tree):
    page = client.get("/").content.decode()
    assert 'href="/volunteer/register/"' in page
    assert 'href="/volunteer/login/"' in page
