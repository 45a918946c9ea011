"""The people and things the awards tests share: two townships, a volunteer of each, one of whom chose to
show their name on public pages."""

from types import SimpleNamespace

import pytest

from awards.tests.factories import give
from volunteers.models import Volunteer
from volunteers.tests.factories import make_team, make_volunteer, next_id_number, next_phone


@pytest.fixture
def honours(tree, people):
    shown_id, masked_id = next_id_number(), next_id_number()
    shown_phone, masked_phone = next_phone(), next_phone()
    shown = make_volunteer(tree.a1, "林小明", id_number=shown_id, phone=shown_phone)
    masked = make_volunteer(tree.b1, "王大力", id_number=masked_id, phone=masked_phone)
    Volunteer.objects.filter(pk=shown.pk).update(public_name=True)
    team = make_team(tree.a1, "甲一村志愿服务队")
    return SimpleNamespace(
        shown=Volunteer.objects.get(pk=shown.pk),
        masked=masked,
        team=team,
        id_numbers=(shown_id, masked_id),
        phones=(shown_phone, masked_phone),
        a=give("最美志愿者", giving_unit=tree.a, volunteer=shown, citation="入户走访独居老人"),
        b=give("最美志愿者", giving_unit=tree.b, volunteer=masked, citation="义诊"),
        team_award=give("最佳志愿服务组织", giving_unit=tree.a, team=team, year=2025),
    )
