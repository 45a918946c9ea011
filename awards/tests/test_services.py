"""award_create, award_update, award_revoke and award_kind_save: each refusal names its field and says why;
the database refuses what the service would (exactly one recipient, one standing award a year)."""

import importlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython
from django.utils.translation import gettext as _

from awards import services
from awards.kinds import DEFAULT_KINDS
from awards.models import Award, AwardKind
from awards.tests.factories import give, kind
from kernel.testing import assert_refused, assert_refused_unchanged
from projects import services as projects
from projects.models import ProjectStatus
from volunteers.tests.factories import make_team, make_volunteer

pytestmark = pytest.mark.django_db


def snapshot():
    return list(Award.objects.order_by("pk").values())


@pytest.fixture
def cast(tree):
    project = projects.project_create(actor=None, unit=tree.a1, name="四点半课堂")
    projects.project_transition(actor=None, project=project, to=ProjectStatus.PUBLISHED)
    return type(
        "Cast",
        (),
        {
            "vol_a": make_volunteer(tree.a1, "林小明"),
            "vol_b": make_volunteer(tree.b1, "王大力"),
            "team_a": make_team(tree.a1, "甲一村志愿服务队"),
            "project_a": project,
            "draft_b": projects.project_create(actor=None, unit=tree.b1, name="乙村草稿"),
        },
    )


def test_the_migration_makes_the_default_kinds_once(db):
    """Its function, run as the migration runs it (on the migration's model state), on an empty table:
    the database the test gets may have been flushed by a transactional test before it."""
    migration = importlib.import_module("awards.migrations.0001_initial")
    assert any(
        isinstance(operation, RunPython) and operation.code is migration.add_default_kinds
        for operation in migration.Migration.operations
    )
    state = MigrationLoader(connection).project_state(("awards", "0001_initial")).apps
    AwardKind.objects.all().delete()
    for _run in range(2):  # a second run doubles nothing
        migration.add_default_kinds(state, None)
        assert list(AwardKind.objects.order_by("order").values_list("name", "recipient_type")) == [
            (name, recipient) for name, recipient, _order in DEFAULT_KINDS
        ]


def test_an_institute_admin_gives_an_award_inside_its_subtree(tree, people, cast):
    award = give("最美志愿者", actor=people.inst_a, giving_unit=tree.a, volunteer=cast.vol_a, citation=" 好 ")
    assert (award.volunteer, award.giving_unit, award.created_by, award.citation) == (
        cast.vol_a,
        tree.a,
        people.inst_a,
        "好",
    )
    team_award = give("最佳志愿服务组织", actor=people.inst_a, giving_unit=tree.a, team=cast.team_a)
    assert team_award.recipient == cast.team_a
    unit_award = give("最美志愿服务社区", actor=people.inst_a, giving_unit=tree.a, unit=tree.a1)
    assert unit_award.recipient == tree.a1


def test_another_townships_recipient_is_refused(tree, people, cast):
    assert_refused_unchanged(
        snapshot,
        give,
        "最美志愿者",
        actor=people.inst_a,
        giving_unit=tree.a,
        volunteer=cast.vol_b,
        field="volunteer",
        message=_("Choose a volunteer inside the giving unit's area."),
    )


def test_giving_from_another_townships_unit_is_refused(tree, people, cast):
    assert_refused(
        give,
        "最美志愿者",
        actor=people.inst_a,
        giving_unit=tree.b,
        volunteer=cast.vol_b,
        field="giving_unit",
        message=_("This unit is outside the area you administer."),
    )


def test_a_station_admin_gives_no_awards(tree, people, cast):
    assert_refused(
        give,
        "最美志愿者",
        actor=people.station_a1,
        giving_unit=tree.a1,
        volunteer=cast.vol_a,
        field="giving_unit",
        message=_("This unit is outside the area you administer."),
    )


