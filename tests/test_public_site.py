"""The public site: the home page, the news, the Atom feed, the sitemap and robots.txt. Only what is
published shows; no ID number, phone or masked-out name reaches any page; every page has a title and a
description; the same queries for 1 row and 50; the news pages come from the page cache and leave it when
a report is published."""

import datetime
import xml.etree.ElementTree as ET

import feedparser
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activities
from activities.models import ActivityReport
from activities.tests.factories import at, make_activity, write_activity
from tests.public_fixtures import public_site, published_report

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def site(tree):
    return public_site(tree)


def _html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_home_shows_whats_coming_and_whats_been_done(client, site):
    html = _html(client, reverse("home"))
    assert site.upcoming.title in html and site.draft.title not in html
    assert site.brand.name in html
    assert reverse("news-detail", args=[site.report.pk]) in html
    assert site.report.photos.first().thumbnail.url in html
    assert reverse("news-detail", args=[site.hidden.pk]) not in html
    assert f'href="{reverse("residents:new")}"' in html
    assert reverse("feed") in html


def test_the_news_lists_published_reports_only(client, site):
    html = _html(client, reverse("news"))
    assert site.held.title in html and "乙村环境整治" not in html


def test_a_report_shows_its_text_people_served_photos_and_activity(client, site):
    html = _html(client, reverse("news-detail", args=[site.report.pk]))
    assert "为村里老人义诊" in html and 'id="people-served">86<' in html
    for photo in site.report.photos.all():
        assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in html
    assert reverse("activities:detail", args=[site.held.pk]) in html and site.held.unit.name in html


def test_an_unpublished_report_is_404(client, site):
    assert client.get(reverse("news-detail", args=[site.hidden.pk])).status_code == 404
    assert client.get(reverse("news-detail", args=[999999])).status_code == 404


def test_the_feed_is_atom_and_holds_only_published_items(client, site):
    response = client.get(reverse("feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")  # well-formed, as a feed reader reads it
    assert parsed.version == "atom10"
    assert parsed.feed.title and parsed.feed.id and parsed.feed.updated_parsed
    links = set()
    for entry in parsed.entries:
        assert entry.title and entry.updated_parsed and entry.link, entry
        assert entry.id.startswith("http"), entry.id
        links.add(entry.link)
    titles = {entry.title for entry in parsed.entries}
    assert any(link.endswith(reverse("news-detail", args=[site.report.pk])) for link in links)
    assert any(link.endswith(reverse("activities:detail", args=[site.held.pk])) for link in links)
    assert any(link.endswith(reverse("activities:detail", args=[site.upcoming.pk])) for link in links)
    assert not any(link.endswith(reverse("news-detail", args=[site.hidden.pk])) for link in links)
    assert not any(link.endswith(reverse("activities:detail", args=[site.draft.pk])) for link in links)
    assert site.draft.title not in titles
    assert "尚未发布的报告内容" not in response.content.decode()
    # The ids stay the same from one fetch to the next, so a reader shows nothing twice.
    again = feedparser.parse(client.get(reverse("feed")).content)
    assert [entry.id for entry in again.entries] == [entry.id for entry in parsed.entries]


def test_the_sitemap_lists_the_public_pages(client, site):
    index = ET.fromstring(client.get(reverse("sitemap")).content)
    sections = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert len(sections) == 5
    urls = set()
    for section in sections:
        response = client.get(section)
        assert response.status_code == 200, section
        urls |= {loc.text for loc in ET.fromstring(response.content).iter(f"{SITEMAP}loc")}
    paths = {url.split("testserver", 1)[1] for url in urls}
    assert {"/", "/news/", "/activities/", "/projects/", "/honours/"} <= paths
    assert reverse("news-detail", args=[site.report.pk]) in paths
    assert reverse("news-detail", args=[site.hidden.pk]) not in paths
    assert reverse("activities:detail", args=[site.draft.pk]) not in paths
    assert reverse("awards:year", args=[timezone.now().year]) in paths


def test_robots_txt_points_to_the_sitemap(client, db):
    text = _html(client, "/robots.txt")
    assert "Disallow: /admin/" in text and "Sitemap: http://testserver/sitemap.xml" in text


def _public_urls(site):
    return [
        reverse("home"),
        reverse("news"),
        reverse("news-detail", args=[site.report.pk]),
        reverse("awards:honours"),
        reverse("awards:year", args=[timezone.now().year]),
    ]


def test_no_id_number_or_phone_on_any_public_page(client, site):
    pages = {url: _html(client, url) for url in [*_public_urls(site), reverse("feed")]}
    assert "林小明" in pages[reverse("awards:honours")] and "王**" in pages[reverse("awards:honours")]
    for url, html in pages.items():
        for secret in site.secrets:
            assert secret not in html, (url, secret)


def test_every_public_page_has_a_title_and_a_description(client, site):
    import re

    for url in _public_urls(site):
        html = _html(client, url)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
        description = re.search(r'<meta name="description" content="([^"]*)"', html).group(1).strip()
        assert title and len(description) > 10, (url, title, description)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_home_and_news_read_the_same_queries_for_1_row_and_50(client, tree, site):
    urls = [reverse("home"), reverse("news")]
    _queries(client, urls[0])  # the county's name, cached from then on
    one = [_queries(client, url) for url in urls]
    now = timezone.now()
    for n in range(49):
        activity = write_activity(
            tree.a2, start=now - datetime.timedelta(days=5, hours=n), status="finished", title=f"活动{n}"
        )
        published_report(activity, photos=2 if n % 2 else 0, when=now - datetime.timedelta(minutes=n))
        write_activity(tree.a2, start=now + datetime.timedelta(days=1, hours=n), title=f"将来的活动{n}")
    assert ActivityReport.objects.published().count() == 50
    assert [_queries(client, url) for url in urls] == one


def test_the_news_come_from_the_cache_and_leave_it_when_a_report_is_published(client, settings, tree, site):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    url = reverse("news")
    assert site.held.title in _html(client, url)
    assert _queries(client, url) <= 1  # from the cache: no query for the rows
    held = write_activity(
        tree.a2,
        start=timezone.now() - datetime.timedelta(days=2),
        status="finished",
        title="新发布的活动报告",
    )
    report = ActivityReport.objects.create(activity=held, text="新的报告", people_served=3)
    assert "新发布的活动报告" not in _html(client, url)
    activities.report_publish(actor=None, report=report)
    assert "新发布的活动报告" in _html(client, url)


def test_the_home_page_comes_whole_from_the_cache(client, settings, site):
    """No CSRF token on the page (the language switch needs none), so the whole page is shared."""
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    url = reverse("home")
    first = _html(client, url)
    assert "csrfmiddlewaretoken" not in first
    assert _queries(client, url) == 0
    assert _html(client, url) == first


def test_the_language_switch_needs_no_csrf_token(settings, site):
    client = Client(enforce_csrf_checks=True)
    answer = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert answer.status_code == 302 and answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Ask for a service" in client.get(reverse("home")).content.decode()


def test_the_cached_home_page_shows_a_newly_published_activity_at_once(client, settings, tree, people, site):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    url = reverse("home")
    assert "新开的讲座" not in _html(client, url)
    activity = make_activity(
        tree.a2, "新开的讲座", start=at(hours=3), publish=False, organisers=[people.county]
    )
    assert "新开的讲座" not in _html(client, url)
    activities.activity_publish(actor=None, activity=activity)
    assert "新开的讲座" in _html(client, url)
