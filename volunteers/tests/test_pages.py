"""The volunteers' phone pages: self-registration with its rules shown on their fields, my profile (masked),
my teams, my transfers, and a team leader's page, each scoped to whoever asks."""

import datetime
import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from conftest import login
from kernel import sms
from stations.tests.factories import TEST_PASSWORD, make_platform
from volunteers import services
from volunteers.identity import fake_resident_id
from volunteers.models import (
    MembershipRole,
    MembershipStatus,
    SmsCode,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
)
from volunteers.tests.factories import make_member, make_team, make_volunteer, next_id_number, next_phone

pytestmark = pytest.mark.django_db

REGISTER = "/volunteer/register/"
PASSWORD = "Zhiyuan-2026!"


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def registration(unit, **changes) -> dict:
    data = {
        "phone": next_phone(),
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "name": "欧阳·小明",
        "id_type": "resident",
        "id_number": next_id_number(),
        "political_status": "masses",
        "education": "bachelor",
        "skills": "摄影",
        "home_unit": str(unit.pk),
        "consent": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def send_code(client, phone, **extra):
    """Tap "get code" on the registration page with `phone` typed."""
    return client.post(REGISTER, {"action": "send_code", "phone": phone}, **extra)


def register(client, data, **extra):
    """Post the registration as a phone does: ask a code for its number first, then send the form with it
    (without one when the code was refused)."""
    data = dict(data)
    if "code" not in data and send_code(client, data.get("phone", ""), **extra).context["code_sent"]:
        data["code"] = sent_code(data["phone"])
    return client.post(REGISTER, data, **extra)


def sent_code(phone) -> str:
    message = sms.last_message(phone)
    assert message is not None and message.purpose == "register_code"
    return re.search(r"\d{6}", message.text).group()


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


def refused(response, field, message, *, saved=0):
    """Refused on `field` with `message`, and nothing saved (`saved` volunteers were there before)."""
    assert response.status_code == 200
    assert field_errors(response, field) == [str(message)]
    assert Volunteer.objects.count() == saved
    assert get_user_model().objects.filter(volunteer__isnull=True, username__regex=r"^1\d{10}$").count() == 0
    assert "_auth_user_id" not in response.wsgi_request.session


def service_message(**details) -> str:
    """The message the service gives for these details, in the active language."""
    from kernel.errors import ApplicationError

    try:
        services.volunteer_prepare(**details)
    except ApplicationError as error:
        return str(error.message)
    raise AssertionError("the service accepted the details")


# --- Registration --------------------------------------------------------------------------------


def test_a_volunteer_registers_and_lands_on_the_profile(client, tree, reference):
    data = registration(tree.a1a, domains=[str(reference.platform.pk)])
    response = register(client, data)
    assert response.status_code == 302 and response.url == reverse("volunteers:me")
    volunteer = Volunteer.objects.get()
    assert (
        volunteer.name == "欧阳·小明" and volunteer.home_unit == tree.a1a and volunteer.registered_by is None
    )
    assert list(volunteer.domains.all()) == [reference.platform]
    assert volunteer.privacy_notice == services.current_privacy_notice() and volunteer.consented_at
    assert volunteer.user.username == data["phone"] and volunteer.user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(volunteer.user_id)
    page = client.get(response.url).content.decode()
    assert volunteer.number in page and volunteer.id_number_masked in page
    assert data["id_number"] not in page and data["phone"] not in page


def test_the_form_offers_the_tree_grouped_by_institute_and_the_countys_domains(client, tree, reference):
    page = client.get(REGISTER).content.decode()
    assert f'<optgroup label="{tree.a.name}">' in page and f'<optgroup label="{tree.b.name}">' in page
    assert f">\u3000{tree.a1.name}</option>" in page and f">\u3000\u3000{tree.a1a.name}</option>" in page
    assert tree.center.name + "</option>" not in page
    assert reference.platform.name in page and 'id="privacy-notice"' in page
    assert services.current_privacy_notice().title in page


def test_a_bad_check_digit_is_refused_on_the_id_number(client, tree):
    number = next_id_number()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = register(client, registration(tree.a1, id_number=bad))
    refused(
        response,
        "id_number",
        service_message(name="张三", id_number=bad, phone=next_phone(), home_unit=tree.a1),
    )


def test_under_fourteen_is_refused(client, tree):
    number = fake_resident_id("350721", years_ago(13, days=300), 7)
    response = register(client, registration(tree.a1, id_number=number))
    refused(
        response, "id_number", gettext("Children under %(age)d cannot register as volunteers.") % {"age": 14}
    )


def test_a_minor_needs_a_guardian(client, tree):
    number = fake_resident_id("350721", years_ago(16), 8)
    response = register(client, registration(tree.a1, id_number=number))
    refused(
        response,
        "guardian_name",
        gettext("A volunteer under 18 needs a guardian: enter the guardian's name."),
    )
    response = register(
        client,
        registration(tree.a1, id_number=number, guardian_name="李大", guardian_phone=next_phone()),
    )
    refused(
        response,
        "guardian_consent",
        gettext("A volunteer under 18 needs the guardian's consent: tick the box once the guardian agrees."),
    )
    response = register(
        client,
        registration(
            tree.a1,
            id_number=number,
            guardian_name="李大",
            guardian_phone=next_phone(),
            guardian_consent="on",
        ),
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().guardian_consented_at is not None


def test_a_registered_id_number_is_refused_without_a_hint_of_who_holds_it(client, tree):
    holder = make_volunteer(tree.b1, "钱七")
    number = services.crypto.decrypt(holder.id_number_encrypted)
    response = register(client, registration(tree.a1, id_number=number))
    refused(response, "id_number", services.id_number_taken_message(), saved=1)
    page = response.content.decode()
    for hint in (holder.name, holder.number, holder.phone_masked, holder.id_number_masked):
        assert hint not in page
    assert tree.b1.name not in services.id_number_taken_message()


def test_a_passport_needs_the_birth_date_and_gender(client, tree):
    response = register(client, registration(tree.a1, id_type="passport", id_number="E12345678"))
    refused(response, "birth_date", gettext("Enter the date of birth."))
    response = register(
        client,
        registration(
            tree.a1, id_type="passport", id_number="E12345678", birth_date="1990-01-02", gender="female"
        ),
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().birth_date == datetime.date(1990, 1, 2)


def test_a_resident_id_ignores_a_typed_birth_date(client, tree):
    number = fake_resident_id("350721", datetime.date(1985, 7, 9), 11)
    response = register(
        client, registration(tree.a1, id_number=number, birth_date="2001-01-01", gender="female")
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().birth_date == datetime.date(1985, 7, 9)


def test_consent_home_unit_and_passwords_are_checked(client, tree):
    refused(
        register(client, registration(tree.a1, consent=None)),
        "consent",
        gettext("Read the privacy notice and agree to it to register."),
    )
    refused(
        register(client, registration(tree.a1, home_unit="")),
        "home_unit",
        gettext("Choose the unit you belong to."),
    )
    refused(
        register(client, registration(tree.a1, password_confirm="other-password-1")),
        "password_confirm",
        gettext("The two passwords are not the same."),
    )
    response = register(client, registration(tree.a1, password=""))
    assert field_errors(response, "password") and not Volunteer.objects.exists()


def test_a_domain_of_another_county_is_refused(client, tree):
    from stations.models import UnitKind
    from stations.tests.factories import make_unit

    other = make_unit(UnitKind.CENTER, name="另一县新时代文明实践中心")
    foreign = make_platform(other, "culture", "文化服务平台")
    response = register(client, registration(tree.a1, domains=[str(foreign.pk)]))
    refused(response, "domains", gettext("Choose service domains of your own county."))


def test_a_registered_phone_gets_no_code_and_is_refused(client, tree):
    holder = make_volunteer(tree.a1)
    response = send_code(client, holder.phone)
    refused(response, "phone", services.phone_taken_message(), saved=1)
    assert not response.context["code_sent"]
    assert not SmsCode.objects.exists() and sms.last_message(holder.phone) is None
    # Registered between the code and the form: the registration refuses it, and the code stays unspent.
    data = registration(tree.a1)
    send_code(client, data["phone"])
    data["code"] = sent_code(data["phone"])
    make_volunteer(tree.a2, phone=data["phone"])
    refused(register(client, data), "phone", services.phone_taken_message(), saved=2)
    assert SmsCode.objects.get(phone=data["phone"]).used_at is None


# --- Registration: the SMS code that proves the phone ----------------------------------------------

CODE_WRONG = "The code is wrong; check it, or ask for a new one."


def coded(client, unit, **changes) -> dict:
    """A registration with the code texted to its phone."""
    data = registration(unit, **changes)
    assert send_code(client, data["phone"]).context["code_sent"]
    data["code"] = sent_code(data["phone"])
    return data


def test_get_code_texts_a_registration_code_and_shows_the_form_as_typed(client, tree, settings):
    data = registration(tree.a1, name="林小雨", skills="摄影、宣讲", action="send_code")
    response = client.post(REGISTER, data)
    assert response.status_code == 200
    assert response.context["code_sent"] == gettext(
        "A code was sent to this number. It is valid for %(minutes)d minutes."
    ) % {"minutes": settings.SMS_CODE_MINUTES}
    assert not response.context["form"].errors  # nothing else checked yet
    page = response.content.decode()
    assert 'id="code-sent"' in page and 'id="send-code"' in page
    assert 'value="林小雨"' in page and 'value="摄影、宣讲"' in page and f'value="{data["phone"]}"' in page
    assert PASSWORD not in page  # the passwords are typed again
    row = SmsCode.objects.get()
    assert row.purpose == SmsCode.Purpose.REGISTER and row.phone == data["phone"]
    assert sent_code(data["phone"]) not in row.code_hash
    assert not Volunteer.objects.exists()


def test_get_code_refuses_a_malformed_number_on_the_phone(client):
    response = send_code(client, "1234")
    assert field_errors(response, "phone") == [
        gettext("Enter a mainland mobile number of 11 digits, e.g. 13812345678.")
    ]
    assert not SmsCode.objects.exists()


def test_a_registration_without_a_code_is_refused_on_the_code(client, tree):
    refused(
        client.post(REGISTER, registration(tree.a1)), "code", gettext("Enter the code from the text message.")
    )


def test_a_wrong_registration_code_is_refused_and_counted(client, tree):
    from axes.models import AccessAttempt

    data = coded(client, tree.a1)
    data["code"] = f"{(int(data['code']) + 1) % 10**6:06d}"
    refused(client.post(REGISTER, data), "code", gettext(CODE_WRONG))
    code = SmsCode.objects.get()
    assert code.attempts == 1 and code.used_at is None
    assert AccessAttempt.objects.get(username=data["phone"]).failures_since_start == 1


def test_an_expired_registration_code_is_refused(client, tree):
    data = coded(client, tree.a1)
    SmsCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    refused(client.post(REGISTER, data), "code", gettext("This code has expired; ask for a new one."))
    assert SmsCode.objects.get().used_at is None


def test_a_registration_code_is_spent_once(client, tree):
    data = coded(client, tree.a1)
    assert client.post(REGISTER, data).status_code == 302
    assert SmsCode.objects.get().used_at is not None
    client.post(reverse("volunteers:logout"))
    again = {**data, "id_number": next_id_number()}
    refused(
        client.post(REGISTER, again),
        "code",
        gettext("This code has been used already; ask for a new one."),
        saved=1,
    )


def test_a_login_code_does_not_register(client, tree):
    from volunteers.login import _code_hash

    data = registration(tree.a1, code="123456")
    SmsCode.objects.create(
        phone=data["phone"],
        purpose=SmsCode.Purpose.LOGIN,
        code_hash=_code_hash(data["phone"], "123456"),
        expires_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    refused(client.post(REGISTER, data), "code", gettext(CODE_WRONG))


def test_the_code_proves_only_the_phone_it_was_sent_to(client, tree):
    data = coded(client, tree.a1)
    refused(client.post(REGISTER, {**data, "phone": next_phone()}), "code", gettext(CODE_WRONG))


def test_a_refused_registration_leaves_the_code_for_the_corrected_form(client, tree):
    data = coded(client, tree.a1)
    refused(
        client.post(REGISTER, {**data, "consent": ""}),
        "consent",
        gettext("Read the privacy notice and agree to it to register."),
    )
    assert SmsCode.objects.get().used_at is None
    assert client.post(REGISTER, data).status_code == 302
    assert Volunteer.objects.get().phone == data["phone"]


def test_the_logs_of_registration_code_login_and_errors_hold_no_id_number_or_phone(client, tree, caplog):
    caplog.set_level(logging.DEBUG)
    good = registration(tree.a1)
    minor = fake_resident_id("350721", years_ago(15), 21)
    bad = good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")
    register(client, registration(tree.a1, id_number=bad))
    register(client, registration(tree.a1, id_number=minor, guardian_phone="13700001111"))
    register(client, good)
    client.post(reverse("volunteers:logout"))
    register(client, registration(tree.a1, id_number=good["id_number"]))  # a duplicate
    login_url = reverse("volunteers:login")
    client.post(login_url, {"method": "sms", "action": "send", "phone": good["phone"]})
    code = re.search(r"\d{6}", sms.last_message(good["phone"]).text).group()
    client.post(login_url, {"method": "sms", "action": "login", "phone": good["phone"], "code": "000000"})
    client.post(login_url, {"method": "sms", "action": "login", "phone": good["phone"], "code": code})
    client.post(login_url, {"method": "password", "phone": good["phone"], "password": "wrong"})
    assert "_auth_user_id" in client.session
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records  # the run did log (the SMS at least)
    for secret in (good["id_number"], bad, minor, good["phone"], "13700001111"):
        assert secret not in logged


# --- My pages ------------------------------------------------------------------------------------


@pytest.fixture
def two(tree):
    return (
        make_volunteer(tree.a1, "孙一", password=TEST_PASSWORD),
        make_volunteer(tree.a2, "周二", password=TEST_PASSWORD),
    )


def test_my_profile_is_mine_and_masked(client, two):
    mine, other = two
    page = login(client, mine.user).get(reverse("volunteers:me")).content.decode()
    number = services.crypto.decrypt(mine.id_number_encrypted)
    assert (
        mine.name in page
        and mine.number in page
        and mine.id_number_masked in page
        and mine.phone_masked in page
    )
    assert number not in page and mine.phone not in page
    assert mine.privacy_notice.version in page
    assert other.name not in page and other.number not in page and other.id_number_masked not in page


def test_the_pages_ask_for_a_login_and_a_volunteer(client, people):
    for name in ("volunteers:me", "volunteers:my-teams", "volunteers:transfer"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("volunteers:login"))
    login(client, people.inst_a)  # staff, not a volunteer
    assert client.get(reverse("volunteers:me")).status_code == 404


def test_asking_to_join_and_leaving_a_team(client, tree, two):
    mine, _other = two
    team = make_team(tree.a, "甲镇志愿服务总队")
    login(client, mine.user)
    page = client.get(reverse("volunteers:my-teams")).content.decode()
    assert team.name in page
    response = client.post(reverse("volunteers:my-teams"), {"action": "join", "team": team.pk})
    assert response.status_code == 302
    membership = TeamMembership.objects.get(volunteer=mine)
    assert membership.status == MembershipStatus.PENDING
    page = client.get(reverse("volunteers:my-teams")).content.decode()
    assert membership.get_status_display() in page
    client.post(reverse("volunteers:my-teams"), {"action": "leave", "membership": membership.pk})
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.LEFT


def test_a_volunteer_cannot_end_anothers_membership(client, tree, two):
    mine, other = two
    team = make_team(tree.a, "甲镇志愿服务总队")
    theirs = make_member(team, other)
    login(client, mine.user)
    response = client.post(reverse("volunteers:my-teams"), {"action": "leave", "membership": theirs.pk})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == MembershipStatus.ACTIVE


def test_a_transfer_request_its_status_and_withdrawal(client, tree, two):
    mine, other = two
    login(client, mine.user)
    response = client.post(
        reverse("volunteers:transfer"),
        {"action": "request", "kind": TransferKind.UNIT, "to_unit": tree.a2.pk, "reason": "搬家"},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(volunteer=mine)
    assert transfer.to_unit == tree.a2 and transfer.status == TransferStatus.PENDING
    page = client.get(reverse("volunteers:transfer")).content.decode()
    assert transfer.get_status_display() in page and "搬家" in page
    client.post(reverse("volunteers:transfer"), {"action": "cancel", "transfer": transfer.pk})
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    # Another's transfer is not mine to withdraw.
    theirs = Transfer.objects.create(
        volunteer=other, kind=TransferKind.UNIT, from_unit=tree.a2, to_unit=tree.a1, requested_by=other.user
    )
    assert (
        client.post(reverse("volunteers:transfer"), {"action": "cancel", "transfer": theirs.pk}).status_code
        == 404
    )
    assert "孙一" not in client.get(reverse("volunteers:transfer")).content.decode().split("<h1>")[0]


def test_a_transfer_without_its_target_is_refused_on_the_field(client, tree, two):
    mine, _other = two
    login(client, mine.user)
    response = client.post(reverse("volunteers:transfer"), {"action": "request", "kind": TransferKind.TEAM})
    assert [str(e) for e in response.context["form"].errors["to_team"]] == [
        gettext("Choose the team to move to.")
    ]
    assert not Transfer.objects.exists()


def test_the_decision_reason_is_shown_to_the_volunteer(client, tree, two):
    mine, _other = two
    Transfer.objects.create(
        volunteer=mine,
        kind=TransferKind.UNIT,
        from_unit=tree.a1,
        to_unit=tree.b1,
        requested_by=mine.user,
        status=TransferStatus.REJECTED,
        decision_note="名额已满",
    )
    page = login(client, mine.user).get(reverse("volunteers:transfer")).content.decode()
    assert "名额已满" in page


# --- A team leader's page ------------------------------------------------------------------------


@pytest.fixture
def led(tree, two):
    leader, member = two
    team = make_team(tree.a, "甲镇理论宣讲总队")
    make_member(team, leader, MembershipRole.LEADER)
    make_member(team, member)
    return team


def test_a_leader_sees_its_team_with_masked_phones(client, tree, two, led):
    leader, member = two
    page = login(client, leader.user).get(reverse("volunteers:team", args=[led.pk])).content.decode()
    assert member.name in page and member.phone_masked in page and member.phone not in page
    assert leader.phone not in page


def test_a_leaders_page_is_404_for_a_team_it_does_not_lead(client, tree, two, led):
    leader, member = two
    other_team = make_team(tree.b, "乙镇志愿服务总队")
    login(client, leader.user)
    assert client.get(reverse("volunteers:team", args=[other_team.pk])).status_code == 404
    assert client.get(reverse("volunteers:team", args=[other_team.pk + 1000])).status_code == 404
    # A plain member leads nothing.
    login(client, member.user)
    assert client.get(reverse("volunteers:team", args=[led.pk])).status_code == 404


def test_a_leader_admits_and_rejects_requests_to_join(client, tree, two, led):
    leader, _member = two
    asking = make_volunteer(tree.a1, "吴三")
    refused_one = make_volunteer(tree.a1, "郑四")
    first = TeamMembership.objects.create(team=led, volunteer=asking)
    second = TeamMembership.objects.create(team=led, volunteer=refused_one)
    login(client, leader.user)
    page = client.get(reverse("volunteers:team", args=[led.pk])).content.decode()
    assert "吴三" in page and "郑四" in page and asking.phone not in page
    url = reverse("volunteers:team", args=[led.pk])
    client.post(url, {"action": "membership", "membership": first.pk, "decision": "approve"})
    client.post(url, {"action": "membership", "membership": second.pk, "decision": "reject"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MembershipStatus.ACTIVE and second.status == MembershipStatus.REJECTED


def test_a_leader_cannot_decide_a_request_of_another_team(client, tree, two, led):
    leader, _member = two
    other_team = make_team(tree.b, "乙镇志愿服务总队")
    request = TeamMembership.objects.create(team=other_team, volunteer=make_volunteer(tree.b1, "冯五"))
    login(client, leader.user)
    url = reverse("volunteers:team", args=[led.pk])
    response = client.post(url, {"action": "membership", "membership": request.pk, "decision": "approve"})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.status == MembershipStatus.PENDING


def test_a_leader_decides_a_transfer_into_its_team(client, tree, two, led):
    leader, _member = two
    from volunteers import transfers

    newcomer = make_volunteer(tree.a2, "陈六")
    transfer = transfers.transfer_request(
        actor=newcomer.user, volunteer=newcomer, to_team=led, reason="离家近"
    )
    login(client, leader.user)
    url = reverse("volunteers:team", args=[led.pk])
    page = client.get(url).content.decode()
    assert "陈六" in page and "离家近" in page
    client.post(url, {"action": "transfer", "transfer": transfer.pk, "decision": "approve", "note": "欢迎"})
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED and transfer.decision_note == "欢迎"


@pytest.mark.parametrize("rows", [1, 50])
def test_the_team_page_costs_the_same_queries_for_1_and_50_members(
    client, tree, two, led, rows, django_assert_num_queries
):
    leader, _member = two
    for index in range(rows):
        TeamMembership.objects.create(team=led, volunteer=make_volunteer(tree.a1, member_name(index)))
    login(client, leader.user)
    url = reverse("volunteers:team", args=[led.pk])
    client.get(url)  # warms the session and the county name cache
    with django_assert_num_queries(QUERIES["team"]):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("rows", [1, 50])
def test_my_teams_costs_the_same_queries_for_1_and_50_memberships(
    client, tree, two, rows, django_assert_num_queries
):
    mine, _other = two
    for index in range(rows):
        make_member(make_team(tree.a, f"分队{index}"), mine)
    login(client, mine.user)
    url = reverse("volunteers:my-teams")
    client.get(url)
    with django_assert_num_queries(QUERIES["my-teams"]):
        assert client.get(url).status_code == 200


def member_name(index: int) -> str:
    return "队员" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "子丑寅卯辰巳午未申酉戌亥"[index // 10]


# session, account, the volunteer (or the team through the scope), the rows, what the page shows of them;
# the team page reads its members and its requests to join apart (volunteers.selectors).
QUERIES = {"team": 7, "my-teams": 6}


# --- Ids that are not numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"action": "membership", "membership": "abc", "decision": "approve"},
        {"action": "transfer", "transfer": "1x", "decision": "approve"},
        {"action": "membership", "decision": "approve"},
    ],
)
def test_the_team_page_answers_a_posted_id_that_is_not_a_number_with_404(client, tree, two, led, data):
    leader, _member = two
    pending = TeamMembership.objects.create(team=led, volunteer=make_volunteer(tree.a1, "吴三"))
    login(client, leader.user)
    response = client.post(reverse("volunteers:team", args=[led.pk]), data)
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == MembershipStatus.PENDING


def test_my_teams_answers_a_membership_that_is_not_a_number_with_404(client, tree, two):
    mine, _other = two
    membership = make_member(make_team(tree.a, "甲镇志愿服务总队"), mine)
    login(client, mine.user)
    response = client.post(reverse("volunteers:my-teams"), {"action": "leave", "membership": "zz"})
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_the_transfer_page_answers_a_transfer_that_is_not_a_number_with_404(client, tree, two):
    mine, _other = two
    transfer = Transfer.objects.create(
        volunteer=mine, kind=TransferKind.UNIT, from_unit=tree.a1, to_unit=tree.a2, requested_by=mine.user
    )
    login(client, mine.user)
    response = client.post(reverse("volunteers:transfer"), {"action": "cancel", "transfer": "zz"})
    assert response.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING


# --- The pages read through the selectors --------------------------------------------------------


def test_the_team_page_and_my_profile_list_what_the_selectors_give(client, tree, two, led):
    from volunteers import selectors, transfers

    leader, _member = two
    for name in ("吴三", "郑四"):
        TeamMembership.objects.create(team=led, volunteer=make_volunteer(tree.a1, name))
    make_member(led, make_volunteer(tree.a1, "阿大"))
    newcomer = make_volunteer(tree.a2, "陈六")
    transfers.transfer_request(actor=newcomer.user, volunteer=newcomer, to_team=led)
    login(client, leader.user)
    context = client.get(reverse("volunteers:team", args=[led.pk])).context
    assert list(context["members"]) == list(selectors.team_members(leader.user, led))
    assert len(context["members"]) == 3 and len(context["pending"]) == 2
    assert list(context["pending"]) == list(selectors.pending_joins(leader.user, led))
    assert list(context["incoming"]) == list(selectors.transfers_to_decide(leader.user).filter(to_team=led))
    assert len(context["incoming"]) == 1
    leads = client.get(reverse("volunteers:me")).context["leads"]
    assert list(leads) == list(selectors.teams_led_by(leader.user)) == [led]


# --- Registration: the sign-in and the throttle on "already registered" ----------------------------


def test_registration_signs_in_through_the_kernels_login(client, tree, monkeypatch):
    from kernel import auth
    from volunteers import views

    signed = []

    def spy(request, user):
        signed.append(user)
        auth.login_succeeded(request, user)

    monkeypatch.setattr(views, "login_succeeded", spy)
    response = register(client, registration(tree.a1))
    assert response.status_code == 302
    volunteer = Volunteer.objects.get()
    assert signed == [volunteer.user]
    assert client.session["_auth_user_id"] == str(volunteer.user_id)


THROTTLE_IP = "198.51.100.7"
OTHER_IP = "198.51.100.8"
TOO_MANY = "Too many registration attempts from this network; try again later."


@pytest.fixture
def throttle_ips():
    from django.core.cache import cache

    from volunteers.views import registration_checks_key

    keys = [registration_checks_key(ip) for ip in (THROTTLE_IP, OTHER_IP, None)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_already_registered_refusals_are_throttled_per_address(client, tree, settings, throttle_ips):
    settings.REGISTRATION_CHECKS_PER_IP_HOUR = 3
    holder = make_volunteer(tree.a1, "钱七")
    number = services.crypto.decrypt(holder.id_number_encrypted)
    # A code asked for a registered phone, and a registration with a registered ID number, count alike.
    taken = services.phone_taken_message()
    refused(send_code(client, holder.phone, REMOTE_ADDR=THROTTLE_IP), "phone", taken, saved=1)
    response = register(client, registration(tree.a1, id_number=number), REMOTE_ADDR=THROTTLE_IP)
    refused(response, "id_number", services.id_number_taken_message(), saved=1)
    refused(send_code(client, holder.phone, REMOTE_ADDR=THROTTLE_IP), "phone", taken, saved=1)
    # Other refusals tell nothing about who is registered and are not counted.
    refused(
        register(client, registration(tree.a1, consent=None), REMOTE_ADDR=OTHER_IP),
        "consent",
        gettext("Read the privacy notice and agree to it to register."),
        saved=1,
    )
    # The address has used its checks: refused before anything is checked, even a good registration
    # with its code, and no code is sent either.
    good = coded(client, tree.a1)
    codes = SmsCode.objects.count()
    for response in (
        send_code(client, holder.phone, REMOTE_ADDR=THROTTLE_IP),
        send_code(client, next_phone(), REMOTE_ADDR=THROTTLE_IP),
        client.post(REGISTER, good, REMOTE_ADDR=THROTTLE_IP),
    ):
        refused(response, "__all__", gettext(TOO_MANY), saved=1)
        assert not field_errors(response, "phone") and not field_errors(response, "id_number")
        assert escape(gettext(TOO_MANY)) in response.content.decode()
    assert SmsCode.objects.count() == codes
    # Another address is not held back.
    assert register(client, registration(tree.a1), REMOTE_ADDR=OTHER_IP).status_code == 302
    assert Volunteer.objects.count() == 2


def test_clients_without_an_address_share_one_registration_count(client, tree, settings, throttle_ips):
    settings.REGISTRATION_CHECKS_PER_IP_HOUR = 1
    holder = make_volunteer(tree.a1, "钱七")
    refused(send_code(client, holder.phone, REMOTE_ADDR=""), "phone", services.phone_taken_message(), saved=1)
    response = register(client, registration(tree.a1), REMOTE_ADDR="unknown")
    refused(response, "__all__", gettext(TOO_MANY), saved=1)


def test_the_registration_throttle_lasts_an_hour(client, tree, settings, throttle_ips, monkeypatch):
    from django.core.cache import cache

    from volunteers.views import registration_checks_key

    settings.REGISTRATION_CHECKS_PER_IP_HOUR = 1
    timeouts = []
    real_add = cache.add

    def add(key, value, timeout=None, **kwargs):
        timeouts.append((key, timeout))
        return real_add(key, value, timeout=timeout, **kwargs)

    monkeypatch.setattr(cache, "add", add)
    holder = make_volunteer(tree.a1, "钱七")
    send_code(client, holder.phone, REMOTE_ADDR=THROTTLE_IP)
    assert timeouts == [(registration_checks_key(THROTTLE_IP), 3600)]
    assert cache.get(registration_checks_key(THROTTLE_IP)) == 1
