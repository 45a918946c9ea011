"""The check-in QR code: a signed, expiring token bound to one activity and one time window.

The organiser's screen shows a code that changes every ACTIVITY_QR_SECONDS (about a minute), so a photo of
it shared from home expires before it is any use. A token is `activity id` and the number of its window,
signed with the project's secret and a timestamp (django.core.signing); it is accepted for two windows
(the one shown and the one before it, so a scan at the turn of a minute still works). The window number
also tells a second scan of the same code (a refresh, a double tap) from a new scan: only a code of a
later window checks the volunteer out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

_SALT = "activities.checkin"


def lifetime() -> int:
    return max(int(settings.ACTIVITY_QR_SECONDS), 5)


def current_window(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // lifetime())


def token_for(activity_id: int, *, window: int | None = None) -> str:
    """The token of the window (default: now) for `activity_id`."""
    return signing.dumps([activity_id, current_window() if window is None else window], salt=_SALT)


@dataclass(frozen=True)
class Scan:
    activity_id: int
    window: int


def read_token(token: str, *, activity_id: int) -> Scan:
    """The scan a token stands for, or a refusal saying why: forged or damaged, expired, or another
    activity's code."""
    try:
        value = signing.loads(token or "", salt=_SALT, max_age=2 * lifetime())
    except signing.SignatureExpired:
        raise ApplicationError(
            _("This check-in code has expired: scan the code on the organiser's screen again."), field="token"
        ) from None
    except signing.BadSignature:
        raise ApplicationError(_("This is not a valid check-in code."), field="token") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, int) for part in value)):
        raise ApplicationError(_("This is not a valid check-in code."), field="token")
    if value[0] != activity_id:
        raise ApplicationError(_("This code belongs to another activity."), field="token")
    return Scan(activity_id=value[0], window=value[1])
