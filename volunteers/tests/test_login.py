"""Volunteers' login: SMS codes (single use, short-lived, hashed, rate-limited, counted by the lockout)
and the password, through the login page as a phone posts it."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from kernel import sms
from kernel.auth import lockout_message
from stations.tests.factories import TEST_PASSWORD
from volunteers.models import SmsCode
from volunteers.tests.factories import make_volunteer, next_phone

pytestmark = pytest.mark.django_db

URL = "/volunteer/login/"
HERE = "192.0.2.10"
ELSEWHERE = "192.0.2.20"

WRONG = "The code is wrong; check it, or ask for a new one."
USED = "This code has been used already; ask for a new one."
EXPIRED = "This code has expired; ask for a new one."
DEAD = "Too many wrong tries: this code no longer works; ask for a new one."
TOO_SOON = "A code was sent a moment ago; wait a minute before asking again."
PHONE_HOUR = "Too many codes were asked for this number; try again in an hour."
IP_HOUR = "Too many codes were asked from this network; try again later."


def send(client, phone, ip=HERE):
    return client.post(URL, {"method": "sms", "action": "send", "phone": phone}, REMOTE_ADDR=ip)


def code_login(client, phone, code, ip=HERE):
    return client.post(
        URL, {"method": "sms", "action": "login", "phone": phone, "code": code}, REMOTE_ADDR=ip
    )


def sent_code(phone) -> str:
    message = sms.last_message(phone)
    assert message is not None and message.purpose == "login_code"
    return re.search(r"\d{6}", message.text).group()


def errors(response, field):
    return [str(error) for error in response.context["sms_form"].errors.get(field, [])]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def age_codes(phone, seconds):
    """Make the codes of `phone` look as if they were asked for `seconds` ago."""
    SmsCode.objects.filter(phone=phone).update(
        created_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


@pytest.fixture
def volunteer(tree):
    return make_volunteer(tree.a1, "李四", password=TEST_PASSWORD)


def test_a_code_signs_the_volunteer_in_once(client, volunteer):
    response = send(client, volunteer.phone)
    assert response.status_code == 200
    assert response.context["code_sent"] == gettext(
        "If this number is registered, a code is on its way. It is valid for %(minutes)d minutes."
    ) % {"minutes": settings.SMS_CODE_MINUTES}
    code = sent_code(volunteer.phone)
    row = SmsCode.objects.get(phone=volunteer.phone)
    # Stored hashed, valid for the configured minutes.
    assert code not in row.code_hash and len(row.code_hash) == 64
    valid_for = row.expires_at - row.created_at
    assert abs(valid_for - datetime.timedelta(minutes=settings.SMS_CODE_MINUTES)) < datetime.timedelta(
        seconds=1
    )
    assert row.ip_address == HERE

    response = code_login(client, volunteer.phone, code)
    assert response.status_code == 302 and response.url == reverse("volunteers:me")
    assert client.session["_auth_user_id"] == str(volunteer.user_id)
    row.refresh_from_db()
    assert row.used_at is not None


def test_a_used_code_is_refused(client, volunteer):
    send(client, volunteer.phone)
    code = sent_code(volunteer.phone)
    code_login(client, volunteer.phone, code)
    client.logout()
    response = code_login(client, volunteer.phone, code)
    assert errors(response, "code") == [gettext(USED)]
    assert not signed_in(client)


def test_an_expired_code_is_refused(client, volunteer):
    send(client, volunteer.phone)
    code = sent_code(volunteer.phone)
    SmsCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = code_login(client, volunteer.phone, code)
    assert errors(response, "code") == [gettext(EXPIRED)]
    assert not signed_in(client)
    assert SmsCode.objects.get().used_at is None


def test_wrong_codes_are_counted_and_the_fifth_kills_the_code(client, volunteer):
    send(client, volunteer.phone)
    code = sent_code(volunteer.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for tries in range(1, 6):
        response = code_login(client, volunteer.phone, wrong)
        assert errors(response, "code") == [gettext(WRONG)]
        assert SmsCode.objects.get().attempts == tries
    response = code_login(client, volunteer.phone, code)  # the right code, too late
    assert errors(response, "code") == [gettext(DEAD)]
    assert not signed_in(client)
    assert SmsCode.objects.get().used_at is None
    # Each refusal counted for the lockout too.
    assert AccessAttempt.objects.get(username=volunteer.phone).failures_since_start == 6


def test_a_code_that_is_not_six_digits_is_wrong(client, volunteer):
    send(client, volunteer.phone)
    response = code_login(client, volunteer.phone, "12ab")
    assert errors(response, "code") == [gettext(WRONG)]


def test_only_the_latest_code_counts(client, volunteer):
    send(client, volunteer.phone)
    first = sent_code(volunteer.phone)
    age_codes(volunteer.phone, 61)
    send(client, volunteer.phone)
    second = sent_code(volunteer.phone)
    if first != second:
        assert errors(code_login(client, volunteer.phone, first), "code") == [gettext(WRONG)]
    assert code_login(client, volunteer.phone, second).status_code == 302


def test_one_code_a_minute_per_phone(client, volunteer):
    send(client, volunteer.phone)
    response = send(client, volunteer.phone)
    assert errors(response, "phone") == [gettext(TOO_SOON)]
    assert SmsCode.objects.count() == 1 and len(sms.outbox) == 1
    age_codes(volunteer.phone, 61)
    assert send(client, volunteer.phone).context["code_sent"]
    assert SmsCode.objects.count() == 2


def test_too_many_codes_per_phone_in_an_hour(client, volunteer, settings):
    settings.SMS_CODE_PER_PHONE_HOUR = 3
    for _ in range(3):
        assert send(client, volunteer.phone).context["code_sent"]
        age_codes(volunteer.phone, 120)
    response = send(client, volunteer.phone)
    assert errors(response, "phone") == [gettext(PHONE_HOUR)]
    assert SmsCode.objects.count() == 3 and len(sms.outbox) == 3
    age_codes(volunteer.phone, 3601)  # an hour later
    assert send(client, volunteer.phone).context["code_sent"]


def test_too_many_codes_per_address_in_an_hour(client, tree, settings):
    settings.SMS_CODE_PER_IP_HOUR = 3
    phones = [make_volunteer(tree.a1, "王五").phone for _ in range(4)]
    for phone in phones[:3]:
        assert send(client, phone).context["code_sent"]
    response = send(client, phones[3])
    assert errors(response, "phone") == [gettext(IP_HOUR)]
    assert not SmsCode.objects.filter(phone=phones[3]).exists() and sms.last_message(phones[3]) is None
    assert send(client, phones[3], ip=ELSEWHERE).context["code_sent"]


def test_a_number_with_no_volunteer_gets_the_same_answer_and_no_message(client, volunteer):
    unknown = next_phone()
    known_page = send(client, volunteer.phone)
    unknown_page = send(client, unknown)
    assert unknown_page.status_code == known_page.status_code == 200
    assert unknown_page.context["code_sent"] == known_page.context["code_sent"]
    assert escape(unknown_page.context["code_sent"]) in unknown_page.content.decode()
    assert sms.last_message(unknown) is None and len(sms.outbox) == 1
    # The same limits apply, so they do not tell either.
    assert errors(send(client, unknown), "phone") == [gettext(TOO_SOON)]
    # Whatever code is tried, it is "wrong", as for a known number.
    response = code_login(client, unknown, "123456")
    assert errors(response, "code") == [gettext(WRONG)]
    assert not signed_in(client)


def test_a_malformed_number_is_refused_on_the_phone_field(client):
    response = send(client, "12345")
    assert errors(response, "phone") == [
        gettext("Enter a mainland mobile number of 11 digits, e.g. 13812345678.")
    ]
    assert not SmsCode.objects.exists()


def test_repeated_wrong_codes_lock_out_even_the_right_code(client, volunteer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    send(client, volunteer.phone)
    code = sent_code(volunteer.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    code_login(client, volunteer.phone, wrong)
    code_login(client, volunteer.phone, wrong)
    response = code_login(client, volunteer.phone, wrong)  # the failure that reaches the limit
    assert response.status_code == 429
    response = code_login(client, volunteer.phone, code)
    minutes = settings.AXES_COOLOFF_TIME // datetime.timedelta(minutes=1)
    assert [str(e) for e in response.context["sms_form"].non_field_errors()] == [lockout_message(minutes)]
    assert not signed_in(client)
    assert SmsCode.objects.get().used_at is None
    # Another address is not locked.
    assert not errors(code_login(client, volunteer.phone, wrong, ip=ELSEWHERE), "__all__")


def test_a_password_lockout_locks_the_code_login(client, volunteer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    send(client, volunteer.phone)  # a code asked for before the lockout
    for _ in range(2):
        client.post(
            URL, {"method": "password", "phone": volunteer.phone, "password": "wrong"}, REMOTE_ADDR=HERE
        )
    response = code_login(client, volunteer.phone, sent_code(volunteer.phone))
    assert response.context["sms_form"].non_field_errors()
    assert not signed_in(client)


def test_the_password_tab_signs_in_through_authenticate(client, volunteer):
    response = client.post(
        URL, {"method": "password", "phone": volunteer.phone, "password": TEST_PASSWORD}, REMOTE_ADDR=HERE
    )
    assert response.status_code == 302 and response.url == reverse("volunteers:me")
    assert client.session["_auth_user_id"] == str(volunteer.user_id)


def test_a_wrong_password_is_refused_and_counted_then_locked(client, volunteer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    data = {"method": "password", "phone": volunteer.phone, "password": "not-the-password"}
    response = client.post(URL, data, REMOTE_ADDR=HERE)
    assert response.status_code == 200
    assert [str(e) for e in response.context["password_form"].non_field_errors()] == [
        gettext("The mobile number or the password is wrong.")
    ]
    client.post(URL, data, REMOTE_ADDR=HERE)
    assert client.post(URL, data, REMOTE_ADDR=HERE).status_code == 429
    # Locked: the right password is refused too.
    right = {**data, "password": TEST_PASSWORD}
    assert client.post(URL, right, REMOTE_ADDR=HERE).status_code == 429
    assert not signed_in(client)


def test_a_volunteer_registered_by_staff_has_no_password_and_uses_a_code(client, tree, people):
    volunteer = make_volunteer(tree.a1, "赵六", actor=people.inst_a)
    response = client.post(
        URL, {"method": "password", "phone": volunteer.phone, "password": ""}, REMOTE_ADDR=HERE
    )
    assert not signed_in(client) and response.status_code == 200
    send(client, volunteer.phone)
    assert code_login(client, volunteer.phone, sent_code(volunteer.phone)).status_code == 302


def test_the_login_page_has_both_tabs_and_works_without_script(client):
    page = client.get(URL).content.decode()
    assert 'id="tab-password"' in page and 'id="tab-sms"' in page and 'id="password-login"' in page
    page = client.get(URL + "?method=sms").content.decode()
    assert 'id="sms-login"' in page and 'name="action" value="send"' in page


def test_a_failed_delivery_saves_no_code(client, volunteer, monkeypatch):
    def refuse(**kwargs):
        raise sms.SmsDeliveryError("no balance")

    monkeypatch.setattr(sms, "send_sms", refuse)
    response = send(client, volunteer.phone)
    assert errors(response, "phone") == [gettext("The code could not be sent; try again in a few minutes.")]
    assert not SmsCode.objects.exists()


def test_a_locked_out_number_gets_no_code(client, volunteer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post(
            URL, {"method": "password", "phone": volunteer.phone, "password": "wrong"}, REMOTE_ADDR=HERE
        )
    response = send(client, volunteer.phone)
    minutes = settings.AXES_COOLOFF_TIME // datetime.timedelta(minutes=1)
    assert response.status_code == 200 and not response.context["code_sent"]
    assert errors(response, "phone") == [lockout_message(minutes)]
    assert not SmsCode.objects.exists() and sms.last_message(volunteer.phone) is None
    # The lock is of this number from this address only.
    assert send(client, volunteer.phone, ip=ELSEWHERE).context["code_sent"]


def test_clients_without_an_address_share_one_per_address_limit(client, tree, settings):
    settings.SMS_CODE_PER_IP_HOUR = 2
    phones = [make_volunteer(tree.a1, "王五").phone for _ in range(3)]
    assert send(client, phones[0], ip="").context["code_sent"]
    assert send(client, phones[1], ip="unknown").context["code_sent"]
    assert SmsCode.objects.filter(ip_address__isnull=True).count() == 2
    response = send(client, phones[2], ip="")
    assert errors(response, "phone") == [gettext(IP_HOUR)]
    assert not SmsCode.objects.filter(phone=phones[2]).exists() and sms.last_message(phones[2]) is None
    assert send(client, phones[2], ip=ELSEWHERE).context["code_sent"]
