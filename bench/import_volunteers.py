"""The Excel import of 100,000 volunteers against a bare openpyxl read of the same file.

Builds a small county in a throwaway database and a 100,000-row file (openpyxl write_only), then times in
the same run: a bare `read_only` read of every row, the check (`job_check`: read + rules + queries per
batch) and the import (`job_run`: re-read + re-check + COPY on PostgreSQL, bulk INSERTs on SQLite, in one
transaction), both inline as the worker runs them. Prints each time, the ratios to the bare read and the
process's peak memory (ru_maxrss); nothing is asserted. Targets: import ÷ read ≤ 3, peak memory ≤ 300 MB.
BENCH_IMPORT_ROWS sets the size of the file; BENCH_PROFILE=<prefix> profiles the check and the import
(cProfile stats in <prefix>.check and <prefix>.import).
"""

import base64
import datetime
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

# The keys that protect ID numbers, made for this run only (the settings insist on them with DEBUG off).
if not os.environ.get("ID_NUMBER_KEYS"):
    os.environ["ID_NUMBER_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["ID_NUMBER_HASH_KEY"] = secrets.token_urlsafe(32)

from _tree import build_tree, throwaway_database
from django.core.files import File
from openpyxl import Workbook, load_workbook

from stations.models import Platform, Role, Unit
from stations.services import role_grant
from volunteers import imports
from volunteers.identity import fake_resident_id
from volunteers.models import ImportJob, Volunteer

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))


def write_file(path: Path, units: list[str], domains: list[str]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("志愿者")
    sheet.append([header for _key, header in imports.COLUMNS])
    start = datetime.date(1960, 1, 1)
    for i in range(ROWS):
        birth = start + datetime.timedelta(days=i // 1000)
        sheet.append(
            [
                "志愿者",
                "居民身份证",
                fake_resident_id("350721", birth, i % 1000),
                None,
                None,
                f"13{i:09d}",
                "群众",
                "本科",
                "摄影、宣讲",
                domains[i % len(domains)],
                units[i % len(units)],
                None,
                None,
                None,
            ]
        )
    workbook.save(path)


def bare_read(path: Path) -> int:
    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return count


def _timed(task, job_id: int, name: str):
    """Run `task`; with BENCH_PROFILE=<prefix>, under cProfile, its stats in <prefix>.<name>."""
    prefix = os.environ.get("BENCH_PROFILE")
    if not prefix:
        return task(job_id)
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(task, job_id)
    finally:
        profile.dump_stats(f"{prefix}.{name}")


def main():
    from django.contrib.auth import get_user_model

    with throwaway_database(), tempfile.TemporaryDirectory() as folder:
        build_tree(centers=1, institutes=10, stations=20, points=2)
        center = Unit.objects.get(depth=0)
        for order, name in enumerate(("理论宣讲平台", "文化服务平台", "科技科普平台")):
            Platform.objects.create(
                center=center, name=name, code=f"p{order}", responsible_department="宣传部", order=order
            )
        user = get_user_model().objects.create_user("bench-importer", password=None)
        role_grant(actor=None, user=user, role=Role.COUNTY_ADMIN, unit=center)
        codes = list(Unit.objects.filter(depth__gte=2).values_list("code", flat=True))
        domains = list(Platform.objects.values_list("name", flat=True))

        path = Path(folder) / "volunteers.xlsx"
        start = time.perf_counter()
        write_file(path, codes, domains)
        written = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6

        start = time.perf_counter()
        rows = bare_read(path) - 1
        read = time.perf_counter() - start

        # The upload keeps the file and would queue the check; the bench runs both tasks' work inline.
        imports._queue_on_commit = lambda task, job_id: None
        with path.open("rb") as handle:
            job = imports.import_upload(actor=user, upload=File(handle, name=path.name), consent=True)
        assert job.status == ImportJob.Status.CHECKING, job.status
        start = time.perf_counter()
        job = _timed(imports.job_check, job.pk, "check")
        checked = time.perf_counter() - start
        assert job.status == ImportJob.Status.VALID, job.errors[:3]
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.IMPORTING
        )  # as import_start claims
        start = time.perf_counter()
        job = _timed(imports.job_run, job.pk, "import")
        run = time.perf_counter() - start
        assert job.status == ImportJob.Status.DONE, job.errors[:3]
        count = Volunteer.objects.count()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"file: {rows} rows, {size_mb:.1f} MB written in {written:.1f} s")
    print(f"bare openpyxl read_only read: {read:.1f} s ({rows / read:,.0f} rows/s)")
    print(f"check (read + rules + queries): {checked:.1f} s = {checked / read:.2f}x the read")
    print(f"import (re-read + re-check + write, one transaction): {run:.1f} s = {run / read:.2f}x the read")
    both = checked + run
    print(f"check + import: {both:.1f} s = {both / read:.2f}x the read (target for the import ≤ 3)")
    print(f"volunteers written: {count}; peak memory of the process: {peak_mb:.0f} MB (target ≤ 300)")


if __name__ == "__main__":
    sys.exit(main())
