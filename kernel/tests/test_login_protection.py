"""Login protection: the lockout after repeated failures (admin login and API token), its end, the unlock,
and "forgot password" by mailed link."""

import datetime
import os
import re
import subprocess
import sys

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from kernel.auth import lockout_message, login_unlock
from stations.tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

HERE = "192.0.2.10"
ELSEWHERE = "192.0.2.20"
TOKEN_URL = "/api/v1/auth/token/"
WRONG = "not-the-password"


def admin_login(client, username, password, ip=HERE, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        **extra,
    )


def token_login(api_client, username, password, ip=HERE, **extra):
    return api_client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **extra
    )


def chinese(msgid: str) -> str:
    """The message as the catalogue (ours, or Django's and DRF's) has it in Chinese."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert re.search("[\u4e00-\u9fff]", text), f"no Chinese for {msgid!r}"
    return text


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == "/admin/"


def expected_lockout_message() -> str:
    with translation.override("zh-hans"):
        message = lockout_message(settings.AXES_COOLOFF_TIME // datetime.timedelta(minutes=1))
    assert re.search("[\u4e00-\u9fff]", message), "the lockout message has no Chinese in the catalogue"
    return message


def assert_locked_page(response):
    assert response.status_code == 429
    assert escape(expected_lockout_message()) in response.content.decode()
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "_auth_user_id" not in response.wsgi_request.session


def lock_admin(client, username, ip=HERE, times=30):
    for _ in range(times):
        admin_login(client, username, WRONG, ip=ip)


@pytest.fixture
def staff(db):
    return make_user("clerk", is_staff=True, email="clerk@example.org")


@pytest.fixture
def root(db):
    return make_user("root", is_staff=True, is_superuser=True)


# --- the admin login ---------------------------------------------------------------------------------


def test_the_defaults_come_from_the_environment_variables():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "kernel.auth.LoginLockoutBackend"
    if "LOGIN_FAILURE_LIMIT" not in os.environ:
        assert settings.AXES_FAILURE_LIMIT == 10
    if "LOGIN_LOCKOUT_MINUTES" not in os.environ:
        assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert settings.AXES_IPWARE_META_PRECEDENCE_ORDER == ("REMOTE_ADDR",)


def test_wrong_passwords_lock_the_admin_login_even_for_the_right_one(client, staff):
    first = admin_login(client, "clerk", WRONG)
    assert first.status_code == 200 and "_auth_user_id" not in client.session
    lock_admin(client, "clerk", times=29)
    assert_locked_page(admin_login(client, "clerk", TEST_PASSWORD))
    attempt = AccessAttempt.objects.get(username="clerk")
    assert (attempt.ip_address, attempt.path_info) == (HERE, "/admin/login/")
    assert attempt.failures_since_start >= 30
    assert AccessFailureLog.objects.filter(username="clerk", locked_out=True).exists()


def test_the_lockout_page_is_an_admin_page_with_a_way_on(client, staff):
    lock_admin(client, "clerk", times=settings.AXES_FAILURE_LIMIT)
    response = admin_login(client, "clerk", TEST_PASSWORD)
    assert_locked_page(response)
    page = response.content.decode()
    assert f'href="{reverse("admin:login")}"' in page
    assert f'href="{reverse("admin_password_reset")}"' in page


def test_fewer_failures_than_the_limit_and_then_success_start_the_count_again(client, staff):
    lock_admin(client, "clerk", times=settings.AXES_FAILURE_LIMIT - 1)
    assert logged_in(admin_login(client, "clerk", TEST_PASSWORD))
    assert not AccessAttempt.objects.filter(username="clerk").exists()
    assert AccessLog.objects.filter(username="clerk", ip_address=HERE).exists()


def test_another_address_or_another_account_is_not_locked(client, staff):
    make_user("colleague", is_staff=True)
    lock_admin(client, "clerk")
    assert_locked_page(admin_login(client, "clerk", TEST_PASSWORD))
    assert logged_in(admin_login(client, "colleague", TEST_PASSWORD))
    client.logout()
    assert logged_in(admin_login(client, "clerk", TEST_PASSWORD, ip=ELSEWHERE))


def test_a_forged_forwarded_header_does_not_dodge_the_lockout(client, staff):
    lock_admin(client, "clerk")
    response = admin_login(client, "clerk", TEST_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert_locked_page(response)


def test_behind_a_proxy_the_client_is_read_from_the_right_of_the_forwarded_header(client, staff, settings):
    # What settings.py sets for LOGIN_PROXY_COUNT=1 (checked below): one nginx appending the client.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.IPWARE_STRICT = False
    proxy, client_ip = "10.0.0.2", "203.0.113.5"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "clerk", WRONG, ip=proxy, HTTP_X_FORWARDED_FOR=client_ip)
    assert AccessAttempt.objects.get(username="clerk").ip_address == client_ip
    # The client writing an address of its own in front changes nothing: the proxy's is still last.
    forged = f"198.51.100.77, {client_ip}"
    assert_locked_page(admin_login(client, "clerk", TEST_PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=forged))
    # Another visitor behind the same proxy is not locked out.
    assert logged_in(
        admin_login(client, "clerk", TEST_PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
    )


def test_login_proxy_count_sets_the_client_address_rule(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_IPWARE_META_PRECEDENCE_ORDER, s.AXES_IPWARE_PROXY_COUNT, s.IPWARE_STRICT)"
    )
    env = {**os.environ, "LOGIN_PROXY_COUNT": "2", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    env["DJANGO_SETTINGS_MODULE"] = "practice_center.settings"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR') 1 False"


# --- the end of a lockout ----------------------------------------------------------------------------


def test_the_lockout_ends_after_the_cool_off(client, staff):
    lock_admin(client, "clerk")
    assert_locked_page(admin_login(client, "clerk", TEST_PASSWORD))
    AccessAttempt.objects.filter(username="clerk").update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - settings.AXES_COOLOFF_TIME
        - datetime.timedelta(seconds=1)
    )
    assert logged_in(admin_login(client, "clerk", TEST_PASSWORD))


def test_login_unlock_ends_the_lockout_from_every_address(client, staff):
    lock_admin(client, "clerk", ip=HERE)
    lock_admin(client, "clerk", ip=ELSEWHERE, times=settings.AXES_FAILURE_LIMIT)
    make_user("colleague")
    lock_admin(client, "colleague", times=settings.AXES_FAILURE_LIMIT)
    assert login_unlock(username="clerk") == 2
    assert logged_in(admin_login(client, "clerk", TEST_PASSWORD))
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["colleague"]
    assert login_unlock(username="nobody-such") == 0


def test_a_system_administrator_unlocks_by_deleting_the_attempt(client, staff, root):
    lock_admin(client, "clerk")
    attempt = AccessAttempt.objects.get(username="clerk")
    admin_client = type(client)()
    admin_client.force_login(root)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listed = admin_client.get(changelist)
    assert listed.status_code == 200 and "clerk" in listed.content.decode()
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert logged_in(admin_login(client, "clerk", TEST_PASSWORD))
    # The records are the login's own: nobody edits or adds them, nor deletes the logs.
    assert admin_client.get(reverse("admin:axes_accessattempt_add")).status_code == 403
    log = AccessFailureLog.objects.filter(username="clerk").first()
    assert admin_client.post(reverse("admin:axes_accessfailurelog_delete", args=[log.pk])).status_code == 403


@pytest.mark.parametrize("who", ["county", "inst_a", "station_a1"])
def test_scoped_staff_cannot_see_or_delete_lockouts(client, people, staff, who):
    lock_admin(type(client)(), "clerk", times=settings.AXES_FAILURE_LIMIT)
    attempt = AccessAttempt.objects.get(username="clerk")
    user = getattr(people, who)
    assert user.is_staff and not user.is_superuser
    client.force_login(user)
    for model in ("accessattempt", "accesslog", "accessfailurelog"):
        assert client.get(reverse(f"admin:axes_{model}_changelist")).status_code == 403, model
    assert client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk])).status_code == 403
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert "axes" not in client.get(reverse("admin:index")).content.decode().lower()


# --- the API token -----------------------------------------------------------------------------------


def test_the_right_credentials_get_the_accounts_token(api_client, staff):
    response = token_login(api_client, "clerk", TEST_PASSWORD)
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=staff).key}
    # The same key again, and it opens the API.
    assert token_login(api_client, "clerk", TEST_PASSWORD).json() == response.json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get("/api/v1/units/").status_code == 200


def test_wrong_or_missing_credentials_are_a_chinese_400(api_client, staff):
    response = token_login(api_client, "clerk", WRONG)
    assert response.status_code == 400
    message = chinese("Unable to log in with provided credentials.")
    assert response.json() == {"non_field_errors": [message]}
    assert token_login(api_client, "no-such-user", WRONG).json() == response.json()
    missing = api_client.post(TOKEN_URL, {"username": "clerk"}, format="json", REMOTE_ADDR=HERE)
    assert missing.status_code == 400
    assert missing.json() == {"password": [chinese("This field is required.")]}
    broken = api_client.post(TOKEN_URL, "{", content_type="application/json", REMOTE_ADDR=HERE)
    assert broken.status_code == 400 and "detail" in broken.json()
    assert api_client.get(TOKEN_URL).status_code == 405


def test_token_failures_are_counted_and_lock_even_the_right_password(api_client, staff):
    for _ in range(3):
        token_login(api_client, "clerk", WRONG)
    attempt = AccessAttempt.objects.get(username="clerk")
    assert (attempt.failures_since_start, attempt.ip_address, attempt.path_info) == (3, HERE, TOKEN_URL)
    for _ in range(27):
        token_login(api_client, "clerk", WRONG)
    response = token_login(api_client, "clerk", TEST_PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"detail": expected_lockout_message()}
    assert not Token.objects.filter(user=staff).exists()
    # The pair is locked on the admin login too, and another address is not.
    assert_locked_page(admin_login(type(api_client)(), "clerk", TEST_PASSWORD))
    assert token_login(api_client, "clerk", TEST_PASSWORD, ip=ELSEWHERE).status_code == 200


def test_an_inactive_account_gets_no_token(api_client, staff):
    get_user_model().objects.filter(pk=staff.pk).update(is_active=False)
    assert token_login(api_client, "clerk", TEST_PASSWORD).status_code == 400


def test_the_schema_documents_the_token_answers(client, api_client, staff):
    from jsonschema import Draft7Validator

    openapi = client.get("/api/schema/", {"format": "json"}).json()
    operation = openapi["paths"][TOKEN_URL]["post"]
    # Nothing to sign in with: the operation asks for no credentials.
    assert operation.get("security", []) in ([], [{}]) and "security" not in openapi
    components = openapi["components"]

    def check(status, body):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        errors = list(Draft7Validator({"components": components, **schema}).iter_errors(body))
        assert not errors, (status, errors)

    check("200", token_login(api_client, "clerk", TEST_PASSWORD).json())
    check("400", token_login(api_client, "clerk", WRONG).json())
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api_client, "clerk", WRONG)
    check("429", token_login(api_client, "clerk", TEST_PASSWORD).json())


# --- forgot password ---------------------------------------------------------------------------------


def test_the_admin_login_page_links_to_password_reset(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert f'href="{reverse("admin_password_reset")}"' in page


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/admin/password_reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, staff, mailoutbox):
    lock_admin(client, "clerk", times=settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("admin_password_reset"), {"email": "CLERK@example.org"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["clerk@example.org"]
    link = reset_link(mailoutbox[0])
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    new_password = "a-new-secret-2026"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    assert client.get(done.url).status_code == 200
    # The link is spent, the new password opens the admin, and the lockout of this address is over.
    assert client.get(link, follow=True).context["validlink"] is False
    assert admin_login(client, "clerk", TEST_PASSWORD).status_code == 200  # the form again: wrong
    assert logged_in(admin_login(client, "clerk", new_password))


def page_text(response) -> str:
    """The page without its per-session CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.mark.parametrize("case", ["unknown address", "inactive account", "no usable password"])
