"""Portal-level pages that read every app."""

from django.shortcuts import render

from stations.selectors import public_institutes, public_network_totals


def home(request):
    institutes = list(public_institutes())
    return render(
        request,
        "home.html",
        {"institutes": institutes, "totals": public_network_totals()},
    )
