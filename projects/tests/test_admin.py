"""The projects admin: scoped as the other admins are. Township B's admin cannot see, change, move, close,
export or import township A's projects and lists (404 or not listed; a forged POST changes nothing); the
lifecycle moves through the service and its refusal is told with its message; closing asks for the report;
a month is saved through key_month_update and a refusal lands on its row; the Excel workbook goes out and
comes back through the admin's own pages, a bad one writes nothing; the lists read a constant number of
queries."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from kernel.errors import ApplicationError
from kernel.testing import changelist_pks, messages_of
from projects import excel, services
from projects.models import KeyProjectList, KeyProjectMonth, Project, ProjectPhoto, ProjectStatus
from stations.scoping import forget_scope

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED, RUNNING, CLOSED = (
    ProjectStatus.DRAFT,
    ProjectStatus.PUBLISHED,
    ProjectStatus.RUNNING,
    ProjectStatus.CLOSED,
)
MODELS = ["project", "keyprojectlist"]


def url(model, view="changelist", *args):
    return reverse(f"admin:projects_{model}_{view}", args=args)


def listed(client, model, **query) -> set[int]:
    return changelist_pks(client, url(model), **query)


def frozen() -> dict:
    return {
        "projects": list(Project.objects.order_by("pk").values()),
        "photos": list(ProjectPhoto.objects.order_by("pk").values()),
        "lists": list(KeyProjectList.objects.order_by("pk").values()),
        "months": list(KeyProjectMonth.objects.order_by("pk").values()),
        "month_projects": list(KeyProjectMonth.projects.through.objects.order_by("pk").values()),
        "month_units": list(KeyProjectMonth.responsible_units.through.objects.order_by("pk").values()),
    }


def moved(project, *steps):
    for step in steps:
        project = services.project_transition(
            actor=None,
            project=project,
            to=step,
            **({"closing_report": "全年开展课后辅导48次。", "people_served": 320} if step == CLOSED else {}),
        )
    return project


def xlsx(rows, name="清单.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    book.active.append(excel.HEADERS)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def form_data(response) -> dict:
    """What the change page would post back as it stands: its form and its inline rows."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    return data


def month_prefix(response, month: int) -> str:
    (inline,) = response.context["inline_admin_formsets"]
    (form,) = [form for form in inline.formset.forms if form.instance.month == month]
    return form.prefix


@pytest.fixture
def world(tree, people, reference):
    a = services.project_create(actor=None, unit=tree.a1, name="四点半课堂", domain=reference.platform)
    b = services.project_create(actor=None, unit=tree.b1, name="乙村义诊")
    plan_a = services.key_list_create(actor=None, unit=tree.a, year=2026)
    plan_b = services.key_list_create(actor=None, unit=tree.b, year=2026)
    services.key_month_update(
        actor=None,
        month=plan_a.months.get(month=3),
        theme="学雷锋志愿服务月",
        key_dates="3月5日",
        projects=[a],
        responsible_units=[tree.a1],
    )
    return {"project": {"a": a, "b": b}, "keyprojectlist": {"a": plan_a, "b": plan_b}}


# --- Who reaches what ------------------------------------------------------------------------------------


def test_the_pages_open_for_a_county_admin(client, tree, people, world):
    client.force_login(people.county)
    running = moved(world["project"]["a"], PUBLISHED, RUNNING)
    closed = moved(
        services.project_create(actor=None, unit=tree.a2, name="已结项目"), PUBLISHED, RUNNING, CLOSED
    )
    plan = world["keyprojectlist"]["a"]
    for page in (
        url("project"),
        url("project", "add"),
        url("project", "change", running.pk),
        url("project", "change", closed.pk),
        url("project", "history", running.pk),
        url("project", "close", running.pk),
        url("keyprojectlist"),
        url("keyprojectlist", "add"),
        url("keyprojectlist", "change", plan.pk),
        url("keyprojectlist", "import", plan.pk),
    ):
        assert client.get(page).status_code == 200, page
    html = client.get(url("project", "change", running.pk)).content.decode()
    assert url("project", "close", running.pk) in html
    # A closed project is history: read only, with nothing to save and no way to close it again.
    page = client.get(url("project", "change", closed.pk))
    assert not page.context["has_change_permission"] and url("project", "close", closed.pk) not in (
        page.content.decode()
    )
    html = client.get(url("keyprojectlist", "change", plan.pk)).content.decode()
    assert (
        url("keyprojectlist", "export", plan.pk) in html and url("keyprojectlist", "import", plan.pk) in html
    )
    assert "学雷锋志愿服务月" in html


