"""Text messages (SMS): the one small interface a provider's adapter implements, and the backend in use.

The portal sends every message through `send_sms()`; settings.SMS_BACKEND (the `SMS_BACKEND` environment
variable) names the backend class. The default, `LoggingSmsBackend`, sends nothing: it writes the message to
the log, where a developer reads the code, and keeps it in `outbox`, where tests (a live-server browser test
too, as it runs in the same process) read it, as Django's tests read mail in `django.core.mail.outbox`.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from kernel.masking import mask_phone

logger = logging.getLogger("kernel.sms")


class SmsDeliveryError(Exception):
    """The provider refused the message or could not be reached; the message was not sent."""


class SmsBackend:
    """What a provider's adapter implements: a class with `send`, named by its dotted path in SMS_BACKEND.

    The portal makes one instance per process and calls `send` from web and worker processes alike, so an
    adapter reads its own settings (account, key, signature, template ids) in `__init__` and holds no state
    of one message between calls.
    """

    def send(self, *, phone: str, text: str, purpose: str) -> None:
        """Send `text` to the mainland mobile number `phone`, or raise SmsDeliveryError.

        `purpose` names why the message goes out ("login_code", later reminders): providers in China tie
        each kind of message to a template approved in advance, and an adapter picks the template by it.
        Return only when the provider has accepted the message; raise SmsDeliveryError, with the provider's
        reason, when it refuses (a bad number, a blocked template, no balance) or cannot be reached.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    purpose: str
    sent_at: datetime


# The messages LoggingSmsBackend "sent" in this process, oldest first; the tests empty it before each test.
outbox: deque[SmsMessage] = deque(maxlen=1000)  # bounded: a long-running process keeps only the latest


class LoggingSmsBackend(SmsBackend):
    """The default, for development and tests: the message goes to the log and to `outbox`, not to a phone."""

    def send(self, *, phone: str, text: str, purpose: str) -> None:
        outbox.append(SmsMessage(phone=phone, text=text, purpose=purpose, sent_at=timezone.now()))
        if settings.DEBUG:
            logger.info("SMS (%s) to %s: %s", purpose, mask_phone(phone), text)
        else:
            # A login code in a production log would let whoever reads the log sign in as the volunteer.
            logger.warning(
                "SMS (%s) to %s not sent and its text withheld: SMS_BACKEND is the logging backend; "
                "name a provider's adapter",
                purpose,
                mask_phone(phone),
            )


def last_message(phone: str) -> SmsMessage | None:
    """The latest message in `outbox` for `phone`, or None."""
    for message in reversed(outbox):
        if message.phone == phone:
            return message
    return None


@functools.cache
def _backend(path: str) -> SmsBackend:
    try:
        backend_class = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"SMS_BACKEND={path!r} cannot be imported ({error}): give the dotted path of an SmsBackend "
            "class, e.g. kernel.sms.LoggingSmsBackend."
        ) from error
    if not (isinstance(backend_class, type) and issubclass(backend_class, SmsBackend)):
        raise ImproperlyConfigured(
            f"SMS_BACKEND={path!r} is not an SmsBackend class: an adapter subclasses kernel.sms.SmsBackend "
            "and implements send()."
        )
    return backend_class()


def get_backend() -> SmsBackend:
    """The backend settings name (checked, and made, at the first message)."""
    return _backend(settings.SMS_BACKEND)


def send_sms(*, phone: str, text: str, purpose: str) -> None:
    """Send one text message through the configured backend; SmsDeliveryError when the provider refuses."""
    get_backend().send(phone=phone, text=text, purpose=purpose)
