"""In a real browser on a phone (390×844): a resident asks for a service (点单) and gets the reference and
the private link; the staff dispatch it and the team accepts, serves and completes it (through the
services); the resident opens the link, sees the steps and rates the service (评单). The form and the
status page are checked by axe-core on the way (no serious or critical violation)."""

from pathlib import Path

import pytest

from records.tests.fonts import needs_cjk_font
from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_cjk_font]

PHONE = VIEWPORTS["phone"]
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_a_resident_asks_follows_and_rates_a_request_on_a_phone(page, live_server, tree, people, output_path):
    from django.core.cache import cache

    from activities.tests.factories import at, make_activity
    from residents import services
    from residents.models import RequestStatus, ServiceRequest
    from volunteers.models import MembershipRole
    from volunteers.tests.factories import make_member, make_team, make_volunteer

    cache.clear()  # the form's limits per address and phone
    leader = make_volunteer(tree.a1, "陈队长", password="Leader@2026!a")
    team = make_team(tree.a1, "甲一村理论宣讲队")
    make_member(team, leader, MembershipRole.LEADER)
    activity = make_activity(tree.a1, "医保新政策宣讲进村", start=at(days=2), organisers=[leader.user])

    page.set_viewport_size(PHONE)
    shot = f"{output_path}/requests-phone"
    page.goto(f"{live_server.url}/requests/new/")
    page.wait_for_selector("#request-form")
    _no_sideways_scrolling(page)
    assert _serious_violations(page) == []
    page.fill("#id_resident_name", "王秀英")
    page.fill("#id_phone", "13812345678")
    page.select_option("#id_unit", str(tree.a1.pk))
    page.fill("#id_description", "村里老人想听一次医保新政策的讲解。")
    page.screenshot(path=f"{shot}-1-form.png", full_page=True)
    page.click("#submit-request")
    page.wait_for_selector("#reference")
    request = ServiceRequest.objects.get()
    assert page.inner_text("#reference") == request.reference
    link = page.get_attribute("#status-link", "href")
    assert link.startswith("/requests/status/")
    _no_sideways_scrolling(page)
    assert _serious_violations(page) == []
    page.screenshot(path=f"{shot}-2-sent.png", full_page=True)

    page.goto(f"{live_server.url}{link}")
    assert page.inner_text("#status") == str(RequestStatus.SUBMITTED.label)
    assert page.inner_text("#phone") == "138****5678"

    services.request_dispatch(actor=people.inst_a, request=request, team=team)
    services.request_accept(actor=leader.user, request=request)
    services.request_link_activity(actor=leader.user, request=request, activity=activity)
    services.request_complete(actor=leader.user, request=request)

    page.reload()
    page.wait_for_selector("#rating-form")
    assert page.inner_text("#status") == str(RequestStatus.COMPLETED.label)
    assert activity.title in page.inner_text("#activities")
    assert page.locator("#steps li").count() == 5
    _no_sideways_scrolling(page)
    assert _serious_violations(page) == []
    page.screenshot(path=f"{shot}-3-completed.png", full_page=True)

    page.check("#id_score_0")  # five stars, the first choice
    page.fill("#id_comment", "志愿者讲得很清楚，谢谢！")
    page.click("#submit-rating")
    page.wait_for_selector("#rating")
    request.refresh_from_db()
    assert (request.status, request.rating) == (RequestStatus.RATED, 5)
    assert page.locator("#rating-form").count() == 0
    _no_sideways_scrolling(page)
    assert _serious_violations(page) == []
    page.screenshot(path=f"{shot}-4-rated.png", full_page=True)


def test_a_station_admin_dispatches_a_request_in_the_admin(page, live_server, tree, people, output_path):
    from residents import services
    from residents.models import RequestStatus, ServiceRequest
    from tests.browser import admin_login
    from volunteers.tests.factories import make_team

    team = make_team(tree.a1, "甲一村理论宣讲队")
    request, _token = services.request_submit(
        resident_name="李建国", phone="13812345679", unit=tree.a1, description="想请人讲讲土地承包政策"
    )
    page.set_viewport_size(VIEWPORTS["desktop"])
    admin_login(page, live_server, "station_a1")
    page.goto(f"{live_server.url}/admin/residents/servicerequest/")
    assert request.reference in page.content()
    assert "138****5679" in page.content()  # not dispatched by this admin yet
    page.screenshot(path=f"{output_path}/requests-admin-1-list.png", full_page=True)
    page.click(f"text={request.reference}")
    page.click("a.step-button >> nth=0")  # dispatch
    page.select_option("#id_team", str(team.pk))
    page.screenshot(path=f"{output_path}/requests-admin-2-dispatch.png", full_page=True)
    page.click("#step-submit")
    page.wait_for_url(f"{live_server.url}/admin/residents/servicerequest/{request.pk}/change/")
    request = ServiceRequest.objects.get(pk=request.pk)
    assert (request.status, request.team_id) == (RequestStatus.DISPATCHED, team.pk)
    assert "13812345679" in page.content()  # the dispatcher sees it whole
    page.screenshot(path=f"{output_path}/requests-admin-3-dispatched.png", full_page=True)