def test_password_reset_sends_nothing_otherwise_and_says_the_same(client, staff, mailoutbox, case):
    email = "clerk@example.org"
    if case == "unknown address":
        email = "nobody@example.org"
    elif case == "inactive account":
        get_user_model().objects.filter(pk=staff.pk).update(is_active=False)
    else:
        staff.set_unusable_password()
        staff.save()
    # The answer for an address that does get a mail, to compare with.
    make_user("mailme", email="mailme@example.org")
    known = type(client)()
    known_response = known.post(reverse("admin_password_reset"), {"email": "mailme@example.org"})
    assert [message.to for message in mailoutbox] == [["mailme@example.org"]]
    response = client.post(reverse("admin_password_reset"), {"email": email})
    assert (response.status_code, response.url) == (known_response.status_code, known_response.url)
    assert len(mailoutbox) == 1
    assert page_text(client.get(response.url)) == page_text(known.get(known_response.url))


def test_password_reset_pages_are_admin_pages(client):
    page = client.get(reverse("admin_password_reset"))
    assert page.status_code == 200
    assert page.context["site_title"] and 'name="email"' in page.content.decode()
    assert 'id="nav-sidebar"' not in page.content.decode()
    invalid = client.get(reverse("password_reset_confirm", args=["MQ", "not-a-token"]))
    assert invalid.status_code == 200 and invalid.context["validlink"] is False


