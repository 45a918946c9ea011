"""Service records (志愿服务记录): hours with their approval, corrections and audit trail, review flags,
trainings, yearly evaluations, certificates (志愿服务证明) and exports for the national volunteer system.

《志愿服务条例》 art. 19 and the 2021 《志愿服务记录与证明出具办法（试行）》: whoever organises a
service records it and certifies it (谁组织谁记录、谁记录谁证明); records are truthful, complete and free;
a volunteer may ask for a correction. So a decided record is never changed or deleted (a database
trigger refuses it, see the migration): an accepted correction is a new record that supersedes the
old one, and every step is a `RecordEvent` of the audit trail.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.models import Revocable, TimeStampedModel

from .querysets import (
    CertificateQuerySet,
    CorrectionQuerySet,
    EvaluationQuerySet,
    ExportQuerySet,
    IssuerProfileQuerySet,
    RecordEventQuerySet,
    RecordFlagQuerySet,
    ServiceRecordQuerySet,
    TrainingQuerySet,
)


def protected_storage():
    return storages["protected"]


def _random_name(folder: str, filename: str, allowed: set[str]) -> str:
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in allowed else ".bin"
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def evidence_upload_to(record, filename: str) -> str:
    # A random name: the suffix comes from the image intake, which names a file after its real format.
    return _random_name("records", filename, {".jpg", ".png", ".webp"})


def seal_upload_to(profile, filename: str) -> str:
    return _random_name("seals", filename, {".png", ".jpg", ".webp"})


def certificate_upload_to(certificate, filename: str) -> str:
    return _random_name("certificates", filename, {".pdf"})


def export_upload_to(export, filename: str) -> str:
    return _random_name("exports", filename, {".xlsx", ".csv"})


class RecordSource(models.TextChoices):
    ATTENDANCE = "attendance", _("Attendance")
    SELF_REPORTED = "self", _("Self-reported")
    STAFF = "staff", _("Entered by staff")
    CORRECTION = "correction", _("Correction")


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Records that count: towards the totals once approved, and against overlaps and the day cap as soon as
# they are submitted. A record superseded by a correction no longer counts.
COUNTING_STATUSES = (RecordStatus.PENDING, RecordStatus.APPROVED)
# Decided records: never changed or deleted again (the migration's trigger).
FINAL_STATUSES = (RecordStatus.APPROVED, RecordStatus.REJECTED, RecordStatus.WITHDRAWN)


class Decided(models.Model):
    """Who decided a row (a record, a correction), when, and the reason or note they gave."""

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("reason or note"), max_length=300, blank=True)

    class Meta:
        abstract = True


class ServiceRecord(Decided, TimeStampedModel):
    """One service of one volunteer: what was done, for which unit (and team), from when to when, and the
    hours it counts for; pending until the organiser, the team leader or a unit admin decides it."""

    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    unit = models.ForeignKey(
        "stations.Unit",
        verbose_name=_("organising unit"),
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    team = models.ForeignKey(
        "volunteers.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_records",
    )
    content = models.CharField(_("service"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    # The local date the service started on: what the day cap, the periods and the exports count by.
    service_date = models.DateField(_("service date"), editable=False)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    evidence_photo = models.ImageField(
        _("evidence photo"),
        upload_to=evidence_upload_to,
        storage=protected_storage,
        max_length=200,
        blank=True,
    )
    evidence_note = models.TextField(_("evidence"), blank=True)
    source = models.CharField(_("source"), max_length=12, choices=RecordSource.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The organiser who may approve it besides the unit's admins and the team's leaders (an activity's
    # organiser, for records made from attendance).
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Set on the new record of an accepted correction; the old record itself is never touched.
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gt=models.F("started_at")),
                name="record_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
            models.CheckConstraint(
                condition=Q(started_at__gte=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)),
                name="record_starts_from_2000",
                violation_error_message=_("A service is recorded from the year 2000 on."),
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=0) & Q(hours__lte=24),
                name="record_hours_in_a_day",
                violation_error_message=_("A record counts from 0 to 24 hours."),
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(decided_at__isnull=True))
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="record_decided_has_time",
                violation_error_message=_("A decided record keeps when it was decided."),
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_note=""),
                name="record_rejection_has_reason",
                violation_error_message=_("Give the reason for the rejection."),
            ),
            models.CheckConstraint(
                condition=(Q(source="correction") & Q(supersedes__isnull=False))
                | (~Q(source="correction") & Q(supersedes__isnull=True)),
                name="record_correction_supersedes",
                violation_error_message=_("A correction supersedes exactly one record."),
            ),
        ]
        indexes = [
            # Newest first, the order of every list: a page of a large subtree reads the index from its
            # start instead of sorting the subtree.
            models.Index(fields=["-started_at", "-id"], name="record_latest_first"),
            models.Index(fields=["volunteer", "started_at"], name="record_volunteer_start"),
            models.Index(fields=["volunteer", "service_date"], name="record_volunteer_date"),
            models.Index(fields=["unit", "status", "service_date"], name="record_unit_status_date"),
            models.Index(fields=["team", "status"], name="record_team_status"),
            models.Index(fields=["status", "service_date"], name="record_status_date"),
            models.Index(fields=["decided_by", "decided_at"], name="record_decider_time"),
        ]

    def __str__(self):
        return f"{self.service_date:%Y-%m-%d} {self.content}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class RecordEvent(models.Model):
    """One step in the life of a record (the audit trail): who, when, what, the fields before and after."""

    class Action(models.TextChoices):
        CREATED = "created", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
        CORRECTION_REFUSED = "correction_refused", _("Correction refused")
        SUPERSEDED = "superseded", _("Superseded by a correction")
        FLAGGED = "flagged", _("Flagged for review")
        FLAG_CLEARED = "flag_cleared", _("Flag cleared")
        CERTIFIED = "certified", _("Listed on a certificate")
        EXPORTED = "exported", _("Exported to the national system")

    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as written, so the trail still names the person after an account is renamed or removed.
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RecordEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("record event")
        verbose_name_plural = _("record events")
        ordering = ["record", "at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} · {self.at:%Y-%m-%d %H:%M}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the organiser")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class CorrectionRequest(Decided, TimeStampedModel):
    """A volunteer's request to correct a decided record (更正), with what they say is right."""

    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), on_delete=models.PROTECT, related_name="corrections"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300)
    content = models.CharField(_("service"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    new_record = models.OneToOneField(
        ServiceRecord,
        verbose_name=_("corrected record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction_source",
    )

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(status="pending"),
                name="correction_one_pending_per_record",
                violation_error_message=_("A correction of this record is already waiting."),
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(new_record__isnull=False),
                name="correction_accepted_has_record",
                violation_error_message=_("An accepted correction leads to its corrected record."),
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_note=""),
                name="correction_refusal_has_reason",
                violation_error_message=_("Give the reason for the refusal."),
            ),
        ]

    def __str__(self):
        return f"{self.record} · {self.get_status_display()}"


