"""Concurrent writes on the tree, on PostgreSQL where they really run at once (SQLite serializes writers)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from stations import services
from stations.models import Unit, UnitKind
from stations.tests.factories import make_unit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL) to race"),
]


def _in_threads(*targets):
    """Run each target in a thread of its own (its own connection); return what they raised."""
    errors = []

    def guarded(target):
        def run():
            try:
                target()
            except Exception as error:
                errors.append(error)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def _race(first, second):
    """Run `first` in a transaction held open for a moment, and `second` while it is open."""
    started = threading.Event()

    def hold():
        try:
            with transaction.atomic():
                first()
                started.set()
                time.sleep(1.0)
        finally:
            started.set()

    def follow():
        started.wait()
        second()

    return _in_threads(hold, follow)


def test_a_move_waits_for_a_sub_unit_being_added_and_carries_it_along(tree):
    other_center = make_unit(UnitKind.CENTER, name="另一中心")
    a_id, a1_id = tree.a.pk, tree.a1.pk

    def add_point():
        services.unit_create(
            actor=None, kind=UnitKind.POINT, name="新点", code="RACE-1", parent=Unit(pk=a1_id)
        )

    def move_institute():
        services.unit_update(actor=None, unit=Unit(pk=a_id), parent=other_center)

    assert _race(add_point, move_institute) == []
    station, point = Unit.objects.get(pk=a1_id), Unit.objects.get(code="RACE-1")
    assert station.path.startswith(other_center.path)
    assert point.path == station.path + Unit.path_segment(point.pk) and point.depth == 3


def test_a_kind_change_waits_for_a_sub_unit_being_added_and_is_refused(tree):
    a2_id = tree.a2.pk

    def add_point():
        services.unit_create(
            actor=None, kind=UnitKind.POINT, name="新点", code="RACE-2", parent=Unit(pk=a2_id)
        )

    def make_it_a_point():
        services.unit_update(actor=None, unit=Unit(pk=a2_id), kind=UnitKind.POINT, category="school")

    errors = _race(add_point, make_it_a_point)
    station = Unit.objects.get(pk=a2_id)
    assert station.kind == UnitKind.STATION and station.children.count() == 1
    assert len(errors) == 1 and errors[0].field == "kind"
    assert str(errors[0].message) == "有下级单位的单位不能更改类型。"


def _assert_tree_consistent():
    units = {unit.pk: unit for unit in Unit.objects.all()}
    for unit in units.values():
        parent = units.get(unit.parent_id)
        expected = (parent.path if parent else "") + Unit.path_segment(unit.pk)
        assert unit.path == expected and unit.depth == (parent.depth + 1 if parent else 0), unit


def test_moving_an_institute_while_a_station_under_it_is_edited_does_not_deadlock(tree):
    other_center = make_unit(UnitKind.CENTER, name="另一中心")
    a_id, a1_id = tree.a.pk, tree.a1.pk
    moving = threading.Event()

    def edit_station():
        with transaction.atomic():
            station = Unit.objects.select_for_update().get(pk=a1_id)  # the editor holds the station…
            moving.wait(5)
            time.sleep(0.5)  # …while the move waits for it, then saves it
            services.unit_update(actor=None, unit=station, name="改名的站")

    def move_institute():
        moving.set()
        services.unit_update(actor=None, unit=Unit(pk=a_id), parent=other_center)

    assert _in_threads(edit_station, move_institute) == []
    assert Unit.objects.get(pk=a1_id).name == "改名的站"
    assert Unit.objects.get(pk=a1_id).path.startswith(other_center.path)
    _assert_tree_consistent()


def test_two_moves_in_one_tree_take_turns(tree):
    a1_id, a1a_id, b_id = tree.a1.pk, tree.a1a.pk, tree.b.pk

    def move_station():
        services.unit_update(actor=None, unit=Unit(pk=a1_id), parent=Unit.objects.get(pk=b_id))

    def move_point_under_it():
        services.unit_update(actor=None, unit=Unit(pk=a1a_id), parent=Unit.objects.get(pk=b_id))

    assert _race(move_station, move_point_under_it) == []
    assert Unit.objects.get(pk=a1a_id).parent_id == b_id
    _assert_tree_consistent()
