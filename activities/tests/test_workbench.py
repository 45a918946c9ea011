"""The coordinators' workbench: who sees which activities (their organisers and their units' admins, no
one of another township), the roster with its attendance and late flags, the offline sync endpoint
(idempotent on replay, refusals answered with their message), the QR token, the report form, and the
query counts of the list and the roster at 1 and 50 rows."""

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, pgettext

from activities import checkin
from activities.models import (
    Activity,
    ActivityReport,
    ActivityStatus,
    Attendance,
    OfflineEntry,
    OfflineOutcome,
    SignupStatus,
)
from activities.tests.factories import at, write_activity
from conftest import login
from volunteers.tests.factories import make_volunteer

pytestmark = pytest.mark.django_db

WORKBENCH = "/activities/workbench/"


def _stub_scan(request, activity_id: int, token: str):
    """Until the scan page exists: the check-in through the service itself."""
    from django.http import HttpResponse

    from activities import services

    _attendance, outcome = services.attendance_scan(actor=request.user, activity=activity_id, token=token)
    return HttpResponse(f'<p id="scan-outcome">{outcome}</p>')


@pytest.fixture
def scan_route():
    """The scan page's URL (activities:scan, another part of the app): a stub calling the service while
    it is not there, so the QR screen can be tested on its own."""
    from django.urls import NoReverseMatch, clear_url_caches, path

    from activities import urls

    try:
        reverse("activities:scan", args=[1, "x"])
        yield False
        return
    except NoReverseMatch:
        pass
    stub = path("<int:activity_id>/scan/<str:token>/", _stub_scan, name="scan")
    urls.urlpatterns.append(stub)
    clear_url_caches()
    yield True
    urls.urlpatterns.remove(stub)
    clear_url_caches()


def roster_url(activity) -> str:
    return reverse("activities:roster", args=[activity.pk])


def sync_url(activity) -> str:
    return reverse("activities:roster-sync", args=[activity.pk])


def running(unit, organiser=None, *, title="村口环境整治", start=None, hours=4):
    activity = write_activity(
        unit, start=start or at(-1), hours=hours, status=ActivityStatus.RUNNING, title=title
    )
    if organiser is not None:
        activity.organiser_links.create(user=organiser)
    return activity


def accept(activity, volunteer, status=SignupStatus.ACCEPTED):
    signup = activity.signups.create(volunteer=volunteer, status=status, queued_at=at(-50))
    counter = "accepted_count" if status == SignupStatus.ACCEPTED else "waitlisted_count"
    Activity.objects.filter(pk=activity.pk).update(**{counter: F(counter) + 1})
    return signup


def post_sync(client, activity, entries):
    return client.post(
        sync_url(activity), data=json.dumps({"entries": entries}), content_type="application/json"
    )


def entry(volunteer, action="in", *, minutes_ago=0.0, key=None):
    moment = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return {
        "key": str(key or uuid.uuid4()),
        "volunteer": volunteer.pk,
        "action": action,
        "at": moment.isoformat(),
    }


# --- Who sees what ---------------------------------------------------------------------------------


def test_the_organiser_and_the_units_admins_see_the_activity_and_nobody_else(
    client, tree, people, crew, organiser, scan_route
):
    mine = running(tree.a1, organiser, title="甲一村的活动")
    theirs = running(tree.b1, title="乙一村的活动")
    past = running(tree.a1, organiser, title="上个月的活动", start=at(days=-30))
    for user in (organiser, people.station_a1, people.inst_a, people.county):
        login(client, user)
        page = client.get(WORKBENCH)
        assert page.status_code == 200
        body = page.content.decode()
        assert f'id="activity-{mine.pk}"' in body
        assert f'id="activity-{past.pk}"' not in body  # today's and upcoming only
        assert (f'id="activity-{theirs.pk}"' in body) == (user == people.county)
        assert client.get(roster_url(mine)).status_code == 200
    login(client, people.inst_b)
    body = client.get(WORKBENCH).content.decode()
    assert f'id="activity-{theirs.pk}"' in body and f'id="activity-{mine.pk}"' not in body
    for name in ("activities:roster", "activities:qr", "activities:qr-token", "activities:report"):
        assert client.get(reverse(name, args=[mine.pk])).status_code == 404
    assert post_sync(client, mine, []).status_code == 404
    accept(mine, crew.volunteer)
    by_hand = {"volunteer": crew.volunteer.pk, "action": "in"}
    assert client.post(roster_url(mine), by_hand).status_code == 404
    assert not Attendance.objects.exists()


