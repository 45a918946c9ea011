"""The unit list endpoint as the tree grows: one page of 50 for a county admin, on a small tree (baseline)
and on a city-sized one 100 times larger, in the same run. Prints time per request, queries per request
and the ratio big/small; nothing is asserted. A list that does per-row work would grow with the tree."""

import time

from _tree import build_tree, throwaway_database
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from stations.models import Role, Unit
from stations.services import role_grant


def measure(client, url, rounds=30):
    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    count = len(queries)  # read now: later requests empty the query log
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        client.get(url)
        best = min(best, time.perf_counter() - start)
    return best, count


def main():
    # Keep the connection between requests, as a long-lived web process does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with throwaway_database():
        build_tree(centers=1, institutes=2, stations=16, points=2)  # 99 units
        center = Unit.objects.get(depth=0)
        user = get_user_model().objects.create_user("bench", password="bench-pass-1234")
        role_grant(actor=None, user=user, role=Role.COUNTY_ADMIN, unit=center)
        client = Client()
        client.force_login(user)
        url = f"/api/v1/units/?page_size=50&subtree_of={center.pk}"
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        small_n = Unit.objects.count()
        small, small_queries = measure(client, url)
        # Grow the same county to city scale: 100 times as many units under the same center.
        extra = build_tree(centers=1, institutes=80, stations=40, points=2, first_id=small_n + 1)
        big_center = extra[0].parent
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have by then: the planner needs the new sizes
        role_grant(actor=None, user=user, role=Role.COUNTY_ADMIN, unit=big_center)
        big_url = f"/api/v1/units/?page_size=50&subtree_of={big_center.pk}"
        big_n = Unit.objects.filter(path__startswith=big_center.path).count()
        big, big_queries = measure(client, big_url)
        print(f"small county: {small_n} units, {small * 1000:.1f} ms per page of 50, {small_queries} queries")
        print(f"city-sized:  {big_n} units, {big * 1000:.1f} ms per page of 50, {big_queries} queries")
        ratio = f"{big / small:.2f}x time for {big_n / small_n:.0f}x units"
        print(f"ratio big/small: {ratio}; queries {big_queries} vs {small_queries}")


if __name__ == "__main__":
    main()
