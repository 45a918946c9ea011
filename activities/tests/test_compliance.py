"""「月月有活动」: the month-by-month matrix of each station, its scope, and its constant query count."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.compliance import HELD, MISSING, PLANNED, month_compliance
from activities.tests.factories import write_activity
from stations.models import UnitKind
from stations.tests.factories import make_unit

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _in(year, month, day=10, hour=9):
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def _row(matrix, station):
    return next(row for row in matrix if row.station.pk == station.pk)


@pytest.mark.django_db
def test_matrix_held_planned_missing(tree, people):
    year = timezone.localdate().year - 1
    write_activity(tree.a1, start=_in(year, 1), status="finished")
    write_activity(tree.a1a, start=_in(year, 2), status="finished")  # a point counts for its station
    write_activity(
        tree.a1, start=_in(year, 3), status="cancelled", cancel_reason="下雨", cancelled_at=timezone.now()
    )  # cancelled: not held
    write_activity(tree.a1, start=_in(year, 4), status="draft")  # a past draft: neither
    # Midnight of 1 May in Shanghai is still 30 April in UTC: it counts for May.
    write_activity(tree.a2, start=datetime.datetime(year, 5, 1, 0, 30, tzinfo=SHANGHAI), status="finished")
    matrix = month_compliance(people.inst_a, year)
    assert [row.station for row in matrix] == [tree.a1, tree.a2]
    a1 = _row(matrix, tree.a1)
    assert a1.months[:4] == [HELD, HELD, MISSING, MISSING]
    assert a1.missing_until(12) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert _row(matrix, tree.a2).months[3:5] == [MISSING, HELD]


@pytest.mark.django_db
def test_future_activities_are_planned(tree, people):
    start = timezone.now() + datetime.timedelta(days=40)
    local = timezone.localtime(start)
    write_activity(tree.b1, start=start, status="published")
    write_activity(
        tree.b1a,
        start=start + datetime.timedelta(hours=4),
        status="cancelled",
        cancel_reason="下雨",
        cancelled_at=timezone.now(),
    )
    matrix = month_compliance(people.inst_b, local.year)
    assert _row(matrix, tree.b1).months[local.month - 1] == PLANNED


@pytest.mark.django_db
def test_scope(tree, people):
    year = timezone.localdate().year - 1
    write_activity(tree.b1, start=_in(year, 1), status="finished")
    assert [row.station for row in month_compliance(people.inst_a, year)] == [tree.a1, tree.a2]
    assert [row.station for row in month_compliance(people.inst_b, year)] == [tree.b1]
    assert _row(month_compliance(people.county, year), tree.b1).months[0] == HELD
    assert month_compliance(people.nobody, year) == []


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 50])
def test_query_count_is_constant(tree, people, count, django_assert_num_queries):
    year = timezone.localdate().year - 1
    township = make_unit(UnitKind.INSTITUTE, tree.center, name="丙镇新时代文明实践所")
    for n in range(count):
        station = make_unit(UnitKind.STATION, township, name=f"丙{n}村新时代文明实践站")
        point = make_unit(UnitKind.POINT, station, name=f"丙{n}点")
        write_activity(station, start=_in(year, 1 + n % 12), status="finished")
        write_activity(point, start=_in(year, 1 + (n + 1) % 12), status="finished")
    people.county.refresh_from_db()
    month_compliance(people.county, year)  # the scope is cached per user after the first call
    with django_assert_num_queries(2):
        matrix = month_compliance(people.county, year)
    assert len(matrix) == count + 3
    row = matrix[-1]
    assert row.months.count(HELD) == 2


@pytest.mark.django_db
def test_page(client, tree, people):
    year = timezone.localdate().year - 1
    write_activity(tree.a1, start=_in(year, 1), status="finished")
    client.force_login(people.inst_a)
    response = client.get(reverse("activities:compliance"), {"year": year})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="missing-{tree.a1.pk}"' in body and f'id="missing-{tree.a2.pk}"' in body
    assert f'id="station-{tree.b1.pk}"' not in body
    assert response.context["matrix"][0].months[0] == HELD


@pytest.mark.django_db
def test_page_refuses_who_has_no_scope(client, tree, people):
    client.force_login(people.nobody)
    assert client.get(reverse("activities:compliance")).status_code == 404
    client.logout()
    assert client.get(reverse("activities:compliance")).status_code == 302
