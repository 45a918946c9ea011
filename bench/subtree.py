"""Subtree reads on a city-sized unit tree: the materialized-path prefix query against a level-by-level walk.

Builds a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL) holding 4 centers,
80 institutes, 3,200 stations and 6,400 points, then times, for every institute, reading its whole subtree
both ways. Prints the figures and the ratio walk/path measured in the same run; nothing is asserted.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice_center.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from stations.models import Unit, UnitKind  # noqa: E402


def build_tree() -> list[Unit]:
    """Bulk insert, assigning paths ourselves from pre-computed ids (the service is for single writes)."""
    next_id = 1
    rows: list[Unit] = []

    def add(kind, parent, name):
        nonlocal next_id
        path = (parent.path if parent else "") + Unit.path_segment(next_id)
        unit = Unit(
            id=next_id,
            kind=kind,
            name=name,
            code=f"B{next_id}",
            parent=parent,
            path=path,
            depth=parent.depth + 1 if parent else 0,
        )
        rows.append(unit)
        next_id += 1
        return unit

    institutes = []
    for c in range(4):
        center = add(UnitKind.CENTER, None, f"中心{c}")
        for i in range(20):
            institute = add(UnitKind.INSTITUTE, center, f"所{c}-{i}")
            institutes.append(institute)
            for s in range(40):
                station = add(UnitKind.STATION, institute, f"站{c}-{i}-{s}")
                for p in range(2):
                    add(UnitKind.POINT, station, f"点{c}-{i}-{s}-{p}")
    with transaction.atomic():
        Unit.objects.bulk_create(rows, batch_size=2000)
    return institutes


def by_path(unit):
    return list(Unit.objects.subtree_of(unit).values_list("pk", flat=True))


def by_walk(unit):
    found, frontier = [unit.pk], [unit.pk]
    while frontier:
        frontier = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        found += frontier
    return found


def timed(fn, units, rounds=3):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for unit in units:
            fn(unit)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        start = time.perf_counter()
        institutes = build_tree()
        built = time.perf_counter() - start
        print(f"tree: {Unit.objects.count()} units on {connection.vendor}, built in {built:.1f} s")
        assert all(sorted(by_path(u)) == sorted(by_walk(u)) for u in institutes[:5])
        walk = timed(by_walk, institutes)
        path = timed(by_path, institutes)
        per = len(institutes)
        print(f"level-by-level walk (baseline): {walk / per * 1000:.2f} ms per institute subtree")
        print(f"materialized-path prefix query: {path / per * 1000:.2f} ms per institute subtree")
        print(f"ratio walk/path: {walk / path:.1f}x (queries per subtree: 4 vs 1)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
