"""In a real browser, on a phone (390×844) and a laptop (1366×768): a visitor reads the home page, opens an
upcoming activity, comes back and reads a published report with its photos, then the honour roll.
Screenshots are saved in pytest's output folder."""

import pytest

from records.tests.fonts import needs_cjk_font
from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_cjk_font]


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_a_visitor_reads_the_home_page_an_activity_and_a_report(page, live_server, tree, output_path, screen):
    from tests.public_fixtures import public_site

    site = public_site(tree)
    viewport = VIEWPORTS[screen]
    page.set_viewport_size(viewport)
    shot = f"{output_path}/public-{screen}"

    page.goto(f"{live_server.url}/")
    page.wait_for_selector(f"#home-activity-{site.upcoming.pk}")
    assert page.title()
    assert page.locator(f"#home-report-{site.report.pk}").is_visible()
    assert page.locator("#request-link").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=f"{shot}-1-home.png", full_page=True)

    page.click(f"#home-activity-{site.upcoming.pk} a")
    page.wait_for_url(f"{live_server.url}/activities/{site.upcoming.pk}/")
    assert site.upcoming.title in page.content()
    page.screenshot(path=f"{shot}-2-activity.png", full_page=True)

    page.go_back()
    page.click(f"#home-report-{site.report.pk} a")
    page.wait_for_url(f"{live_server.url}/news/{site.report.pk}/")
    assert page.locator("#people-served").inner_text() == "86"
    assert page.locator("#photos img").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=f"{shot}-3-report.png", full_page=True)

    page.goto(f"{live_server.url}/honours/")
    assert page.locator(".pub-name", has_text="林小明").count() == 1
    assert page.locator(".pub-name", has_text="王**").count() == 1
    page.screenshot(path=f"{shot}-4-honours.png", full_page=True)
