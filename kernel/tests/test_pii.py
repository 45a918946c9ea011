"""Personal data never reaches the logs or the error reports: the scrub, the log records of every handler
(a real Celery worker's included), and the 500 mail and debug page."""

import io
import logging
import os
import subprocess
import sys
import timeit
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.utils.log import AdminEmailHandler
from django.views.debug import technical_500_response

from kernel.pii import (
    PiiExceptionReporter,
    PiiExceptionReporterFilter,
    ScrubbingLogRecord,
    install_log_record_factory,
    scrub,
)

ID_NUMBER = "350121199003071234"  # clearly fake: the check digit is not computed
ID_NUMBER_X = "35012119900307123X"
OLD_ID_NUMBER = "350121900307123"
PHONE = "13812345678"
GUARDIAN_PHONE = "15987654321"
SMS_CODE = "482916"
PASSWORD = "s3cret-pass"
SECRETS = (ID_NUMBER, ID_NUMBER_X, ID_NUMBER_X.lower(), OLD_ID_NUMBER, PHONE, GUARDIAN_PHONE)
CELERY = Path(sys.executable).with_name("celery")


def assert_clean(text: str):
    for secret in SECRETS:
        assert secret not in text, secret


# --- the scrub ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (ID_NUMBER, "3501**********1234"),
        (ID_NUMBER_X, "3501**********123X"),
        (ID_NUMBER_X.lower(), "3501**********123x"),
        (OLD_ID_NUMBER, "3501*******7123"),
        (PHONE, "138****5678"),
        (f"+86{PHONE}", "+86138****5678"),
        (f"+86 {PHONE}", "+86 138****5678"),
        (f"86{PHONE}", "86138****5678"),
        (f"id={ID_NUMBER}&phone={PHONE}", "id=3501**********1234&phone=138****5678"),
        (f"身份证{ID_NUMBER}，手机{PHONE}。", "身份证3501**********1234，手机138****5678。"),
        (f"user{PHONE}", "user138****5678"),
    ],
)
def test_id_numbers_and_phones_are_masked(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "no digits at all, long enough to be looked at",
        "12812345678",  # 11 digits, but no mobile starts with 12
        "2" + PHONE,  # a phone's digits inside a longer number
        PHONE + "9",
        "1234567890123456",  # 16 digits: neither kind
        "12345678901234567890",  # 20 digits: neither kind
        "1381234567",  # 10 digits
        "GET /admin/ 200 15321 in 0.53 s",
        "138-1234",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert scrub(text) == text


def test_the_scrub_is_cheap_for_text_without_a_long_run_of_digits():
    plain = "GET /admin/stations/unit/42/change/ HTTP/1.1 200 15321 in 0.53 s from clerk at the office"
    with_phone = plain + " " + PHONE
    # Relative, measured in the same run: the quick checks beat running the pattern by a wide margin.
    cheap = min(timeit.repeat(lambda: scrub(plain), number=2000, repeat=5))
    full = min(timeit.repeat(lambda: scrub(with_phone), number=2000, repeat=5))
    assert cheap * 2 < full


# --- log records, whichever handler ------------------------------------------------------------------


def test_the_kernel_installed_the_factory_once_for_the_whole_process():
    factory = logging.getLogRecordFactory()
    assert getattr(factory, "scrubs_personal_data", False)
    install_log_record_factory()  # a second call changes nothing
    assert logging.getLogRecordFactory() is factory
    assert isinstance(
        logging.getLogger("anything").makeRecord("x", 20, "f", 1, "m", (), None), ScrubbingLogRecord
    )


def test_a_message_and_its_arguments_reach_caplog_masked(caplog):
    logger = logging.getLogger("volunteers.registration")
    with caplog.at_level(logging.INFO):
        logger.info("registered %s with phone %s", ID_NUMBER, PHONE)
        logger.warning(f"inline: {OLD_ID_NUMBER}")
    assert caplog.messages == [
        "registered 3501**********1234 with phone 138****5678",
        "inline: 3501*******7123",
    ]
    assert_clean(caplog.text)


def test_an_exception_text_reaches_a_plain_handler_masked():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("kernel.tests.pii")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            phone, id_number = PHONE, ID_NUMBER  # noqa: F841 (in the traceback's frame)
            raise ValueError(f"duplicate ID {ID_NUMBER} for {PHONE}")
        except ValueError:
            logger.exception("registration of %s failed", GUARDIAN_PHONE)
        logger.error("stack", stack_info=True, extra={"note": "x"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    assert "ERROR registration of 159****4321 failed" in text
    assert "ValueError: duplicate ID 3501**********1234 for 138****5678" in text
    assert_clean(text)


def test_a_factory_set_by_another_library_keeps_making_the_records():
    class OtherRecord(logging.LogRecord):
        made_by_other = True

    saved = logging.getLogRecordFactory()
    logging.setLogRecordFactory(OtherRecord)
    try:
        install_log_record_factory()
        record = logging.getLogger("x").makeRecord("x", 20, "f", 1, "phone %s", (PHONE,), None)
        assert record.made_by_other and record.getMessage() == "phone 138****5678"
    finally:
        logging.setLogRecordFactory(saved)


def test_a_celery_worker_logs_through_the_same_factory(tmp_path):
    """A real worker process: its task's log line and the traceback of its failure come out masked."""
    queue = f"test-pii-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                *(str(CELERY), "-A", "practice_center", "worker", "--pool=solo", "-Q", queue),
                *("--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"),
                *("--include", "kernel.tests.pii_tasks"),
            ],
            cwd=settings.BASE_DIR,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        from kernel.tests.pii_tasks import log_personal_data

        result = log_personal_data.apply_async(args=[ID_NUMBER, PHONE], queue=queue)
        with pytest.raises(ValueError):
            result.get(timeout=60, propagate=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    text = log.read_text()
    assert "ready" in text, text[-2000:]
    assert "registering 3501**********1234 with 138****5678" in text, text[-3000:]
    assert "Traceback" in text and "3501**********1234 is already registered" in text, text[-3000:]
    assert_clean(text)


# --- error reports -----------------------------------------------------------------------------------


def failing_request():
    request = RequestFactory().post(
        f"/volunteers/register/?phone={PHONE}",
        {
            "name": "张三",
            "id_number": ID_NUMBER,
            "phone": PHONE,
            "guardian_phone": GUARDIAN_PHONE,
            "code": SMS_CODE,
            "password": PASSWORD,
            "note": f"call {PHONE}",
        },
    )
    return request


def raise_with_personal_data(request):
    id_number, contact = ID_NUMBER, f"mobile {PHONE}"  # noqa: F841 (frame variables of the report)
    sms_code = SMS_CODE  # noqa: F841
    raise RuntimeError(f"cannot save {ID_NUMBER}")


def exc_info_of(request):
    try:
        raise_with_personal_data(request)
    except RuntimeError:
        return sys.exc_info()


def test_settings_name_the_reporter_and_its_filter():
    assert settings.DEFAULT_EXCEPTION_REPORTER == "kernel.pii.PiiExceptionReporter"
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "kernel.pii.PiiExceptionReporterFilter"


def test_the_filter_blanks_personal_fields_and_masks_other_values():
    request = failing_request()
    post = PiiExceptionReporterFilter().get_post_parameters(request)
    stars = PiiExceptionReporterFilter.cleansed_substitute
    for name in ("id_number", "phone", "guardian_phone", "code", "password"):
        assert post[name] == stars, name
    assert post["name"] == "张三"
    assert post["note"] == "call 138****5678"
    assert request.POST["phone"] == PHONE  # the request itself is untouched


@pytest.mark.parametrize("debug", [False, True])
def test_the_debug_page_and_its_text_hold_no_personal_data(settings, debug):
    settings.DEBUG = debug
    request = failing_request()
    exc_info = exc_info_of(request)
    reporter = PiiExceptionReporter(request, *exc_info)
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    for report in (html, text):
        assert_clean(report)
        assert SMS_CODE not in report
        assert "3501**********1234" in report  # the exception's message, masked, still says what failed
    assert PASSWORD not in html
    # Frames are numbered, so no memory address is mistaken for an old ID number.
    assert 'id="v0"' in html or 'id="v1"' in html
    page = technical_500_response(request, *exc_info)
    assert page.status_code == 500
    assert_clean(page.content.decode())


def test_the_500_mail_to_the_admins_holds_no_personal_data(settings):
    settings.ADMINS = [("Admin", "admin@example.org")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = failing_request()
    exc_info = exc_info_of(request)
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("kernel.tests.pii.mail")
    record = logger.makeRecord(
        logger.name,
        logging.ERROR,
        __file__,
        1,
        "Internal Server Error: %s",
        (request.get_full_path(),),
        exc_info,
        extra={"request": request, "status_code": 500},
    )
    handler.emit(record)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "138****5678" in message.subject
    html = message.alternatives[0][0]
    for part in (message.subject, message.body, html):
        assert_clean(part)
        assert SMS_CODE not in part


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("tel 138-0013-8000", "tel 138****8000"),
        ("tel 138 0013 8000", "tel 138****8000"),
        ("id 3507 2119 9005 0312 38", "id 3507**********1238"),
        ("id 350721-19900503-1238", "id 3507**********1238"),
    ],
)
def test_numbers_typed_in_groups_are_masked_too(typed, masked):
    assert scrub(typed) == masked


def test_dates_and_times_keep_their_digits():
    assert scrub("at 2026-12-02 09:45:12") == "at 2026-12-02 09:45:12"
