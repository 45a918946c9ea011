"""The activity reports (图文资料) of the benchmark-scale data (`manage.py seed_scale`): a phase after the
activities', registered when the app is ready.

Four in five finished activities of a county have their report (every fifth finished one, in the order of
the ids, has none: it is overdue), and about a third of the reports are published as news, a few days
after the end. Each report has none to four photos, as rows only: they share three placeholder images
(and their thumbnails), written once to the default storage, so a page that lists reports shows pictures
without the data set holding a file per photo. Nobody is named as submitter or publisher: the data set
has no staff accounts.

What a county gets is decided from its finished activities alone (seeded by the activity's id), so it is
the same every run. Rows go in with COPY, a batch of reports with their photos at a time, each batch in
one transaction with ids reserved first; a county's reports are counted through its activities' units, so
a run cut short resumes after its last batch (activities already reported are skipped) and a second run
adds nothing.
"""

from __future__ import annotations

import datetime
import io
import random
import zoneinfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw

from stations.models import Unit
from volunteers.bulk import Copy, reserve_ids
from volunteers.scale import Phase, Preset, ProgressBar, register_phase

from . import scale
from .models import Activity, ActivityReport, ActivityReportPhoto, ActivityStatus

BATCH = 2000
# One finished activity in this many has no report.
_UNREPORTED_EVERY = 5
PLACEHOLDERS = tuple(f"scale/report-placeholder-{n}.jpg" for n in range(1, 4))
THUMBNAILS = tuple(f"scale/report-placeholder-{n}-thumb.jpg" for n in range(1, 4))
_SIZES = ((1600, 1200), (1200, 1600), (1600, 900))
_OPENINGS = (
    "本次活动由新时代文明实践站组织，志愿者按时到岗、分工明确，",
    "活动当天天气晴好，村民参与热情高，",
    "志愿者提前布置场地、准备物资，",
    "活动得到村两委和驻村工作队的大力支持，",
)
_ENDINGS = (
    "群众纷纷点赞，表示希望多开展这样的活动。",
    "现场发放宣传资料一百余份，解答群众咨询数十人次。",
    "活动结束后志愿者清理了场地，做到人走场清。",
    "下一步将持续开展常态化志愿服务。",
)
_CAPTIONS = ("活动现场", "志愿者服务中", "群众参与", "志愿者合影", "")

REPORT_FIELDS = (
    "id",
    "activity_id",
    "text",
    "people_served",
    "published_at",
    "created_at",
    "updated_at",
)
PHOTO_FIELDS = (
    "report_id",
    "image",
    "thumbnail",
    "width",
    "height",
    "caption",
    "position",
    "created_at",
    "updated_at",
)


def finished_total(preset: Preset) -> int:
    """Finished activities of one county, as activities.scale.plan lays them out: the past ones, less the
    one in thirty-three cancelled (`index % 33 == 5`)."""
    total = scale.activities_total(preset)
    running = max(1, total // 500)
    future = max(3, total * 4 // 100)
    past = total - running - future
    return sum(1 for index in range(past) if index % 33 != 5)


def reports_total(preset: Preset) -> int:
    finished = finished_total(preset)
    return finished - (finished + _UNREPORTED_EVERY - 1) // _UNREPORTED_EVERY


def _county_reports(code: str):
    center = Unit.objects.filter(code=code).only("path").first()
    if center is None:
        return ActivityReport.objects.none()
    return ActivityReport.objects.filter(activity__unit__path__startswith=center.path)


def reports_done(preset: Preset, code: str) -> int:
    return _county_reports(code).count()


def placeholders() -> None:
    """The three shared images and their thumbnails, drawn once (a gradient with a caption)."""
    for n, (name, thumbnail) in enumerate(zip(PLACEHOLDERS, THUMBNAILS, strict=True)):
        if default_storage.exists(name) and default_storage.exists(thumbnail):
            continue
        size = _SIZES[n]
        mask = Image.linear_gradient("L").resize(size)
        colours = ((183, 28, 28), (255, 193, 7)) if n != 1 else ((46, 125, 50), (200, 230, 201))
        image = Image.composite(Image.new("RGB", size, colours[1]), Image.new("RGB", size, colours[0]), mask)
        ImageDraw.Draw(image).text((60, size[1] - 120), f"seed_scale #{n + 1}", fill="white", font_size=64)
        for stored, side in ((name, None), (thumbnail, 480)):
            if side:
                image = image.copy()
                image.thumbnail((side, side))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=80)
            if not default_storage.exists(stored):
                default_storage.save(stored, ContentFile(buffer.getvalue()))


def _report_rows(activity_id: int, title: str, ended_at, now) -> tuple[tuple, list[tuple]]:
    """A report's values (REPORT_FIELDS after the id) and its photos' (PHOTO_FIELDS after the report)."""
    rng = random.Random(f"report-{activity_id}")
    written = min(ended_at + datetime.timedelta(hours=rng.randint(2, 70)), now)
    published = None
    if rng.random() < 1 / 3:
        published = min(written + datetime.timedelta(hours=rng.randint(4, 96)), now)
    text = f"{rng.choice(_OPENINGS)}圆满完成了“{title}”。{rng.choice(_ENDINGS)}"
    people = rng.choice((8, 12, 15, 20, 26, 30, 45, 60, 80, 120, 200))
    report = (activity_id, text, people, published, written, published or written)
    photos = []
    for position in range(rng.choice((0, 1, 2, 2, 3, 3, 4))):
        n = rng.randrange(len(PLACEHOLDERS))
        width, height = (min(side, 4096) for side in _SIZES[n])
        photos.append(
            (PLACEHOLDERS[n], THUMBNAILS[n], width, height, rng.choice(_CAPTIONS), position, written, written)
        )
    return report, photos


def _reports_run(preset: Preset, code: str, bar: ProgressBar) -> None:
    total = reports_total(preset)
    county = _county_reports(code)
    if county.count() >= total:
        return
    center = Unit.objects.filter(code=code).only("path").first()
    finished = list(
        Activity.objects.filter(unit__path__startswith=center.path, status=ActivityStatus.FINISHED)
        .order_by("pk")
        .values_list("pk", "title", "ended_at")
    )
    chosen = [row for index, row in enumerate(finished) if index % _UNREPORTED_EVERY != 0]
    reported = set(county.values_list("activity_id", flat=True))
    missing = [row for row in chosen if row[0] not in reported]
    if not missing:
        return
    placeholders()
    now = datetime.datetime(*scale._NOW, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    report_copy, photo_copy = Copy(ActivityReport, REPORT_FIELDS), Copy(ActivityReportPhoto, PHOTO_FIELDS)
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        reports, photos = [], []
        with transaction.atomic():
            first = reserve_ids(ActivityReport, len(batch))
            for offset, (activity_id, title, ended_at) in enumerate(batch):
                report, report_photos = _report_rows(activity_id, title, ended_at, now)
                reports.append((first + offset, *report))
                photos.extend((first + offset, *photo) for photo in report_photos)
            report_copy.rows(reports)
            photo_copy.rows(photos)
        bar.add(len(batch))


PHASE = register_phase(Phase("activity reports", reports_total, reports_done, _reports_run))
