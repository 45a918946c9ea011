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


def _race(first, second):
    """Run `first` in a transaction held open for a moment, and `second` while it is open."""
    started, errors = threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                first()
                started.set()
                time.sleep(1.0)
        except Exception as error:
            errors.append(error)
        finally:
            started.set()
            connections.close_all()

    def follow():
        started.wait()
        try:
            second()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_a_move_waits_for_a_sub_unit_being_added_and_carries_it_along(tree):
    other_center = make_unit(UnitKind.CENTER, name="另一中心")
    a_id, a1_id = tree.a.pk, tree.a1.pk

    def add_point():
        services.unit_create(
            actor=None, kind=UnitKind.POINT, name="新点", code="RACE-1", parent=Unit(pk=a1_id)
        )

    def move_institute():
        institute = Unit.objects.get(pk=a_id)
        institute.parent = other_center
        services.unit_save(actor=None, unit=institute)

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
        station = Unit.objects.get(pk=a2_id)
        station.kind, station.category = UnitKind.POINT, "school"
        services.unit_save(actor=None, unit=station)

    errors = _race(add_point, make_it_a_point)
    station = Unit.objects.get(pk=a2_id)
    assert station.kind == UnitKind.STATION and station.children.count() == 1
    assert len(errors) == 1 and "不能更改类型" in str(errors[0])
