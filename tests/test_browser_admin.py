"""The admin on a phone (390×844), in real headless Chromium: change lists as cards, the filter panel
behind a toggle at the top, and the active filters as chips."""

import pytest

from tests.browser import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_list_on_a_phone_shows_cards_a_filter_toggle_and_chips(
    page, live_server, tree, people, output_path
):
    page.set_viewport_size({"width": 390, "height": 844})
    admin_login(page, live_server, "county")
    page.screenshot(path=f"{output_path}/admin-index-phone.png", full_page=True)
    assert tree.center.name in page.locator("#site-name").inner_text()

    page.goto(f"{live_server.url}/admin/stations/unit/?kind__exact=station")
    page.screenshot(path=f"{output_path}/admin-units-phone.png", full_page=True)
    # No horizontal scrolling: the list fits the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each row is a card; each cell carries its column's label.
    assert page.locator("#result_list thead").is_hidden()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    first = rows.first
    box = first.bounding_box()
    assert box["width"] > 300  # a card as wide as the screen, not a table row squeezed into it
    labels = first.locator("td[data-label]").evaluate_all("cells => cells.map(c => c.dataset.label)")
    assert "类型" in labels and "编码" in labels
    # The active filter is a chip above the list; the filter panel is behind the toggle.
    chip = page.locator(".portal-chip")
    assert chip.count() == 1 and "文明实践站" in chip.inner_text()
    toggle = page.locator(".portal-filter-toggle")
    assert toggle.is_visible() and toggle.inner_text() == "筛选"
    assert toggle.bounding_box()["y"] < first.bounding_box()["y"]
    assert page.locator("#changelist-filter").is_hidden()
    toggle.click()
    assert page.locator("#changelist-filter").is_visible()
    page.screenshot(path=f"{output_path}/admin-units-phone-filters.png", full_page=True)
    # The chip removes its filter.
    chip.click()
    page.wait_for_load_state()
    assert "kind__exact" not in page.url
    assert page.locator("#result_list tbody tr").count() == 8
    assert page.locator(".portal-chip").count() == 0

    # A list with actions (accounts): the action checkbox stays usable on a card.
    page.goto(f"{live_server.url}/admin/auth/user/")
    checkbox = page.locator("#result_list tbody tr").first.locator("td.action-checkbox input")
    checkbox.check()
    assert checkbox.is_checked() and checkbox.bounding_box()["width"] >= 20
    assert page.locator("#result_list tbody tr.selected").count() == 1
    page.screenshot(path=f"{output_path}/admin-users-phone.png", full_page=True)


def test_change_form_on_a_phone_fits_the_screen(page, live_server, tree, people, reference, output_path):
    import datetime

    from stations.services import inspection_record

    inspection = inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 10, 8),
    )
    page.set_viewport_size({"width": 390, "height": 844})
    admin_login(page, live_server, "county")
    page.goto(f"{live_server.url}/admin/stations/unit/{tree.a1.pk}/change/")
    page.screenshot(path=f"{output_path}/admin-unit-form-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/admin/stations/inspection/{inspection.pk}/change/")
    page.screenshot(path=f"{output_path}/admin-inspection-form-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
