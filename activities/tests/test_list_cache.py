"""The public activity list from the page cache (kernel.pagecache): a visitor without a session gets the
stored page without a query, a change an activity's service makes drops it at once, and a signed-in
volunteer's page is neither served from it nor stored in it."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseNotFound
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from activities import services
from activities.models import Activity, ActivityStatus, SignupStatus
from conftest import login
from kernel import pagecache
from volunteers.tests.factories import make_volunteer

from .factories import at, make_activity, write_activity

pytestmark = pytest.mark.django_db

LIST = "/activities/"
ROW = re.compile(r'id="activity-(\d+)"')


@pytest.fixture(autouse=True)
def _cached(settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    pagecache.invalidate(services.LIST_PAGE)  # nothing stored by an earlier test is served here


def load(client, path=LIST) -> tuple[list[int], int, str]:
    """(listed ids, queries, body) of one load."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    return [int(pk) for pk in ROW.findall(body)], len(queries), body


def test_a_visitor_gets_the_stored_page_without_a_query(tree, organiser):
    activity = make_activity(tree.a1, organisers=[organiser])
    visitor = Client()

    first, first_queries, body = load(visitor)
    second, second_queries, again = load(visitor)

    assert first == second == [activity.pk] and again == body
    assert first_queries > 0 and second_queries == 0
    response = visitor.get(LIST)
    assert "Cookie" in response["Vary"]
    # "?page=1" is the same page; the second page is a page of its own.
    assert load(visitor, f"{LIST}?page=1")[1] == 0
    assert load(visitor, f"{LIST}?page=2")[1] > 0 and load(visitor, f"{LIST}?page=2")[1] == 0


def test_only_the_first_pages_of_the_whole_list_are_stored(tree, organiser):
    """A filter, a page further down or an invented query string is made for its request: nobody fills
    the cache (or pushes other keys out of it) by asking for new addresses."""
    make_activity(tree.a1, organisers=[organiser])
    visitor = Client()
    for query in (f"unit={tree.b.pk}", "open=on", "page=11", "page=01", "page=x", "page=1&page=2", "x=1"):
        assert load(visitor, f"{LIST}?{query}")[1] > 0 and load(visitor, f"{LIST}?{query}")[1] > 0, query


def test_a_published_changed_cancelled_or_finished_activity_shows_at_once(tree, organiser):
    listed = make_activity(tree.a1, "社区环境整治", organisers=[organiser])
    visitor = Client()
    assert load(visitor)[0] == [listed.pk]

    later = make_activity(tree.a1, "敬老院志愿服务", organisers=[organiser])
    ids, queries, _body = load(visitor)
    assert set(ids) == {listed.pk, later.pk} and queries > 0

    services.activity_update(actor=organiser, activity=later, title="敬老院义剪服务")
    assert "敬老院义剪服务" in load(visitor)[2]

    services.activity_cancel(actor=organiser, activity=listed, reason="暴雨预警，活动取消")
    assert 'status-cancelled">' in load(visitor)[2]


def test_the_drop_waits_for_the_commit_too(tree, organiser, django_capture_on_commit_callbacks):
    visitor = Client()
    assert load(visitor)[0] == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity = make_activity(tree.a1, organisers=[organiser])
        # A page stored by a request that read the rows before the commit…
        assert load(visitor)[0] == [activity.pk]
    stored = load(visitor)
    assert stored[1] == 0
    # …is dropped when the transaction commits.
    for callback in callbacks:
        callback()
    assert load(visitor)[1] > 0


def test_a_signed_in_volunteer_is_neither_served_nor_stored(tree, organiser):
    make_activity(tree.a1, organisers=[organiser])
    volunteer = make_volunteer(tree.a1, "陈缓存", password="Cache@2026!x")
    member = login(Client(), volunteer.user)

    _ids, member_queries, member_body = load(member)
    assert 'id="logout"' in member_body and member_queries > 0
    _ids, visitor_queries, visitor_body = load(Client())
    assert 'id="logout"' not in visitor_body and "陈缓存" not in visitor_body and visitor_queries > 0
    # The visitor's page is stored now; the volunteer still gets their own.
    assert load(Client())[1] == 0
    _ids, again_queries, again_body = load(member)
    assert 'id="logout"' in again_body and again_queries > 0


