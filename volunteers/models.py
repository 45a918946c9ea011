"""Registered volunteers (注册志愿者), their teams (总队 › 大队 › 分队), membership and transfers (关系转接).

A volunteer's ID number is personal information: it is stored only encrypted (`id_number_encrypted`),
found by a keyed hash (`id_number_hash`, unique: one number registers once) and shown as its mask
(`id_number_masked`), so lists never decrypt anything. The unified volunteer number (统一编号) is the public
identifier.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kernel.masking import mask_phone
from kernel.models import TimeStampedModel
from kernel.validators import validate_person_name
from stations import paths

from .identity import Gender, IdType
from .querysets import (
    ImportJobQuerySet,
    TeamMembershipQuerySet,
    TeamQuerySet,
    TransferQuerySet,
    VolunteerQuerySet,
)
from .validators import validate_mobile


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc_member", _("Member of the Communist Party of China")
    CPC_PROBATIONARY = "cpc_probationary", _("Probationary Party member")
    CYL_MEMBER = "cyl_member", _("Member of the Communist Youth League")
    DEMOCRATIC_PARTY = "democratic_party", _("Member of a democratic party")
    NON_PARTY = "non_party", _("Without party affiliation")
    MASSES = "masses", _("Ordinary citizen")


class Education(models.TextChoices):
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary school")
    SENIOR = "senior", _("Senior secondary or vocational school")
    COLLEGE = "college", _("Junior college")
    BACHELOR = "bachelor", _("Bachelor's degree")
    POSTGRADUATE = "postgraduate", _("Postgraduate")


class VolunteerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left")


class PrivacyNotice(TimeStampedModel):
    """The privacy notice a volunteer consents to at registration. Versions are kept: a consent names the
    version it was given to."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        ordering = ["-effective_from", "-version"]

    def __str__(self):
        return f"{self.title} ({self.version})"


