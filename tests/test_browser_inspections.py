"""Inspections and units in real headless Chromium, on a desktop and on a phone: the county's inspection
stays the county's, a station gets its generated code, and photos survive a form error."""

import datetime
from io import BytesIO

import pytest
from PIL import Image

from stations import services
from stations.models import Inspection, Unit
from tests.browser import VIEWPORTS, admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request, page):
    page.set_viewport_size(VIEWPORTS[request.param])
    return request.param


def _png(path, colour):
    buffer = BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_an_institute_admin_cannot_change_the_countys_inspection(
    page, live_server, tree, people, reference, viewport, output_path
):
    inspection = services.inspection_record(
        actor=people.county,
        unit=tree.a1,
        checklist=reference.checklist,
        inspected_on=datetime.date(2026, 11, 2),
        met_item_ids=[reference.checklist.items.first().pk],
        note="县督查组抽查",
    )
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/stations/inspection/{inspection.pk}/change/")
    page.screenshot(path=f"{output_path}/county-inspection-{viewport}.png", full_page=True)
    assert page.get_by_role("note").inner_text().startswith("该督查由顺昌县新时代文明实践中心记录")
    # Nothing to tick and nothing to save: the items are shown, not offered.
    assert page.locator("input[type=checkbox][name$='-met']").count() == 0
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator("text=县督查组抽查").count() == 1
    # What the institute may do instead: add a dated follow-up.
    page.get_by_role("link", name="添加整改记录").click()
    page.fill("#id_note", "已补齐学习书籍，张贴制度上墙。")
    page.click("input[name=_save]")
    page.wait_for_url(f"**/admin/stations/inspection/{inspection.pk}/change/")
    page.screenshot(path=f"{output_path}/county-inspection-follow-up-{viewport}.png", full_page=True)
    assert page.locator("text=已补齐学习书籍").count() == 1
    inspection.refresh_from_db()
    assert (inspection.note, str(inspection.score)) == ("县督查组抽查", "33.3")


def test_an_institute_admin_adds_a_station_with_the_generated_code(
    page, live_server, tree, people, viewport, output_path
):
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/stations/unit/add/")
    expected = f"{tree.a.code}-001"
    page.wait_for_function(f"document.getElementById('id_code').value === '{expected}'")
    # Under its own institute, offered only what may hang there.
    assert tree.a.name in page.locator(".field-parent").inner_text()
    kinds = page.locator("#id_kind option").all_inner_texts()
    assert kinds == ["---------", "文明实践站", "文明实践点"]
    page.fill("#id_name", "甲三村新时代文明实践站")
    page.screenshot(path=f"{output_path}/unit-add-{viewport}.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/stations/unit/")
    station = Unit.objects.get(name="甲三村新时代文明实践站")
    assert (station.code, station.parent_id, station.kind) == (expected, tree.a.pk, "station")


def test_photos_picked_before_an_error_are_kept(
    page, live_server, tree, people, reference, viewport, output_path, tmp_path
):
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/stations/inspection/add/")
    page.locator(".field-unit .select2-selection").click()
    page.locator(".select2-search__field").fill("甲一")
    page.locator(".select2-results__option", has_text="甲一村站（甲镇所）").click()
    page.select_option("#id_checklist", str(reference.checklist.pk))
    page.fill("#id_inspected_on", "2099-01-01")
    photos = [_png(tmp_path / "门牌.png", (183, 28, 28)), _png(tmp_path / "书架.png", (20, 120, 40))]
    page.set_input_files("#id_add_photos", photos)
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    page.screenshot(path=f"{output_path}/inspection-photos-kept-{viewport}.png", full_page=True)
    assert "日期不能晚于今天。" in page.locator(".field-inspected_on").inner_text()
    thumbnails = page.locator(".kept-photo img")
    assert thumbnails.count() == 2
    assert all(image > 0 for image in thumbnails.evaluate_all("images => images.map(i => i.naturalWidth)"))
    page.fill("#id_inspected_on", "2026-11-20")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/stations/inspection/*/change/")
    page.screenshot(path=f"{output_path}/inspection-photos-saved-{viewport}.png", full_page=True)
    inspection = Inspection.objects.get()
    assert inspection.unit == tree.a1 and inspection.photos.count() == 2
    assert page.locator("img.evidence-thumb").count() == 2
