"""In a real browser on a phone (390×844): a volunteer finds an activity in the list, opens it, logs in
from it, signs up and cancels."""

import datetime

import pytest

from records.tests.fonts import needs_cjk_font
from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_cjk_font]

PHONE = VIEWPORTS["phone"]


@pytest.fixture
def notice(db):
    # A transactional test empties the tables, the privacy notice of the data migration too.
    from volunteers.models import PrivacyNotice

    notice, _created = PrivacyNotice.objects.get_or_create(
        version="2026-1",
        defaults={
            "title": "志愿者个人信息保护政策",
            "body": "我们只为志愿服务登记、记录和证明收集您的个人信息。",
            "effective_from": datetime.date(2026, 1, 1),
        },
    )
    return notice


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_volunteer_finds_an_activity_signs_up_and_cancels_on_a_phone(
    page, live_server, tree, notice, output_path
):
    from activities.models import Signup, SignupStatus
    from activities.tests.factories import at, make_activity
    from volunteers.tests.factories import make_volunteer

    organiser = make_volunteer(tree.a1, "周组织", password="Organiser@2026!", phone="13912345010")
    volunteer = make_volunteer(tree.a1, "张志愿", password="Volunteer@2026!", phone="13912345011")
    make_activity(tree.a1, "另一场宣讲", start=at(days=5), organisers=[organiser.user])
    activity = make_activity(
        tree.a1,
        "村文化广场环境整治",
        start=at(days=2),
        capacity=10,
        organisers=[organiser.user],
        longitude="117.810000",
        latitude="26.810000",
        requirements="请穿运动鞋",
    )
    page.set_viewport_size(PHONE)
    shot = f"{output_path}/activities-phone"

    page.goto(f"{live_server.url}/activities/")
    page.wait_for_selector(f"#activity-{activity.pk}")
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-1-list.png", full_page=True)
    page.click(f"#activity-{activity.pk} a")
    page.wait_for_url(f"{live_server.url}/activities/{activity.pk}/")
    assert "请穿运动鞋" in page.content()
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-2-detail-anonymous.png", full_page=True)

    page.click("#login-to-sign-up")
    page.fill("#id_phone", volunteer.phone)
    page.fill("#id_password", "Volunteer@2026!")
    page.click("#password-login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/activities/{activity.pk}/")

    page.click("#sign-up")
    page.wait_for_selector("#cancel-signup")
    assert Signup.objects.get(activity=activity, volunteer=volunteer).status == SignupStatus.ACCEPTED
    assert page.locator(".vol-message").count() == 1
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-3-signed-up.png", full_page=True)

    page.click("#cancel-signup")
    page.wait_for_selector("#sign-up")
    assert Signup.objects.get(activity=activity, volunteer=volunteer).status == SignupStatus.CANCELLED
    _no_sideways_scrolling(page)
    page.screenshot(path=f"{shot}-4-cancelled.png", full_page=True)

    page.click("#nav-my-activities")
    page.wait_for_url(f"{live_server.url}/activities/mine/")
    page.screenshot(path=f"{shot}-5-mine.png", full_page=True)