class FlagKind(models.TextChoices):
    OVERLAP = "overlap", _("Overlaps another record")
    DAY_CAP = "day_cap", _("Day over the cap")
    VOLUNTEER_WEEK = "volunteer_week", _("Many hours for the volunteer in a week")
    APPROVER_WEEK = "approver_week", _("Many hours approved by one person in a week")
    LINKED_ACCOUNT = "linked_account", _("Approved through a linked account")
    MISSED_CHECKOUT = "missed_checkout", _("Check-out missed")
    OVER_REJECTED = "over_rejected", _("Submitted again over a rejected record")


class RecordFlag(models.Model):
    """A reason to look at a record again. A pending record with an open flag is approved only from one
    level up, with a note; an approved one stays approved until a reviewer clears the flag or the
    organiser corrects it."""

    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), on_delete=models.PROTECT, related_name="flags"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FlagKind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    other_record = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("other record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    is_open = models.BooleanField(_("open"), default=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cleared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RecordFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("review flag")
        verbose_name_plural = _("review flags")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Raised once per record and kind: a rescan finds it there and adds nothing.
            models.UniqueConstraint(fields=["record", "kind"], name="flag_one_per_record_kind"),
            models.CheckConstraint(
                condition=Q(is_open=True) | (Q(cleared_at__isnull=False) & ~Q(note="")),
                name="flag_cleared_with_note",
                violation_error_message=_("A flag is cleared with a note."),
            ),
        ]
        indexes = [models.Index(fields=["is_open", "created_at"], name="flag_open_created")]

    def __str__(self):
        return self.get_kind_display()


class ApproverWeek(models.Model):
    """The hours one person approved in one week (from its Monday): what the approver-week flag reads,
    kept by one upsert per approval instead of a sum over the week's approvals."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField(_("week from"))
    hours = models.DecimalField(_("hours"), max_digits=10, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("approved hours of a week")
        verbose_name_plural = _("approved hours of a week")
        constraints = [models.UniqueConstraint(fields=["approver", "week"], name="approver_week_once")]

    def __str__(self):
        return f"{self.approver_id} {self.week:%Y-%m-%d}: {self.hours}"


class Training(TimeStampedModel):
    """A training the volunteer attended (条例 art. 19), recorded by staff of the unit that ran it."""

    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("recording unit"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    organiser = models.CharField(_("organiser"), max_length=100)
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TrainingQuerySet.as_manager()

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=200),
                name="training_hours_positive",
                violation_error_message=_("A training lasts more than 0 and at most 200 hours."),
            ),
            models.UniqueConstraint(
                fields=["volunteer", "title", "date"],
                name="training_once_per_day",
                violation_error_message=_("This training is already recorded for this volunteer."),
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.title}"


class EvaluationGrade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Satisfactory")
    FAIL = "fail", _("Unsatisfactory")


class Evaluation(TimeStampedModel):
    """A team's yearly evaluation of one of its volunteers (评价)."""

    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    team = models.ForeignKey(
        "volunteers.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="evaluations"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    grade = models.CharField(_("grade"), max_length=12, choices=EvaluationGrade.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-year", "team", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "team", "year"],
                name="evaluation_once_a_year",
                violation_error_message=_("This team has already evaluated this volunteer for that year."),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100),
                name="evaluation_year_plausible",
                violation_error_message=_("Give a year from 2000 to 2100."),
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.get_grade_display()}"


