"""awards.demo_data.seed: awards to volunteers (some shown by name), teams, projects and stations, given by
the county center; a second run adds nothing."""

import pytest

from awards import demo_data
from awards.models import Award, RecipientType
from projects import services as projects
from projects.models import ProjectStatus
from stations import demo_data as units_demo
from volunteers.models import Volunteer
from volunteers.tests.factories import make_team, make_volunteer

pytestmark = pytest.mark.django_db


def test_seed_gives_awards_of_every_kind_once(tree, people):
    for name in ("林小明", "王大力", "张三丰", "李四海"):
        make_volunteer(tree.a1, name)
    make_team(tree.a1, "甲一村志愿服务队")
    project = projects.project_create(actor=None, unit=tree.center, name="红马甲", is_brand=True)
    projects.project_transition(actor=None, project=project, to=ProjectStatus.PUBLISHED)
    units = {units_demo.CENTER_CODE: tree.center}
    accounts = {"county": people.county}
    created, _logins, _notes = demo_data.seed(units=units, accounts=accounts, progress=lambda line: None)
    assert created["awards"] == Award.objects.count() > 0
    types = set(Award.objects.values_list("kind__recipient_type", flat=True))
    assert types == set(RecipientType.values)
    assert set(Award.objects.values_list("giving_unit", flat=True)) == {tree.center.pk}
    assert (
        Volunteer.objects.filter(public_name=True).exists()
        and Volunteer.objects.filter(public_name=False).exists()
    )
    again, _logins, _notes = demo_data.seed(units=units, accounts=accounts, progress=lambda line: None)
    assert again["awards"] == 0
