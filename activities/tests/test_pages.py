"""The activities' public and volunteer pages: the list with its filters, an activity's page for anyone
and for a volunteer, signing up and cancelling with the services' refusals as messages, the check-in scan
and its refusals, the location shared only with consent, my activities and the inbox."""

import time
from unittest import mock
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from activities import checkin, services
from activities.models import Activity, Attendance, Signup, SignupStatus
from conftest import login
from kernel.inbox import notify
from kernel.models import Notification
from kernel.testing import messages_of

from . import factories
from .factories import at, sign_up, write_activity

pytestmark = pytest.mark.django_db

LIST = "/activities/"
_ORGANISER = []


@pytest.fixture(autouse=True)
def _organiser(organiser):
    _ORGANISER[:] = [organiser]


def make_activity(unit, title="社区环境整治", **fields):
    fields.setdefault("organisers", _ORGANISER)
    return factories.make_activity(unit, title, **fields)


def detail_url(activity) -> str:
    return reverse("activities:detail", args=[activity.pk])


def scan_url(activity, token) -> str:
    return reverse("activities:scan", args=[activity.pk, token])


def listed(response) -> list[int]:
    return [activity.pk for activity in response.context["activities"]]


# --- The list ------------------------------------------------------------------------------------


def test_the_list_is_public_shows_no_draft_and_puts_the_upcoming_first(client, tree):
    later = make_activity(tree.a1, "后天的活动", start=at(days=2))
    sooner = make_activity(tree.a1, "明天的活动", start=at(days=1))
    past = write_activity(tree.a1, start=at(days=-3), status="finished", title="过去的活动")
    draft = make_activity(tree.a1, "草稿", publish=False)
    response = client.get(LIST)
    assert response.status_code == 200
    assert listed(response) == [sooner.pk, later.pk, past.pk]
    assert draft.title not in response.content.decode()


def test_the_list_filters_by_domain_unit_dates_and_open_sign_up(client, tree, reference):
    themed = make_activity(tree.a1, "宣讲", domain=reference.platform, start=at(days=3))
    in_b = make_activity(tree.b1, "乙镇", start=at(days=5))
    closed = make_activity(
        tree.a1a, "已截止", start=at(days=4), signup_opens_at=at(days=-2), signup_closes_at=at(days=-1)
    )
    assert listed(client.get(LIST, {"domain": reference.platform.pk})) == [themed.pk]
    assert listed(client.get(LIST, {"unit": tree.a.pk})) == [themed.pk, closed.pk]
    assert listed(client.get(LIST, {"unit": tree.b.pk})) == [in_b.pk]
    day = timezone.localdate(at(days=4)).isoformat()
    assert listed(client.get(LIST, {"date_from": day, "date_to": day})) == [closed.pk]
    assert listed(client.get(LIST, {"open": "on"})) == [themed.pk, in_b.pk]
    # A filter that is not valid is left out, never a 500.
    assert client.get(LIST, {"unit": "nope", "date_from": "x"}).status_code == 200


def test_the_unit_filter_offers_the_centers_and_institutes_only(client, tree):
    """Thousands of stations and points at city scale would be thousands of options on every load."""
    form = client.get(LIST).context["form"]
    offered = set(form.fields["unit"].queryset.values_list("pk", flat=True))
    assert {tree.center.pk, tree.a.pk, tree.b.pk} <= offered
    assert tree.a1.pk not in offered and tree.a1a.pk not in offered
    # A station asked for by hand is refused as a choice and left out, never a 500.
    assert client.get(LIST, {"unit": tree.a1.pk}).status_code == 200


def make_timeline(tree, upcoming: int, past: int) -> tuple[list[int], list[int]]:
    """`upcoming` activities not ended (the first running since an hour, the rest soonest first, two on
    the same start) and `past` ended ones (latest first, two on the same start), in the list's order."""
    running = write_activity(tree.a1, start=at(hours=-1), hours=3, status="running", title="进行中")
    coming = [running.pk]
    for number in range(1, upcoming):
        day = number - (number == upcoming - 1)  # the last two start together: the lower id first
        coming.append(write_activity(tree.a1, start=at(days=day), title=f"将来{number}").pk)
    ended = []
    for number in range(past):
        day = number + 1 - (number == 1)  # the first two start together: the higher id first
        ended.append(write_activity(tree.a1, start=at(days=-day), status="finished", title=f"过去{number}"))
    ended.sort(key=lambda activity: (activity.started_at, activity.pk), reverse=True)
    return coming, [activity.pk for activity in ended]


