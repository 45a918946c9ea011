"""The demo county's requests (seed_demo: one in every status, a second run adds nothing, the printed link
opens its request) and the benchmark-scale data (seed_scale's tiny preset: plausible shares, every rule of
the services kept, building again adds nothing)."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from residents import scale
from residents.models import RequestActivity, RequestEvent, RequestStatus, ServiceRequest
from residents.services import TRANSITIONS, token_hash
from volunteers import scale as volunteers_scale

S = RequestStatus


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_leaves_a_request_in_every_status_and_prints_a_link_that_opens(client):
    out = seed_demo()
    statuses = set(ServiceRequest.objects.values_list("status", flat=True))
    assert statuses == set(S.values)
    assert ServiceRequest.objects.overdue().filter(status=S.SUBMITTED).exists()
    token = re.search(r"/requests/status/([A-Za-z0-9_-]+)/", out).group(1)
    request = ServiceRequest.objects.get(token_hash=token_hash(token))
    assert request.status == S.COMPLETED
    assert request.reference in client.get(f"/requests/status/{token}/").content.decode()

    before = (ServiceRequest.objects.count(), RequestEvent.objects.count(), RequestActivity.objects.count())
    second = seed_demo()
    assert (
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        RequestActivity.objects.count(),
    ) == (before)
    assert f"/requests/status/{token}/" in second


PRESET = volunteers_scale.PRESETS["tiny"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY")
def test_the_tiny_preset_builds_requests_that_keep_the_rules_and_a_second_build_adds_nothing():
    result = volunteers_scale.build("tiny", progress=False, force=True)
    per_county = scale.requests_total(PRESET)
    assert result.added["requests"] == PRESET.counties * per_county
    requests = ServiceRequest.objects.filter(reference__startswith="QDST")
    assert requests.count() == PRESET.counties * per_county
    for request in requests.prefetch_related("events"):
        steps = [(e.from_status, e.to_status) for e in request.events.all()]
        assert steps[0] == ("", S.SUBMITTED) and steps[-1][1] == request.status, request.reference
        for before, after in steps[1:]:
            assert after in TRANSITIONS[before], (request.reference, before, after)
        assert request.unit.path.startswith(request.unit.path[:9])
        if request.team_id:
            assert request.team.unit.path[:9] == request.unit.path[:9]  # a team of the same county
    served = requests.filter(status__in=[S.SERVING, S.COMPLETED, S.RATED])
    assert not served.annotate(n=Count("activity_links")).filter(n=0).exists()
    assert volunteers_scale.is_complete("tiny")

    again = volunteers_scale.build("tiny", progress=False, force=True)
    assert again.added["requests"] == 0


class _Cut(Exception):
    pass


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="seed_scale loads rows with PostgreSQL's COPY")
def test_a_build_cut_short_resumes_to_the_same_requests(monkeypatch):
    add = volunteers_scale.ProgressBar.add

    def cut_after_the_first_batch(bar, rows):
        add(bar, rows)
        if bar.label == "requests":
            raise _Cut

    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", cut_after_the_first_batch)
    with pytest.raises(_Cut):
        volunteers_scale.build("tiny", progress=False, force=True)
    monkeypatch.setattr(volunteers_scale.ProgressBar, "add", add)
    requests = ServiceRequest.objects.filter(reference__startswith="QDST")
    cut = requests.count()
    per_county = scale.requests_total(PRESET)
    assert 0 < cut < PRESET.counties * per_county
    first = list(requests.order_by("reference").values_list("reference", "status", "unit__code"))

    result = volunteers_scale.build("tiny", progress=False, force=True)
    assert result.added["requests"] == PRESET.counties * per_county - cut
    assert (
        list(requests.order_by("reference").values_list("reference", "status", "unit__code"))[:cut] == first
    )
    assert requests.count() == PRESET.counties * per_county
    assert (
        not RequestEvent.objects.filter(request__reference__startswith="QDST")
        .filter(to_status=S.SUBMITTED)
        .values("request")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
