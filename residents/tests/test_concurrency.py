"""Races on PostgreSQL, where they really run at once (SQLite serializes writers): residents submitting
at the same moment get distinct reference numbers of the day; two ratings sent at once, one is taken."""

import threading

import pytest
from django.db import connection, connections

from kernel.errors import ApplicationError
from residents import services
from residents.models import RequestStatus, ServiceRequest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL) to race"),
]


def _at_once(target, count):
    """`target()` in `count` threads released together; what they returned and what they raised."""
    gate = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            gate.wait(timeout=10)
            results.append(target())
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_requests_submitted_at_once_get_distinct_references(tree):
    def submit():
        return services.request_submit(
            resident_name="王秀英", phone="13812345678", unit=tree.a1, description="需要服务"
        )[0].reference

    references, errors = _at_once(submit, 6)
    assert errors == []
    assert len(set(references)) == 6
    assert sorted(int(r.rsplit("-", 1)[1]) for r in references) == [1, 2, 3, 4, 5, 6]


def test_two_ratings_at_once_take_one(tree, people, crew, submit):
    request, token = submit()
    services.request_dispatch(actor=people.inst_a, request=request, team=crew.team_a)
    services.request_accept(actor=crew.leader_a, request=request)
    services.request_link_activity(actor=crew.leader_a, request=request, activity=crew.activity_a)
    services.request_complete(actor=crew.leader_a, request=request)

    scores = iter([5, 1, 3, 2])
    lock = threading.Lock()

    def rate():
        with lock:
            score = next(scores)
        return services.request_rate(token=token, score=score).rating

    ratings, errors = _at_once(rate, 4)
    assert len(ratings) == 1 and len(errors) == 3
    assert all(isinstance(error, ApplicationError) and error.field == "score" for error in errors)
    request = ServiceRequest.objects.get(pk=request.pk)
    assert (request.status, request.rating) == (RequestStatus.RATED, ratings[0])
    assert request.events.filter(to_status=RequestStatus.RATED).count() == 1
