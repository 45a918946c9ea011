"""The public honour rolls (光荣榜): every year's awards by kind, and a page per year. No login; the pages
are kept for visitors in the page cache and dropped by the awards services."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from kernel import pagecache

from . import selectors
from .services import HONOURS_PAGES

# The index shows the latest year's roll in full; earlier years are a link each.
INDEX_ROLL_LIMIT = 200
YEAR_ROLL_LIMIT = 2000


def _plain(request) -> bool:
    return not request.GET


@pagecache.cached_for_visitors(HONOURS_PAGES, lambda request: "index" if _plain(request) else None)
def honours(request):
    years = selectors.honour_years()
    latest = years[0]["year"] if years else None
    rolls = selectors.honour_roll(year=latest, limit=INDEX_ROLL_LIMIT) if latest is not None else []
    return render(
        request,
        "public/honours.html",
        {"years": years, "year": latest, "rolls": rolls, "index": True},
    )


@pagecache.cached_for_visitors(
    HONOURS_PAGES,
    lambda request: f"year={request.resolver_match.kwargs['year']}" if _plain(request) else None,
)
def honours_year(request, year: int):
    if not 2000 <= year <= 2100:
        raise Http404
    rolls = selectors.honour_roll(year=year, limit=YEAR_ROLL_LIMIT)
    if not rolls:
        raise Http404
    years = selectors.honour_years()
    return render(
        request, "public/honours.html", {"years": years, "year": year, "rolls": rolls, "index": False}
    )
