"""The activities admin: scoped as the records and stations admins are. Township B's admins cannot see,
change or act on township A's activities, sign-ups, attendance, roster entries or reports (404/403 or not
listed, a forged action changes nothing); a level below cannot act on the level above's activity; plain
volunteers who organise have no admin; writes go through the services and their refusals come back on
the form; volunteers show by number and masked name, locations as shared or not; the lists read a
constant number of queries."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from activities import services
from activities.models import (
    Activity,
    ActivityReport,
    ActivityStatus,
    Attendance,
    AttendanceMethod,
    OfflineEntry,
    OfflineOutcome,
    Signup,
    SignupStatus,
)
from activities.tests.factories import at, make_activity, sign_up, write_activity
from kernel.testing import changelist_pks, messages_of
from stations.scoping import forget_scope

pytestmark = pytest.mark.django_db

MODELS = ["activity", "signup", "attendance", "offlineentry", "activityreport"]


def url(model, view="changelist", *args):
    return reverse(f"admin:activities_{model}_{view}", args=args)


def listed(client, model, **query) -> set[int]:
    return changelist_pks(client, url(model), **query)


def frozen() -> dict:
    return {
        "activities": list(Activity.objects.order_by("pk").values()),
        "signups": list(Signup.objects.order_by("pk").values()),
        "attendance": list(Attendance.objects.order_by("pk").values()),
        "reports": list(ActivityReport.objects.order_by("pk").values()),
    }


def township(tree, people, crew, unit, volunteer, actor, suffix):
    """An activity of `unit` with a sign-up, a running one with an attendance and a roster entry, a held
    one with its report."""
    planned = make_activity(unit, f"环境整治{suffix}", actor=actor)
    signup = sign_up(planned, volunteer)
    running = write_activity(unit, start=at(-2), status=ActivityStatus.RUNNING, title=f"进行中{suffix}")
    running.organiser_links.create(user=actor)
    running_signup = running.signups.create(
        volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50)
    )
    attendance = Attendance.objects.create(
        activity=running,
        volunteer=volunteer,
        signup=running_signup,
        checked_in_at=at(-1),
        in_method=AttendanceMethod.QR,
        latitude=Decimal("26.812345"),
        longitude=Decimal("117.812345"),
        location_consented_at=timezone.now(),
        in_arrived_late=True,
    )
    entry = OfflineEntry.objects.create(
        key=uuid.uuid4(),
        activity=running,
        volunteer=volunteer,
        action="in",
        happened_at=at(-1),
        sent_by=actor,
        outcome=OfflineOutcome.UNCHANGED,
    )
    held = write_activity(unit, start=at(days=-2), status=ActivityStatus.FINISHED, title=f"已办{suffix}")
    report = services.report_submit(actor=actor, activity=held, text="服务了三十位老人", people_served=30)
    return {
        "activity": planned,
        "running": running,
        "signup": signup,
        "attendance": attendance,
        "offlineentry": entry,
        "activityreport": report,
    }


@pytest.fixture
def rows(tree, people, crew):
    return {
        "a": township(tree, people, crew, tree.a1, crew.volunteer, people.station_a1, "甲"),
        "b": township(tree, people, crew, tree.b1, crew.other, people.inst_b, "乙"),
    }


# --- Who reaches what --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_another_township_cannot_reach_the_rows(client, people, rows, model):
    mine, theirs = rows["a"][model], rows["b"][model]
    client.force_login(people.inst_b)
    assert mine.pk not in listed(client, model) and theirs.pk in listed(client, model)
    for view in ("change", "history", "delete"):
        response = client.get(url(model, view, mine.pk))
        assert response.status_code in {403, 404}, view
    assert client.post(url(model, "change", mine.pk), {"title": "改"}).status_code in {403, 404}
    for who in (people.inst_a, people.station_a1):
        client.force_login(who)
        assert mine.pk in listed(client, model) and theirs.pk not in listed(client, model)
        assert client.get(url(model, "change", mine.pk)).status_code == 200
    client.force_login(people.county)
    assert {mine.pk, theirs.pk} <= listed(client, model)


@pytest.mark.parametrize("model", MODELS)
def test_a_volunteer_who_organises_has_no_admin(client, organiser, rows, model):
    Activity.objects.filter(pk=rows["a"]["activity"].pk).get().organiser_links.create(user=organiser)
    assert not organiser.is_staff
    client.force_login(organiser)
    response = client.get(url(model))
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(url(model, "change", rows["a"][model].pk)).status_code == 302


def test_forged_actions_with_another_townships_ids_change_nothing(client, people, rows):
    a = rows["a"]
    draft = make_activity(a["activity"].unit, "草稿", actor=people.station_a1, publish=False)
    before = frozen()
    client.force_login(people.inst_b)
    ids = [a["activity"].pk, a["running"].pk, draft.pk]
    for action in ("publish", "confirm_insurance", "cancel", "finish"):
        data = {"action": action, "_selected_action": ids, "post": "yes", "note": "越权尝试"}
        assert client.post(url("activity"), data).status_code in {200, 302}
    data = {"action": "cancel", "_selected_action": [a["signup"].pk], "post": "yes"}
    assert client.post(url("signup"), data).status_code in {200, 302}
    assert frozen() == before


def test_a_level_below_cannot_cancel_an_institute_activity(client, tree, people, rows):
    institute = make_activity(tree.a, "全镇活动", actor=people.inst_a, start=at(days=5))
    before = frozen()
    client.force_login(people.station_a1)
    assert institute.pk not in listed(client, "activity")
    assert client.get(url("activity", "change", institute.pk)).status_code == 404
    data = {"action": "cancel", "_selected_action": [institute.pk], "post": "yes", "note": "站里取消"}
    client.post(url("activity"), data)
    assert frozen() == before
    # The institute itself may.
    client.force_login(people.inst_a)
    response = client.post(url("activity"), data)
    assert response.status_code == 302
    institute.refresh_from_db()
    assert institute.status == ActivityStatus.CANCELLED and institute.cancel_reason == "站里取消"


def test_a_viewer_reaches_no_activities_admin(client, people, rows):
    before = frozen()
    client.force_login(people.viewer)
    for model in MODELS:
        assert client.get(url(model)).status_code == 302
    data = {"action": "cancel", "_selected_action": [rows["a"]["activity"].pk], "post": "yes", "note": "x"}
    assert client.post(url("activity"), data).status_code == 302
    assert frozen() == before


# --- Planning through the services -------------------------------------------------------------------------


def split(moment) -> tuple[str, str]:
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def activity_form(unit, *, start, end, organisers=(), **changes) -> dict:
    data = {
        "unit": unit.pk,
        "title": "敬老院探访",
        "venue": "甲一村敬老院",
        "description": "",
        "requirements": "",
        "capacity": "10",
        "project": "",
        "domain": "",
        "longitude": "",
        "latitude": "",
        "insurance_note": "",
        "organisers": [user.pk for user in organisers],
        "started_at_0": split(start)[0],
        "started_at_1": split(start)[1],
        "ended_at_0": split(end)[0],
        "ended_at_1": split(end)[1],
        "signup_opens_at_0": "",
        "signup_opens_at_1": "",
        "signup_closes_at_0": "",
        "signup_closes_at_1": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_an_activity_is_added_through_the_service(client, tree, people, organiser):
    client.force_login(people.station_a1)
    page = client.get(url("activity", "add"))
    assert page.status_code == 200
    offered = set(page.context["adminform"].form.fields["organisers"].queryset.values_list("pk", flat=True))
    assert organiser.pk in offered and people.inst_b.pk not in offered
    start = at(days=3)
    data = activity_form(
        tree.a1, start=start, end=start + datetime.timedelta(hours=2), organisers=[organiser]
    )
    response = client.post(url("activity", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity = Activity.objects.get(title="敬老院探访")
    assert activity.status == ActivityStatus.DRAFT and activity.created_by == people.station_a1
    assert list(activity.organisers.all()) == [organiser]
    assert activity.signup_closes_at == start


def test_the_services_refusal_shows_on_its_field(client, tree, people):
    client.force_login(people.inst_a)
    start = at(days=3)
    data = activity_form(tree.a1, start=start, end=start + datetime.timedelta(days=20))
    response = client.post(url("activity", "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    expected = gettext("An activity lasts at most %(days)d days: plan a longer one as several.") % {
        "days": 14
    }
    assert errors["ended_at"] == [expected]
    assert not Activity.objects.filter(title="敬老院探访").exists()


def test_another_townships_unit_and_organisers_are_refused(client, tree, people, crew):
    client.force_login(people.inst_a)
    start = at(days=3)
    end = start + datetime.timedelta(hours=2)
    response = client.post(url("activity", "add"), activity_form(tree.b1, start=start, end=end))
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    response = client.post(
        url("activity", "add"), activity_form(tree.a1, start=start, end=end, organisers=[crew.other.user])
    )
    assert response.status_code == 200 and "organisers" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(title="敬老院探访").exists()


def test_an_activity_is_changed_through_the_service(client, people, rows):
    activity = rows["a"]["activity"]
    client.force_login(people.station_a1)
    data = activity_form(
        activity.unit,
        start=activity.started_at,
        end=activity.ended_at,
        organisers=[people.station_a1],
        title="改过的标题",
        capacity=str(activity.capacity),
        **{
            "signup_opens_at_0": split(activity.signup_opens_at)[0],
            "signup_opens_at_1": split(activity.signup_opens_at)[1],
            "signup_closes_at_0": split(activity.signup_closes_at)[0],
            "signup_closes_at_1": split(activity.signup_closes_at)[1],
        },
    )
    data.pop("unit")
    response = client.post(url("activity", "change", activity.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity.refresh_from_db()
    assert activity.title == "改过的标题"
    # Someone signed up: the time stays, said on the field.
    later = activity.started_at + datetime.timedelta(hours=1)
    data.update(dict(zip(("started_at_0", "started_at_1"), split(later), strict=True)))
    response = client.post(url("activity", "change", activity.pk), data)
    assert response.status_code == 200
    expected = gettext("Volunteers have signed up: the time stays. Cancel the activity and plan a new one.")
    assert response.context["adminform"].form.errors["started_at"] == [expected]
    activity.refresh_from_db()
    assert activity.started_at != later


# --- The actions -------------------------------------------------------------------------------------------


def test_publish_confirm_insurance_cancel_and_finish(client, tree, people, rows):
    draft = make_activity(tree.a1, "需保险", actor=people.station_a1, publish=False, needs_insurance=True)
    client.force_login(people.inst_a)
    changelist = url("activity")
    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.DRAFT  # refused: the insurance first
    ask = client.post(changelist, {"action": "confirm_insurance", "_selected_action": [draft.pk]})
    assert ask.status_code == 200 and "需保险" in ask.content.decode()
    data = {
        "action": "confirm_insurance",
        "_selected_action": [draft.pk],
        "post": "yes",
        "note": "人保团体险",
    }
    assert client.post(changelist, data).status_code == 302
    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ActivityStatus.PUBLISHED and draft.insurance_note == "人保团体险"

    planned = rows["a"]["activity"]
    ask = client.post(changelist, {"action": "cancel", "_selected_action": [planned.pk]})
    assert ask.status_code == 200 and Activity.objects.get(pk=planned.pk).status == ActivityStatus.PUBLISHED
    data = {"action": "cancel", "_selected_action": [planned.pk], "post": "yes", "note": "暴雨"}
    client.post(changelist, data)
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.CANCELLED and planned.cancel_reason == "暴雨"
    assert Signup.objects.get(pk=rows["a"]["signup"].pk).status == SignupStatus.CANCELLED

    running = rows["a"]["running"]
    response = client.post(changelist, {"action": "finish", "_selected_action": [running.pk]})
    assert gettext("An activity is finished after its end.") in " ".join(messages_of(response))
    Activity.objects.filter(pk=running.pk).update(ended_at=at(-0.5))
    client.post(changelist, {"action": "finish", "_selected_action": [running.pk]})
    running.refresh_from_db()
    assert running.status == ActivityStatus.FINISHED
    attendance = Attendance.objects.get(pk=rows["a"]["attendance"].pk)
    assert attendance.missed_checkout and attendance.record is not None


def test_the_signup_cancel_action_goes_through_the_service(client, people, rows, crew):
    signup = rows["a"]["signup"]
    client.force_login(people.station_a1)
    response = client.post(url("signup"), {"action": "cancel", "_selected_action": [signup.pk]})
    assert response.status_code == 302
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CANCELLED and signup.cancelled_by == people.station_a1
    assert Activity.objects.get(pk=signup.activity_id).accepted_count == 0
    assert listed(client, "signup", status__exact="cancelled") == {signup.pk}


def test_nothing_is_deleted(client, people, rows):
    before = frozen()
    client.force_login(people.county)
    for model in MODELS:
        obj = rows["a"][model]
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        data = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        assert client.post(url(model), data).status_code in {200, 302}
    assert frozen() == before


# --- What is shown --------------------------------------------------------------------------------------


def test_volunteers_show_by_number_and_masked_name_and_locations_only_as_shared(client, people, rows, crew):
    volunteer = crew.volunteer
    client.force_login(people.inst_a)
    # The activity's page names its sign-ups and attendance by number and masked name (its organiser
    # choices name the volunteers one may name, as the volunteers' admin does).
    page = client.get(url("activity", "change", rows["a"]["running"].pk))
    assert page.status_code == 200
    for table in ("signups_table", "attendance_table"):
        html = str(getattr(page.context["adminform"].model_admin, table)(rows["a"]["running"]))
        assert volunteer.number in html and "张*愿" in html and volunteer.name not in html
    assert "26.81" not in page.content.decode() and volunteer.phone not in page.content.decode()
    pages = [
        client.get(url("signup")),
        client.get(url("attendance")),
        client.get(url("offlineentry")),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert volunteer.number in html and "张*愿" in html
        assert volunteer.name not in html and volunteer.phone not in html
        assert "26.812345" not in html and "117.812345" not in html and "26.81" not in html
    assert gettext("shared") in pages[1].content.decode()
    detail = client.get(url("attendance", "change", rows["a"]["attendance"].pk)).content.decode()
    assert gettext("shared") in detail and "26.81" not in detail and volunteer.phone not in detail
    for lookup in ("volunteer__phone", "volunteer__name", "latitude__gte"):
        assert client.get(url("attendance"), {lookup: "1"}).status_code == 400


def test_the_attendance_links_its_record(client, people, rows):
    running = rows["a"]["running"]
    Activity.objects.filter(pk=running.pk).update(ended_at=at(-0.5))
    services.activity_finish(actor=people.station_a1, activity=running)
    attendance = Attendance.objects.get(pk=rows["a"]["attendance"].pk)
    client.force_login(people.inst_a)
    html = client.get(url("attendance")).content.decode()
    assert reverse("admin:records_servicerecord_change", args=[attendance.record_id]) in html


def test_a_report_is_added_through_the_service(client, tree, people, rows):
    held = write_activity(tree.a1, start=at(days=-3), status=ActivityStatus.FINISHED, title="待报告")
    elsewhere = write_activity(tree.b1, start=at(days=-3), status=ActivityStatus.FINISHED, title="乙待报告")
    client.force_login(people.station_a1)
    page = client.get(url("activityreport", "add"))
    offered = set(page.context["adminform"].form.fields["activity"].queryset.values_list("pk", flat=True))
    assert held.pk in offered and elsewhere.pk not in offered
    data = {"activity": elsewhere.pk, "text": "越权", "people_served": "3"}
    assert client.post(url("activityreport", "add"), data).status_code == 200
    data = {"activity": held.pk, "text": "陪伴老人", "people_served": "12"}
    assert client.post(url("activityreport", "add"), data).status_code == 302
    report = ActivityReport.objects.get(activity=held)
    assert report.people_served == 12 and report.submitted_by == people.station_a1
    assert not ActivityReport.objects.filter(activity=elsewhere).exists()


# --- Constant queries ----------------------------------------------------------------------------------


def _add_rows(tree, people, crew, first, last):
    from volunteers.tests.factories import make_volunteer

    for i in range(first, last):
        activity = write_activity(
            tree.a1, start=at(-1, days=-i), status=ActivityStatus.RUNNING, title=f"活动{i}"
        )
        activity.organiser_links.create(user=people.station_a1)
        volunteer = make_volunteer(
            tree.a1, "志愿者" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰"[i // 10 % 5]
        )
        signup = activity.signups.create(volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-50))
        Attendance.objects.create(
            activity=activity,
            volunteer=volunteer,
            signup=signup,
            checked_in_at=activity.started_at,
            in_method=AttendanceMethod.ORGANISER,
            in_by=people.station_a1,
        )
        OfflineEntry.objects.create(
            key=uuid.uuid4(),
            activity=activity,
            volunteer=volunteer,
            action="in",
            happened_at=activity.started_at,
            sent_by=people.station_a1,
            outcome=OfflineOutcome.APPLIED,
        )
        ActivityReport.objects.create(
            activity=activity, text="报告", people_served=3, submitted_by=people.station_a1
        )


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_the_rows(client, tree, people, crew, model):
    client.force_login(people.county)

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(model))
            assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    _add_rows(tree, people, crew, 0, 1)
    count()  # the first page of a session also reads the county's name, which is then cached
    few, few_rows = count()
    assert few_rows == 1
    _add_rows(tree, people, crew, 1, 50)
    many, many_rows = count()
    assert many_rows == 50
    assert many == few, (model, few, many)


def test_the_activity_change_page_reads_a_constant_number_of_queries(client, tree, people, crew):
    client.force_login(people.county)
    _add_rows(tree, people, crew, 0, 1)
    activity = Activity.objects.get()

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("activity", "change", activity.pk)).status_code == 200
        return len(queries)

    count()
    few = count()
    from volunteers.tests.factories import make_volunteer

    for i in range(20):
        volunteer = make_volunteer(tree.a1, "增加" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑"[i // 10])
        signup = activity.signups.create(volunteer=volunteer, status=SignupStatus.ACCEPTED, queued_at=at(-40))
        Attendance.objects.create(
            activity=activity,
            volunteer=volunteer,
            signup=signup,
            checked_in_at=activity.started_at,
            in_method=AttendanceMethod.ORGANISER,
        )
    assert count() == few


def test_the_filters_and_search_narrow_the_list(client, tree, people, reference, rows):
    a, b = rows["a"], rows["b"]
    Activity.objects.filter(pk=a["activity"].pk).update(domain=reference.platform)
    client.force_login(people.county)
    everything = listed(client, "activity")
    assert {a["activity"].pk, a["running"].pk, b["activity"].pk} <= everything
    assert listed(client, "activity", status__exact="running") == {a["running"].pk, b["running"].pk}
    assert listed(client, "activity", domain=str(reference.platform.pk)) == {a["activity"].pk}
    assert listed(client, "activity", domain="abc") == set()
    township_a = listed(client, "activity", institute=str(tree.a.pk))
    assert a["activity"].pk in township_a and b["activity"].pk not in township_a
    # As the date filter's own links give it: the start of today in the county's time zone.
    since = str(timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0))
    upcoming = listed(client, "activity", started_at__gte=since)
    assert a["activity"].pk in upcoming and a["activity"].pk in listed(client, "activity", q="环境整治甲")
    assert listed(client, "signup", activity=str(a["activity"].pk)) == {a["signup"].pk}
    # Another township's activity as a filter value lists nothing of it.
    client.force_login(people.inst_b)
    assert listed(client, "signup", activity=str(a["activity"].pk)) == set()
