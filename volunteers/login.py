"""One-time SMS codes (验证码): a volunteer's login by mobile number, and the proof that whoever registers
holds the phone they register with. Both go through the same two functions, `sms_code_send` and
`sms_code_spend`, and differ only by the code's purpose.

A code is 6 digits from `secrets`, kept only as a keyed hash (HMAC with SECRET_KEY: without the key a
stolen table gives no code), valid for settings.SMS_CODE_MINUTES and spent by its first right use. Codes
are rate-limited per phone (an hourly count of all its codes, a minute between two of one purpose) and per
client address. For a login, a number with no volunteer gets the same answer, and the same limits, as a
known one, but no message: the login page tells nobody who is registered. For a registration, a number
already registered is refused as the registration itself refuses it (the page counts such answers per
client address).

Every wrong, expired or spent code counts as a failed login for the lockout (kernel.auth), together with
wrong passwords; a locked (phone, address) pair is refused whatever the code.
"""

from __future__ import annotations

import datetime
import logging
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from kernel import sms
from kernel.auth import (
    client_ip,
    lockout_message,
    lockout_minutes,
    login_failed,
    login_is_locked,
    login_succeeded,
)
from kernel.errors import ApplicationError
from kernel.locks import lock_keys

from .models import SmsCode, Volunteer
from .services import check_mobile, phone_taken_message

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
SMS_CODE_INTERVAL_SECONDS = 60  # one phone waits this long between two codes
MAX_WRONG_ATTEMPTS = 5  # then the code is dead, even if the right one follows
_CODE = re.compile(r"^\d{6}$")


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac("volunteers.sms_code", f"{phone}:{code}", algorithm="sha256").hexdigest()


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


def register_code_sent_message() -> str:
    return _("A code was sent to this number. It is valid for %(minutes)d minutes.") % {
        "minutes": settings.SMS_CODE_MINUTES
    }


def _phone_taken(phone: str) -> bool:
    # As volunteer_register refuses it: a volunteer, or an account, with this number.
    return (
        Volunteer.objects.filter(phone=phone).exists()
        or get_user_model()._default_manager.filter(username__iexact=phone).exists()
    )


def _code_text(purpose: str, code: str) -> str:
    words = {
        SmsCode.Purpose.LOGIN: _(
            "Your login code is %(code)s, valid for %(minutes)d minutes. Never tell it to anyone."
        ),
        SmsCode.Purpose.REGISTER: _(
            "Your registration code is %(code)s, valid for %(minutes)d minutes. Never tell it to anyone."
        ),
    }
    return words[purpose] % {"code": code, "minutes": settings.SMS_CODE_MINUTES}


@transaction.atomic
def sms_code_send(*, request, phone: str, purpose: str = SmsCode.Purpose.LOGIN) -> str:
    """Make a code of `purpose` for `phone` and text it; the answer to show.

    A login code is texted only if a volunteer has the number (the answer is the same either way); a
    registration code only to a number nobody registered, and a registered one is refused with
    services.phone_taken_message() on "phone". Refused (field "phone") too when the number is malformed,
    locked out (kernel.auth) from this client, or asked too often, or its client asked for too many codes;
    a refusal saves and sends nothing."""
    purpose = SmsCode.Purpose(purpose)
    phone = check_mobile(phone)
    if login_is_locked(request, phone):
        # Locked out: no code either, whatever the limits below would say.
        raise ApplicationError(lockout_message(lockout_minutes(request)), field="phone")
    ip_address = client_ip(request)
    # Two requests at once must not both pass the limits below.
    lock_keys(f"sms_code:phone:{phone}", f"sms_code:ip:{ip_address or '-'}")
    if purpose == SmsCode.Purpose.REGISTER and _phone_taken(phone):
        raise ApplicationError(phone_taken_message(), field="phone")
    now = timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    # The hourly limit counts every code of the phone, whatever its purpose: it keeps its owner from a
    # flood. The minute between two codes is per purpose: one may log in right after registering.
    recent = SmsCode.objects.filter(phone=phone, created_at__gte=hour_ago)
    just_now = now - datetime.timedelta(seconds=SMS_CODE_INTERVAL_SECONDS)
    if recent.filter(purpose=purpose, created_at__gte=just_now).exists():
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
        purpose=purpose,
        code_hash=_code_hash(phone, code),
        ip_address=ip_address,
        expires_at=now + datetime.timedelta(minutes=settings.SMS_CODE_MINUTES),
    )
    if purpose == SmsCode.Purpose.REGISTER or _account_of(phone) is not None:
        try:
            sms.send_sms(phone=phone, text=_code_text(purpose, code), purpose=f"{purpose}_code")
        except sms.SmsDeliveryError as error:
            logger.warning("%s code not sent: %s", purpose, error)
            raise ApplicationError(
                _("The code could not be sent; try again in a few minutes."), field="phone"
            ) from None
    if purpose == SmsCode.Purpose.REGISTER:
        return register_code_sent_message()
    return code_sent_message()


def _refuse(request, phone: str, message: str, field: str = "code"):
    login_failed(request, phone)
    raise ApplicationError(message, field=field)


def sms_code_spend(*, request, phone: str, code: str, purpose: str, then=None):
    """Check `code` against the latest code of `purpose` sent to `phone`, and spend it; what `then()`
    returns (None without `then`).

    Refused on "code" when the code is wrong, spent, dead or expired, and as a whole when the pair is
    locked out. Not one transaction on purpose: a refusal must keep the wrong try it counted (on the code
    and for the lockout). Only the latest code of a number counts. Spending the code and `then()` are one
    transaction: when `then` refuses (a registration with another field wrong), the code is not spent and
    may be typed again with the corrected form, within its minutes."""
    purpose = SmsCode.Purpose(purpose)
    phone = check_mobile(phone)
    if login_is_locked(request, phone):
        raise ApplicationError(lockout_message(lockout_minutes(request)))
    code = (code or "").strip()
    if not _CODE.match(code):
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    now = timezone.now()
    latest = SmsCode.objects.filter(phone=phone, purpose=purpose).order_by("-created_at", "-pk").first()
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
    with transaction.atomic():
        # Spent by the first request that gets here: a second one, at the same moment, updates nothing.
        spent = SmsCode.objects.filter(
            pk=latest.pk, used_at__isnull=True, attempts__lt=MAX_WRONG_ATTEMPTS, expires_at__gt=now
        ).update(used_at=now)
        result = then() if spent and then is not None else None
    if not spent:
        _refuse(request, phone, _("This code has been used already; ask for a new one."))
    return result


def sms_code_login(*, request, phone: str, code: str):
    """Sign in the volunteer with `phone` by the latest login code sent to it; the account."""
    phone = check_mobile(phone)
    sms_code_spend(request=request, phone=phone, code=code, purpose=SmsCode.Purpose.LOGIN)
    user = _account_of(phone)
    if user is None:  # a number with no volunteer was never sent a code
        _refuse(request, phone, _("The code is wrong; check it, or ask for a new one."))
    login_succeeded(request, user)
    return user
