"""In a real browser on a phone: a volunteer registers (the phone proved by an SMS code), logs out, logs
back in with an SMS code, and sees the profile with the ID number and phone masked."""

import re

import pytest

from tests.browser import VIEWPORTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def notice(db):
    # A transactional test empties the tables, the privacy notice of the data migration too.
    import datetime

    from volunteers.models import PrivacyNotice

    notice, _created = PrivacyNotice.objects.get_or_create(
        version="2026-1",
        defaults={
            "title": "志愿者个人信息保护政策",
            "body": "我们只为志愿服务登记、记录和证明收集您的个人信息。\n身份证号加密保存，打码显示。",
            "effective_from": datetime.date(2026, 1, 1),
        },
    )
    return notice


def test_a_volunteer_registers_then_logs_in_with_an_sms_code_on_a_phone(
    page, live_server, tree, reference, notice, output_path
):
    from kernel import sms
    from volunteers.models import Volunteer
    from volunteers.tests.factories import next_id_number

    page.set_viewport_size(VIEWPORTS["phone"])
    shot = f"{output_path}/volunteer-phone"
    id_number, phone = next_id_number(), "13912340001"

    page.goto(f"{live_server.url}/volunteer/register/")
    # Birth date and gender are for other documents only: hidden for a resident ID, shown for a passport.
    assert not page.locator("#id_birth_date").is_visible()
    page.select_option("#id_id_type", "passport")
    assert page.locator("#id_birth_date").is_visible()
    page.select_option("#id_id_type", "resident")
    page.fill("#id_phone", phone)
    page.fill("#id_name", "林小雨")
    # The phone is proved by a code: the page comes back as typed, with the code on its way.
    page.click("#send-code")
    page.wait_for_selector("#code-sent")
    assert page.input_value("#id_phone") == phone and page.input_value("#id_name") == "林小雨"
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    page.screenshot(path=f"{shot}-0-register-code-sent.png", full_page=True)
    message = sms.last_message(phone)
    assert message.purpose == "register_code"
    page.fill("#id_code", re.search(r"\d{6}", message.text).group())
    page.fill("#id_password", "Zhiyuan-2026!")
    page.fill("#id_password_confirm", "Zhiyuan-2026!")
    page.fill("#id_id_number", id_number)
    page.select_option("#id_education", "bachelor")
    page.fill("#id_skills", "摄影、宣讲")
    page.select_option("#id_home_unit", str(tree.a1.pk))
    page.check(f"input[name=domains][value='{reference.platform.pk}']")
    page.click("#privacy-notice summary")
    page.check("#id_consent")
    page.screenshot(path=f"{shot}-1-register.png", full_page=True)
    page.click("#register")
    page.wait_for_url(f"{live_server.url}/volunteer/me/")
    volunteer = Volunteer.objects.get()
    assert page.locator("#id-number").inner_text() == volunteer.id_number_masked
    page.screenshot(path=f"{shot}-2-registered.png", full_page=True)

    page.click("#logout")
    page.wait_for_url(f"{live_server.url}/volunteer/login/")
    page.click("#tab-sms")
    page.fill("#id_phone", phone)
    page.click("#send-code")
    page.wait_for_selector("#code-sent")
    code = re.search(r"\d{6}", sms.last_message(phone).text).group()
    page.fill("#id_code", code)
    page.screenshot(path=f"{shot}-3-sms-login.png", full_page=True)
    page.click("#code-login")
    page.wait_for_url(f"{live_server.url}/volunteer/me/")

    assert page.locator("#volunteer-number").inner_text() == volunteer.number
    assert page.locator("#id-number").inner_text() == volunteer.id_number_masked
    assert page.locator("#phone").inner_text() == "139****0001"
    content = page.content()
    assert id_number not in content and phone not in content
    assert tree.a1.name in content and reference.platform.name in content
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    page.screenshot(path=f"{shot}-4-profile.png", full_page=True)