class IssuerProfile(TimeStampedModel):
    """What a unit's certificates name besides the unit itself: its person in charge, the handler and a
    contact, and the seal (an image) when it has one."""

    unit = models.OneToOneField(
        "stations.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="issuer_profile"
    )
    person_in_charge = models.CharField(_("person in charge"), max_length=50)
    handler = models.CharField(_("handler"), max_length=50)
    contact = models.CharField(_("contact"), max_length=50)
    seal = models.ImageField(
        _("seal image"), upload_to=seal_upload_to, storage=protected_storage, max_length=200, blank=True
    )

    objects = IssuerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate issuer")
        verbose_name_plural = _("certificate issuers")

    def __str__(self):
        return str(self.unit)


class CertificateStatus(models.TextChoices):
    REQUESTED = "requested", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be made")
    REVOKED = "revoked", _("Revoked")


class CertificateSequence(models.Model):
    """The last certificate number an issuer gave out in a year: locked while the next is given, in the
    transaction that issues it, so numbers have no gaps."""

    issuer = models.ForeignKey("stations.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("certificate number sequence")
        verbose_name_plural = _("certificate number sequences")
        constraints = [models.UniqueConstraint(fields=["issuer", "year"], name="certificate_sequence_once")]

    def __str__(self):
        return f"{self.issuer_id}/{self.year}: {self.last}"


class Certificate(Revocable, TimeStampedModel):
    """A service certificate (志愿服务证明): free of charge, numbered per issuer and year without gaps,
    verifiable through its QR code, revocable with a reason."""

    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issuer = models.ForeignKey(
        "stations.Unit", verbose_name=_("issuing unit"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    period_from = models.DateField(_("from"), null=True, blank=True)
    period_to = models.DateField(_("to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CertificateStatus.choices, default=CertificateStatus.REQUESTED
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    number = models.CharField(_("certificate number"), max_length=40, unique=True, null=True, blank=True)
    # The random code in the QR's address: with the number, what proves the page was reached from the
    # certificate itself (a made-up or guessed number alone reads "unknown"). Stored, not derived from a
    # key, so rotating SECRET_KEY leaves every printed certificate verifiable.
    verify_code = models.CharField(_("verification code"), max_length=24, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    records = models.ManyToManyField(
        ServiceRecord, verbose_name=_("service records"), related_name="certificates", blank=True
    )
    total_hours = models.DecimalField(_("total hours"), max_digits=9, decimal_places=2, default=0)
    # The issuer's details as they were on the day: a later change does not rewrite an issued certificate.
    person_in_charge = models.CharField(_("person in charge"), max_length=50, blank=True)
    handler = models.CharField(_("handler"), max_length=50, blank=True)
    contact = models.CharField(_("contact"), max_length=50, blank=True)
    pdf = models.FileField(
        _("PDF"), upload_to=certificate_upload_to, storage=protected_storage, max_length=200, blank=True
    )
    error = models.CharField(_("error"), max_length=300, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("service certificate")
        verbose_name_plural = _("service certificates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "sequence"], name="certificate_number_once_per_issuer_year"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "failed"])
                | (Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="certificate_issued_has_number",
                violation_error_message=_("An issued certificate has its number and date."),
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="certificate_revoked_with_reason",
                violation_error_message=_("Give the reason for revoking."),
            ),
        ]

    def __str__(self):
        return self.number or str(_("certificate being prepared"))


class NationalExport(TimeStampedModel):
    """One export of approved records for the national volunteer system (全国志愿服务信息系统): a unit's
    subtree and a period; each record goes in one export only (`ExportedRecord`)."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel"
        CSV = "csv", "CSV"

    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to"))
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, default=Format.XLSX)
    with_id_numbers = models.BooleanField(_("with full ID numbers"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exported by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    row_count = models.PositiveIntegerField(_("records"), default=0)
    file = models.FileField(
        _("file"), upload_to=export_upload_to, storage=protected_storage, max_length=200, blank=True
    )

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("national export")
        verbose_name_plural = _("national exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_to__gte=models.F("period_from")),
                name="export_period_ordered",
                violation_error_message=_("The period ends on or after its first day."),
            )
        ]

    def __str__(self):
        return f"{self.unit} {self.period_from:%Y-%m-%d}–{self.period_to:%Y-%m-%d}"


class ExportedRecord(models.Model):
    """The marker that a record was sent: one row per record, ever (the primary key is the record)."""

    record = models.OneToOneField(
        ServiceRecord,
        verbose_name=_("service record"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="export_mark",
    )
    export = models.ForeignKey(
        NationalExport, verbose_name=_("export"), on_delete=models.PROTECT, related_name="marks"
    )

    class Meta:
        verbose_name = _("exported record")
        verbose_name_plural = _("exported records")

    def __str__(self):
        return f"{self.record_id} → {self.export_id}"
