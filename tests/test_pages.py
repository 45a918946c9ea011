"""Server-rendered pages: the home page, health, and the language switch."""

import pytest
from django.urls import reverse

from stations.models import UnitKind
from stations.tests.factories import make_unit

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_home_page_says_what_the_portal_is_and_lists_institutes(client, tree):
    make_unit(UnitKind.INSTITUTE, tree.center, name="停用镇新时代文明实践所", is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "新时代文明实践中心" in html and 'lang="zh-hans"' in html
    assert tree.a.name in html and tree.b.name in html
    assert "停用镇" not in html
    assert reverse("admin:index") in html and reverse("api-docs") in html
    assert 'name="viewport"' in html  # mobile-friendly
    assert "cdn" not in html.lower()


def test_home_page_institutes_cost_a_constant_number_of_queries(client, tree, django_assert_max_num_queries):
    for i in range(20):
        make_unit(UnitKind.INSTITUTE, tree.center, name=f"新增{i}镇新时代文明实践所")
    with django_assert_max_num_queries(3):
        assert client.get("/").status_code == 200


def test_english_through_the_language_switch(client, tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "New Era Civilization Practice Center" in html and 'lang="en"' in html


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
