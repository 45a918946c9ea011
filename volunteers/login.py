"""Volunteers' login by mobile number and a one-time SMS code (验证码).

A code is 6 digits from `secrets`, kept only as a keyed hash (HMAC with SECRET_KEY: without the key a
stolen table gives no code), valid for settings.SMS_CODE_MINUTES and spent by its first right use. Codes
are rate-limited per phone and per client address. A number with no volunteer gets the same answer, and
the same limits, as a known one, but no message: the page tells nobody who is registered.

Every wrong, expired or spent code counts as a failed login for the lockout (kernel.auth), together with
wrong passwords; a locked (phone, address) pair is refused whatever the code.
"""

from __future__ import annotations

import datetime
import logging
import re
import secrets

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from kernel import sms
from kernel.auth import lockout_message, lockout_minutes, login_failed, login_is_locked, login_succeeded
from kernel.errors import ApplicationError
from kernel.locks import lock_keys

from .models import SmsCode, Volunteer
from .services import check_mobile

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
SMS_CODE_INTERVAL_SECONDS = 60  # one phone waits this long between two codes
MAX_WRONG_ATTEMPTS = 5  # then the code is dead, even if the right one follows
_CODE = re.compile(r"^\d{6}$")


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac("volunteers.sms_code", f"{phone}:{code}", algorithm="sha256").hexdigest()


def _client_ip(request) -> str | None:
    return get_client_ip_address(request) or None


def _account_of(phone: str):
    """The active account of the volunteer with this phone, or None."""
    volunteer = Volunteer.objects.filter(phone=phone).select_related("user").first()
    if volunteer is None or volunteer.user is None or not volunteer.user.is_active:
        return None
    return volunteer.user


def code_sent_message() -> str:
    # The same words whether or not the number is registered.
    return _("If this number is registered, a code is on its way. It is valid for %(minutes)d minutes.") % {
        "minutes": settings.SMS_CODE_MINUTES
    }


@transaction.atomic
def sms_code_send(*, request, phone: str) -> str:
    """Make a login code for `phone` and text it, if a volunteer has the number; the answer to show.

    Refused (field "phone") when the number is malformed, locked out (kernel.auth) from this client, or
    asked too often, or its client asked for too many codes; a refusal saves and sends nothing."""
    phone = check_mobile(phone)
    if login_is_locked(request, phone):
        # Locked out: no code either, whatever the limits below would say.
        raise ApplicationError(lockout_message(lockout_minutes(request)), field="phone")
    ip_address = _client_ip(request)
    # Two requests at once must not both pass the limits below.
    lock_keys(f"sms_code:phone:{phone}", f"sms_code:ip:{ip_address or '-'}")
    now = timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    recent = SmsCode.objects.filter(phone=phone, purpose=SmsCode.Purpose.LOGIN, created_at__gte=hour_ago)
    if recent.filter(created_at__gte=now - datetime.timedelta(seconds=SMS_CODE_INTERVAL_SECONDS)).exists():
        raise ApplicationError(
            _("A code was sent a moment ago; wait a minute before asking again."), field="phone"
        )
    if recent.count() >= settings.SMS_CODE_PER_PHONE_HOUR:
        raise ApplicationError(
            _("Too many codes were asked for this number; try again in an hour."), field="phone"
        )
    # Clients whose address is unknown share one count, as they share one lock above.
    same_client = {"ip_address": ip_address} if ip_address else {"ip_address__isnull": True}
    if (
        SmsCode.objects.filter(**same_client, created_at__gte=hour_ago).count()
        >= settings.SMS_CODE_PER_IP_HOUR
    ):
        raise ApplicationError(
            _("Too many codes were asked from this network; try again later."), field="phone"
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    SmsCode.objects.create(
        phone=phone,
        purpose=SmsCode.Purpose.LOGIN,
        code_hash=_code_hash(phone, code),
        ip_address=ip_address,
        expires_at=now + datetime.timedelta(minutes=settings.SMS_CODE_MINUTES),
    )
    if _account_of(phone) is not None:
        text = _("Your login code is %(code)s, valid for %(minutes)d minutes. Never tell it to anyone.") % {
            "code": code,
            "minutes": settings.SMS_CODE_MINUTES,
        }
        try:
            sms.send_sms(phone=phone, text=text, purpose="login_code")
        except sms.SmsDeliveryError as error:
            logger.warning("login code not sent: %s", error)
            raise ApplicationError(
                _("The code could not be sent; try again in a few minutes."), field="phone"
            ) from None
    return code_sent_message()


def _refuse(request, phone: str, message: str, field: str = "code"):
    login_failed(request, phone)
    raise ApplicationError(message, field=field)


def sms_code_login(*, request, phone: str, code: str):
    """Sign in the volunteer with `phone` by the latest code sent to it; the account.

    Not one transaction on purpose: a refusal must keep the wrong try it counted (on the code and for
    the lockout). Only the latest code of a number counts."""
    phone = check_mobile(phone)
    if login_is_locked(request, phone):
        raise ApplicationError(lockout_message(lockout_minutes(request)))
    code = (code or "").strip()
    if not _CODE.match(code):
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    now = timezone.now()
    latest = SmsCode.objects.filter(phone=phone, purpose=SmsCode.Purpose.LOGIN).order_by("-created_at", "-pk")
    latest = latest.first()
    if latest is None:
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    if latest.used_at is not None:
        _refuse(request, phone, _("This code has been used already; ask for a new one."))
    if latest.attempts >= MAX_WRONG_ATTEMPTS:
        _refuse(request, phone, _("Too many wrong tries: this code no longer works; ask for a new one."))
    if latest.expires_at <= now:
        _refuse(request, phone, _("This code has expired; ask for a new one."))
    if not constant_time_compare(_code_hash(phone, code), latest.code_hash):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    # Spent by the first request that gets here: a second one, at the same moment, updates nothing.
    spent = SmsCode.objects.filter(
        pk=latest.pk, used_at__isnull=True, attempts__lt=MAX_WRONG_ATTEMPTS, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        _refuse(request, phone, _("This code has been used already; ask for a new one."))
    user = _account_of(phone)
    if user is None:  # a number with no volunteer was never sent a code
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    login_succeeded(request, user)
    return user
