"""The public pages: the form files a request and shows its reference and private link; the honeypot and
the limits per address and per phone hold; the private link shows the steps and takes one rating; a wrong
token is a 404."""

import re

import pytest
from django.utils.translation import gettext

from residents import services
from residents.models import RequestStatus, ServiceRequest

pytestmark = pytest.mark.django_db
S = RequestStatus


def form_data(tree, **changes):
    data = {
        "resident_name": "王秀英",
        "phone": "13812345678",
        "unit": tree.a1.pk,
        "domain": "",
        "description": "村里老人想听医保新政策的讲解",
        "website": "",
    }
    return {**data, **changes}


def test_the_form_files_a_request_and_shows_the_reference_and_the_private_link(client, tree):
    page = client.get("/requests/new/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("resident_name", "phone", "unit", "domain", "description", "website"):
        assert f'for="id_{name}"' in html  # every input has its label
    assert "<h1>" in html

    response = client.post("/requests/new/", form_data(tree))
    assert response.status_code == 200
    request = ServiceRequest.objects.get()
    html = response.content.decode()
    assert request.reference in html
    token = re.search(r"/requests/status/([A-Za-z0-9_-]{43})/", html).group(1)
    assert services.token_hash(token) == request.token_hash
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_the_honeypot_refuses_with_a_message_and_files_nothing(client, tree):
    response = client.post("/requests/new/", form_data(tree, website="http://spam.example"))
    assert response.status_code == 200
    assert gettext("Your request could not be sent. Please call the practice center instead.") in (
        response.content.decode()
    )
    assert not ServiceRequest.objects.exists()


def test_the_form_takes_at_most_so_many_a_day_from_one_phone(client, tree, settings):
    settings.REQUEST_SUBMISSIONS_PER_PHONE_DAY = 3
    settings.REQUEST_SUBMISSIONS_PER_IP_HOUR = 100
    for n in range(3):
        client.post("/requests/new/", form_data(tree, description=f"第{n}次"), REMOTE_ADDR=f"10.0.0.{n}")
    response = client.post("/requests/new/", form_data(tree), REMOTE_ADDR="10.0.0.9")
    assert gettext("This number has sent the most requests a day allows. Try again tomorrow.") in (
        response.content.decode()
    )
    assert ServiceRequest.objects.count() == 3
    client.post("/requests/new/", form_data(tree, phone="13900000001"), REMOTE_ADDR="10.0.0.9")
    assert ServiceRequest.objects.count() == 4  # another phone is still taken


def test_the_form_takes_at_most_so_many_an_hour_from_one_address(client, tree, settings):
    settings.REQUEST_SUBMISSIONS_PER_IP_HOUR = 5
    for n in range(5):
        client.post("/requests/new/", form_data(tree, phone=f"1391234500{n}"), REMOTE_ADDR="10.1.1.1")
    response = client.post("/requests/new/", form_data(tree, phone="13912345009"), REMOTE_ADDR="10.1.1.1")
    assert gettext("Too many requests from this network in the last hour. Try again later.") in (
        response.content.decode()
    )
    assert ServiceRequest.objects.count() == 5
    client.post("/requests/new/", form_data(tree, phone="13912345009"), REMOTE_ADDR="10.1.1.2")
    assert ServiceRequest.objects.count() == 6


def test_a_refused_phone_shows_on_its_field(client, tree):
    response = client.post("/requests/new/", form_data(tree, phone="12345"))
    assert (
        gettext("Enter a mainland mobile number of 11 digits, e.g. 13812345678.") in response.content.decode()
    )
    assert not ServiceRequest.objects.exists()


def test_the_private_link_shows_the_steps_and_takes_one_rating(client, tree, people, crew, submit):
    request, token = submit()
    url = f"/requests/status/{token}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert request.reference in html and "138****5678" in html and "13812345678" not in html
    assert 'id="rating-form"' not in html

    services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)
    services.request_accept(actor=crew.leader_a, request=request)
    services.request_link_activity(actor=crew.leader_a, request=request, activity=crew.activity_a)
    services.request_complete(actor=crew.leader_a, request=request)
    html = client.get(url).content.decode()
    assert crew.activity_a.title in html and crew.team_a.name in html
    assert str(S.COMPLETED.label) in html and 'id="rating-form"' in html

    assert client.post(url, {"score": "4", "comment": "很好"}).status_code == 200
    request.refresh_from_db()
    assert (request.status, request.rating, request.rating_comment) == (S.RATED, 4, "很好")
    response = client.post(url, {"score": "1", "comment": "改评"})
    assert 'id="rating-form"' not in response.content.decode()
    request.refresh_from_db()
    assert (request.rating, request.rating_comment) == (4, "很好")


def test_a_wrong_token_is_a_404(client, tree, submit):
    _request, token = submit()
    assert client.get(f"/requests/status/{token[:-1]}x/").status_code == 404
    assert client.get("/requests/status/nothing/").status_code == 404
    assert client.post(f"/requests/status/{'a' * 43}/", {"score": "5"}).status_code == 404
