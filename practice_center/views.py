"""Portal-level pages that read every app."""

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from stations.selectors import county_name, public_institutes, public_network_totals

FAVICON = settings.BASE_DIR / "static" / "img" / "favicon.ico"


def home(request):
    institutes = list(public_institutes())
    return render(
        request,
        "home.html",
        {"institutes": institutes, "totals": public_network_totals(), "county_name": county_name()},
    )


@require_safe
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; it changes perhaps once a year.
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=2592000"
    return response
