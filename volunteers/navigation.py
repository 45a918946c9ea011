"""The menu of the volunteers' pages, open to the apps above: each registers its entries (in its
AppConfig.ready) and volunteers/base.html shows those meant for the user, without this app importing them.

    from volunteers import navigation
    navigation.register("records", _("My service"), "records:mine", show=navigation.is_volunteer, order=20)

`key` is what a view passes as `nav` to mark its entry as the current page; `show(request)` says whether
the entry is for this user. Its answer is remembered in the session for SHOW_REMEMBERED_SECONDS, so the
menu costs no query on most pages: an entry may show up to that long after a role was granted (or stay
after it was taken away). The menu only offers a page; every page checks access itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str
    show: Callable[[object], bool]
    order: int


_ENTRIES: dict[str, NavEntry] = {}


def register(
    key: str, label, url_name: str, *, show: Callable[[object], bool] | None = None, order: int = 100
) -> None:
    """Add (or replace, by `key`) a menu entry; entries show in `order`, then by key."""
    _ENTRIES[key] = NavEntry(key, label, url_name, show or is_volunteer, order)


SHOW_REMEMBERED_SECONDS = 300
_SESSION_KEY = "volunteers_nav"


def entries_for(request) -> list[dict]:
    """The entries to show `request`'s user, in order, each with its url."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    shown = []
    for entry in sorted(_ENTRIES.values(), key=lambda entry: (entry.order, entry.key)):
        if _shown(request, entry):
            shown.append({"key": entry.key, "label": entry.label, "url": reverse(entry.url_name)})
    return shown


def _shown(request, entry: NavEntry) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return bool(entry.show(request))
    now = int(time.time())
    remembered = session.get(_SESSION_KEY) or {}
    value, until = remembered.get(entry.key, (None, 0))
    if value is None or until < now:
        value = bool(entry.show(request))
        session[_SESSION_KEY] = {**remembered, entry.key: (value, now + SHOW_REMEMBERED_SECONDS)}
    return value


def is_volunteer(request) -> bool:
    """Whether the signed-in user is a volunteer: the volunteer a page already loaded, or one query,
    remembered on the request."""
    volunteer = getattr(request, "volunteer", None)
    if volunteer is not None:
        return True
    known = getattr(request, "_nav_is_volunteer", None)
    if known is None:
        from .models import Volunteer

        known = Volunteer.objects.of_user(request.user).exists()
        request._nav_is_volunteer = known
    return known


# The volunteers' own pages.
register("me", _("My profile"), "volunteers:me", order=10)
register("teams", _("My teams"), "volunteers:my-teams", order=30)
register("transfer", _("Transfer"), "volunteers:transfer", order=50)
