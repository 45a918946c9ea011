"""The reads of the activities' public pages: the public list with its filters, and a volunteer's
sign-ups. Every list is a fixed number of queries however long it is."""

from __future__ import annotations

import datetime
from operator import attrgetter, itemgetter

from django.db.models import Prefetch, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Activity, ActivityReport, ActivityReportPhoto, Attendance, Signup

# The columns a row of the public list shows: a row reads no description, coordinates or audit columns.
PUBLIC_ROW_FIELDS = (
    "id",
    "title",
    "venue",
    "started_at",
    "status",
    "capacity",
    "accepted_count",
    "unit__name",
    "domain__name",
)


class PublicActivities:
    """The public list as one sequence that Django's Paginator counts and slices: the activities not ended
    yet (soonest first), then the past ones (latest first). Each part is its own query that stops at the
    page's rows, where one ORDER BY over both parts would sort every public activity on each load: the
    not ended are few, found by `activity_end` and sorted; the past are walked from the latest along
    `activity_latest_first`.

    `count()` counts each part up to `count_limit` rows: past that the figure is a lower bound
    (`count_exact` is False), enough to page on as long as the page asked for is inside the limit."""

    def __init__(self, rows, *, upcoming, past, count_limit: int):
        self.rows = rows  # the columns read, for both parts
        self.upcoming = upcoming  # the not ended, soonest first
        self.past = past  # the ended, latest first
        self.count_limit = count_limit
        self.count_exact = True
        self._upcoming_count: int | None = None
        self._past_count: int | None = None

    def values(self, *fields) -> PublicActivities:
        """The same sequence as `.values(*fields)` rows (with "id" and "started_at" among them: a page
        across both parts is put in order by them)."""
        return PublicActivities(
            self.rows.values(*fields),
            upcoming=self.upcoming,
            past=self.past.values(*fields),
            count_limit=self.count_limit,
        )

    def count(self) -> int:
        bound = self.count_limit + 1
        upcoming = self.upcoming.order_by()[:bound].count()
        past = self.past.order_by()[:bound].count()
        self.count_exact = upcoming < bound and past < bound
        if upcoming < bound:
            self._upcoming_count = upcoming
        if past < bound:
            self._past_count = past
        return upcoming + past

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("PublicActivities takes a slice [start:stop]")
        start, stop = index.start or 0, index.stop
        if stop is None or start < 0 or stop < start:
            raise ValueError("PublicActivities takes a slice [start:stop] with 0 <= start <= stop")
        if self._upcoming_count is None:
            return self._read_uncounted(start, stop)
        upcoming = self._upcoming_count
        parts = []
        if start < upcoming:
            parts.append(self._upcoming_rows(start, min(stop, upcoming)).annotate(part=Value(0)))
        if stop > upcoming and self._past_count != 0:  # None: more than counted
            ids = self.past.values("pk")[max(start - upcoming, 0) : stop - upcoming]
            parts.append(self.rows.filter(pk__in=ids).annotate(part=Value(1)))
        if not parts:
            return []
        if len(parts) == 1:
            return list(
                parts[0].order_by(*(("started_at", "id") if start < upcoming else ("-started_at", "-id")))
            )
        # The page where the not ended end: both parts in one query, put in order here (a page's rows).
        rows = list(parts[0].order_by().union(parts[1].order_by(), all=True))
        key = (
            itemgetter("started_at", "id")
            if rows and isinstance(rows[0], dict)
            else attrgetter("started_at", "pk")
        )
        part = itemgetter("part") if rows and isinstance(rows[0], dict) else attrgetter("part")
        return sorted((row for row in rows if part(row) == 0), key=key) + sorted(
            (row for row in rows if part(row) == 1), key=key, reverse=True
        )

    def _upcoming_rows(self, start: int, stop: int):
        """The not ended from `start` to `stop`: their ids sorted on their own, then their columns, so the
        sort sees the id and start of each activity not ended, not its unit's and domain's rows."""
        return self.rows.filter(pk__in=self.upcoming.values("pk")[start:stop])

    def _read_uncounted(self, start: int, stop: int) -> list:
        """A slice read without counting first (a JSON read of the first page): the upcoming part, and the
        past after it when the upcoming part is short."""
        rows = list(self._upcoming_rows(start, stop).order_by("started_at", "id"))
        if len(rows) == stop - start:
            return rows
        # A short slice ends the part there; an empty one says only that it ends before.
        upcoming = start + len(rows) if rows else self.upcoming.count()
        rows.extend(self.past[max(start - upcoming, 0) : stop - upcoming])
        return rows


def public_activities(
    *, domain=None, unit=None, date_from=None, date_to=None, open=False, now=None, count_limit=1000
) -> PublicActivities:
    """Non-draft activities starting between the dates (local days), those not ended yet first (soonest
    first), then the past (latest first, the latest id first on the same start)."""
    now = now or timezone.now()
    activities = Activity.objects.public()
    if domain is not None:
        activities = activities.filter(domain=domain)
    if unit is not None:
        activities = activities.filter(unit__path__startswith=unit.path)
    if date_from is not None:
        start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
        activities = activities.filter(started_at__gte=start)
    if date_to is not None:
        next_day = date_to + datetime.timedelta(days=1)
        end = timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))
        activities = activities.filter(started_at__lt=end)
    if open:
        activities = activities.open_for_signup(now)
    rows = activities.select_related("unit", "domain").only(*PUBLIC_ROW_FIELDS)
    # Sorted on an expression that no index serves: in `activity_latest_first` order PostgreSQL would walk
    # back from the oldest activity through every past one to reach the few not ended (it cannot know
    # that they start last); `activity_end` finds them and a sort of a few weeks' worth is cheap.
    upcoming = activities.filter(ended_at__gt=now).order_by(Coalesce("started_at", "started_at"), "id")
    # Sign-up closes no later than the end, so no activity open for sign-up has ended.
    past = rows.none() if open else rows.filter(ended_at__lte=now).order_by("-started_at", "-id")
    return PublicActivities(rows, upcoming=upcoming, past=past, count_limit=count_limit)


def public_activity(activity_id: int):
    return (
        Activity.objects.public().select_related("unit", "domain", "project").filter(pk=activity_id).first()
    )


def signup_of(activity, volunteer) -> Signup | None:
    return Signup.objects.filter(activity=activity, volunteer=volunteer).first()


def attendance_of(activity, volunteer) -> Attendance | None:
    return Attendance.objects.filter(activity=activity, volunteer=volunteer).first()


def my_signups(volunteer):
    """The volunteer's sign-ups with their activity and attendance, latest activity first."""
    return (
        Signup.objects.filter(volunteer=volunteer)
        .select_related("activity", "activity__unit", "attendance")
        .order_by("-activity__started_at", "-id")
    )


def published_reports():
    """Reports published as news, newest published first, each with its activity, unit and photos (in
    their order): a page of them is three queries however many rows and photos it shows."""
    return (
        ActivityReport.objects.published()
        .select_related("activity", "activity__unit")
        .prefetch_related(Prefetch("photos", queryset=ActivityReportPhoto.objects.order_by("position", "id")))
        .order_by("-published_at", "-id")
    )


def published_report(report_id: int):
    """One published report, or None (unpublished and unknown look the same)."""
    return published_reports().filter(pk=report_id).first()
