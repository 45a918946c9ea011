"""Activities (志愿服务活动), their sign-ups (报名), attendance (签到签退) and reports (图文资料).

An activity belongs to a unit and optionally a project of the library; it has a time window, a venue, a
capacity and a recruitment window, and moves draft › published › running › finished (or cancelled). What
is counted against a limit is guarded twice: the services lock the activity row, and the database refuses
the impossible state (more accepted than the capacity, two sign-ups of one volunteer, two attendances).
Attendance makes the pending service record (records app) once the volunteer is checked out, or when a
missed check-out is closed at the activity's end.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.models import TimeStampedModel

from .querysets import (
    ActivityOrganiserQuerySet,
    ActivityQuerySet,
    ActivityReportPhotoQuerySet,
    ActivityReportQuerySet,
    AttendanceQuerySet,
    OfflineEntryQuerySet,
    SignupQuerySet,
)

_FROM_2000 = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which the insurance must have been confirmed (条例 art. 17), and which the public sees.
PUBLISHED_STATUSES = (ActivityStatus.PUBLISHED, ActivityStatus.RUNNING, ActivityStatus.FINISHED)


def default_report_days() -> int:
    return settings.ACTIVITY_REPORT_DAYS


class Activity(TimeStampedModel):
    unit = models.ForeignKey(
        "stations.Unit",
        verbose_name=_("organising unit"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    domain = models.ForeignKey(
        "stations.Platform",
        verbose_name=_("service domain"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    venue = models.CharField(_("venue"), max_length=200)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    started_at = models.DateTimeField(_("starts at"))
    ended_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    signup_opens_at = models.DateTimeField(_("sign-up opens at"))
    signup_closes_at = models.DateTimeField(_("sign-up closes at"))
    requirements = models.CharField(_("requirements"), max_length=500, blank=True)
    needs_insurance = models.BooleanField(_("volunteers need insurance"), default=False)
    insurance_note = models.CharField(_("insurance"), max_length=200, blank=True)
    insurance_confirmed_at = models.DateTimeField(_("insurance confirmed at"), null=True, blank=True)
    insurance_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("insurance confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT
    )
    # Accepted sign-ups, kept by the services under the activity's row lock; the constraint below makes
    # more than the capacity unstorable.
    accepted_count = models.PositiveIntegerField(_("accepted"), default=0, editable=False)
    waitlisted_count = models.PositiveIntegerField(_("on the waitlist"), default=0, editable=False)
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organisers"),
        through="ActivityOrganiser",
        related_name="organised_activities",
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # Days after the end the report (图文资料) is due; set when the activity is made, from
    # settings.ACTIVITY_REPORT_DAYS unless the planner gives another.
    report_days = models.PositiveSmallIntegerField(
        _("report due (days after the end)"), default=default_report_days
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gt=F("started_at")),
                name="activity_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
            models.CheckConstraint(
                condition=Q(started_at__gte=_FROM_2000),
                name="activity_starts_from_2000",
                violation_error_message=_("An activity starts in the year 2000 or later."),
            ),
            models.CheckConstraint(
                condition=Q(signup_closes_at__gt=F("signup_opens_at"))
                & Q(signup_closes_at__lte=F("ended_at")),
                name="activity_signup_window",
                violation_error_message=_("Sign-up closes after it opens and no later than the end."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="activity_has_places",
                violation_error_message=_("An activity has at least one place."),
            ),
            models.CheckConstraint(
                condition=Q(accepted_count__lte=F("capacity")),
                name="activity_not_over_capacity",
                violation_error_message=_("The activity is full."),
            ),
            models.CheckConstraint(
                condition=Q(needs_insurance=False)
                | ~Q(status__in=PUBLISHED_STATUSES)
                | Q(insurance_confirmed_at__isnull=False),
                name="activity_insured_before_publishing",
                violation_error_message=_("Confirm the volunteers' insurance before publishing."),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | (Q(cancelled_at__isnull=False) & ~Q(cancel_reason="")),
                name="activity_cancelled_has_reason",
                violation_error_message=_("Give the reason for cancelling."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "started_at"], name="activity_status_start"),
            models.Index(fields=["unit", "started_at"], name="activity_unit_start"),
            models.Index(fields=["-started_at", "-id"], name="activity_latest_first"),
            # The public list's activities not ended yet: a few weeks' worth, found without the past.
            models.Index(fields=["ended_at"], name="activity_end"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.accepted_count, 0)

    def map_url(self) -> str:
        """A link that opens the venue in a map app (the coordinates are GCJ-02, as Chinese maps use)."""
        if self.longitude is None or self.latitude is None:
            return ""
        from urllib.parse import urlencode

        return "https://uri.amap.com/marker?" + urlencode(
            {
                "position": f"{self.longitude},{self.latitude}",
                "name": self.venue or self.title,
                "coordinate": "gaode",
            }
        )


class ActivityOrganiser(models.Model):
    """A user who organises an activity: runs its roster and check-in, decides its attendance records."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="organiser_links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    objects = ActivityOrganiserQuerySet.as_manager()

    class Meta:
        verbose_name = _("organiser")
        verbose_name_plural = _("organisers")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="organiser_once_per_activity")
        ]
        indexes = [models.Index(fields=["user", "activity"], name="organiser_user_activity")]

    def __str__(self) -> str:
        return str(self.user)


class SignupStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


class Signup(TimeStampedModel):
    """A volunteer's sign-up for an activity: one row per volunteer and activity, whatever happens to it
    (signing up again after cancelling takes the same row back, at the end of the queue)."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="signups"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="signups"
    )
    status = models.CharField(_("status"), max_length=12, choices=SignupStatus.choices)
    # The place in the queue: the waitlist is promoted in this order.
    queued_at = models.DateTimeField(_("signed up at"))
    promoted_at = models.DateTimeField(_("moved up from the waitlist at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SignupQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_once_per_volunteer"),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="signup_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "status", "queued_at"], name="signup_queue"),
            models.Index(fields=["volunteer", "status"], name="signup_volunteer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.activity}"


class AttendanceMethod(models.TextChoices):
    QR = "qr", _("Scanned the QR code")
    ORGANISER = "organiser", _("By the organiser")
    OFFLINE = "offline", _("By the organiser, sent later")
    CLOSED = "closed", _("Closed at the end (missed check-out)")


class Attendance(TimeStampedModel):
    """A volunteer's check-in and check-out at an activity, and the service record they made."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="attendances"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    signup = models.OneToOneField(
        Signup,
        verbose_name=_("sign-up"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attendance",
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    in_method = models.CharField(_("checked in"), max_length=12, choices=AttendanceMethod.choices)
    out_method = models.CharField(
        _("checked out"), max_length=12, choices=AttendanceMethod.choices, blank=True
    )
    in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked out by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The QR code's time window the check-in was made with: the same code scanned again does nothing.
    in_window = models.BigIntegerField(_("QR window"), null=True, blank=True, editable=False)
    # Entries made offline on the organiser's phone, sent once the signal came back.
    in_arrived_late = models.BooleanField(_("check-in sent later"), default=False)
    out_arrived_late = models.BooleanField(_("check-out sent later"), default=False)
    missed_checkout = models.BooleanField(_("missed check-out"), default=False)
    # Whereabouts are sensitive personal information (PIPL art. 28): stored only with the volunteer's
    # separate consent, given on the check-in page for this check-in alone.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    location_consented_at = models.DateTimeField(_("location shared with consent at"), null=True, blank=True)
    record = models.OneToOneField(
        "records.ServiceRecord",
        verbose_name=_("service record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attendance",
    )

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="attendance_once_per_volunteer"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=F("checked_in_at")),
                name="attendance_out_after_in",
                violation_error_message=_("The check-out must be after the check-in."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(location_consented_at__isnull=False),
                name="attendance_location_only_with_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.activity}"


class OfflineAction(models.TextChoices):
    CHECK_IN = "in", _("Check-in")
    CHECK_OUT = "out", _("Check-out")


class OfflineOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    UNCHANGED = "unchanged", _("Already so")
    REFUSED = "refused", _("Refused")


class OfflineEntry(models.Model):
    """A check-in or check-out made on the organiser's roster, maybe without signal, received once: the
    key the phone gave it makes a second delivery a no-op."""

    key = models.UUIDField(_("key"), unique=True)
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="offline_entries"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(_("action"), max_length=4, choices=OfflineAction.choices)
    happened_at = models.DateTimeField(_("made at (on the phone)"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=OfflineOutcome.choices)
    message = models.CharField(_("message"), max_length=300, blank=True)
    arrived_late = models.BooleanField(_("arrived late"), default=False)

    objects = OfflineEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.volunteer}"


class ActivityReport(TimeStampedModel):
    """What happened (图文资料): the text, the number of people served and photos, due some days after the
    end. Staff may publish it as news on the public pages (`published_at` set; NULL is not published)."""

    activity = models.OneToOneField(
        Activity, verbose_name=_("activity"), on_delete=models.PROTECT, related_name="report"
    )
    text = models.TextField(_("report"))
    people_served = models.PositiveIntegerField(_("people served"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published as news at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ActivityReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity report")
        verbose_name_plural = _("activity reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | ~Q(text=""),
                name="report_published_has_text",
                violation_error_message=_("Write the report's text before publishing it."),
            ),
        ]
        indexes = [
            # The public news list: published reports, newest first, walked along this index.
            models.Index(
                fields=["-published_at", "-id"],
                name="report_published_latest",
                condition=Q(published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return str(self.activity)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


def report_photo_upload_to(photo, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in {".jpg", ".png", ".webp"} else ".bin"
    return f"reports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def report_thumbnail_upload_to(photo, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in {".jpg", ".webp"} else ".bin"
    return f"reports/thumbs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ActivityReportPhoto(TimeStampedModel):
    """A photo of an activity report, stored as the image intake re-encoded it, with its thumbnail."""

    report = models.ForeignKey(
        ActivityReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=report_photo_upload_to, max_length=200)
    thumbnail = models.ImageField(
        _("thumbnail"), upload_to=report_thumbnail_upload_to, max_length=200, blank=True
    )
    # As the intake returned them, so a page lays the photos out without opening a file.
    width = models.PositiveIntegerField(_("width"), null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True, editable=False)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = ActivityReportPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("report photo")
        verbose_name_plural = _("report photos")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["report", "position"], name="report_photo_order")]

    def __str__(self) -> str:
        return self.caption or self.image.name
