"""Fixtures of the records tests: on the shared county (conftest.py at the root), a team on station A1
with a leader and a plain member, and two volunteers of station A1 with accounts."""

from types import SimpleNamespace

import pytest

from volunteers.models import MembershipRole
from volunteers.tests.factories import make_member, make_team, make_volunteer


@pytest.fixture
def crew(tree, people):
    team = make_team(tree.a1, "甲一村志愿服务队")
    leader = make_volunteer(tree.a1, "李队长", password="Leader@2026!")
    member = make_volunteer(tree.a1, "王队员", password="Member@2026!")
    volunteer = make_volunteer(tree.a1, "张志愿", password="Volunteer@2026!")
    make_member(team, leader, role=MembershipRole.LEADER)
    make_member(team, member)
    make_member(team, volunteer)
    other = make_volunteer(tree.b1, "赵乙村", password="Other@2026!")
    return SimpleNamespace(team=team, leader=leader, member=member, volunteer=volunteer, other=other)
