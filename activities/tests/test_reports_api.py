"""Activity reports in the API and the admin: scoped like the rest (another township gets a 404 and changes
nothing), published and unpublished by the staff in scope only (a station never rewrites the
institute's), photos through the image intake, and lists that cost the same queries for 1 row and 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from activities import services
from activities.models import ActivityReport, ActivityReportPhoto, ActivityStatus
from kernel.testing import changelist_pks
from stations.scoping import forget_scope

from .factories import at, write_activity
from .test_reports import REFUSED, _remove_stored_files, jpeg, refused_upload, stored_files  # noqa: F401

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/activity-reports/"
NOT_STAFF = "Only the staff of the activity's unit or above publish its report."


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def make_report(unit, *, title="活动", days=-2, photos=0, published_by=None):
    activity = write_activity(unit, start=at(days=days), status=ActivityStatus.FINISHED, title=title)
    report = services.report_submit(actor=None, activity=activity, text=f"{title}的报告", people_served=5)
    ActivityReportPhoto.objects.bulk_create(
        ActivityReportPhoto(
            report=report, image=f"reports/p{report.pk}-{n}.jpg",
            thumbnail=f"reports/thumbs/p{report.pk}-{n}.jpg", width=800, height=600, position=n,
        )
        for n in range(photos)
    )  # fmt: skip
    if published_by is not None:
        services.report_publish(actor=published_by, report=report)
    return report


@pytest.fixture
def reports(tree, people):
    return {
        "a1": make_report(tree.a1, title="甲一村", photos=2),
        "a": make_report(tree.a, title="甲镇", published_by=people.inst_a),
        "b1": make_report(tree.b1, title="乙一村", published_by=people.county),
    }


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def en(api_client):
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return api_client


# --- The API ----------------------------------------------------------------------------------------------


def test_each_role_lists_the_reports_of_its_subtree(api_client, people, reports):
    expected = {
        "county": {"a1", "a", "b1"},
        "inst_a": {"a1", "a"},
        "inst_b": {"b1"},
        "station_a1": {"a1"},
    }
    for who, names in expected.items():
        api_client.force_authenticate(getattr(people, who))
        assert ids(api_client.get(REPORTS)) == {reports[name].pk for name in names}, who
    api_client.force_authenticate(people.county)
    assert ids(api_client.get(REPORTS, {"published": "true"})) == {reports["a"].pk, reports["b1"].pk}
    assert ids(api_client.get(REPORTS, {"published": "false"})) == {reports["a1"].pk}
    row = api_client.get(f"{REPORTS}{reports['a1'].pk}/").json()
    assert row["published"] is False and row["activity_title"] == "甲一村"
    assert [photo["position"] for photo in row["photos"]] == [0, 1]
    assert row["photos"][0]["thumbnail"].endswith(f"reports/thumbs/p{reports['a1'].pk}-0.jpg")


def test_another_township_gets_a_404_and_changes_nothing(api_client, people, reports):
    api_client.force_authenticate(people.inst_b)
    mine = reports["a1"]
    before = list(ActivityReport.objects.order_by("pk").values())
    assert api_client.get(f"{REPORTS}{mine.pk}/").status_code == 404
    for action in ("publish", "unpublish"):
        assert api_client.post(f"{REPORTS}{mine.pk}/{action}/").status_code == 404
    assert (
        api_client.post(f"{REPORTS}{mine.pk}/photos/", {"image": jpeg()}, format="multipart").status_code
        == 404
    )
    photo = mine.photos.first()
    assert api_client.post(f"{REPORTS}{mine.pk}/remove-photo/", {"photo": photo.pk}).status_code == 404
    assert list(ActivityReport.objects.order_by("pk").values()) == before
    assert mine.photos.count() == 2


def test_publishing_through_the_api_calls_the_service(api_client, people, reports):
    api_client = en(api_client)
    api_client.force_authenticate(people.station_a1)
    answer = api_client.post(f"{REPORTS}{reports['a1'].pk}/publish/")
    assert answer.status_code == 200 and answer.json()["published"] is True
    assert ActivityReport.objects.get(pk=reports["a1"].pk).published_by == people.station_a1
    answer = api_client.post(f"{REPORTS}{reports['a1'].pk}/unpublish/")
    assert answer.status_code == 200 and answer.json()["published"] is False


def test_a_station_admin_cannot_publish_or_unpublish_the_institutes_report(api_client, tree, people, reports):
    api_client = en(api_client)
    institute = reports["a"]
    # The station admin organises the institute's activity, so the report is in their list.
    institute.activity.organiser_links.create(user=people.station_a1)
    api_client.force_authenticate(people.station_a1)
    assert institute.pk in ids(api_client.get(REPORTS))
    for action in ("unpublish", "publish"):
        answer = api_client.post(f"{REPORTS}{institute.pk}/{action}/")
        assert (answer.status_code, answer.json()) == (400, {"report": [NOT_STAFF]})
    institute.refresh_from_db()
    assert institute.published_by == people.inst_a and institute.published_at is not None


def test_an_organiser_adds_photos_through_the_api_and_bad_files_are_refused(
    api_client, tree, people, reports
):
    api_client = en(api_client)
    api_client.force_authenticate(people.station_a1)
    url = f"{REPORTS}{reports['a1'].pk}/photos/"
    before = stored_files()
    for case in REFUSED:
        answer = api_client.post(url, {"image": refused_upload(case)}, format="multipart")
        assert (answer.status_code, answer.json()) == (400, {"image": [REFUSED[case][2]]}), case
    assert stored_files() == before
    answer = api_client.post(url, {"image": jpeg(), "caption": "补拍"}, format="multipart")
    assert answer.status_code == 200
    added = answer.json()["photos"][-1]
    assert added["caption"] == "补拍" and added["thumbnail"].endswith(".jpg")
    answer = api_client.post(f"{REPORTS}{reports['a1'].pk}/remove-photo/", {"photo": added["id"]})
    assert answer.status_code == 200 and len(answer.json()["photos"]) == 2


def test_the_list_costs_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, django_assert_num_queries
):
    make_report(tree.a1, title="第0个", photos=2)
    user = people.inst_a
    api_client.force_authenticate(user)

    def get():
        forget_scope(user)
        return ids(api_client.get(REPORTS, {"page_size": 50}))

    with CaptureQueriesContext(connection) as one:
        assert len(get()) == 1
    for index in range(1, 60):
        make_report(tree.a1 if index % 2 else tree.a, title=f"第{index}个", days=-2 - index, photos=3)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


# --- The admin ---------------------------------------------------------------------------------------------


def admin_url(model, view="changelist", *args):
    return reverse(f"admin:activities_{model}_{view}", args=args)


def test_the_admin_lists_are_scoped_and_another_township_gets_a_404(client, people, reports):
    client.force_login(people.inst_b)
    assert changelist_pks(client, admin_url("activityreport")) == {reports["b1"].pk}
    assert changelist_pks(client, admin_url("activityreportphoto")) == set()
    mine = reports["a1"]
    assert client.get(admin_url("activityreport", "change", mine.pk)).status_code in {403, 404}
    photo = mine.photos.first()
    assert client.get(admin_url("activityreportphoto", "change", photo.pk)).status_code in {403, 404}
    before = list(ActivityReport.objects.order_by("pk").values())
    client.post(
        admin_url("activityreport"),
        {"action": "unpublish", "_selected_action": [reports["a"].pk]},
    )
    assert list(ActivityReport.objects.order_by("pk").values()) == before
    client.force_login(people.inst_a)
    assert changelist_pks(client, admin_url("activityreport")) == {mine.pk, reports["a"].pk}
    assert changelist_pks(client, admin_url("activityreportphoto")) == set(
        mine.photos.values_list("pk", flat=True)
    )
    page = client.get(admin_url("activityreport", "change", mine.pk)).content.decode()
    assert f"reports/thumbs/p{mine.pk}-0.jpg" in page  # the inline shows the thumbnails


def test_the_admin_publish_action_goes_through_the_service(client, people, reports):
    institute = reports["a"]
    client.force_login(people.station_a1)
    institute.activity.organiser_links.create(user=people.station_a1)
    client.post(
        admin_url("activityreport"),
        {"action": "unpublish", "_selected_action": [institute.pk, reports["a1"].pk]},
    )
    institute.refresh_from_db()
    assert institute.published_at is not None  # a station never rewrites the institute's choice
    client.post(admin_url("activityreport"), {"action": "publish", "_selected_action": [reports["a1"].pk]})
    assert ActivityReport.objects.get(pk=reports["a1"].pk).published_by == people.station_a1


def test_the_admin_changelist_costs_the_same_for_1_and_50(client, tree, people, django_assert_num_queries):
    make_report(tree.a1, photos=1)
    client.force_login(people.inst_a)
    client.get(admin_url("activityreport"))  # the first page of a session also reads the county's name
    forget_scope(people.inst_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(admin_url("activityreport")).status_code == 200
    for index in range(50):
        make_report(tree.a1, title=f"活动{index}", days=-3 - index, photos=2)
    forget_scope(people.inst_a)
    with django_assert_num_queries(len(one)):
        assert client.get(admin_url("activityreport")).status_code == 200


def test_an_activity_planned_through_the_api_takes_its_own_report_deadline(
    api_client, tree, people, settings
):
    from activities.models import Activity

    from .test_api import _plan

    settings.ACTIVITY_REPORT_DAYS = 4
    api_client.force_authenticate(people.station_a1)
    usual = api_client.post("/api/v1/activities/", _plan(tree.a1, title="常规"), format="json")
    quick = api_client.post("/api/v1/activities/", _plan(tree.a1, title="快报", report_days=1), format="json")
    assert (usual.status_code, quick.status_code) == (201, 201)
    assert Activity.objects.get(pk=usual.json()["id"]).report_days == 4
    assert Activity.objects.get(pk=quick.json()["id"]).report_days == 1
    too_late = api_client.post("/api/v1/activities/", _plan(tree.a1, report_days=91), format="json")
    assert too_late.status_code == 400 and set(too_late.json()) == {"report_days"}