# --- in the browser ----------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_locked_out_clerk_reads_why_and_finds_the_way_on(page, live_server, settings, output_path):
    make_user("clerk", is_staff=True, email="clerk@example.org")
    settings.AXES_FAILURE_LIMIT = 2  # the rule is the same at any limit; two keeps the test short
    for password in (WRONG, WRONG, TEST_PASSWORD):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "clerk")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
    page.screenshot(path=f"{output_path}/login-locked.png", full_page=True)
    assert page.locator(".errornote").inner_text() == expected_lockout_message()
    page.click(f'a[href="{reverse("admin_password_reset")}"]')
    page.fill("#id_email", "clerk@example.org")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{reverse('password_reset_done')}")
    page.screenshot(path=f"{output_path}/password-reset-done.png", full_page=True)


def test_the_admin_who_manages_an_account_lifts_its_lockout(client, tree, people):
    from django.test import Client

    from stations.tests.factories import TEST_PASSWORD

    lock_admin(client, "station_a1")
    assert not logged_in(admin_login(client, "station_a1", TEST_PASSWORD))
    changelist = reverse("admin:auth_user_changelist")
    action = {"action": "unlock_accounts", "_selected_action": [people.station_a1.pk]}
    # Another township's admin does not manage the account: the action finds nothing to unlock.
    other = Client()
    other.force_login(people.inst_b)
    other.post(changelist, action)
    assert not logged_in(admin_login(client, "station_a1", TEST_PASSWORD))
    manager = Client()
    manager.force_login(people.inst_a)
    assert manager.post(changelist, action).status_code == 302
    assert logged_in(admin_login(Client(), "station_a1", TEST_PASSWORD))