def test_the_recipient_must_be_of_the_kinds_type(tree, cast):
    assert_refused(
        give,
        "最美志愿者",
        giving_unit=tree.center,
        team=cast.team_a,
        field="team",
        message=_("A “%(kind)s” is given to one volunteer: choose one, and nothing else.")
        % {"kind": "最美志愿者"},
    )
    assert_refused(
        give,
        "最佳志愿服务项目",
        giving_unit=tree.center,
        field="project",
        message=_("A “%(kind)s” is given to one project: choose one, and nothing else.")
        % {"kind": "最佳志愿服务项目"},
    )
    assert_refused(
        give,
        "最美志愿者",
        giving_unit=tree.center,
        volunteer=cast.vol_a,
        unit=tree.a1,
        field="unit",
        message=_("A “%(kind)s” is given to one volunteer: choose one, and nothing else.")
        % {"kind": "最美志愿者"},
    )


def test_a_draft_project_is_not_awarded(tree, cast):
    assert_refused(
        give,
        "最佳志愿服务项目",
        giving_unit=tree.center,
        project=cast.draft_b,
        field="project",
        message=_("A draft project is not awarded: publish it first."),
    )
    assert give("最佳志愿服务项目", giving_unit=tree.center, project=cast.project_a).project == cast.project_a


def test_one_standing_award_of_a_kind_a_year(tree, people, cast):
    first = give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a)
    assert_refused(
        give,
        "最美志愿者",
        giving_unit=tree.center,
        volunteer=cast.vol_a,
        field="volunteer",
        message=_("This recipient already has this award for that year."),
    )
    assert give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a, year=2025).year == 2025
    services.award_revoke(actor=people.inst_a, award=first, reason="重复评选")
    assert give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a).pk != first.pk


def test_the_year_is_checked(tree, cast):
    assert_refused(
        give,
        "最美志愿者",
        giving_unit=tree.a,
        volunteer=cast.vol_a,
        year=1999,
        field="year",
        message=_("Give a year from 2000 to 2100."),
    )


def test_revoking_keeps_the_row_and_says_why(tree, people, cast):
    award = give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a)
    assert_refused(
        services.award_revoke,
        actor=people.inst_b,
        award=award,
        reason="x",
        field="revoke_reason",
        message=_("This unit is outside the area you administer."),
    )
    assert_refused(
        services.award_revoke,
        actor=people.inst_a,
        award=award,
        reason="  ",
        field="revoke_reason",
        message=_("Say why the award is revoked."),
    )
    revoked = services.award_revoke(actor=people.inst_a, award=award, reason="事迹不实")
    assert (revoked.revoked_by, revoked.revoke_reason) == (people.inst_a, "事迹不实")
    assert Award.objects.filter(pk=award.pk).exists()
    assert_refused(
        services.award_revoke,
        actor=people.inst_a,
        award=award,
        reason="again",
        field="revoke_reason",
        message=_("This award is revoked already."),
    )
    assert_refused(
        services.award_update,
        actor=people.inst_a,
        award=award,
        citation="new",
        field="citation",
        message=_("A revoked award is no longer changed."),
    )


def test_the_database_refuses_two_recipients_or_none(tree, cast):
    for recipients in ({}, {"volunteer": cast.vol_a, "team": cast.team_a}):
        with pytest.raises(IntegrityError, match="award_exactly_one_recipient"), transaction.atomic():
            Award.objects.create(year=2026, kind=kind("最美志愿者"), giving_unit=tree.a, **recipients)


def test_the_database_refuses_a_second_standing_award(tree, cast):
    give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a)
    with (
        pytest.raises(
            IntegrityError, match=r"award_once_a_year_volunteer|UNIQUE constraint failed: awards_award\.year"
        ),
        transaction.atomic(),
    ):
        Award.objects.create(year=2026, kind=kind("最美志愿者"), giving_unit=tree.a, volunteer=cast.vol_a)


def test_award_kinds_are_the_countys(tree, people, cast):
    assert_refused(
        services.award_kind_save,
        actor=people.inst_a,
        name="优秀志愿者",
        recipient_type="volunteer",
        field="name",
        message=_("Only the county's administrators configure award kinds."),
    )
    made = services.award_kind_save(
        actor=people.county, name="优秀志愿者", recipient_type="volunteer", order=60
    )
    assert made.pk
    give("最美志愿者", giving_unit=tree.a, volunteer=cast.vol_a)
    assert_refused(
        services.award_kind_save,
        actor=people.county,
        kind=kind("最美志愿者"),
        name="最美志愿者",
        recipient_type="team",
        field="recipient_type",
        message=_("This kind has been given already: what it is given to stays."),
    )
