"""Login protection: the lockout after repeated failed logins (django-axes), its answer, and the unlock.

Failures count per (username, client IP) pair; settings.py holds the limit, the cool-off and how the client
IP is found behind a proxy. A login that is not a password login (a phone and an SMS code) is counted and
locked by the same records through `login_is_locked`, `login_failed` and `login_succeeded`.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_cool_off, get_credentials
from axes.utils import reset
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext


class LoginLockoutBackend(AxesStandaloneBackend):
    """axes' check, which refuses a locked pair before any password is tried.

    A call without a request (a shell, a management command, the test client's login()) has no client
    to count or lock, and axes would fail it with a ValueError; it goes on to the next backend instead.
    Every login page and API of the portal passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the lockout counts it (behind LOGIN_PROXY_COUNT proxies), or None."""
    return get_client_ip_address(request) or None


def lockout_minutes(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_message(minutes: int) -> str:
    return ngettext(
        "Too many failed logins: this account cannot sign in from here for %(minutes)d minute. "
        "To unlock it sooner, ask the administrator who manages your account (one level up) "
        "or the system administrator.",
        "Too many failed logins: this account cannot sign in from here for %(minutes)d minutes. "
        "To unlock it sooner, ask the administrator who manages your account (one level up) "
        "or the system administrator.",
        minutes,
    ) % {"minutes": minutes}


def _wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the answer to a login refused by the lockout, a page or (for the API) JSON.

    axes calls this again with two arguments when it raises TypeError, so it must not raise one itself.
    """
    minutes = lockout_minutes(request)
    message = lockout_message(minutes)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if _wants_json(request):
        response = JsonResponse({"detail": message}, status=status)
    else:
        context = {
            **admin.site.each_context(request),
            "title": gettext("Account locked"),
            "message": message,
            "minutes": minutes,
        }
        response = TemplateResponse(request, "registration/login_locked.html", context, status=status)
        response.render()
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def login_unlock(*, username: str) -> int:
    """Lift the lockout of `username` from every address; the number of lockout records removed.

    For the admin that manages the account; the failures stay in the access failure log."""
    return reset(username=username)


# --- Logins without a password (an SMS code) ---------------------------------------------------------
# The password logins reach axes through authenticate(): LoginLockoutBackend asks before any password is
# tried, and Django sends user_login_failed when none matches. A code login does the same by hand.


def login_is_locked(request: HttpRequest, username: str) -> bool:
    """Whether (username, this client's IP) is locked out, by failures of any login (admin, API, SMS code).

    Ask before checking a code, and answer a locked pair with `lockout_response(request)` (or a form error
    with `lockout_message(lockout_minutes(request))`) whatever the code.
    """
    if not settings.AXES_ENABLED:
        return False
    return not AxesProxyHandler.is_allowed(request, get_credentials(username))


def login_failed(request: HttpRequest, username: str) -> None:
    """Count one failed login of `username` from this client: a wrong, expired or spent code.

    Django's signal, as authenticate() sends it, so axes records it as it records a wrong password. The
    failure that reaches the limit marks the request, and axes' middleware answers it with the lockout.
    """
    user_login_failed.send(sender=__name__, credentials=get_credentials(username), request=request)


def login_succeeded(request: HttpRequest, user) -> None:
    """Sign `user` in after a login that is not a password login (use it instead of django's login()).

    The caller has checked the code and that the account is active (login() checks neither).

    login() sends user_logged_in, on which axes writes the access log and forgets the pair's failures
    (AXES_RESET_ON_SUCCESS). The model backend is named because the code, not a backend, checked the user.
    """
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
