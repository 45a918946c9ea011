"""Fixtures of the residents' tests, on the shared county (conftest.py at the root): a team on station
A1 with its leader, a team of township B with its leader, an activity of A1, and a request factory."""

from types import SimpleNamespace

import pytest

from activities.tests.factories import at, make_activity
from residents import services
from volunteers.models import MembershipRole
from volunteers.tests.factories import make_member, make_team, make_volunteer


@pytest.fixture
def crew(tree):
    leader_a = make_volunteer(tree.a1, "陈队长", password="Leader@2026!a")
    leader_b = make_volunteer(tree.b1, "吴队长", password="Leader@2026!b")
    team_a = make_team(tree.a1, "甲一村理论宣讲队")
    team_b = make_team(tree.b1, "乙一村文艺队")
    make_member(team_a, leader_a, MembershipRole.LEADER)
    make_member(team_b, leader_b, MembershipRole.LEADER)
    return SimpleNamespace(
        team_a=team_a,
        team_b=team_b,
        leader_a=leader_a.user,
        leader_b=leader_b.user,
        activity_a=make_activity(tree.a1, "医保政策宣讲", start=at(days=3), organisers=[leader_a.user]),
        activity_b=make_activity(tree.b1, "乙一村文艺演出", start=at(days=3), organisers=[leader_b.user]),
    )


@pytest.fixture
def submit(tree):
    def make(unit=None, phone="13812345678", name="王秀英", description="想请人讲讲医保新政策"):
        return services.request_submit(
            resident_name=name, phone=phone, unit=unit or tree.a1, description=description
        )

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The form's limits are counted in the cache, which outlives each test's database.
    from django.core.cache import cache

    cache.clear()
