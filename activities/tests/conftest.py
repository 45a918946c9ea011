"""Fixtures of the activities tests: on the shared county (conftest.py at the root), the crew of the
records tests (a team on station A1 with a leader, a member and a volunteer; a volunteer of B1) and an
organiser who is a volunteer of A1 with an account."""

from types import SimpleNamespace

import pytest

from records.tests.conftest import crew  # noqa: F401 (a fixture)
from volunteers.tests.factories import make_volunteer


@pytest.fixture
def organiser(tree):
    volunteer = make_volunteer(tree.a1, "周组织", password="Organiser@2026!")
    return volunteer.user


@pytest.fixture
def volunteers_a1(tree):
    return SimpleNamespace(
        many=lambda count: [
            make_volunteer(tree.a1, f"志愿者{n}", password=f"Vol{n}@2026!x") for n in range(count)
        ]
    )
