"""A project's lifecycle (draft › published › running › closed) move by move, the closing report, and the
yearly key-project lists with their months. Every refusal names its field and says its message."""

import pytest
from django.utils.translation import gettext

from kernel.errors import ApplicationError
from projects import services
from projects.models import KeyProjectList, Project, ProjectStatus
from stations.models import UnitKind
from stations.tests.factories import make_unit

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED, RUNNING, CLOSED = (
    ProjectStatus.DRAFT,
    ProjectStatus.PUBLISHED,
    ProjectStatus.RUNNING,
    ProjectStatus.CLOSED,
)
ALLOWED = {(DRAFT, PUBLISHED), (PUBLISHED, RUNNING), (PUBLISHED, DRAFT), (RUNNING, CLOSED)}
# How to bring a new project to each status, one allowed move after another.
PATH = {
    DRAFT: [],
    PUBLISHED: [PUBLISHED],
    RUNNING: [PUBLISHED, RUNNING],
    CLOSED: [PUBLISHED, RUNNING, CLOSED],
}
CLOSING = {"closing_report": "全年开展课后辅导48次。", "people_served": 320}


def refused(call, **kwargs):
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value


def project_in(status, unit, name="四点半课堂"):
    project = services.project_create(actor=None, unit=unit, name=name)
    for step in PATH[status]:
        project = services.project_transition(
            actor=None, project=project, to=step, **(CLOSING if step == CLOSED else {})
        )
    assert project.status == status
    return project


def expected_refusal(status, to) -> str:
    allowed = [target for source, target in sorted(ALLOWED) if source == status]
    if not allowed:
        return gettext("A closed project moves no more.")
    order = services.TRANSITIONS[status]
    return gettext("A project that is %(status)s can only become %(allowed)s.") % {
        "status": ProjectStatus(status).label,
        "allowed": gettext(" or ").join(str(ProjectStatus(target).label) for target in order),
    }


@pytest.mark.parametrize("source,target", sorted(ALLOWED))
def test_every_allowed_move(tree, people, source, target):
    project = project_in(source, tree.a1)
    extra = CLOSING if target == CLOSED else {}
    moved = services.project_transition(actor=people.station_a1, project=project, to=target, **extra)
    assert moved.status == target
    project.refresh_from_db()
    assert project.status == target
    if target == PUBLISHED:
        assert project.published_at is not None
    if target == RUNNING:
        assert project.started_at is not None
    if target == CLOSED:
        assert project.closed_at is not None and project.closing_people_served == 320
        assert project.closing_report == CLOSING["closing_report"]


ILLEGAL = sorted(
    (source, target)
    for source in ProjectStatus.values
    for target in ProjectStatus.values
    if (source, target) not in ALLOWED
)


@pytest.mark.parametrize("source,target", ILLEGAL)
def test_every_illegal_move_is_refused_with_its_message(tree, people, source, target):
    project = project_in(source, tree.a1)
    before = Project.objects.filter(pk=project.pk).values().get()
    error = refused(
        services.project_transition, actor=people.station_a1, project=project, to=target, **CLOSING
    )
    assert error.field == "status" and error.message == expected_refusal(source, target)
    assert Project.objects.filter(pk=project.pk).values().get() == before


def test_an_unknown_status_is_refused(tree):
    project = project_in(DRAFT, tree.a1)
    error = refused(services.project_transition, actor=None, project=project, to="archived")
    assert error.field == "status"
    assert error.message == gettext("Choose a status of the project's lifecycle.")


def test_closing_needs_the_report_and_the_people_served(tree, people):
    project = project_in(RUNNING, tree.a1)
    close = services.project_transition
    error = refused(close, actor=people.station_a1, project=project, to=CLOSED, people_served=10)
    assert error.field == "closing_report"
    assert error.message == gettext("Write the closing report: what the project did.")
    error = refused(close, actor=people.station_a1, project=project, to=CLOSED, closing_report="   ")
    assert error.field == "closing_report"
    assert error.message == gettext("Write the closing report: what the project did.")
    error = refused(close, actor=people.station_a1, project=project, to=CLOSED, closing_report="做了")
    assert error.field == "people_served"
    assert error.message == gettext("Give the number of people served.")
    error = refused(
        close,
        actor=people.station_a1,
        project=project,
        to=CLOSED,
        closing_report="做了",
        people_served="许多",
    )
    assert error.field == "people_served" and error.message == gettext("Give a whole number.")
    error = refused(
        close,
        actor=people.station_a1,
        project=project,
        to=CLOSED,
        closing_report="做了",
        people_served=5,
        hours="abc",
    )
    assert error.field == "hours" and error.message == gettext("Give a number of hours.")
    project.refresh_from_db()
    assert project.status == RUNNING and project.closed_at is None and project.closing_report == ""

    closed = close(
        actor=people.station_a1,
        project=project,
        to=CLOSED,
        closing_report="做了",
        people_served="12",
        volunteers=4,
        hours="30.25",
    )
    assert (closed.closing_people_served, closed.closing_volunteers, str(closed.closing_hours)) == (
        12,
        4,
        "30.2",
    )