# --- logins without a password (an SMS code) ---------------------------------------------------------

PHONE = "13812345678"
SMS_LOGIN_URL = "/accounts/login/sms/"


def code_request(phone=PHONE, ip=HERE, code="000000"):
    """A code login as the page posts it; each try is a request of its own, as in the browser."""
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().post(SMS_LOGIN_URL, {"phone": phone, "code": code}, REMOTE_ADDR=ip)
    SessionMiddleware(lambda request: None).process_request(request)
    return request


def test_code_failures_lock_the_pair_at_the_limit():
    from kernel.auth import login_failed, login_is_locked

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        request = code_request()
        assert not login_is_locked(request, PHONE)
        login_failed(request, PHONE)
        assert not request.axes_locked_out
    attempt = AccessAttempt.objects.get(username=PHONE)
    assert (attempt.ip_address, attempt.path_info) == (HERE, SMS_LOGIN_URL)
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT - 1
    last = code_request()
    assert not login_is_locked(last, PHONE)
    login_failed(last, PHONE)
    # The failure that reaches the limit marks its request: axes' middleware answers it with the lockout.
    assert last.axes_locked_out is True
    assert login_is_locked(code_request(), PHONE)
    assert AccessFailureLog.objects.filter(username=PHONE, locked_out=True).count() == 1
    # Only that pair: another address, another phone are free.
    assert not login_is_locked(code_request(ip=ELSEWHERE), PHONE)
    assert not login_is_locked(code_request(phone="13987654321"), "13987654321")


