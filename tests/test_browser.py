"""Real pages in real headless Chromium (Debian's chromium, driven by Playwright)."""

import pytest

from tests.browser import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_station_admin_sees_only_its_subtree_in_the_admin(page, live_server, tree, people, output_path):
    admin_login(page, live_server, "station_a1")
    page.goto(f"{live_server.url}/admin/stations/unit/")
    names = [text.strip(" └") for text in page.locator("#result_list tbody th").all_inner_texts()]
    page.screenshot(path=f"{output_path}/station-admin-units.png", full_page=True)
    assert sorted(names) == sorted([tree.a1.name, tree.a1a.name])
    assert tree.b1.name not in page.content()
    assert "选择要修改的单位" in page.content()  # the admin speaks Chinese by default


def test_home_page_lists_institutes_on_a_phone(page, live_server, tree, output_path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    cards = page.locator("#institutes .card-title").all_inner_texts()
    assert cards == [tree.a.name, tree.b.name]
    assert page.locator("h1").inner_text() == tree.center.name  # the county's own center
    # Bootstrap is served from our own static files: the navbar collapses behind a toggler on a phone.
    assert page.locator(".navbar-toggler").is_visible()
    page.screenshot(path=f"{output_path}/home-phone.png", full_page=True)


def test_on_a_phone_a_station_admin_sees_another_station_with_the_phone_masked(
    page, live_server, tree, people, output_path
):
    """A viewer of the county who also runs station B1 opens station A1 in the admin: read-only, its
    contact phone masked, and its place in the tree not offered for change."""
    from stations.models import Role, Unit
    from stations.services import role_grant

    Unit.objects.filter(pk__in=[tree.a1.pk, tree.b1.pk]).update(contact_phone="13812345678")
    role_grant(actor=None, user=people.nobody, role=Role.VIEWER, unit=tree.center)
    role_grant(actor=None, user=people.nobody, role=Role.STATION_ADMIN, unit=tree.b1)
    page.set_viewport_size({"width": 390, "height": 844})
    admin_login(page, live_server, "nobody")
    page.goto(f"{live_server.url}/admin/stations/unit/{tree.a1.pk}/change/")
    page.screenshot(path=f"{output_path}/foreign-station-phone.png", full_page=True)
    assert "138****5678" in page.content() and "13812345678" not in page.content()
    assert page.locator("#id_parent").count() == 0 and page.locator("input[type=submit]").count() == 0
    page.goto(f"{live_server.url}/admin/stations/unit/{tree.b1.pk}/change/")
    page.screenshot(path=f"{output_path}/own-station-phone.png", full_page=True)
    assert page.locator("#id_contact_phone").input_value() == "13812345678"
    assert page.locator("#id_parent").count() == 0  # its own station: placed from above
