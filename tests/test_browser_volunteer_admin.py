"""In a real browser: an institute admin registers a volunteer in the admin on their behalf and makes them
the leader of a team of the township; that volunteer then logs in on a phone with an SMS code and sees
only its own team."""

import datetime
import re

import pytest

from tests.browser import VIEWPORTS, admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def _autocomplete(page, field, term, choice):
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=choice).first.click()


def test_an_admin_registers_a_team_leader_who_then_sees_only_its_team(
    page, browser, browser_context_args, live_server, tree, people, reference, notice, output_path
):
    from kernel import sms
    from volunteers.models import MembershipRole, TeamMembership, Volunteer
    from volunteers.tests.factories import make_team, next_id_number

    own = make_team(tree.a, "甲镇理论宣讲总队")
    other = make_team(tree.a, "甲镇文艺总队")
    foreign = make_team(tree.b, "乙镇志愿服务总队")
    shot = f"{output_path}/volunteer-admin"
    phone = "13912340077"

    # The institute admin registers the volunteer on their behalf.
    page.set_viewport_size(VIEWPORTS["desktop"])
    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/volunteers/volunteer/add/")
    page.fill("#id_name", "陈志远")
    page.select_option("#id_id_type", "resident")
    page.fill("#id_id_number", next_id_number())
    page.fill("#id_phone", phone)
    page.select_option("#id_home_unit", str(tree.a1.pk))
    page.check(f"input[name=domains][value='{reference.platform.pk}']")
    page.check("#id_consent")
    page.screenshot(path=f"{shot}-1-register.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/volunteers/volunteer/")
    volunteer = Volunteer.objects.get()
    assert volunteer.registered_by == people.inst_a and volunteer.home_unit == tree.a1
    row = page.locator("#result_list tbody tr").first
    assert volunteer.id_number_masked in row.inner_text() and "139****0077" in row.inner_text()
    page.screenshot(path=f"{shot}-2-list.png", full_page=True)

    # Then adds them to the township's team and appoints them its leader.
    page.goto(f"{live_server.url}/admin/volunteers/teammembership/add/")
    _autocomplete(page, "team", "理论", own.name)
    _autocomplete(page, "volunteer", "陈志远", "陈志远")
    page.screenshot(path=f"{shot}-3-member.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/volunteers/teammembership/")
    membership = TeamMembership.objects.get()
    page.check(f"#result_list input[name=_selected_action][value='{membership.pk}']")
    page.select_option("select[name=action]", "appoint_leader")
    page.click("#changelist-form button[name=index]")
    page.wait_for_load_state()
    membership.refresh_from_db()
    assert (membership.team, membership.role) == (own, MembershipRole.LEADER)
    page.screenshot(path=f"{shot}-4-leader.png", full_page=True)

    # The new leader logs in on a phone with an SMS code and sees its own team only.
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS["phone"]})
    phone_page = context.new_page()
    phone_page.goto(f"{live_server.url}/volunteer/login/")
    phone_page.click("#tab-sms")
    phone_page.fill("#id_phone", phone)
    phone_page.click("#send-code")
    phone_page.wait_for_selector("#code-sent")
    code = re.search(r"\d{6}", sms.last_message(phone).text).group()
    phone_page.fill("#id_code", code)
    phone_page.click("#code-login")
    phone_page.wait_for_url(f"{live_server.url}/volunteer/me/")
    phone_page.goto(f"{live_server.url}/volunteer/teams/")
    teams = phone_page.locator("#memberships").inner_text()
    phone_page.screenshot(path=f"{shot}-5-my-teams.png", full_page=True)
    assert own.name in teams and other.name not in teams and foreign.name not in teams
    phone_page.click(f"#memberships a[href='/volunteer/teams/{own.pk}/']")
    phone_page.wait_for_url(f"{live_server.url}/volunteer/teams/{own.pk}/")
    assert "陈志远" in phone_page.content()
    phone_page.screenshot(path=f"{shot}-6-team.png", full_page=True)
    # Another team's page is not theirs.
    response = phone_page.goto(f"{live_server.url}/volunteer/teams/{other.pk}/")
    assert response.status == 404
    context.close()


def test_a_county_admin_reveals_an_id_number_and_an_institute_rejects_a_transfer(
    page, live_server, tree, people, notice, output_path
):
    from volunteers import crypto
    from volunteers.models import IdNumberReveal, Transfer, TransferKind, TransferStatus
    from volunteers.tests.factories import make_team, make_volunteer

    volunteer = make_volunteer(tree.b1, "林小雨")
    make_team(tree.a, "甲镇理论宣讲总队")
    Transfer.objects.create(
        volunteer=volunteer,
        kind=TransferKind.UNIT,
        from_unit=tree.b1,
        to_unit=tree.a1,
        reason="搬家到甲一村",
        requested_by=people.inst_b,
    )
    shot = f"{output_path}/volunteer-admin"
    page.set_viewport_size(VIEWPORTS["desktop"])

    admin_login(page, live_server, "county")
    page.goto(f"{live_server.url}/admin/volunteers/volunteer/{volunteer.pk}/change/")
    assert volunteer.id_number_masked in page.content()
    full = crypto.decrypt(volunteer.id_number_encrypted)
    assert full not in page.content()
    page.screenshot(path=f"{shot}-7-county-change.png", full_page=True)
    page.click(".portal-reveal-id button")
    page.wait_for_selector(".portal-id-number")
    assert page.locator(".portal-id-number").inner_text() == full
    assert IdNumberReveal.objects.filter(actor=people.county, volunteer=volunteer).count() == 1
    page.screenshot(path=f"{shot}-8-revealed.png", full_page=True)
    page.goto(f"{live_server.url}/admin/volunteers/volunteer/")
    page.screenshot(path=f"{shot}-9-county-list.png", full_page=True)
    page.click("#logout-form button")
    page.wait_for_url(f"{live_server.url}/admin/logout/")

    admin_login(page, live_server, "inst_a")
    page.goto(f"{live_server.url}/admin/volunteers/transfer/")
    page.check("#result_list input[name=_selected_action]")
    page.select_option("select[name=action]", "reject")
    page.click("#changelist-form button[name=index]")
    page.wait_for_selector("#id_note")
    page.screenshot(path=f"{shot}-10-reject.png", full_page=True)
    page.fill("#id_note", "本村暂无名额")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/volunteers/transfer/")
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.decision_note) == (TransferStatus.REJECTED, "本村暂无名额")
    page.screenshot(path=f"{shot}-11-rejected.png", full_page=True)