def test_the_attempt_record_keeps_no_phone_or_code_from_the_form():
    from kernel.auth import login_failed

    login_failed(code_request(code="482916"), PHONE)
    post_data = AccessAttempt.objects.get(username=PHONE).post_data
    assert "phone=" in post_data and "code=" in post_data
    assert PHONE not in post_data and "482916" not in post_data


def test_code_failures_and_password_failures_count_together(client):
    from kernel.auth import login_failed, login_is_locked

    make_user(PHONE, is_staff=True)
    lock_admin(client, PHONE, times=settings.AXES_FAILURE_LIMIT - 1)
    login_failed(code_request(), PHONE)
    assert login_is_locked(code_request(), PHONE)
    # Locked by codes, the right password is refused too.
    assert_locked_page(admin_login(client, PHONE, TEST_PASSWORD))


def test_a_lockout_from_password_failures_locks_the_code_login(client, staff):
    from kernel.auth import login_is_locked

    lock_admin(client, "clerk", times=settings.AXES_FAILURE_LIMIT)
    assert login_is_locked(code_request(phone="clerk"), "clerk")
    assert not login_is_locked(code_request(phone="clerk", ip=ELSEWHERE), "clerk")


def test_a_code_lockout_ends_after_the_cool_off_and_with_the_unlock():
    from kernel.auth import login_failed, login_is_locked

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_failed(code_request(), PHONE)
    assert login_is_locked(code_request(), PHONE)
    AccessAttempt.objects.filter(username=PHONE).update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - settings.AXES_COOLOFF_TIME
        - datetime.timedelta(seconds=1)
    )
    assert not login_is_locked(code_request(), PHONE)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_failed(code_request(), PHONE)
    assert login_is_locked(code_request(), PHONE)
    assert login_unlock(username=PHONE) == 1
    assert not login_is_locked(code_request(), PHONE)


def test_a_code_login_signs_in_and_forgets_the_failures():
    from kernel.auth import login_failed, login_succeeded

    user = make_user(PHONE)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login_failed(code_request(), PHONE)
    request = code_request()
    login_succeeded(request, user)
    assert request.session["_auth_user_id"] == str(user.pk)
    assert request.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert not AccessAttempt.objects.filter(username=PHONE).exists()
    assert AccessLog.objects.filter(username=PHONE, ip_address=HERE, path_info=SMS_LOGIN_URL).exists()


def test_with_axes_off_nothing_is_locked(settings):
    from kernel.auth import login_failed, login_is_locked

    settings.AXES_ENABLED = False
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_failed(code_request(), PHONE)
    assert not AccessAttempt.objects.exists()
    assert not login_is_locked(code_request(), PHONE)