def test_whoever_runs_nothing_gets_a_404(client, tree, people, crew, organiser):
    activity = running(tree.a1, organiser)
    for user in (people.nobody, crew.other.user, crew.volunteer.user):
        login(client, user)
        assert client.get(WORKBENCH).status_code == 404
        assert client.get(roster_url(activity)).status_code == 404
    client.logout()
    assert client.get(WORKBENCH).status_code == 302  # to the login


def test_another_townships_organiser_cannot_sync_into_the_roster(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    accept(activity, crew.volunteer)
    elsewhere = make_volunteer(tree.b1, "钱乙村", password="Elsewhere@2026!")
    running(tree.b1, elsewhere.user)
    login(client, elsewhere.user)
    assert client.get(WORKBENCH).status_code == 200
    assert post_sync(client, activity, [entry(crew.volunteer)]).status_code == 404
    assert client.get(roster_url(activity)).status_code == 404
    assert not Attendance.objects.exists() and not OfflineEntry.objects.exists()


def test_the_workbench_counts_and_links_the_queue_and_the_missing_reports(
    client, tree, people, crew, organiser
):
    activity = running(tree.a1, organiser)
    accept(activity, crew.volunteer)
    accept(activity, crew.member, SignupStatus.WAITLISTED)
    Attendance.objects.create(
        activity=activity, volunteer=crew.volunteer, signup=activity.signups.get(volunteer=crew.volunteer),
        checked_in_at=at(-1), in_method="organiser",
    )  # fmt: skip
    overdue = write_activity(
        tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED, title="十天前的活动"
    )
    overdue.organiser_links.create(user=organiser)
    reported = write_activity(
        tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED, title="已报告的活动"
    )
    reported.organiser_links.create(user=organiser)
    ActivityReport.objects.create(activity=reported, text="已完成", people_served=3)
    recent = write_activity(tree.a1, start=at(days=-1), status=ActivityStatus.FINISHED, title="昨天的活动")
    recent.organiser_links.create(user=organiser)
    login(client, organiser)
    body = client.get(WORKBENCH).content.decode()
    row = body.split(f'id="activity-{activity.pk}"')[1].split("</li>")[0]
    accepted = gettext("%(count)s/%(capacity)s accepted") % {"count": 1, "capacity": 20}
    assert f'<span data-count="accepted">{accepted}' in row
    assert f'<span data-count="waitlisted">{gettext("%(count)s waitlisted") % {"count": 1}}' in row
    assert f'<span data-count="checked-in">{gettext("%(count)s checked in") % {"count": 1}}' in row
    assert f'id="missing-{overdue.pk}"' in body
    assert f'id="missing-{reported.pk}"' not in body and f'id="missing-{recent.pk}"' not in body
    assert reverse("activities:report", args=[overdue.pk]) in body
    assert 'id="pending-count">0<' in body and 'id="approvals-link"' not in body  # the queue would 404
    assert 'id="compliance-link"' not in body  # a page for the units' staff
    login(client, people.station_a1)
    body = client.get(WORKBENCH).content.decode()
    assert 'id="approvals-link"' in body
    assert 'id="compliance-link"' in body and reverse("activities:compliance") in body


def test_the_hours_an_attendance_made_wait_in_the_organisers_queue(client, tree, crew, organiser):
    activity = running(tree.a1, organiser, start=at(-3))
    accept(activity, crew.volunteer)
    login(client, organiser)
    answer = post_sync(
        client,
        activity,
        [entry(crew.volunteer, minutes_ago=170), entry(crew.volunteer, "out", minutes_ago=1)],
    ).json()
    assert [result["outcome"] for result in answer["results"]] == [OfflineOutcome.APPLIED] * 2
    assert answer["attendance"][str(crew.volunteer.pk)]["out"]
    body = client.get(WORKBENCH).content.decode()
    assert 'id="pending-count">1<' in body and reverse("records:queue") in body


# --- The roster and its sync -----------------------------------------------------------------------


def test_sync_applies_once_at_the_phones_time_and_a_replay_changes_nothing(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    accept(activity, crew.volunteer)
    accept(activity, crew.leader)
    login(client, organiser)
    entries = [entry(crew.volunteer, minutes_ago=1), entry(crew.leader, minutes_ago=0.5)]
    answer = post_sync(client, activity, entries).json()
    assert [result["outcome"] for result in answer["results"]] == [OfflineOutcome.APPLIED] * 2
    assert [result["key"] for result in answer["results"]] == [item["key"] for item in entries]
    attendance = Attendance.objects.get(volunteer=crew.volunteer)
    assert attendance.checked_in_at.isoformat() == entries[0]["at"] and not attendance.in_arrived_late
    assert set(answer["attendance"]) == {str(crew.volunteer.pk), str(crew.leader.pk)}
    before = list(Attendance.objects.order_by("pk").values())
    replay = post_sync(client, activity, entries).json()
    assert replay["results"] == answer["results"]
    assert list(Attendance.objects.order_by("pk").values()) == before
    assert OfflineEntry.objects.count() == 2


def test_refused_and_late_entries_are_answered_and_shown_on_the_roster(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    accept(activity, crew.volunteer)
    login(client, organiser)
    late = entry(crew.volunteer, minutes_ago=10)
    stranger = entry(crew.member)  # not signed up
    early_out = entry(crew.leader, "out")
    damaged = {"key": "not-a-uuid", "volunteer": crew.volunteer.pk, "action": "in", "at": "yesterday"}
    answer = post_sync(client, activity, [late, stranger, early_out, damaged]).json()
    results = answer["results"]
    assert results[0]["outcome"] == OfflineOutcome.APPLIED and results[0]["arrived_late"] is True
    assert results[1] == {
        **results[1],
        "outcome": OfflineOutcome.REFUSED,
        "message": gettext("Only volunteers accepted for this activity check in."),
    }
    assert results[2]["outcome"] == OfflineOutcome.REFUSED
    assert results[3]["outcome"] == OfflineOutcome.REFUSED
    assert results[3]["message"] == gettext("This entry is damaged and cannot be applied.")
    assert Attendance.objects.get().in_arrived_late
    body = client.get(roster_url(activity)).content.decode()
    person = body.split(f'id="person-{crew.volunteer.pk}"')[1].split("</li>")[0]
    assert gettext("sent later") in person and 'data-in-late="1"' in person
    assert f'data-key="{stranger["key"]}"' in body
    assert escape(gettext("Only volunteers accepted for this activity check in.")) in body
    assert f'data-key="{late["key"]}"' in body


def test_a_key_of_another_roster_is_refused_not_applied(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    other = running(tree.a1, organiser, title="另一个活动")
    accept(activity, crew.volunteer)
    accept(other, crew.volunteer)
    login(client, organiser)
    sent = entry(crew.volunteer)
    assert post_sync(client, activity, [sent]).json()["results"][0]["outcome"] == OfflineOutcome.APPLIED
    again = post_sync(client, other, [sent]).json()["results"][0]
    assert again["outcome"] == OfflineOutcome.REFUSED
    assert again["message"] == gettext("This entry was sent for another roster.")
    assert not Attendance.objects.filter(activity=other).exists()


def test_sync_refuses_what_is_not_json(client, tree, organiser):
    activity = running(tree.a1, organiser)
    login(client, organiser)
    response = client.post(sync_url(activity), data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert client.get(sync_url(activity)).status_code == 405


def test_the_roster_shows_the_accepted_and_waitlisted_with_their_times(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    signup = accept(activity, crew.volunteer)
    accept(activity, crew.member, SignupStatus.WAITLISTED)
    Attendance.objects.create(
        activity=activity, volunteer=crew.volunteer, signup=signup, checked_in_at=at(-1),
        checked_out_at=at(-0.5), in_method="organiser", out_method="closed", missed_checkout=True,
    )  # fmt: skip
    login(client, organiser)
    body = client.get(roster_url(activity)).content.decode()
    person = body.split(f'id="person-{crew.volunteer.pk}"')[1].split("</li>")[0]
    local_in = timezone.localtime(at(-1)).strftime("%H:%M")
    assert local_in in person and gettext("missed check-out") in person
    waiting = body.split(f'id="person-{crew.member.pk}"')[1].split("</li>")[0]
    assert gettext("waitlisted") in waiting and f'id="in-{crew.member.pk}"' not in waiting
    # The count reads as a count ("已签到 1"), not as the attendance's "how checked in" column.
    assert pgettext("a count of volunteers", "checked in") != gettext("checked in")
    heading = body.split('id="checked-in-count"')[0].rsplit("<h2", 1)[1]
    assert pgettext("a count of volunteers", "checked in") in heading


def test_the_button_without_script_checks_in_now(client, tree, crew, organiser):
    activity = running(tree.a1, organiser)
    accept(activity, crew.volunteer)
    login(client, organiser)
    response = client.post(roster_url(activity), {"volunteer": crew.volunteer.pk, "action": "in"})
    assert response.status_code == 302
    assert Attendance.objects.get().in_method == "organiser"
    response = client.post(roster_url(activity), {"volunteer": crew.member.pk, "action": "in"}, follow=True)
    assert (
        escape(gettext("Only volunteers accepted for this activity check in.")) in response.content.decode()
    )


# --- The QR screen ---------------------------------------------------------------------------------


def test_the_qr_screen_and_its_token_endpoint(client, tree, organiser, scan_route):
    activity = running(tree.a1, organiser)
    login(client, organiser)
    page = client.get(reverse("activities:qr", args=[activity.pk]))
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.content.decode()
    state = client.get(reverse("activities:qr-token", args=[activity.pk])).json()
    scan = checkin.read_token(state["token"], activity_id=activity.pk)
    assert scan.window == state["window"] == checkin.current_window()
    assert state["url"] == "http://testserver" + reverse(
        "activities:scan", args=[activity.pk, state["token"]]
    )
    assert (
        state["image"].startswith("data:image/svg+xml;base64,") and 0 < state["next_in"] <= state["seconds"]
    )


def test_the_service_worker_covers_the_workbench(client):
    response = client.get(reverse("activities:roster-sw"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == WORKBENCH
    assert "self.ROSTER_ASSETS" in response.content.decode()


# --- The report --------------------------------------------------------------------------------------


def test_the_report_form_submits_through_the_service(client, tree, people, organiser):
    held = write_activity(tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED)
    held.organiser_links.create(user=organiser)
    login(client, organiser)
    url = reverse("activities:report", args=[held.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"text": "  ", "people_served": "12"})
    assert response.status_code == 200
    assert ActivityReport.objects.count() == 0
    response = client.post(url, {"text": "清理垃圾二十袋", "people_served": "12"})
    assert response.status_code == 302 and response["Location"] == WORKBENCH
    report = ActivityReport.objects.get()
    assert (report.text, report.people_served, report.submitted_by) == ("清理垃圾二十袋", 12, organiser)
    assert f'id="missing-{held.pk}"' not in client.get(WORKBENCH).content.decode()
    coming = running(tree.a1, organiser, start=at(2))
    response = client.post(
        reverse("activities:report", args=[coming.pk]), {"text": "x", "people_served": "1"}
    )
    assert escape(gettext("A report is written after the activity was held.")) in response.content.decode()
    login(client, people.inst_b)
    assert client.post(url, {"text": "篡改", "people_served": "1"}).status_code == 404
    assert ActivityReport.objects.get().text == "清理垃圾二十袋"


# --- Query counts ----------------------------------------------------------------------------------


def _count(client, url) -> int:
    client.get(url)  # the first request after the login also saves the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_workbench_query_count_holds_for_1_and_50_activities(
    client, tree, organiser, django_assert_num_queries
):
    login(client, organiser)
    running(tree.a1, organiser)
    write_activity(tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED).organiser_links.create(
        user=organiser
    )
    one = _count(client, WORKBENCH)
    for index in range(49):
        running(tree.a1, organiser, title=f"活动{index}", start=at(index))
        write_activity(tree.a1, start=at(days=-10), status=ActivityStatus.FINISHED).organiser_links.create(
            user=organiser
        )
    with django_assert_num_queries(one):
        body = client.get(WORKBENCH).content.decode()
    assert body.count('class="wb-activity"') == 50 and body.count('class="row wb-missing"') == 50


def test_roster_query_count_holds_for_1_and_50_signups(client, tree, organiser, django_assert_num_queries):
    activity = running(tree.a1, organiser)
    Activity.objects.filter(pk=activity.pk).update(capacity=60)
    people = [
        make_volunteer(tree.a1, "志愿者" + "甲乙丙丁戊己庚辛壬癸"[n % 10] + "子丑寅卯辰"[n // 10])
        for n in range(50)
    ]
    login(client, organiser)

    def add(volunteer):
        signup = accept(activity, volunteer)
        Attendance.objects.create(
            activity=activity, volunteer=volunteer, signup=signup, checked_in_at=at(-1), in_method="offline",
            in_arrived_late=True,
        )  # fmt: skip
        OfflineEntry.objects.create(
            key=uuid.uuid4(), activity=activity, volunteer=volunteer, action="in", happened_at=at(-1),
            sent_by=organiser, outcome=OfflineOutcome.APPLIED, arrived_late=True,
        )  # fmt: skip

    add(people[0])
    one = _count(client, roster_url(activity))
    for volunteer in people[1:]:
        add(volunteer)
    with django_assert_num_queries(one):
        body = client.get(roster_url(activity)).content.decode()
    assert body.count('class="wb-person"') == 50 and body.count("wb-entry-late") == 50
