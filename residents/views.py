"""The residents' public pages: asking for a service (点单) and the private status page, where the
request's steps show and the resident rates it (评单). No account: the private link is the key, and the
form is guarded by a honeypot and by limits per address and per phone, counted in the cache."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from kernel.auth import client_ip
from kernel.masking import mask_phone
from volunteers.validators import normalize_mobile

from . import selectors, services
from .forms import RatingForm, RequestForm
from .models import RequestStatus

HOUR = 3600
DAY = 24 * HOUR


def ip_key(address: str | None) -> str:
    # Clients whose address is unknown share one count.
    return f"residents:submissions:ip:{address or '-'}"


def phone_key(phone: str) -> str:
    return f"residents:submissions:phone:{services.token_hash(phone)[:32]}"


def _take(key: str, seconds: int) -> int:
    """Count one more submission under `key` and return the count: one atomic INCR in Redis, so two
    submissions at once cannot both slip under the limit. The window starts with the first."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=seconds)
        return 1


def _private(response):
    # The page's address is the key to the request: no other site gets it as a referrer (same-origin, not
    # no-referrer, which makes the browser send "Origin: null" and fail the CSRF check), no cache keeps it.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@sensitive_post_parameters("phone")
@never_cache
def request_new(request):
    form = RequestForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        by_ip = ip_key(client_ip(request))
        by_phone = phone_key(normalize_mobile(data["phone"]))
        if data["website"]:
            form.add_error(
                None, _("Your request could not be sent. Please call the practice center instead.")
            )
        elif _take(by_ip, HOUR) > settings.REQUEST_SUBMISSIONS_PER_IP_HOUR:
            form.add_error(None, _("Too many requests from this network in the last hour. Try again later."))
        elif _take(by_phone, DAY) > settings.REQUEST_SUBMISSIONS_PER_PHONE_DAY:
            form.add_error(
                "phone", _("This number has sent the most requests a day allows. Try again tomorrow.")
            )
        else:
            made = form.run_service(
                services.request_submit,
                resident_name=data["resident_name"],
                phone=data["phone"],
                unit=data["unit"],
                domain=data["domain"],
                description=data["description"],
            )
            if made is not None:
                service_request, token = made
                link = request.build_absolute_uri(f"/requests/status/{token}/")
                return _private(
                    render(
                        request,
                        "residents/sent.html",
                        {"service_request": service_request, "link": link, "token": token},
                    )
                )
    return render(request, "residents/new.html", {"form": form})


@never_cache
def request_status(request, token: str):
    service_request = selectors.status_page(token)
    if service_request is None:
        raise Http404
    form = None
    if service_request.status == RequestStatus.COMPLETED:
        form = RatingForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            rated = form.run_service(
                services.request_rate,
                token=token,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
            if rated is not None:
                service_request = selectors.status_page(token)
                form = None
    elif request.method == "POST" and service_request.status == RequestStatus.RATED:
        pass  # a second rating: the page shows the one given
    context = {
        "service_request": service_request,
        "phone": mask_phone(service_request.phone),
        "events": list(service_request.events.all()),
        "activities": list(service_request.activities.all()),
        "form": form,
        "thanked": request.method == "POST" and service_request.status == RequestStatus.RATED,
    }
    return _private(render(request, "residents/status.html", context))