def test_the_list_runs_the_not_ended_then_the_past_across_pages(client, tree):
    """Page 2 holds where the not ended end: the last of them, then the latest past ones."""
    coming, ended = make_timeline(tree, upcoming=53, past=60)
    pages = [listed(client.get(LIST, {"page": number})) for number in (1, 2, 3)]
    assert pages[0] == coming[:50]
    assert pages[1] == coming[50:] + ended[:47]
    assert pages[2] == ended[47:]
    body = client.get(LIST, {"page": 2}).content.decode()
    assert f'href="{detail_url(Activity.objects.get(pk=ended[0]))}"' in body
    assert "113" in body  # the count


def test_public_activities_pages_across_the_boundary_and_counts_up_to_its_limit(tree):
    """The sequence behind the list at any page size: every boundary of a page and of the two parts."""
    from django.core.paginator import Paginator

    from activities import selectors

    coming, ended = make_timeline(tree, upcoming=4, past=5)
    expected = coming + ended
    for size in (1, 2, 3, 4, 5, 9, 10):
        activities = selectors.public_activities()
        paginator = Paginator(activities, size)
        read = [activity.pk for number in paginator.page_range for activity in paginator.page(number)]
        assert read == expected, size
        assert activities.count_exact
    # Counted up to 3 a part: a lower bound, and the pages inside it read as before.
    activities = selectors.public_activities(count_limit=3)
    assert activities.count() == 8 and not activities.count_exact
    assert [activity.pk for activity in activities[2:6]] == expected[2:6]
    # Read without counting first, as a JSON read of a page does.
    rows = selectors.public_activities().values("id", "started_at", "title")
    assert [row["id"] for row in rows[0:6]] == expected[:6]
    assert [row["id"] for row in rows[5:9]] == expected[5:9]
    rows.count()  # counted: the page across the parts is one query
    assert [row["id"] for row in rows[2:7]] == expected[2:7]


def test_the_count_past_its_limit_is_a_lower_bound_and_next_stays_offered(client, tree, monkeypatch):
    from activities import views

    monkeypatch.setattr(views, "COUNT_LIMIT", 3)
    monkeypatch.setattr(views, "PAGES_AHEAD", 0)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    coming, ended = make_timeline(tree, upcoming=3, past=6)
    response = client.get(LIST)
    body = response.content.decode()
    assert listed(response) == coming[:2]
    assert '<span class="count">7+</span>' in body and "page=2" in body  # 3 and at least 4
    assert gettext("Page %(number)s of %(count)s") % {"number": 1, "count": "4+"} in body
    # Page 4 counts up to 8 a part: all of them, so the figure is exact again.
    response = client.get(LIST, {"page": 4})
    assert listed(response) == ended[3:5]
    assert '<span class="count">9</span>' in response.content.decode()


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_takes_the_same_queries_for_1_and_50(
    client, tree, reference, count, django_assert_num_queries
):
    for number in range(count):  # at 50, half not ended and half past: a page across both parts
        day = (1 + number) * (-1 if number % 2 else 1)
        write_activity(tree.a1, start=at(days=day), title=f"活动{number}", domain=reference.platform)
    # the session, the two parts' counts, the page's rows, and the two choices of the filter form
    with django_assert_num_queries(6):
        response = client.get(LIST, {"open": ""})
    assert len(listed(response)) == count


# --- An activity's page ----------------------------------------------------------------------------


def test_anyone_reads_an_activity_and_is_offered_the_login(client, tree):
    activity = make_activity(tree.a1, longitude="117.810000", latitude="26.810000", requirements="18岁以上")
    response = client.get(detail_url(activity))
    body = response.content.decode()
    assert response.status_code == 200
    assert activity.title in body and "18岁以上" in body and "uri.amap.com" in body
    login_url = f"{reverse('volunteers:login')}?next=%2Factivities%2F{activity.pk}%2F"
    assert login_url in body
    assert 'id="sign-up"' not in body


def test_a_draft_is_not_found_by_the_public_nor_by_a_volunteer(client, tree, crew):
    draft = make_activity(tree.a1, publish=False)
    assert client.get(detail_url(draft)).status_code == 404
    login(client, crew.volunteer.user)
    assert client.get(detail_url(draft)).status_code == 404
    assert client.post(reverse("activities:signup", args=[draft.pk])).status_code == 404
    assert not Signup.objects.exists()