class Volunteer(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    number = models.CharField(_("volunteer number"), max_length=24, unique=True, editable=False)
    name = models.CharField(_("full name"), max_length=50, validators=[validate_person_name])
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    id_number_hash = models.CharField(_("ID number hash"), max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=32, editable=False)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    phone = models.CharField(_("mobile phone"), max_length=11, unique=True, validators=[validate_mobile])
    political_status = models.CharField(
        _("political status"), max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    education = models.CharField(_("education"), max_length=20, choices=Education.choices, blank=True)
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    domains = models.ManyToManyField(
        "stations.Platform", verbose_name=_("service domains"), related_name="volunteers", blank=True
    )
    home_unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("home unit"), on_delete=models.PROTECT, related_name="volunteers"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=VolunteerStatus.choices, default=VolunteerStatus.ACTIVE
    )
    registered_on = models.DateField(_("registration date"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    privacy_notice = models.ForeignKey(
        PrivacyNotice,
        verbose_name=_("privacy notice consented to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    consented_at = models.DateTimeField(_("consented at"))
    guardian_name = models.CharField(
        _("guardian's name"), max_length=50, blank=True, validators=[validate_person_name]
    )
    guardian_phone = models.CharField(
        _("guardian's mobile phone"), max_length=11, blank=True, validators=[validate_mobile]
    )
    guardian_consented_at = models.DateTimeField(_("guardian consented at"), null=True, blank=True)
    # Honour rolls and other public pages show the name and volunteer number only with this consent;
    # otherwise the name is masked (林**) and the number left out.
    public_name = models.BooleanField(
        _("show my name on public pages"),
        default=False,
        help_text=_("Honour rolls show your full name and volunteer number; otherwise a masked name only."),
    )
    # The approved, not superseded hours of the volunteer's service records: kept by the records app in
    # the transaction that approves or corrects a record (an F() update), so reading it costs nothing.
    service_hours = models.DecimalField(
        _("service hours"), max_digits=10, decimal_places=2, default=0, editable=False
    )

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["-registered_on", "-id"]
        indexes = [
            models.Index(fields=["home_unit", "status"], name="volunteer_unit_status"),
            models.Index(fields=["registered_on", "id"], name="volunteer_registered"),
        ]

    def __str__(self):
        return f"{self.name}（{self.number}）"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class VolunteerNumberSequence(models.Model):
    """The last volunteer number given out: one row, locked while numbers are reserved."""

    last = models.PositiveBigIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("volunteer number sequence")
        verbose_name_plural = _("volunteer number sequences")

    def __str__(self):
        return str(self.last)


class IdNumberReveal(models.Model):
    """An audit row for every time a full ID number was shown or exported."""

    class Purpose(models.TextChoices):
        DETAIL = "detail", _("Shown on the volunteer's page")
        EXPORT = "export", _("Exported to Excel")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    count = models.PositiveIntegerField(_("numbers shown"), default=1)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ID number reveal")
        verbose_name_plural = _("ID number reveals")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_purpose_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class SmsCode(models.Model):
    """A one-time code sent by SMS, to log in or to prove one holds the phone one registers with: stored
    hashed, single use, short-lived."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Login")
        REGISTER = "register", _("Register")

    phone = models.CharField(_("mobile phone"), max_length=11, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.LOGIN)
    code_hash = models.CharField(_("code hash"), max_length=128)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["ip_address", "created_at"], name="smscode_ip_created")]

    def __str__(self):
        return f"{mask_phone(self.phone)} · {self.created_at:%Y-%m-%d %H:%M}"


# --- Teams ------------------------------------------------------------------------------------------


class TeamKind(models.TextChoices):
    CORPS = "corps", _("Corps")  # 总队
    BRIGADE = "brigade", _("Brigade")  # 大队
    SQUAD = "squad", _("Squad")  # 分队


# A corps is a root; a brigade hangs under a corps, a squad under a brigade or directly under a corps.
TEAM_PARENT_KINDS = {
    TeamKind.CORPS: (),
    TeamKind.BRIGADE: (TeamKind.CORPS,),
    TeamKind.SQUAD: (TeamKind.BRIGADE, TeamKind.CORPS),
}


class TeamType(models.TextChoices):
    THEORY = "theory", _("Theory outreach")
    CULTURE = "culture", _("Culture and arts")
    SCIENCE = "science", _("Science popularisation")
    PSYCHOLOGY = "psychology", _("Psychological counselling")
    MEDICAL = "medical", _("Medical and health care")
    LEGAL = "legal", _("Legal aid")
    EMERGENCY = "emergency", _("Emergency rescue")
    ELDERS = "elders", _("Five Elders (五老)")
    FOLK_SPEAKERS = "folk_speakers", _("Folk speakers (百姓宣讲)")
    OTHER = "other", _("Other")


class Team(TimeStampedModel):
    """A volunteer team. Teams are a tree of their own (a materialized path as the units have), each on a
    unit of the practice network, which decides whose admins run it."""

    kind = models.CharField(_("level"), max_length=12, choices=TeamKind.choices)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="teams"
    )
    domain = models.ForeignKey(
        "stations.Platform",
        verbose_name=_("service domain"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
    )
    team_type = models.CharField(_("type"), max_length=20, choices=TeamType.choices, default=TeamType.OTHER)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=TeamKind.CORPS) & Q(parent__isnull=True))
                | (~Q(kind=TeamKind.CORPS) & Q(parent__isnull=False)),
                name="team_only_corps_is_root",
                violation_error_message=_("Only a corps has no parent team."),
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="team_name_unique_under_parent"),
        ]

    def __str__(self):
        return self.name

    path_segment = staticmethod(paths.path_segment)


class MembershipRole(models.TextChoices):
    LEADER = "leader", _("Team leader")
    MEMBER = "member", _("Member")


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    ACTIVE = "active", _("Admitted")
    REJECTED = "rejected", _("Not admitted")
    LEFT = "left", _("Left")


class TeamMembership(TimeStampedModel):
    """A volunteer's place in a team, with its dates. A leader's membership is the team-leader role: it
    grants the team and its sub-teams (volunteers.scoping)."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="memberships"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=12, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    status = models.CharField(
        _("status"), max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["team", "-role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=Q(status__in=["pending", "active"]),
                name="membership_one_open_per_team",
                violation_error_message=_(
                    "This volunteer already belongs to this team or has asked to join it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(role="member") | Q(status__in=["active", "left"]),
                name="membership_leader_is_member",
                violation_error_message=_("A team leader must be an admitted member."),
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "status"], name="membership_volunteer_status")]

    def __str__(self):
        return f"{self.volunteer.name} · {self.team}"


# --- Transfers (关系转接) ---------------------------------------------------------------------------


class TransferKind(models.TextChoices):
    UNIT = "unit", _("Move to another home unit")
    TEAM = "team", _("Move to another team")


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the receiving side")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Withdrawn")


class Transfer(TimeStampedModel):
    """A request to move a volunteer to another home unit or team, decided by the receiving side. The
    volunteer's records stay with the volunteer; only the home unit or the membership changes."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="transfers"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TransferKind.choices)
    from_unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("from unit"), on_delete=models.PROTECT, related_name="+"
    )
    to_unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("to unit"), on_delete=models.PROTECT, related_name="+"
    )
    from_team = models.ForeignKey(
        Team, verbose_name=_("from team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_team = models.ForeignKey(
        Team, verbose_name=_("to team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("reason for the decision"), max_length=300, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=Q(status="pending"),
                name="transfer_one_pending_per_volunteer",
                violation_error_message=_("This volunteer already has a transfer waiting for a decision."),
            ),
            models.CheckConstraint(
                condition=(Q(kind="team") & Q(to_team__isnull=False))
                | (Q(kind="unit") & Q(to_team__isnull=True)),
                name="transfer_team_kind_has_team",
                violation_error_message=_("A move to another team names the team."),
            ),
        ]

    def __str__(self):
        return f"{self.volunteer.name} · {self.get_kind_display()}"


# --- Imports ----------------------------------------------------------------------------------------


def _protected_storage():
    from django.core.files.storage import storages

    return storages["protected"]


class ImportJob(TimeStampedModel):
    """An Excel file of volunteers uploaded by staff: checked first (every bad row reported), imported
    only when clean, all rows in one transaction."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking")
        INVALID = "invalid", _("Has errors")
        VALID = "valid", _("Ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="imports/", storage=_protected_storage, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.CHECKING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    imported_count = models.PositiveIntegerField(_("imported"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The uploader confirmed that the unit holds each volunteer's consent to this notice (and the
    # guardian's for a minor): the rows are registrations on the volunteers' behalf.
    privacy_notice = models.ForeignKey(
        PrivacyNotice,
        verbose_name=_("privacy notice consented to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    consent_confirmed_at = models.DateTimeField(_("consent confirmed at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer import")
        verbose_name_plural = _("volunteer imports")
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name
