"""The unit list's Excel export and map in real headless Chromium, on a laptop and on a phone."""

import io

import openpyxl
import pytest

from tests.browser import VIEWPORTS, admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_institute_admin_exports_and_maps_exactly_its_township(
    page, live_server, tree, people, output_path, viewport
):
    from stations.models import Unit

    outside = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:", "blob:"))
            else outside.append(request.url)
        ),
    )
    page.set_viewport_size(VIEWPORTS[viewport])
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/stations/unit/")
    page.wait_for_selector("#unit-map[data-state=ready]")

    subtree = [tree.a, tree.a1, tree.a2, tree.a1a]
    with_coordinates = [unit for unit in subtree if unit.has_coordinates]
    assert len(with_coordinates) == 2  # the institute and station A1; A2 and the point have none
    markers = page.locator("#unit-map .leaflet-overlay-pane path.unit-marker")
    assert markers.count() == len(with_coordinates)
    assert page.locator("#unit-map .leaflet-tile").count() == 0  # no tile layer by default
    page.screenshot(path=f"{output_path}/unit-list-map-{viewport}.png", full_page=True)

    # A marker's popup names the unit and links to its change page.
    markers.last.click(force=True)
    popup_link = page.locator("#unit-map .leaflet-popup-content a")
    popup_link.wait_for()
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    names = {unit.name: unit.pk for unit in with_coordinates}
    assert popup_link.inner_text() in names
    assert (
        popup_link.get_attribute("href") == f"/admin/stations/unit/{names[popup_link.inner_text()]}/change/"
    )
    page.screenshot(path=f"{output_path}/unit-list-map-popup-{viewport}.png")

    export = page.locator("#content-main .object-tools a[data-export=xlsx]")
    assert export.is_visible() and export.text_content() == "导出 Excel"
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    exported = [row[0] for row in rows[1:]]
    assert sorted(exported) == sorted(unit.name for unit in subtree)
    assert not set(exported) & set(
        Unit.objects.exclude(pk__in=[u.pk for u in subtree]).values_list("name", flat=True)
    )
    assert outside == []  # nothing but the live server: no CDN, no tile server


def test_filtered_list_exports_and_maps_the_filtered_rows(page, live_server, tree, people, output_path):
    page.set_viewport_size(VIEWPORTS["desktop"])
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/stations/unit/?kind__exact=station")
    page.wait_for_selector("#unit-map[data-state=ready]")
    assert page.locator("#unit-map path.unit-marker").count() == 1  # A1; A2 has no coordinates
    with page.expect_download() as download_info:
        page.locator("a[data-export=xlsx]").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).worksheets[0]
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(
        [tree.a1.name, tree.a2.name]
    )
    page.goto(f"{live_server.url}/admin/stations/unit/summary/")
    page.screenshot(path=f"{output_path}/township-summary.png", full_page=True)
    assert page.locator("#township-summary tbody tr:not(.township-summary-total)").count() == 1
    assert tree.b.name not in page.content()
    page.set_viewport_size(VIEWPORTS["phone"])
    page.screenshot(path=f"{output_path}/township-summary-phone.png", full_page=True)
