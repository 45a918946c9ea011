"""In a real browser: an institute admin makes a station admin's account, who then signs in to its subtree."""

import pytest

from tests.browser import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Cun-zhan-2026!"


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_an_institute_admin_creates_a_station_admin_who_sees_only_its_station(
    page, live_server, tree, people, output_path, width, height, django_user_model
):
    page.set_viewport_size({"width": width, "height": height})
    shot = f"{output_path}/accounts-{width}"
    admin_login(page, live_server, "inst_a")

    page.goto(f"{live_server.url}/admin/auth/user/")
    page.screenshot(path=f"{shot}-1-list.png", full_page=True)
    page.goto(f"{live_server.url}/admin/auth/user/add/")
    page.fill("#id_username", "a1_wang")
    page.fill("#id_first_name", "王小明")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    # Only what inst_a may grant is offered: roles below its own, units below its own.
    roles = page.locator("#id_role option").all_inner_texts()
    assert roles[1:] == ["文明实践站管理员", "数据查看员"]
    units = [text.strip("\u3000 ") for text in page.locator("#id_unit option").all_inner_texts()]
    assert units[1:] == [tree.a1.name, tree.a2.name]
    page.select_option("#id_role", label="文明实践站管理员")
    page.select_option("#id_unit", label=f"\u3000{tree.a1.name}")
    page.screenshot(path=f"{shot}-2-add.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/auth/user/*/change/")
    page.screenshot(path=f"{shot}-3-created.png", full_page=True)
    user = django_user_model.objects.get(username="a1_wang")
    assert user.first_name == "王小明" and user.is_staff
    assert tree.a1.name in page.locator("#roles-group").inner_text()  # the new role, on the account page

    page.click("#logout-form button")
    page.wait_for_url(f"{live_server.url}/admin/logout/")

    admin_login(page, live_server, "a1_wang", NEW_PASSWORD)
    page.goto(f"{live_server.url}/admin/stations/unit/")
    names = [text.strip(" └") for text in page.locator("#result_list tbody th").all_inner_texts()]
    page.screenshot(path=f"{shot}-4-units.png", full_page=True)
    assert sorted(names) == sorted([tree.a1.name, tree.a1a.name])
    assert tree.a2.name not in page.content() and tree.b1.name not in page.content()
