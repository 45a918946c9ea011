"""Whole public pages from the cache, for visitors who carry no session: the same page for everyone, kept
PUBLIC_PAGE_CACHE_SECONDS (0 turns it off) and dropped as soon as what it shows changes.

A page is cached under its name, the language and its full path (the query string with it). A change to
what the page shows calls `invalidate(name)`: the name's generation moves on, and a page stored under an
earlier generation is not served again. The generation moves at once and again when the transaction
commits, so a request that read the old rows in between cannot store them as current. What no save
announces (the counts a sign-up moves with a conditional UPDATE, a unit's new name) is at most the
timeout old.

A visitor with a session or a message waiting (their cookies) always gets the page made for them, and only
a plain 200 without cookies is stored, so nothing personal is cached or served to anyone else.
"""

from __future__ import annotations

import functools
import hashlib
import time

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


def cached_for_visitors(name: str):
    """Serve the view's page to visitors without a session from the cache (see the module)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
            if not seconds or _personal(request):
                return view(request, *args, **kwargs)
            path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
            key = f"{_PREFIX}:{name}:{request.LANGUAGE_CODE}:{path}"
            generation_key = _generation_key(name)
            found = cache.get_many([generation_key, key])
            generation = found.get(generation_key)
            if generation is None:  # never set, or evicted: a new one, so no older page passes for current
                cache.add(generation_key, time.time_ns(), None)
                generation = cache.get(generation_key)
            stored = found.get(key)
            if stored is not None and stored[0] == generation:
                response = HttpResponse(stored[2], content_type=stored[1])
            else:
                response = view(request, *args, **kwargs)
                if response.status_code == 200 and not response.streaming and not response.cookies:
                    cache.set(key, (generation, response["Content-Type"], response.content), seconds)
            # Another visitor's cookies (a session, the language) make another page.
            patch_vary_headers(response, ("Cookie",))
            return response

        return wrapped

    return decorator