def test_each_language_has_its_page(tree, organiser):
    make_activity(tree.a1, organisers=[organiser])
    visitor = Client()

    chinese = load(visitor)[2]
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's cookie
    _ids, queries, english_body = load(visitor)

    assert 'lang="zh-hans"' in chinese and 'lang="en"' in english_body and queries > 0
    assert load(visitor)[1] == 0  # stored in English too


def test_a_lost_generation_serves_no_stored_page(tree, organiser):
    make_activity(tree.a1, organisers=[organiser])
    visitor = Client()
    load(visitor)
    assert load(visitor)[1] == 0

    cache.delete(f"pagecache:{services.LIST_PAGE}:generation")  # evicted

    assert load(visitor)[1] > 0 and load(visitor)[1] == 0


def test_no_cache_with_zero_seconds(tree, organiser, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    make_activity(tree.a1, organisers=[organiser])
    visitor = Client()
    assert load(visitor)[1] > 0 and load(visitor)[1] > 0


def test_a_visitor_with_a_message_waiting_gets_their_own_page(tree, organiser):
    make_activity(tree.a1, organisers=[organiser])
    load(Client())  # stored
    visitor = Client()
    visitor.cookies["messages"] = "a message waiting"

    assert load(visitor)[1] > 0 and load(visitor)[1] > 0


def test_an_activity_the_beat_starts_or_finishes_shows_at_once(tree, organiser):
    started = write_activity(tree.a1, start=at(-1), hours=3, status=ActivityStatus.PUBLISHED)
    visitor = Client()
    assert 'status-published">' in load(visitor)[2]

    assert services.activities_advance() == {"running": 1, "finished": 0}
    assert 'status-running">' in load(visitor)[2]

    Activity.objects.filter(pk=started.pk).update(
        started_at=at(-8), ended_at=at(-5), signup_opens_at=at(-50), signup_closes_at=at(-8)
    )
    pagecache.invalidate(services.LIST_PAGE)
    assert 'status-running">' in load(visitor)[2]
    assert services.activities_advance() == {"running": 0, "finished": 1}
    assert 'status-finished">' in load(visitor)[2]


def test_a_check_in_that_starts_the_activity_shows_it_running(tree, crew, organiser):
    activity = write_activity(tree.a1, start=at(-0.5), hours=3, status=ActivityStatus.PUBLISHED)
    activity.organiser_links.create(user=organiser)
    activity.signups.create(volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
    visitor = Client()
    assert 'status-published">' in load(visitor)[2]

    services.attendance_mark(actor=organiser, activity=activity, volunteer=crew.volunteer, action="in")

    assert 'status-running">' in load(visitor)[2]


# --- What is stored ----------------------------------------------------------------------------------


def _counting_view(make):
    calls = []

    def view(request):
        calls.append(request)
        return make(request)

    return pagecache.cached_for_visitors("test", lambda request: "page=1")(view), calls


def _get(view):
    request = RequestFactory().get("/")
    request.LANGUAGE_CODE = "zh-hans"
    return view(request)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda request: HttpResponse(get_token(request)), id="uses a CSRF token"),
        pytest.param(lambda request: HttpResponseNotFound("no"), id="not a 200"),
        pytest.param(
            lambda request: _with_cookie(HttpResponse("hello")),
            id="sets a cookie",
        ),
    ],
)
def test_a_page_for_one_visitor_is_not_stored(make):
    pagecache.invalidate("test")
    view, calls = _counting_view(make)
    _get(view)
    _get(view)
    assert len(calls) == 2


def test_a_plain_page_is_stored(settings):
    pagecache.invalidate("test")
    view, calls = _counting_view(lambda request: HttpResponse("hello"))
    assert _get(view).content == _get(view).content == b"hello"
    assert len(calls) == 1


def _with_cookie(response):
    response.set_cookie("seen", "1")
    return response
