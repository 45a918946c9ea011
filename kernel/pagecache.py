"""Whole public pages from the cache, for visitors who carry no session: the same page for everyone, kept
PUBLIC_PAGE_CACHE_SECONDS (0 turns it off) and dropped as soon as what it shows changes.

A view says which of its requests are cached, and under what: `key_of(request)` names the page in a
canonical form, or None for a request that is made for it alone (a filter, a page far down the list).
So the cache holds a handful of pages a view however many addresses it is asked for, and cannot be filled,
or made to push out other keys, by a visitor inventing query strings. A page is stored under the view's
name, the language and that key.

A change to what the page shows calls `invalidate(name)`: the name's generation moves on, and a page stored
under an earlier generation is not served again. The generation moves at once and again when the
transaction commits, so a request that read the old rows in between cannot store them as current. What no
service announces (the counts a sign-up moves with a conditional UPDATE, a unit's new name) is at most the
timeout old.

A visitor with a session or a message waiting (their cookies) always gets the page made for them, and only
a plain 200 that sets no cookie and asks for none (a CSRF token, a session) is stored, so nothing of one
visitor is cached or served to another.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

_PREFIX = "pagecache"


def _generation_key(name: str) -> str:
    return f"{_PREFIX}:{name}:generation"


def _bump(name: str) -> None:
    cache.set(_generation_key(name), time.time_ns(), None)


def invalidate(name: str) -> None:
    """The cached pages of `name` are not served again: now, and once the transaction commits."""
    _bump(name)
    transaction.on_commit(lambda: _bump(name))


def _personal(request) -> bool:
    """Whether the answer may be the visitor's own: a session, a message waiting, or not a plain GET."""
    cookies = request.COOKIES
    return (
        request.method != "GET"
        or settings.SESSION_COOKIE_NAME in cookies
        or CookieStorage.cookie_name in cookies
    )


def _shared(request, response) -> bool:
    """Whether the page made is the same for any visitor: a plain 200 that sets no cookie, and for which
    no middleware will set one on the way out (a CSRF token used, a session written)."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.modified)
    )


def _generation(name: str, found: dict):
    key = _generation_key(name)
    generation = found.get(key)
    if generation is None:  # never set, or evicted: a new one, so no older page passes for current
        cache.add(key, time.time_ns(), None)
        generation = cache.get(key)
    return generation


def cached_for_visitors(name: str | tuple[str, ...], key_of: Callable):
    """Serve the view's pages that `key_of` names to visitors without a session from the cache. A page
    that shows what several names cover (the home page: the news and the activities) gives them all: an
    invalidation of any drops it."""
    names = (name,) if isinstance(name, str) else tuple(name)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
            page = None if not seconds or _personal(request) else key_of(request)
            if page is None:
                return view(request, *args, **kwargs)
            key = f"{_PREFIX}:{names[0]}:{request.LANGUAGE_CODE}:{page}"
            found = cache.get_many([*map(_generation_key, names), key])
            generations = tuple(_generation(each, found) for each in names)
            generation = None if None in generations else generations
            stored = found.get(key)
            if generation is not None and stored is not None and stored[0] == generation:
                response = HttpResponse(stored[2], content_type=stored[1])
            else:
                response = view(request, *args, **kwargs)
                if generation is not None and _shared(request, response):
                    cache.set(key, (generation, response["Content-Type"], response.content), seconds)
            # Another visitor's cookies (a session, the language) make another page.
            patch_vary_headers(response, ("Cookie",))
            return response

        return wrapped

    return decorator