def test_a_volunteer_signs_up_once_and_cancels(client, tree, crew):
    activity = make_activity(tree.a1)
    login(client, crew.volunteer.user)
    assert 'id="sign-up"' in client.get(detail_url(activity)).content.decode()
    signup_url = reverse("activities:signup", args=[activity.pk])
    response = client.post(signup_url)
    assert response.status_code == 302 and response.url == detail_url(activity)
    assert messages_of(response) == [gettext("You are signed up.")]
    client.post(signup_url)  # again: nothing new
    assert Signup.objects.filter(activity=activity).count() == 1
    activity.refresh_from_db()
    assert activity.accepted_count == 1
    body = client.get(detail_url(activity)).content.decode()
    assert 'id="cancel-signup"' in body and 'id="sign-up"' not in body
    response = client.post(reverse("activities:signup-cancel", args=[activity.pk]))
    assert messages_of(response) == [gettext("Your sign-up is cancelled.")]
    assert Signup.objects.get(activity=activity).status == SignupStatus.CANCELLED
    activity.refresh_from_db()
    assert activity.accepted_count == 0


def test_a_full_activity_puts_the_volunteer_on_the_waitlist(client, tree, crew):
    activity = make_activity(tree.a1, capacity=1)
    sign_up(activity, crew.member)
    login(client, crew.volunteer.user)
    response = client.post(reverse("activities:signup", args=[activity.pk]))
    assert messages_of(response) == [gettext("The activity is full: you are on the waitlist.")]
    assert Signup.objects.get(volunteer=crew.volunteer).status == SignupStatus.WAITLISTED


def test_a_clash_and_a_closed_window_are_refused_with_the_services_message(client, tree, crew):
    first = make_activity(tree.a1, "第一场", start=at(days=2))
    clashing = make_activity(tree.a1, "同时的另一场", start=at(days=2, hours=1))
    sign_up(first, crew.volunteer)
    login(client, crew.volunteer.user)
    response = client.post(reverse("activities:signup", args=[clashing.pk]))
    assert messages_of(response) == [services._clash_message(Signup.objects.get(activity=first))]
    client.get(detail_url(clashing))  # the message is shown
    closed = make_activity(
        tree.a1, "已截止", start=at(days=5), signup_opens_at=at(days=-2), signup_closes_at=at(days=-1)
    )
    response = client.post(reverse("activities:signup", args=[closed.pk]))
    assert messages_of(response) == [gettext("Sign-up for this activity has closed.")]
    assert 'id="sign-up"' not in client.get(detail_url(closed)).content.decode()
    assert not Signup.objects.filter(activity__in=[clashing, closed]).exists()


def test_cancelling_after_the_deadline_is_refused(client, tree, crew, settings):
    activity = make_activity(tree.a1, start=at(hours=1))
    sign_up(activity, crew.volunteer)
    login(client, crew.volunteer.user)
    assert 'id="cancel-signup"' not in client.get(detail_url(activity)).content.decode()
    response = client.post(reverse("activities:signup-cancel", args=[activity.pk]))
    [message] = messages_of(response)
    assert message.startswith(
        gettext("Sign-ups are cancelled until %(at)s; please tell the organiser instead.")[:3]
    )
    assert Signup.objects.get(activity=activity).status == SignupStatus.ACCEPTED


