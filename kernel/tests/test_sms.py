"""The SMS backend: the logging default (log line and outbox), the backend settings name, and its refusals."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from kernel import sms
from kernel.sms import (
    LoggingSmsBackend,
    SmsBackend,
    SmsDeliveryError,
    SmsMessage,
    get_backend,
    last_message,
    send_sms,
)

PHONE = "13812345678"
OTHER_PHONE = "13987654321"


class RefusingBackend(SmsBackend):
    """An adapter whose provider refuses every message."""

    def send(self, *, phone, text, purpose):
        raise SmsDeliveryError("the template is not approved")


def test_the_default_backend_is_the_logging_one(settings):
    assert settings.SMS_BACKEND == "kernel.sms.LoggingSmsBackend"
    assert isinstance(get_backend(), LoggingSmsBackend)


def test_the_logging_backend_logs_the_text_with_the_phone_masked_in_development(caplog, settings):
    settings.DEBUG = True
    with caplog.at_level(logging.INFO, logger="kernel.sms"):
        send_sms(phone=PHONE, text="验证码 482916，5分钟内有效。", purpose="login_code")
    [record] = [record for record in caplog.records if record.name == "kernel.sms"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "SMS (login_code) to 138****5678: 验证码 482916，5分钟内有效。"
    assert PHONE not in caplog.text


def test_outside_development_the_logging_backend_withholds_the_text(caplog, settings):
    # A login code in a production log would let whoever reads the log sign in as the volunteer.
    settings.DEBUG = False
    with caplog.at_level(logging.INFO, logger="kernel.sms"):
        send_sms(phone=PHONE, text="验证码 482916，5分钟内有效。", purpose="login_code")
    [record] = [record for record in caplog.records if record.name == "kernel.sms"]
    assert record.levelno == logging.WARNING
    assert "482916" not in caplog.text and "SMS_BACKEND" in record.getMessage()


def test_the_outbox_keeps_every_message_and_the_latest_for_a_phone():
    assert list(sms.outbox) == []  # emptied before each test
    send_sms(phone=PHONE, text="first 111111", purpose="login_code")
    send_sms(phone=OTHER_PHONE, text="other 222222", purpose="login_code")
    send_sms(phone=PHONE, text="second 333333", purpose="reminder")
    assert [message.text for message in sms.outbox] == ["first 111111", "other 222222", "second 333333"]
    latest = last_message(PHONE)
    assert isinstance(latest, SmsMessage)
    assert (latest.phone, latest.text, latest.purpose) == (PHONE, "second 333333", "reminder")
    assert latest.sent_at >= sms.outbox[0].sent_at and latest.sent_at.tzinfo is not None
    assert last_message(OTHER_PHONE).text == "other 222222"
    assert last_message("13700000000") is None


def test_the_outbox_starts_empty_in_the_next_test_too():
    assert list(sms.outbox) == [] and last_message(PHONE) is None


def test_settings_choose_the_backend_and_a_refusal_reaches_the_caller(settings):
    settings.SMS_BACKEND = f"{__name__}.RefusingBackend"
    assert isinstance(get_backend(), RefusingBackend)
    with pytest.raises(SmsDeliveryError, match="the template is not approved"):
        send_sms(phone=PHONE, text="code 123456", purpose="login_code")
    assert list(sms.outbox) == []


@pytest.mark.parametrize(
    "path, says",
    [
        ("kernel.sms.NoSuchBackend", "cannot be imported"),
        ("no_such_module.Backend", "cannot be imported"),
        ("not-a-dotted-path", "cannot be imported"),
        ("kernel.sms.SmsMessage", "is not an SmsBackend class"),
        ("kernel.sms.send_sms", "is not an SmsBackend class"),
    ],
)
def test_a_bad_backend_path_is_improperly_configured_at_the_first_message(settings, path, says):
    settings.SMS_BACKEND = path
    with pytest.raises(ImproperlyConfigured) as refused:
        send_sms(phone=PHONE, text="code 123456", purpose="login_code")
    assert str(refused.value).startswith(f"SMS_BACKEND={path!r} {says}")
    assert "kernel.sms" in str(refused.value)
    assert list(sms.outbox) == []


def test_the_interface_itself_sends_nothing():
    with pytest.raises(NotImplementedError):
        SmsBackend().send(phone=PHONE, text="x", purpose="login_code")
