"""REST API v1 of the project library and the yearly key-project lists: each role's view, another
township's ids answered 404 with nothing changed, the lifecycle through the services' refusals (a 400 with
the field and the message), constant queries and the schema."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from projects import services
from projects.models import KeyProjectList, KeyProjectMonth, Project, ProjectStatus
from stations.scoping import forget_scope
from stations.tests.test_schema import _check, _validator, openapi  # noqa: F401 - openapi is a fixture
from volunteers.tests.factories import make_volunteer

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects/"
LISTS = "/api/v1/key-project-lists/"


def rows() -> dict:
    return {
        "projects": list(Project.objects.order_by("pk").values()),
        "lists": list(KeyProjectList.objects.order_by("pk").values()),
        "months": list(KeyProjectMonth.objects.order_by("pk").values()),
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
def world(tree, people, reference):
    people.volunteer = make_volunteer(tree.a1, "张志愿", password="Volunteer@2026!").user
    projects = SimpleNamespace(
        a1=services.project_create(actor=None, unit=tree.a1, name="四点半课堂", domain=reference.platform),
        b1=services.project_create(actor=None, unit=tree.b1, name="乙村义诊"),
        center=services.project_create(actor=None, unit=tree.center, name="红马甲", is_brand=True),
    )
    services.project_transition(actor=None, project=projects.center, to=ProjectStatus.PUBLISHED)
    plans = SimpleNamespace(
        a1=services.key_list_create(actor=None, unit=tree.a1, year=2026),
        b1=services.key_list_create(actor=None, unit=tree.b1, year=2026),
    )
    march = plans.a1.months.get(month=3)
    services.key_month_update(
        actor=None,
        month=march,
        theme="学雷锋志愿服务月",
        key_dates="3月5日",
        projects=[projects.a1, projects.center],
        responsible_units=[tree.a1, tree.a1a],
    )
    return SimpleNamespace(projects=projects, plans=plans)


VIEWS = {
    "county": {"a1", "b1", "center"},
    "viewer": {"a1", "b1", "center"},
    "inst_a": {"a1"},
    "inst_b": {"b1"},
    "station_a1": {"a1"},
    "volunteer": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("who", list(VIEWS))
def test_each_role_sees_the_projects_and_lists_of_its_scope(api_client, people, world, who):
    api_client.force_authenticate(getattr(people, who))
    assert _ids(api_client.get(PROJECTS)) == {getattr(world.projects, name).pk for name in VIEWS[who]}
    plans = {name for name in VIEWS[who] if name != "center"}
    assert _ids(api_client.get(LISTS)) == {getattr(world.plans, name).pk for name in plans}


@pytest.mark.parametrize("url", [PROJECTS, LISTS])
def test_anonymous_gets_401(api_client, world, url):
    assert api_client.get(url).status_code == 401


def test_a_list_holds_its_twelve_months_with_projects_and_units(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    plan = api_client.get(f"{LISTS}{world.plans.a1.pk}/").json()
    assert [month["month"] for month in plan["months"]] == list(range(1, 13))
    march = plan["months"][2]
    assert march["theme"] == "学雷锋志愿服务月" and march["key_dates"] == "3月5日"
    assert {project["id"] for project in march["projects"]} == {
        world.projects.a1.pk,
        world.projects.center.pk,
    }
    assert [unit["id"] for unit in march["responsible_units"]] == [tree.a1.pk, tree.a1a.pk]
    assert plan["months"][0]["projects"] == [] and plan["unit_name"] == tree.a1.name


def test_another_townships_ids_are_404_and_nothing_changes(api_client, people, world):
    api_client.force_authenticate(people.inst_a)
    b1 = world.projects.b1
    assert api_client.get(f"{PROJECTS}{b1.pk}/").status_code == 404
    assert api_client.get(f"{LISTS}{world.plans.b1.pk}/").status_code == 404
    for path, body in (
        ("publish/", {}),
        ("start/", {}),
        ("close/", {"closing_report": "完成", "people_served": 3}),
    ):
        response = unchanged(
            lambda path=path, body=body: api_client.post(f"{PROJECTS}{b1.pk}/{path}", body, format="json")
        )
        assert response.status_code == 404, path


def test_filtering_by_a_foreign_unit_is_a_400(api_client, tree, people, world):
    api_client.force_authenticate(people.inst_a)
    for url in (PROJECTS, LISTS):
        response = api_client.get(url, {"subtree_of": tree.b.pk})
        assert response.status_code == 400 and "subtree_of" in response.json()


def test_project_filters(api_client, tree, people, reference, world):
    api_client.force_authenticate(people.county)
    p = world.projects
    assert _ids(api_client.get(PROJECTS, {"status": "published"})) == {p.center.pk}
    assert _ids(api_client.get(PROJECTS, {"brand": "true"})) == {p.center.pk}
    assert _ids(api_client.get(PROJECTS, {"brand": "false"})) == {p.a1.pk, p.b1.pk}
    assert _ids(api_client.get(PROJECTS, {"domain": reference.platform.pk})) == {p.a1.pk}
    assert _ids(api_client.get(PROJECTS, {"subtree_of": tree.a.pk})) == {p.a1.pk}
    assert _ids(api_client.get(LISTS, {"year": 2026, "subtree_of": tree.b.pk})) == {world.plans.b1.pk}
    for params, field in (({"brand": "maybe"}, "brand"), ({"status": "asleep"}, "status")):
        response = api_client.get(PROJECTS, params)
        assert response.status_code == 400 and field in response.json(), params


def test_a_project_is_added_published_started_and_closed(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    created = api_client.post(PROJECTS, {"unit": tree.a1.pk, "name": "护河行动"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["unit_name"] == tree.a1.name
    url = f"{PROJECTS}{body['id']}/"
    project = Project.objects.get(pk=body["id"])
    refused(
        unchanged(lambda: api_client.post(f"{url}start/")),
        "status",
        services.transition_refusal(project, ProjectStatus.RUNNING),
    )
    assert api_client.post(f"{url}publish/").json()["status"] == "published"
    assert api_client.post(f"{url}start/").json()["status"] == "running"
    refused(
        unchanged(lambda: api_client.post(f"{url}close/", {"closing_report": " "}, format="json")),
        "closing_report",
        gettext("Write the closing report: what the project did."),
    )
    refused(
        unchanged(lambda: api_client.post(f"{url}close/", {"closing_report": "清理河道"}, format="json")),
        "people_served",
        gettext("Give the number of people served."),
    )
    closed = api_client.post(
        f"{url}close/",
        {"closing_report": "清理河道十次", "people_served": 300, "volunteers": 25, "hours": "120.5"},
        format="json",
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["closing_hours"] == "120.5"
    assert closed.json()["closing_people_served"] == 300
    refused(
        unchanged(lambda: api_client.post(f"{url}publish/")),
        "status",
        gettext("A closed project moves no more."),
    )


def test_adding_a_project_is_refused_with_the_services_field_and_message(api_client, tree, people, world):
    api_client.force_authenticate(people.station_a1)
    refused(
        unchanged(
            lambda: api_client.post(PROJECTS, {"unit": tree.a1.pk, "name": "四点半课堂"}, format="json")
        ),
        "name",
        gettext("This unit already has a project of this name."),
    )
    refused(
        unchanged(lambda: api_client.post(PROJECTS, {"unit": tree.a1.pk, "name": "  "}, format="json")),
        "name",
        gettext("Give the project a name."),
    )
    response = unchanged(
        lambda: api_client.post(PROJECTS, {"unit": tree.b1.pk, "name": "越界"}, format="json")
    )
    assert response.status_code == 400 and set(response.json()) == {"unit"}


def test_a_viewer_reads_but_does_not_change(api_client, people, world):
    api_client.force_authenticate(people.viewer)
    response = unchanged(lambda: api_client.post(f"{PROJECTS}{world.projects.a1.pk}/publish/"))
    refused(response, "status", gettext("This unit is outside the area you administer."))


def _grow(url, count, tree, offset=0):
    for i in range(offset, offset + count):
        if url == PROJECTS:
            services.project_create(actor=None, unit=tree.a1, name=f"项目{i}")
        else:
            unit = tree.a1 if i % 2 else tree.a2
            plan = services.key_list_create(actor=None, unit=unit, year=2030 + i)
            month = plan.months.get(month=1 + i % 12)
            project = Project.objects.filter(unit=unit).first() or services.project_create(
                actor=None, unit=unit, name="项目"
            )
            services.key_month_update(
                actor=None, month=month, theme="主题", projects=[project], responsible_units=[unit]
            )


@pytest.mark.parametrize(
    ("url", "params"),
    [(PROJECTS, {}), (PROJECTS, {"subtree_of": "a"}), (LISTS, {}), (LISTS, {"subtree_of": "a"})],
)
def test_lists_take_the_same_queries_for_1_and_50_rows(
    api_client, tree, people, django_assert_num_queries, url, params
):
    user = people.inst_a
    params = {key: tree.a.pk for key in params}
    _grow(url, 1, tree)
    api_client.force_authenticate(user)

    def get():
        forget_scope(user)
        return _rows(api_client.get(url, {"page_size": 50, **params}))

    with CaptureQueriesContext(connection) as one:
        first = get()
    assert len(first) == 1
    _grow(url, 60, tree, offset=1)
    with django_assert_num_queries(len(one)):
        assert len(get()) == 50


def _check_write(openapi_schema, path, method, response, status="200"):
    assert str(response.status_code) == status, (path, response.status_code, response.content)
    validator = _validator(openapi_schema, path, method=method, status=status)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, errors


def test_every_answer_matches_the_schema(api_client, tree, people, world, openapi):  # noqa: F811
    api_client.force_authenticate(people.county)
    for url, pk in ((PROJECTS, world.projects.a1.pk), (LISTS, world.plans.a1.pk)):
        _check(openapi, url, api_client.get(url).json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}{pk}/").json())
        _check(openapi, f"{url}{{id}}/", api_client.get(f"{url}99999999/").json(), "404")
    created = api_client.post(PROJECTS, {"unit": tree.a.pk, "name": "新项目"}, format="json")
    _check_write(openapi, PROJECTS, "post", created, "201")
    url = f"{PROJECTS}{created.json()['id']}"
    _check_write(openapi, f"{PROJECTS}{{id}}/publish/", "post", api_client.post(f"{url}/publish/"))
    _check_write(openapi, f"{PROJECTS}{{id}}/close/", "post", api_client.post(f"{url}/close/", {}), "400")


def test_the_schema_documents_the_endpoints_and_their_filters(openapi):  # noqa: F811
    paths = openapi["paths"]
    assert set(paths[PROJECTS]) == {"get", "post"} and set(paths[f"{PROJECTS}{{id}}/"]) == {"get"}
    assert set(paths[LISTS]) == {"get"} and set(paths[f"{LISTS}{{id}}/"]) == {"get"}
    for action in ("publish", "start", "close"):
        assert set(paths[f"{PROJECTS}{{id}}/{action}/"]) == {"post"}, action
    parameters = {parameter["name"] for parameter in paths[PROJECTS]["get"]["parameters"]}
    assert {"status", "domain", "brand", "subtree_of", "cursor", "page_size"} <= parameters