def test_signing_up_needs_a_login(client, tree):
    activity = make_activity(tree.a1)
    response = client.post(reverse("activities:signup", args=[activity.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("volunteers:login"))
    assert not Signup.objects.exists()


# --- The scan ----------------------------------------------------------------------------------------


@pytest.fixture
def running(tree, crew):
    activity = make_activity(tree.a1, "正在进行", start=at(hours=0.5))
    sign_up(activity, crew.volunteer)
    return activity


def test_the_scan_page_needs_a_login_and_sends_itself(client, running):
    url = scan_url(running, checkin.token_for(running.pk))
    response = client.get(url)
    assert response.status_code == 302
    assert unquote(response.url) == unquote(f"{reverse('volunteers:login')}?next={url}")


def test_a_scan_checks_in_then_out_then_changes_nothing(client, crew, running):
    login(client, crew.volunteer.user)
    window = checkin.current_window()
    page = client.get(scan_url(running, checkin.token_for(running.pk, window=window)))
    body = page.content.decode()
    assert 'id="scan-form"' in body and "activities/scan.js" in body and "<script>" not in body
    assert not Attendance.objects.exists()
    response = client.post(scan_url(running, checkin.token_for(running.pk, window=window)))
    assert response.context["outcome"] == services.ScanOutcome.CHECKED_IN
    assert 'id="share-location"' in response.content.decode()
    again = client.post(scan_url(running, checkin.token_for(running.pk, window=window)))
    assert again.context["outcome"] == services.ScanOutcome.UNCHANGED
    out = client.post(scan_url(running, checkin.token_for(running.pk, window=window + 1)))
    assert out.context["outcome"] == services.ScanOutcome.CHECKED_OUT
    assert 'id="share-location"' not in out.content.decode()
    assert Attendance.objects.get(activity=running).checked_out_at is not None


def test_an_expired_a_forged_and_another_activitys_code_are_refused(client, tree, crew, running):
    login(client, crew.volunteer.user)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):
        expired = checkin.token_for(running.pk, window=checkin.current_window())
    other = make_activity(tree.a1, "另一场", start=at(days=3))
    cases = [
        (expired, "This check-in code has expired: scan the code on the organiser's screen again."),
        ("forged-token", "This is not a valid check-in code."),
        (checkin.token_for(other.pk), "This code belongs to another activity."),
    ]
    for token, msgid in cases:
        response = client.post(scan_url(running, token))
        assert response.status_code == 200
        assert response.context["refusal"] == gettext(msgid)
    assert not Attendance.objects.exists()


def test_a_volunteer_not_signed_up_is_refused(client, crew, running):
    login(client, crew.member.user)
    response = client.post(scan_url(running, checkin.token_for(running.pk)))
    assert response.context["refusal"]
    assert not Attendance.objects.exists()


def test_the_location_is_stored_only_with_consent(client, crew, running):
    login(client, crew.volunteer.user)
    client.post(scan_url(running, checkin.token_for(running.pk)))
    url = reverse("activities:attendance-location", args=[running.pk])
    client.post(url, {"latitude": "26.810000", "longitude": "117.810000"})
    attendance = Attendance.objects.get(activity=running)
    assert attendance.latitude is None and attendance.location_consented_at is None
    client.post(url, {"consent": "yes", "latitude": "26.810000", "longitude": "117.810000"})
    attendance.refresh_from_db()
    assert str(attendance.latitude) == "26.810000" and attendance.location_consented_at is not None


def test_nobody_shares_a_location_for_anothers_attendance(client, crew, running):
    login(client, crew.volunteer.user)
    client.post(scan_url(running, checkin.token_for(running.pk)))
    login(client, crew.member.user)
    url = reverse("activities:attendance-location", args=[running.pk])
    response = client.post(url, {"consent": "yes", "latitude": "26.8", "longitude": "117.8"})
    assert response.status_code == 404
    assert Attendance.objects.get(activity=running).latitude is None


# --- My activities and the inbox ----------------------------------------------------------------------


def test_my_activities_lists_upcoming_and_past_with_attendance(client, tree, crew, running):
    later = make_activity(tree.a1, "下周", start=at(days=7))
    sign_up(later, crew.volunteer)
    past = write_activity(tree.a1, start=at(days=-5), status="finished", title="上周")
    Signup.objects.create(activity=past, volunteer=crew.volunteer, status="accepted", queued_at=at(days=-6))
    sign_up(make_activity(tree.a1, "别人的", start=at(days=8)), crew.member)
    login(client, crew.volunteer.user)
    client.post(scan_url(running, checkin.token_for(running.pk)))
    response = client.get(reverse("activities:mine"))
    assert [signup.activity.pk for signup in response.context["upcoming"]] == [running.pk, later.pk]
    assert [signup.activity.pk for signup in response.context["past"]] == [past.pk]
    assert response.context["upcoming"][0].attendance_row is not None
    assert "别人的" not in response.content.decode()


def test_the_inbox_shows_only_my_notifications_and_marks_them_read(client, crew):
    notify([crew.volunteer.user], subject="活动取消")
    notify([crew.member.user], subject="别人的消息")
    login(client, crew.volunteer.user)
    response = client.get(reverse("activities:inbox"))
    body = response.content.decode()
    assert "活动取消" in body and "别人的消息" not in body
    assert not Notification.objects.filter(user=crew.volunteer.user, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=crew.member.user, read_at__isnull=True).exists()


def test_the_menu_offers_activities_and_the_inbox(client, crew):
    login(client, crew.volunteer.user)
    body = client.get(reverse("activities:mine")).content.decode()
    for key in ("nav-activities", "nav-my-activities", "nav-inbox"):
        assert f'id="{key}"' in body
    assert Activity.objects.count() == 0


def test_a_page_number_past_any_page_is_the_last_page_never_an_error(client, tree):
    make_activity(tree.a1, "唯一的活动", start=at(days=2))
    for page in ("999999999999999999", "1" * 5000, "-3", "0", "x"):
        response = client.get(LIST, {"page": page})
        assert response.status_code == 200 and len(listed(response)) == 1, page
