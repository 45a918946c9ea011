"""REST API v1 of activities, sign-ups, attendance and a volunteer's own sign-ups: each role's view of each
list, another township's ids answered 404 with nothing changed, the services' refusals as a 400 with the
field and the message, an idempotent sign-up, token authentication, constant queries and the schema."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from activities import services
from activities.models import Activity, ActivityStatus, Attendance, Signup, SignupStatus
from stations.scoping import forget_scope
from stations.tests.factories import make_platform
from stations.tests.test_schema import _check, _validator, openapi  # noqa: F401 - openapi is a fixture

from .factories import at, make_activity, sign_up, write_activity

pytestmark = pytest.mark.django_db

ACTIVITIES = "/api/v1/activities/"
SIGNUPS = "/api/v1/signups/"
ATTENDANCE = "/api/v1/attendance/"
MY_SIGNUPS = "/api/v1/me/signups/"


def rows() -> dict:
    return {
        "activities": list(Activity.objects.order_by("pk").values()),
        "signups": list(Signup.objects.order_by("pk").values()),
        "attendance": list(Attendance.objects.order_by("pk").values()),
    }


def unchanged(call):
    before = rows()
    response = call()
    assert rows() == before, "a refused call changed what it must leave alone"
    return response


def refused(response, field: str, message: str):
    assert response.status_code == 400, (response.status_code, response.content)
    assert response.json() == {field: [message]}, response.json()


def _rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _ids(response):
    return {row["id"] for row in _rows(response)}


@pytest.fixture
def world(tree, people, crew, organiser):
    people.organiser = organiser
    people.volunteer = crew.volunteer.user
    people.other = crew.other.user
    activities = SimpleNamespace(
        pub_a1=make_activity(tree.a1, "甲一村清扫", organisers=[organiser]),
        draft_a1=make_activity(tree.a1, "甲一村草稿", publish=False, organisers=[organiser]),
        draft_a2=make_activity(tree.a2, "甲二村草稿", publish=False, organisers=[people.inst_a]),
        pub_b1=make_activity(tree.b1, "乙一村义诊", start=at(days=9), organisers=[people.inst_b]),
        draft_b1=make_activity(tree.b1, "乙一村草稿", publish=False, organisers=[people.inst_b]),
    )
    signups = SimpleNamespace(
        a1=sign_up(activities.pub_a1, crew.volunteer), b1=sign_up(activities.pub_b1, crew.other)
    )
    held_a1 = write_activity(tree.a1, start=at(-2), status=ActivityStatus.RUNNING, title="进行中")
    held_a1.organiser_links.create(user=organiser)
    held_b1 = write_activity(tree.b1, start=at(-2), status=ActivityStatus.RUNNING, title="乙进行中")
    attendance = SimpleNamespace(a1=_attend(held_a1, crew.volunteer), b1=_attend(held_b1, crew.other))
    return SimpleNamespace(
        crew=crew,
        activities=activities,
        signups=signups,
        attendance=attendance,
        held_a1=held_a1,
        held_b1=held_b1,
    )


def _attend(activity, volunteer, *, queued=None):
    signup = Signup.objects.create(
        activity=activity, volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=queued or at(-50)
    )
    return Attendance.objects.create(
        activity=activity,
        volunteer=volunteer,
        signup=signup,
        checked_in_at=activity.started_at,
        in_method="qr",
    )


# --- Each role's view of each list ----------------------------------------------------------------------

ACTIVITY_VIEWS = {
    "county": ["pub_a1", "draft_a1", "draft_a2", "pub_b1", "draft_b1", "held_a1", "held_b1"],
    "inst_a": ["pub_a1", "draft_a1", "draft_a2", "pub_b1", "held_a1", "held_b1"],
    "inst_b": ["pub_a1", "pub_b1", "draft_b1", "held_a1", "held_b1"],
    "station_a1": ["pub_a1", "draft_a1", "pub_b1", "held_a1", "held_b1"],
    "organiser": ["pub_a1", "draft_a1", "pub_b1", "held_a1", "held_b1"],
    "volunteer": ["pub_a1", "pub_b1", "held_a1", "held_b1"],
}


def _activity(world, name):
    return getattr(world.activities, name, None) or getattr(world, name)


@pytest.mark.parametrize("who", list(ACTIVITY_VIEWS))
def test_each_role_sees_public_activities_and_the_drafts_of_its_scope(api_client, people, world, who):
    api_client.force_authenticate(getattr(people, who))
    expected = {_activity(world, name).pk for name in ACTIVITY_VIEWS[who]}
    assert _ids(api_client.get(ACTIVITIES)) == expected


SIGNUP_VIEWS = {
    "county": {"a1", "b1", "held_a1", "held_b1"},
    "inst_a": {"a1", "held_a1"},
    "inst_b": {"b1", "held_b1"},
    "station_a1": {"a1", "held_a1"},
    "organiser": {"a1", "held_a1"},
    "volunteer": set(),
}


@pytest.mark.parametrize("who", list(SIGNUP_VIEWS))
def test_each_role_sees_the_signups_and_attendance_of_what_it_runs(api_client, people, world, who):
    api_client.force_authenticate(getattr(people, who))
    held = {"held_a1": world.attendance.a1, "held_b1": world.attendance.b1}
    expected = {
        (held[name].signup_id if name in held else getattr(world.signups, name).pk)
        for name in SIGNUP_VIEWS[who]
    }
    assert _ids(api_client.get(SIGNUPS)) == expected
    expected_attendance = {held[name].pk for name in SIGNUP_VIEWS[who] if name in held}
    assert _ids(api_client.get(ATTENDANCE)) == expected_attendance


def test_my_signups_are_my_own(api_client, people, world):
    api_client.force_authenticate(people.volunteer)
    mine = _rows(api_client.get(MY_SIGNUPS))
    assert {row["id"] for row in mine} == {world.signups.a1.pk, world.attendance.a1.signup_id}
    api_client.force_authenticate(people.inst_a)
    assert _rows(api_client.get(MY_SIGNUPS)) == []


@pytest.mark.parametrize("url", [ACTIVITIES, SIGNUPS, ATTENDANCE, MY_SIGNUPS])
def test_anonymous_gets_401(api_client, world, url):
    assert api_client.get(url).status_code == 401


def test_no_answer_holds_a_phone(api_client, people, world):
    crew = world.crew
    phones = [crew.volunteer.phone, crew.other.phone, people.organiser.username]
    for who in ("county", "organiser", "volunteer"):
        api_client.force_authenticate(getattr(people, who))
        texts = [
            api_client.get(url).content.decode() for url in (ACTIVITIES, SIGNUPS, ATTENDANCE, MY_SIGNUPS)
        ]
        texts.append(api_client.get(f"{ACTIVITIES}{world.activities.pub_a1.pk}/").content.decode())
        for phone in phones:
            assert not any(phone in text for text in texts), (who, phone)


def test_the_detail_holds_organisers_and_the_callers_signup(api_client, people, world):
    activity = world.activities.pub_a1
    api_client.force_authenticate(people.volunteer)
    detail = api_client.get(f"{ACTIVITIES}{activity.pk}/").json()
    assert detail["organisers"] == [{"id": people.organiser.pk, "name": "周组织"}]
    assert detail["my_signup"] == {
        "id": world.signups.a1.pk,
        "status": "accepted",
        "status_display": str(SignupStatus.ACCEPTED.label),
    }
    assert detail["open_for_signup"] is True and detail["places_left"] == 19
    assert detail["status_display"] == str(ActivityStatus.PUBLISHED.label)


# --- Another township's ids ------------------------------------------------------------------------------


def test_another_townships_draft_is_404_to_read_and_to_change(api_client, people, world):
    draft = world.activities.draft_a1
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(f"{ACTIVITIES}{draft.pk}/").status_code == 404
    for path, body in (
        ("publish/", {}),
        ("cancel/", {"reason": "不办了"}),
        ("confirm-insurance/", {"insurance_note": "人保"}),
        ("signup/", {}),
    ):
        response = unchanged(
            lambda path=path, body=body: api_client.post(
                f"{ACTIVITIES}{draft.pk}/{path}", body, format="json"
            )
        )
        assert response.status_code == 404, path


def test_another_townships_published_activity_is_read_but_not_changed(api_client, people, world):
    activity = world.activities.pub_a1
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(f"{ACTIVITIES}{activity.pk}/").status_code == 200
    for path, body in (("cancel/", {"reason": "不办了"}), ("confirm-insurance/", {"insurance_note": "人保"})):
        response = unchanged(
            lambda path=path, body=body: api_client.post(
                f"{ACTIVITIES}{activity.pk}/{path}", body, format="json"
            )
        )
        assert response.status_code == 404, path


def test_another_townships_signups_and_attendance_are_404(api_client, people, world):
    api_client.force_authenticate(people.inst_b)
    assert api_client.get(f"{SIGNUPS}{world.signups.a1.pk}/").status_code == 404
    assert api_client.get(f"{ATTENDANCE}{world.attendance.a1.pk}/").status_code == 404
    response = unchanged(lambda: api_client.post(f"{SIGNUPS}{world.signups.a1.pk}/cancel/"))
    assert response.status_code == 404


def test_filtering_signups_by_another_townships_activity_is_a_400(api_client, people, world):
    api_client.force_authenticate(people.inst_b)
    response = api_client.get(SIGNUPS, {"activity": world.activities.pub_a1.pk})
    assert response.status_code == 400 and "activity" in response.json()


# --- Signing up ------------------------------------------------------------------------------------------


def test_signing_up_twice_makes_one_signup(api_client, people, world):
    activity = world.activities.pub_b1
    volunteer = make_b1_volunteer(world)
    api_client.force_authenticate(volunteer.user)
    first = api_client.post(f"{ACTIVITIES}{activity.pk}/signup/")
    again = api_client.post(f"{ACTIVITIES}{activity.pk}/signup/")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["status"] == "accepted" and first.json()["activity"] == activity.pk
    assert Signup.objects.filter(activity=activity, volunteer=volunteer).count() == 1
    activity.refresh_from_db()
    assert activity.accepted_count == 2


def make_b1_volunteer(world):
    from volunteers.tests.factories import make_volunteer

    return make_volunteer(world.activities.pub_b1.unit, "钱乙村", password="Qian@2026!x")


def test_a_volunteer_signs_up_and_cancels_with_a_token(api_client, tree, people, world):
    activity = make_activity(tree.a1, "甲一村读书会", start=at(days=20), organisers=[people.organiser])
    token = Token.objects.create(user=world.crew.member.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.post(f"{ACTIVITIES}{activity.pk}/signup/")
    assert response.status_code == 201, response.content
    assert [row["id"] for row in _rows(api_client.get(MY_SIGNUPS))] == [response.json()["id"]]
    cancelled = api_client.post(f"{ACTIVITIES}{activity.pk}/cancel-signup/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api_client.post(f"{ACTIVITIES}{activity.pk}/cancel-signup/").json() == cancelled.json()
    activity.refresh_from_db()
    assert activity.accepted_count == 0


def test_signup_outside_the_window_is_refused_with_its_message(api_client, tree, people, world):
    closed = make_activity(
        tree.a1,
        "已截止",
        start=at(days=5),
        signup_opens_at=at(days=-3),
        signup_closes_at=at(days=-1),
        organisers=[people.organiser],
    )
    api_client.force_authenticate(world.crew.member.user)
    response = unchanged(lambda: api_client.post(f"{ACTIVITIES}{closed.pk}/signup/"))
    refused(response, "activity", gettext("Sign-up for this activity has closed."))


def test_a_clashing_signup_is_refused_with_its_message(api_client, tree, people, world):
    start = world.activities.pub_a1.started_at
    clash = make_activity(
        tree.a1, "同时段", start=start + datetime.timedelta(hours=1), organisers=[people.organiser]
    )
    api_client.force_authenticate(people.volunteer)
    response = unchanged(lambda: api_client.post(f"{ACTIVITIES}{clash.pk}/signup/"))
    message = gettext("You are signed up for “%(title)s” at the same time (%(span)s).") % {
        "title": "甲一村清扫",
        "span": services._span(world.activities.pub_a1),
    }
    refused(response, "activity", message)


def test_staff_without_a_volunteer_account_cannot_sign_up(api_client, people, world):
    api_client.force_authenticate(people.inst_a)
    response = unchanged(lambda: api_client.post(f"{ACTIVITIES}{world.activities.pub_a1.pk}/signup/"))
    refused(response, "volunteer", gettext("Sign in with your volunteer account to sign up."))
    response = unchanged(lambda: api_client.post(f"{ACTIVITIES}{world.activities.pub_a1.pk}/cancel-signup/"))
    refused(response, "volunteer", gettext("Sign in with your volunteer account to sign up."))


def test_cancelling_without_a_signup_is_refused(api_client, people, world):
    api_client.force_authenticate(world.crew.member.user)
    response = unchanged(lambda: api_client.post(f"{ACTIVITIES}{world.activities.pub_a1.pk}/cancel-signup/"))
    refused(response, "signup", gettext("You have not signed up for this activity."))


def test_the_organiser_cancels_a_signup(api_client, people, world):
    api_client.force_authenticate(people.organiser)
    response = api_client.post(f"{SIGNUPS}{world.signups.a1.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


# --- Planning ---------------------------------------------------------------------------------------------


def _plan(unit, **fields):
    start = at(days=10)
    return {
        "unit": unit.pk,
        "title": "植树",
        "venue": "后山",
        "started_at": start.isoformat(),
        "ended_at": (start + datetime.timedelta(hours=3)).isoformat(),
        "capacity": 10,
        **fields,
    }


def test_staff_plan_confirm_insurance_publish_and_cancel(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    created = api_client.post(ACTIVITIES, _plan(tree.a1, needs_insurance=True), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["organisers"][0]["id"] == people.station_a1.pk
    url = f"{ACTIVITIES}{body['id']}/"
    refused(
        unchanged(lambda: api_client.post(f"{url}publish/")),
        "needs_insurance",
        gettext("This activity needs insurance for its volunteers: confirm it before publishing."),
    )
    refused(
        unchanged(
            lambda: api_client.post(f"{url}confirm-insurance/", {"insurance_note": " "}, format="json")
        ),
        "insurance_note",
        gettext("Name the insurer or the policy."),
    )
    confirmed = api_client.post(f"{url}confirm-insurance/", {"insurance_note": "人保团险"}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["insurance_confirmed"] is True
    published = api_client.post(f"{url}publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"
    refused(
        unchanged(lambda: api_client.post(f"{url}cancel/", {"reason": ""}, format="json")),
        "reason",
        gettext("Give the reason for cancelling."),
    )
    cancelled = api_client.post(f"{url}cancel/", {"reason": "暴雨"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["cancel_reason"] == "暴雨"


def test_planning_is_refused_with_the_services_field_and_message(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    start = at(days=10)
    body = _plan(tree.a1, ended_at=start.isoformat(), started_at=start.isoformat())
    refused(
        unchanged(lambda: api_client.post(ACTIVITIES, body, format="json")),
        "ended_at",
        gettext("The end must be after the start."),
    )
    response = unchanged(lambda: api_client.post(ACTIVITIES, _plan(tree.b1), format="json"))
    assert response.status_code == 400 and set(response.json()) == {"unit"}
    response = unchanged(
        lambda: api_client.post(ACTIVITIES, _plan(tree.a1, organisers=[999999]), format="json")
    )
    refused(
        response,
        "organisers",
        gettext("An organiser is a staff member of this unit or an active volunteer of this county."),
    )


def test_a_volunteer_does_not_plan(api_client, tree, people, world):
    api_client.force_authenticate(people.volunteer)
    response = unchanged(lambda: api_client.post(ACTIVITIES, _plan(tree.a1), format="json"))
    assert response.status_code == 400 and set(response.json()) == {"unit"}


# --- Filters ------------------------------------------------------------------------------------------


def test_activity_filters(api_client, tree, people, reference, world):
    Activity.objects.filter(pk=world.activities.pub_a1.pk).update(domain=reference.platform)
    a = world.activities
    api_client.force_authenticate(people.county)
    assert _ids(api_client.get(ACTIVITIES, {"domain": reference.platform.pk})) == {a.pub_a1.pk}
    assert _ids(api_client.get(ACTIVITIES, {"unit": tree.b1.pk})) == {
        a.pub_b1.pk,
        a.draft_b1.pk,
        world.held_b1.pk,
    }
    assert _ids(api_client.get(ACTIVITIES, {"subtree_of": tree.a.pk})) == {
        a.pub_a1.pk,
        a.draft_a1.pk,
        a.draft_a2.pk,
        world.held_a1.pk,
    }
    assert _ids(api_client.get(ACTIVITIES, {"status": "draft"})) == {
        a.draft_a1.pk,
        a.draft_a2.pk,
        a.draft_b1.pk,
    }
    assert _ids(api_client.get(ACTIVITIES, {"open_for_signup": "true"})) == {a.pub_a1.pk, a.pub_b1.pk}
    day = timezone.localdate(a.pub_b1.started_at)
    assert _ids(api_client.get(ACTIVITIES, {"date_from": day.isoformat(), "date_to": day.isoformat()})) == {
        a.pub_b1.pk
    }
    for params, field in (
        ({"open_for_signup": "maybe"}, "open_for_signup"),
        ({"status": "asleep"}, "status"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"ordering": "title"}, "ordering"),
    ):
        response = api_client.get(ACTIVITIES, params)
        assert response.status_code == 400 and field in response.json(), params
    # A volunteer filters the public list by a unit it holds no role on.
    api_client.force_authenticate(people.volunteer)
    assert _ids(api_client.get(ACTIVITIES, {"subtree_of": tree.b.pk})) == {a.pub_b1.pk, world.held_b1.pk}
    soonest = [row["started_at"] for row in _rows(api_client.get(ACTIVITIES, {"ordering": "started_at"}))]
    assert soonest == sorted(soonest) and len(soonest) == 4


# --- Constant queries ---------------------------------------------------------------------------------------


def _grow(url, count, tree, crew, start_index=0):
    for i in range(start_index, start_index + count):
        activity = write_activity(tree.a1, start=at(days=30 + i), title=f"活动{i}")
        if url in (SIGNUPS, MY_SIGNUPS):
            Signup.objects.create(
                activity=activity, volunteer=crew.volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-1)
            )
        elif url == ATTENDANCE:
            _attend(activity, crew.volunteer)


@pytest.mark.parametrize(
    ("url", "params", "who"),
    [
        (ACTIVITIES, {}, "inst_a"),
        (ACTIVITIES, {"subtree_of": "a"}, "inst_a"),
        (
            ACTIVITIES,
            {"open_for_signup": "false", "date_from": "2000-01-01"},
            "volunteer",
        ),
        (ACTIVITIES, {"ordering": "started_at"}, "volunteer"),
        (SIGNUPS, {}, "inst_a"),
        (ATTENDANCE, {}, "inst_a"),
        (MY_SIGNUPS, {}, "volunteer"),
    ],
)
def test_lists_take_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, crew, reference, django_assert_num_queries, url, params, who
):
    people.volunteer = crew.volunteer.user
    user = getattr(people, who)
    values = {"a": tree.a.pk, "platform": reference.platform.pk}
    params = {key: values.get(value, value) for key, value in params.items()}
    _grow(url, 1, tree, crew)
    api_client.force_authenticate(user)

    def get():
        forget_scope(user)
        return _rows(api_client.get(url, {"page_size": 50, **params}))

    with CaptureQueriesContext(connection) as one:
        first = get()
    assert len(first) == 1
    _grow(url, 80, tree, crew, start_index=1)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


def test_the_domain_filter_costs_the_same_too(
    api_client, tree, people, crew, reference, django_assert_num_queries
):
    def grow(count, offset):
        for i in range(offset, offset + count):
            write_activity(tree.a1, start=at(days=30 + i), title=f"活动{i}", domain=reference.platform)

    grow(1, 0)
    user = crew.volunteer.user
    api_client.force_authenticate(user)
    with CaptureQueriesContext(connection) as one:
        assert len(_rows(api_client.get(ACTIVITIES, {"domain": reference.platform.pk}))) == 1
    grow(60, 1)
    forget_scope(user)
    with django_assert_num_queries(len(one)):
        assert len(_rows(api_client.get(ACTIVITIES, {"domain": reference.platform.pk}))) == 50


# --- Schema ---------------------------------------------------------------------------------------------


def _check_write(openapi_schema, path, method, response, status="200"):
    assert str(response.status_code) == status, (path, response.status_code, response.content)
    validator = _validator(openapi_schema, path, method=method, status=status)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, errors


def test_every_answer_matches_the_schema(api_client, tree, people, world, openapi):  # noqa: F811
    make_platform(tree.center, "civility", "文明风尚平台")
    api_client.force_authenticate(people.county)
    for url, pk in (
        (ACTIVITIES, world.activities.pub_a1.pk),
        (SIGNUPS, world.signups.a1.pk),
        (ATTENDANCE, world.attendance.a1.pk),
    ):
        _check(openapi, url, api_client.get(url).json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}{pk}/").json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}99999999/").json(), "404")
    _check(openapi, ACTIVITIES, api_client.get(ACTIVITIES, {"status": "asleep"}).json(), "400")
    created = api_client.post(ACTIVITIES, _plan(tree.a1, longitude="117.81", latitude="26.80"), format="json")
    _check_write(openapi, ACTIVITIES, "post", created, "201")
    publish = f"{ACTIVITIES}{{id}}/publish/"
    _check_write(openapi, publish, "post", api_client.post(f"{ACTIVITIES}{created.json()['id']}/publish/"))
    _check_write(
        openapi, publish, "post", api_client.post(f"{ACTIVITIES}{created.json()['id']}/publish/"), "400"
    )
    api_client.force_authenticate(world.crew.member.user)
    signup = api_client.post(f"{ACTIVITIES}{created.json()['id']}/signup/")
    _check_write(openapi, f"{ACTIVITIES}{{id}}/signup/", "post", signup, "201")
    _check(openapi, MY_SIGNUPS, api_client.get(MY_SIGNUPS).json())
    _check(openapi, f"{ACTIVITIES}{{id}}/", api_client.get(f"{ACTIVITIES}{created.json()['id']}/").json())


def test_the_schema_documents_the_endpoints_and_their_filters(openapi):  # noqa: F811
    paths = openapi["paths"]
    for url in (ACTIVITIES, SIGNUPS, ATTENDANCE):
        assert url in paths and f"{url}{{id}}/" in paths, url
    assert MY_SIGNUPS in paths
    for action in ("signup", "cancel-signup", "publish", "cancel", "confirm-insurance"):
        assert set(paths[f"{ACTIVITIES}{{id}}/{action}/"]) == {"post"}, action
    assert set(paths[ATTENDANCE]) == {"get"} and set(paths[f"{ATTENDANCE}{{id}}/"]) == {"get"}
    parameters = {parameter["name"] for parameter in paths[ACTIVITIES]["get"]["parameters"]}
    assert {
        "domain",
        "unit",
        "subtree_of",
        "status",
        "date_from",
        "date_to",
        "open_for_signup",
        "ordering",
    } <= parameters


def test_signing_up_takes_few_queries_and_a_repeat_fewer(api_client, world, django_assert_max_num_queries):
    """The burst's path: the lock is taken only to make a sign-up, never to answer a repeat."""
    activity = world.activities.pub_b1
    volunteer = make_b1_volunteer(world)
    api_client.force_authenticate(volunteer.user)
    # PostgreSQL locks both rows in one statement and writes in one more (services._signup_insert).
    postgresql = connection.vendor == "postgresql"
    with django_assert_max_num_queries(7 if postgresql else 10) as first:  # with the savepoint, release
        assert api_client.post(f"{ACTIVITIES}{activity.pk}/signup/").status_code == 201
    with django_assert_max_num_queries(3) as again:
        assert api_client.post(f"{ACTIVITIES}{activity.pk}/signup/").status_code == 200
    locking = [query["sql"] for query in first.captured_queries if "FOR UPDATE" in query["sql"]]
    if postgresql:  # the activity's and the volunteer's
        assert len(locking) == 1 and "FOR UPDATE OF a, v" in locking[0]
    else:
        assert locking == []
    assert not any("FOR UPDATE" in query["sql"] for query in again.captured_queries)


def test_a_sign_up_for_an_id_past_any_row_is_a_404_not_a_database_error(api_client, world):
    api_client.force_authenticate(make_b1_volunteer(world).user)
    for pk in ("99999999999999999999999", "9223372036854775807"):
        assert api_client.post(f"{ACTIVITIES}{pk}/signup/").status_code == 404