def test_a_closed_project_is_not_updated(tree, people):
    project = project_in(CLOSED, tree.a1)
    error = refused(services.project_update, actor=people.station_a1, project=project, name="新名字")
    assert error.field == "status" and error.message == gettext("A closed project is no longer changed.")
    project.refresh_from_db()
    assert project.name == "四点半课堂"


def test_a_user_of_another_township_moves_no_project(tree, people):
    project = project_in(DRAFT, tree.a1)
    error = refused(services.project_transition, actor=people.inst_b, project=project, to=PUBLISHED)
    assert error.field == "status"
    assert error.message == gettext("This unit is outside the area you administer.")
    error = refused(services.project_update, actor=people.inst_b, project=project, name="别人的")
    assert error.field == "unit"
    assert error.message == gettext("This unit is outside the area you administer.")
    project.refresh_from_db()
    assert project.status == DRAFT and project.name == "四点半课堂"


# --- Key-project lists --------------------------------------------------------------------------------


def test_a_key_list_is_made_with_its_twelve_months(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    assert list(plan.months.values_list("month", flat=True)) == list(range(1, 13))
    assert plan.title == gettext("%(unit)s key projects %(year)s") % {"unit": tree.a.name, "year": 2026}


def test_a_second_list_for_the_same_year_is_refused(tree, people):
    services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    error = refused(services.key_list_create, actor=people.inst_a, unit=tree.a, year=2026)
    assert error.field == "year"
    assert error.message == gettext("This unit already has a list for that year.")
    assert KeyProjectList.objects.count() == 1
    # Another year, or another unit the same year, is fine.
    services.key_list_create(actor=people.inst_a, unit=tree.a, year=2027)
    services.key_list_create(actor=people.inst_a, unit=tree.a1, year=2026)
    assert KeyProjectList.objects.count() == 3


def test_a_list_year_out_of_range_is_refused(tree, people):
    for year in (2017, 2101, "明年"):
        error = refused(services.key_list_create, actor=people.inst_a, unit=tree.a, year=year)
        assert error.field == "year" and error.message == gettext("Give a year from 2018 to 2100.")
    assert not KeyProjectList.objects.exists()


def test_a_month_names_projects_of_its_subtree_and_the_county_above(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    own = project_in(PUBLISHED, tree.a1, "四点半课堂")
    brand = project_in(PUBLISHED, tree.center, "红马甲")
    month = plan.months.get(month=3)
    services.key_month_update(
        actor=people.inst_a,
        month=month,
        theme="学雷锋志愿服务月",
        key_dates="3月5日 学雷锋纪念日",
        projects=[own, brand],
        responsible_units=[tree.a, tree.a1],
    )
    month.refresh_from_db()
    assert month.theme == "学雷锋志愿服务月"
    assert set(month.projects.all()) == {own, brand}
    assert set(month.responsible_units.all()) == {tree.a, tree.a1}


def test_a_month_refuses_a_project_of_another_county_or_township(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    other_center = make_unit(UnitKind.CENTER, name="另一县新时代文明实践中心")
    foreign = project_in(PUBLISHED, other_center, "外县项目")
    sibling = project_in(PUBLISHED, tree.b1, "乙村义诊")
    county_draft = project_in(ProjectStatus.DRAFT, tree.center, "县里尚未发布的项目")
    month = plan.months.get(month=5)
    for project in (foreign, sibling, county_draft):
        error = refused(
            services.key_month_update, actor=people.inst_a, month=month, theme="五月", projects=[project]
        )
        assert error.field == "projects"
        assert error.message == gettext(
            "Choose projects of this unit, of the units below it or of the county above it."
        )
    month.refresh_from_db()
    assert month.theme == "" and not month.projects.exists()


def test_a_month_refuses_a_responsible_unit_outside_its_subtree(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    month = plan.months.get(month=6)
    for unit in (tree.b1, tree.center):
        error = refused(
            services.key_month_update,
            actor=people.inst_a,
            month=month,
            theme="六月",
            responsible_units=[tree.a1, unit],
        )
        assert error.field == "responsible_units"
        assert error.message == gettext("Choose this unit or units below it.")
    month.refresh_from_db()
    assert month.theme == "" and not month.responsible_units.exists()


def test_a_month_of_another_township_is_not_changed(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    month = plan.months.get(month=1)
    error = refused(services.key_month_update, actor=people.inst_b, month=month, theme="别人的")
    assert error.field == "theme"
    assert error.message == gettext("This unit is outside the area you administer.")
    month.refresh_from_db()
    assert month.theme == ""


def test_a_month_text_over_its_limit_is_refused(tree, people):
    plan = services.key_list_create(actor=people.inst_a, unit=tree.a, year=2026)
    month = plan.months.get(month=2)
    error = refused(services.key_month_update, actor=people.inst_a, month=month, theme="长" * 101)
    assert error.field == "theme"
    assert error.message == gettext("At most %(limit)d characters.") % {"limit": 100}