@pytest.mark.parametrize("model", MODELS)
def test_another_township_cannot_reach_the_rows(client, people, world, model):
    mine, theirs = world[model]["a"], world[model]["b"]
    client.force_login(people.inst_b)
    assert listed(client, model) == {theirs.pk}
    for view in ("change", "history", "delete"):
        assert client.get(url(model, view, mine.pk)).status_code in {403, 404}, view
    client.force_login(people.inst_a)
    assert listed(client, model) == {mine.pk}
    assert client.get(url(model, "change", mine.pk)).status_code == 200
    client.force_login(people.county)
    assert listed(client, model) == {mine.pk, theirs.pk}


def test_forged_posts_on_another_townships_project_change_nothing(client, tree, people, world):
    mine = moved(world["project"]["a"], PUBLISHED, RUNNING)
    draft = services.project_create(actor=None, unit=tree.a1, name="草稿")
    client.force_login(people.inst_a)
    change = form_data(client.get(url("project", "change", mine.pk)))
    before = frozen()
    client.force_login(people.inst_b)
    change["name"] = "越权改名"
    assert client.post(url("project", "change", mine.pk), change).status_code == 404
    closing = {"closing_report": "越权结项", "people_served": "10"}
    assert client.get(url("project", "close", mine.pk)).status_code == 404
    assert client.post(url("project", "close", mine.pk), closing).status_code == 404
    for action in ("publish", "start", "back_to_draft", "close"):
        data = {"action": action, "_selected_action": [mine.pk, draft.pk], "post": "yes"}
        response = client.post(url("project"), data)
        assert response.status_code == 302, action
        assert not response["Location"].startswith(url("project", "close", mine.pk)), action
    # Adding a project on the other township's unit: the unit is not offered, nothing made.
    response = client.post(url("project", "add"), {"unit": tree.a1.pk, "name": "越权新项目"})
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert frozen() == before


def test_forged_posts_on_another_townships_list_change_nothing(client, tree, people, world):
    mine = world["keyprojectlist"]["a"]
    client.force_login(people.inst_a)
    page = client.get(url("keyprojectlist", "change", mine.pk))
    change = form_data(page)
    change[f"{month_prefix(page, 4)}-theme"] = "越权主题"
    workbook = excel.key_list_export(mine)  # the list's own, valid workbook
    before = frozen()
    client.force_login(people.inst_b)
    assert client.post(url("keyprojectlist", "change", mine.pk), change).status_code == 404
    assert client.get(url("keyprojectlist", "export", mine.pk)).status_code == 404
    assert client.get(url("keyprojectlist", "import", mine.pk)).status_code == 404
    upload = SimpleUploadedFile("清单.xlsx", workbook)
    assert client.post(url("keyprojectlist", "import", mine.pk), {"file": upload}).status_code == 404
    # A list for the other township's unit is not made either.
    response = client.post(url("keyprojectlist", "add"), {"unit": tree.a.pk, "year": "2027"})
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert frozen() == before


def test_a_viewer_reaches_no_projects_admin(client, people, world):
    before = frozen()
    client.force_login(people.viewer)
    for model in MODELS:
        assert client.get(url(model)).status_code == 302
    data = {"action": "publish", "_selected_action": [world["project"]["a"].pk], "post": "yes"}
    assert client.post(url("project"), data).status_code == 302
    assert client.get(url("keyprojectlist", "export", world["keyprojectlist"]["a"].pk)).status_code == 302
    assert frozen() == before


