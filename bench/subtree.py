"""Subtree reads on a city-sized unit tree: the materialized-path prefix query against a level-by-level walk.

Builds 4 centers, 80 institutes, 3,200 stations and 6,400 points in a throwaway database, then times, for
every institute, reading its whole subtree both ways. Prints the figures and the ratio walk/path measured
in the same run; nothing is asserted.
"""

import time

from _tree import build_tree, throwaway_database

from stations.models import Unit


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
    with throwaway_database() as connection:
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


if __name__ == "__main__":
    main()