# --- Projects through the services -------------------------------------------------------------------------


def test_a_project_is_added_and_changed_through_the_services(client, tree, people, reference):
    client.force_login(people.inst_a)
    data = {"unit": tree.a1.pk, "name": " 红马甲 ", "domain": reference.platform.pk, "description": "助老"}
    response = client.post(url("project", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    project = Project.objects.get(name="红马甲")
    assert (
        project.status == DRAFT
        and project.created_by == people.inst_a
        and project.domain == reference.platform
    )
    change = form_data(client.get(url("project", "change", project.pk)))
    change.update(name="红马甲志愿服务", is_brand="on")
    response = client.post(url("project", "change", project.pk), change)
    assert response.status_code == 302, response.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.name == "红马甲志愿服务" and project.is_brand and project.status == DRAFT


def test_the_services_refusal_shows_on_its_field(client, tree, people, world):
    client.force_login(people.inst_a)
    before = frozen()
    # The same name in the same unit: the service's message, on the name.
    response = client.post(url("project", "add"), {"unit": tree.a1.pk, "name": "四点半课堂"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"name": [gettext("This unit already has a project of this name.")]}
    # A second list for the same year: the service's message, on the year.
    response = client.post(url("keyprojectlist", "add"), {"unit": tree.a.pk, "year": "2026"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"year": [gettext("This unit already has a list for that year.")]}
    assert frozen() == before


def test_the_actions_move_a_project_and_an_illegal_move_is_told(client, people, world):
    project = world["project"]["a"]
    client.force_login(people.inst_a)

    def act(action):
        data = {"action": action, "_selected_action": [project.pk], "post": "yes"}
        response = client.post(url("project"), data, follow=True)
        assert response.status_code == 200
        project.refresh_from_db()
        return messages_of(response)

    # A draft cannot start: the service's message, and the project stays as it was.
    before = frozen()
    refusal = services.transition_refusal(project, RUNNING)
    assert refusal and act("start") == [f"{project.name}：{refusal}"]
    assert frozen() == before
    assert act("publish") == [gettext("%(count)d projects published.") % {"count": 1}]
    assert project.status == PUBLISHED and project.published_at is not None
    assert act("back_to_draft") and project.status == DRAFT
    act("publish")
    assert act("start") == [gettext("%(count)d projects started.") % {"count": 1}]
    assert project.status == RUNNING and project.started_at is not None
    refusal = services.transition_refusal(project, DRAFT)
    assert act("back_to_draft") == [f"{project.name}：{refusal}"] and project.status == RUNNING


def test_closing_asks_for_the_report(client, tree, people, world):
    project = moved(world["project"]["a"], PUBLISHED, RUNNING)
    client.force_login(people.inst_a)
    # The action leads to the closing page, one project at a time.
    response = client.post(url("project"), {"action": "close", "_selected_action": [project.pk]})
    assert response.status_code == 302 and response["Location"] == url("project", "close", project.pk)
    other = moved(services.project_create(actor=None, unit=tree.a2, name="第二个"), PUBLISHED, RUNNING)
    both = {"action": "close", "_selected_action": [project.pk, other.pk]}
    response = client.post(url("project"), both, follow=True)
    assert messages_of(response) == [gettext("Close one project at a time: each has its own closing report.")]
    before = frozen()
    response = client.post(
        url("project", "close", project.pk), {"closing_report": "  ", "people_served": "30"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["closing_report"]
    assert frozen() == before
    data = {"closing_report": "全年辅导48次。", "people_served": "320", "volunteers": "12", "hours": "96.5"}
    response = client.post(url("project", "close", project.pk), data)
    assert response.status_code == 302 and response["Location"] == url("project", "change", project.pk)
    project.refresh_from_db()
    assert project.status == CLOSED and project.closed_at is not None
    assert (project.closing_report, project.closing_people_served, project.closing_volunteers) == (
        "全年辅导48次。",
        320,
        12,
    )
    assert str(project.closing_hours) == "96.5"
    # Closed: no more closing, and its page saves nothing.
    assert client.get(url("project", "close", project.pk)).status_code == 403
    assert client.post(url("project", "change", project.pk), {"name": "改"}).status_code == 403


def test_closing_a_project_that_does_not_run_shows_the_services_message(client, people, world):
    project = world["project"]["a"]
    client.force_login(people.inst_a)
    before = frozen()
    data = {"closing_report": "写好了", "people_served": "5"}
    response = client.post(url("project", "close", project.pk), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [services.transition_refusal(project, CLOSED)]
    assert frozen() == before


# --- Key-project lists --------------------------------------------------------------------------------


def test_a_list_is_made_and_its_months_filled_through_the_services(client, tree, people, world):
    client.force_login(people.inst_a)
    response = client.post(url("keyprojectlist", "add"), {"unit": tree.a.pk, "year": "2027"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan = KeyProjectList.objects.get(unit=tree.a, year=2027)
    assert response["Location"] == url("keyprojectlist", "change", plan.pk)
    assert plan.created_by == people.inst_a and plan.months.count() == 12
    page = client.get(url("keyprojectlist", "change", plan.pk))
    (inline,) = page.context["inline_admin_formsets"]
    form = inline.formset.forms[0]
    offered = {pk for pk, _label in form.fields["responsible_units"].widget.choices}
    assert tree.a1.pk in offered and tree.b1.pk not in offered
    data = form_data(page)
    prefix = month_prefix(page, 3)
    data[f"{prefix}-theme"] = "学雷锋志愿服务月"
    data[f"{prefix}-projects"] = [str(world["project"]["a"].pk)]
    data[f"{prefix}-responsible_units"] = [str(tree.a1.pk), str(tree.a1a.pk)]
    response = client.post(url("keyprojectlist", "change", plan.pk), data)
    assert response.status_code == 302, response.context["errors"]
    march = plan.months.get(month=3)
    assert march.theme == "学雷锋志愿服务月"
    assert list(march.projects.all()) == [world["project"]["a"]]
    assert set(march.responsible_units.all()) == {tree.a1, tree.a1a}
    assert not plan.months.exclude(month=3).exclude(theme="").exists()
    # Another township's project is no choice of this list: refused on the row, nothing saved.
    before = frozen()
    data[f"{prefix}-projects"] = [str(world["project"]["b"].pk)]
    response = client.post(url("keyprojectlist", "change", plan.pk), data)
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    (row,) = [form for form in inline.formset.forms if form.instance.month == 3]
    assert "projects" in row.errors
    assert frozen() == before


def test_a_month_refused_by_the_service_is_told_on_its_row(client, tree, people, world, monkeypatch):
    # A choice the page offered may be refused by the time it is saved (a unit deactivated meanwhile):
    # the service's refusal comes back on that month's field, never as a 500.
    plan = world["keyprojectlist"]["a"]
    message = gettext("Choose this unit or units below it.")

    def refuse(**kwargs):
        raise ApplicationError(message, field="responsible_units")

    client.force_login(people.inst_a)
    page = client.get(url("keyprojectlist", "change", plan.pk))
    data = form_data(page)
    prefix = month_prefix(page, 5)
    data[f"{prefix}-theme"] = "五月"
    before = frozen()
    monkeypatch.setattr(services, "key_month_update", refuse)
    response = client.post(url("keyprojectlist", "change", plan.pk), data)
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    (row,) = [form for form in inline.formset.forms if form.prefix == prefix]
    assert row.errors == {"responsible_units": [message]}
    assert not response.context["adminform"].form.errors
    assert frozen() == before


def test_the_workbook_goes_out_and_comes_back_through_the_admin(client, tree, people, world):
    plan = world["keyprojectlist"]["a"]
    client.force_login(people.inst_a)
    response = client.get(url("keyprojectlist", "export", plan.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(workbook)).active.iter_rows(values_only=True))
    assert rows[0] == excel.HEADERS and len(rows) == 13
    assert rows[3][:5] == (3, "学雷锋志愿服务月", "3月5日", "四点半课堂", tree.a1.code)
    other = services.key_list_create(actor=None, unit=tree.a, year=2027)
    upload = SimpleUploadedFile("重点项目.xlsx", workbook)
    response = client.post(url("keyprojectlist", "import", other.pk), {"file": upload})
    assert response.status_code == 302 and response["Location"] == url("keyprojectlist", "change", other.pk)
    march = other.months.get(month=3)
    assert (march.theme, march.key_dates) == ("学雷锋志愿服务月", "3月5日")
    assert list(march.projects.all()) == [world["project"]["a"]]
    assert list(march.responsible_units.all()) == [tree.a1]


def test_a_bad_upload_is_told_on_the_file_and_writes_nothing(client, tree, people, world):
    plan = world["keyprojectlist"]["a"]
    client.force_login(people.inst_a)
    before = frozen()
    response = client.post(
        url("keyprojectlist", "import", plan.pk), {"file": SimpleUploadedFile("l.csv", b"x")}
    )
    assert response.status_code == 200
    expected = gettext("This is not an Excel workbook (.xlsx): export the list, fill it in and upload it.")
    assert response.context["form"].errors == {"file": [expected]}
    # Eleven good months and one naming another township's project: the whole file is refused.
    rows = [[month, f"主题{month}", "", "乙村义诊" if month == 5 else "", "", ""] for month in range(1, 13)]
    response = client.post(url("keyprojectlist", "import", plan.pk), {"file": xlsx(rows)})
    assert response.status_code == 200
    (error,) = response.context["form"].errors["file"]
    row_part = gettext("Row %(row)d, column %(column)s: %(message)s").split("%(column)s")[0] % {"row": 6}
    assert error.startswith(row_part) and "乙村义诊" in error
    assert frozen() == before
    response = client.post(url("keyprojectlist", "import", plan.pk), {})
    assert response.status_code == 200 and "file" in response.context["form"].errors
    assert frozen() == before


# --- Queries ----------------------------------------------------------------------------------------------


def _grow(model, tree, reference, start, count):
    units = [tree.a1, tree.a2, tree.b1]
    for i in range(start, start + count):
        if model == "project":
            project = services.project_create(
                actor=None, unit=units[i % 3], name=f"项目{i}", domain=reference.platform if i % 2 else None
            )
            if i % 2:
                moved(project, PUBLISHED)
        else:
            services.key_list_create(actor=None, unit=units[i % 3], year=2018 + i)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_queries_do_not_grow_with_the_rows(client, tree, people, reference, model):
    client.force_login(people.county)

    def count():
        forget_scope(people.county)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(model))
            assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    _grow(model, tree, reference, 0, 1)
    count()  # the first page of a session also reads the county's name, which is then cached
    few, few_rows = count()
    assert few_rows == 1
    _grow(model, tree, reference, 1, 4)
    many, many_rows = count()
    assert many_rows == 5
    assert many == few, (model, few, many)


# --- In Chinese ---------------------------------------------------------------------------------------------


def test_the_closing_and_import_pages_read_as_chinese(client, people, world):
    from tests.test_admin_language import _check

    project = moved(world["project"]["a"], PUBLISHED, RUNNING)
    plan = world["keyprojectlist"]["a"]
    client.force_login(people.inst_a)
    for page in (url("project", "close", project.pk), url("keyprojectlist", "import", plan.pk)):
        response = client.get(page)
        assert response.status_code == 200
        _check(page, response, data_texts=[project.name, plan.title])
        response = client.post(page, {})
        assert response.status_code == 200 and response.context["form"].errors
        _check(page, response, data_texts=[project.name, plan.title])
