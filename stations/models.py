"""The unit tree (中心 › 所 › 站 › 点), service platforms, construction standards, inspections and roles.

The tree is a materialized path: every unit stores the ids of its ancestors and itself as fixed-width
segments ("00000001/00000007/"), so a subtree is one indexed prefix query and tree order is path order.
"""

import datetime
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.models import TimeStampedModel
from kernel.validators import validate_person_name, validate_phone

from . import paths
from .paths import PATH_SEGMENT_WIDTH  # noqa: F401 - part of this module's interface
from .querysets import (
    CenterOwnedQuerySet,
    ChecklistItemQuerySet,
    InspectionFollowUpQuerySet,
    InspectionPartQuerySet,
    InspectionQuerySet,
    RoleAssignmentQuerySet,
    UnitQuerySet,
)


class UnitKind(models.TextChoices):
    CENTER = "center", _("Practice center")
    INSTITUTE = "institute", _("Practice institute")
    STATION = "station", _("Practice station")
    POINT = "point", _("Practice point")


# Which kinds may hang under which: a point belongs to a station, or directly to an institute.
ALLOWED_PARENT_KINDS = {
    UnitKind.CENTER: (),
    UnitKind.INSTITUTE: (UnitKind.CENTER,),
    UnitKind.STATION: (UnitKind.INSTITUTE,),
    UnitKind.POINT: (UnitKind.STATION, UnitKind.INSTITUTE),
}


class RecognitionLevel(models.TextChoices):
    NONE = "", _("None")
    COUNTY = "county", _("County demonstration site")
    CITY = "city", _("City demonstration site")
    PROVINCIAL = "provincial", _("Provincial demonstration site")
    NATIONAL = "national", _("National demonstration site")


class PointCategory(models.TextChoices):
    NONE = "", _("Not a point")
    SCHOOL = "school", _("School")
    PARK = "park", _("Park or square")
    LEIFENG_POST = "leifeng_post", _("Lei Feng service post")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOSPITAL = "hospital", _("Hospital or clinic")
    LIBRARY = "library", _("Library or reading room")
    OTHER = "other", _("Other venue")


def short_unit_name(name: str) -> str:
    """The name as people say it: "双溪街道新时代文明实践所" → "双溪街道所"."""
    return name.replace("新时代文明实践", "") or name


class Unit(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to=~Q(kind=UnitKind.POINT),
    )
    path = models.CharField(_("tree path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    category = models.CharField(
        _("point category"), max_length=16, choices=PointCategory.choices, blank=True, default=""
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    contact_person = models.CharField(
        _("contact person"), max_length=50, blank=True, validators=[validate_person_name]
    )
    contact_phone = models.CharField(
        _("contact phone"), max_length=30, blank=True, validators=[validate_phone]
    )
    recognition_level = models.CharField(
        _("recognition level"), max_length=16, choices=RecognitionLevel.choices, blank=True, default=""
    )
    highlight = models.CharField(_("highlight or brand"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=UnitKind.CENTER) & Q(parent__isnull=True))
                | (~Q(kind=UnitKind.CENTER) & Q(parent__isnull=False)),
                name="unit_only_center_is_root",
                violation_error_message=_("Only a practice center has no parent unit."),
            ),
            models.CheckConstraint(
                condition=(Q(longitude__isnull=True) & Q(latitude__isnull=True))
                | (
                    Q(longitude__gte=-180, longitude__lte=180, latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__isnull=False, latitude__isnull=False)
                ),
                name="unit_coordinates_both_or_none_in_range",
                violation_error_message=_("Give both longitude and latitude, or neither."),
            ),
            models.CheckConstraint(
                condition=~Q(pk=models.F("parent")),
                name="unit_not_own_parent",
                violation_error_message=_("A unit cannot be its own parent."),
            ),
        ]
        indexes = [models.Index(fields=["parent", "kind"], name="unit_parent_kind")]

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """The name as people say it: "双溪街道新时代文明实践所" → "双溪街道所"."""
        return short_unit_name(self.name)

    path_segment = staticmethod(paths.path_segment)
    path_prefixes = staticmethod(paths.path_prefixes)

    def ancestor_paths(self, *, include_self: bool = False) -> list[str]:
        prefixes = self.path_prefixes(self.path)
        return prefixes if include_self else prefixes[:-1]

    @property
    def has_coordinates(self) -> bool:
        return self.longitude is not None and self.latitude is not None


class Platform(TimeStampedModel):
    """A service platform (分中心/平台) of a county center, led by a responsible department."""

    center = models.ForeignKey(
        Unit,
        verbose_name=_("practice center"),
        on_delete=models.PROTECT,
        related_name="platforms",
        limit_choices_to={"kind": UnitKind.CENTER},
    )
    name = models.CharField(_("name"), max_length=50)
    code = models.SlugField(_("code"), max_length=32)
    responsible_department = models.CharField(_("responsible department"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CenterOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service platform")
        verbose_name_plural = _("service platforms")
        ordering = ["center", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["center", "code"], name="platform_code_unique_per_center"),
            models.UniqueConstraint(fields=["center", "name"], name="platform_name_unique_per_center"),
        ]

    def __str__(self):
        return self.name


class Checklist(TimeStampedModel):
    """A construction standard (e.g. 八个有) that applies to one kind of unit of a center."""

    center = models.ForeignKey(
        Unit,
        verbose_name=_("practice center"),
        on_delete=models.PROTECT,
        related_name="checklists",
        limit_choices_to={"kind": UnitKind.CENTER},
    )
    name = models.CharField(_("name"), max_length=100)
    unit_kind = models.CharField(
        _("applies to unit kind"),
        max_length=16,
        choices=[c for c in UnitKind.choices if c[0] != UnitKind.CENTER],
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CenterOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("construction standard")
        verbose_name_plural = _("construction standards")
        ordering = ["center", "unit_kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["center", "name"], name="checklist_name_unique_per_center"),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_unit_kind_display()}）"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(
        Checklist, verbose_name=_("construction standard"), on_delete=models.CASCADE, related_name="items"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("requirement"), max_length=200)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard item")
        verbose_name_plural = _("standard items")
        ordering = ["checklist", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="checklist_item_weight_positive"),
        ]

    def __str__(self):
        return self.text


# The practice centers were first piloted in 2018: an inspection dated earlier is a typing error.
EARLIEST_INSPECTION_DATE = datetime.date(2018, 1, 1)


def validate_not_in_future(value: datetime.date) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."), code="future_date")


def validate_not_before_centers(value: datetime.date) -> None:
    if value and value < EARLIEST_INSPECTION_DATE:
        raise ValidationError(
            _("The date cannot be before %(date)s.") % {"date": EARLIEST_INSPECTION_DATE.isoformat()},
            code="implausible_date",
        )


class Inspection(TimeStampedModel):
    """An inspection (督查) of one unit against one construction standard; the score is computed."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="inspections"
    )
    checklist = models.ForeignKey(
        Checklist,
        verbose_name=_("construction standard"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,  # none when the system recorded it (an import, the demo)
        related_name="inspections",
    )
    # The unit on whose behalf it was inspected (the inspector's own, above the inspected one): only the
    # inspector or someone above that unit may change the inspection.
    inspector_unit = models.ForeignKey(
        Unit,
        verbose_name=_("inspecting unit"),
        on_delete=models.PROTECT,
        related_name="inspections_made",
    )
    inspected_on = models.DateField(
        _("inspection date"), validators=[validate_not_in_future, validate_not_before_centers]
    )
    note = models.CharField(_("note"), max_length=1000, blank=True)
    items_met = models.PositiveSmallIntegerField(_("items met"), default=0, editable=False)
    items_total = models.PositiveSmallIntegerField(_("items in total"), default=0, editable=False)
    score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=1, default=Decimal(0), editable=False
    )

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="inspection_score_0_100"),
            models.CheckConstraint(
                condition=Q(inspected_on__gte=EARLIEST_INSPECTION_DATE),
                name="inspection_date_not_before_centers",
                violation_error_message=_("The inspection date is before the practice centers existed."),
            ),
        ]
        indexes = [models.Index(fields=["unit", "-inspected_on"], name="inspection_unit_date")]

    def __str__(self):
        return f"{self.unit} · {self.checklist.name} · {self.inspected_on}"


class InspectionResult(models.Model):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("standard item"), on_delete=models.PROTECT, related_name="results"
    )
    # Copied from the item when the inspection is recorded: the score stays what it was that day.
    item_text = models.CharField(_("requirement"), max_length=200)
    weight = models.PositiveSmallIntegerField(_("weight"))
    met = models.BooleanField(_("met"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = InspectionPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["inspection", "item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="inspection_result_one_per_item"),
        ]

    def __str__(self):
        return self.item_text


def protected_storage():
    return storages["protected"]


def evidence_upload_to(photo: "InspectionPhoto", filename: str) -> str:
    # A random name: the original says nothing useful and must not be guessable from the outside. The
    # suffix comes from the image intake, which names a file after its real format.
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in {".jpg", ".png", ".webp"} else ".img"
    return f"inspections/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class InspectionPhoto(TimeStampedModel):
    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(
        _("photo"), upload_to=evidence_upload_to, storage=protected_storage, max_length=200
    )
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    # Set for evidence that came with a follow-up (整改) rather than with the inspection itself.
    follow_up = models.ForeignKey(
        "InspectionFollowUp",
        verbose_name=_("follow-up"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
    )

    objects = InspectionPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence photo")
        verbose_name_plural = _("evidence photos")
        ordering = ["inspection", "id"]

    def __str__(self):
        return self.caption or self.image.name


class InspectionFollowUp(TimeStampedModel):
    """A dated follow-up to an inspection (整改记录): what the inspected unit did about it, with evidence.
    Added by those who run the unit, never changing the inspection itself; kept as written."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("rectification note"), max_length=1000)

    objects = InspectionFollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection follow-up")
        verbose_name_plural = _("inspection follow-ups")
        ordering = ["inspection", "created_at", "id"]

    def __str__(self):
        return f"{self.inspection} · {timezone.localtime(self.created_at):%Y-%m-%d}"


class Role(models.TextChoices):
    """Roles on units. What each allows is the capability table in `stations.scoping`; roles on teams
    belong to the app that owns teams."""

    COUNTY_ADMIN = "county_admin", _("County administrator")
    INSTITUTE_ADMIN = "institute_admin", _("Institute administrator")
    STATION_ADMIN = "station_admin", _("Station administrator")
    VIEWER = "viewer", _("Data viewer")


# Roles that administer the subtree of their unit, and the kind of unit each is granted on.
ADMIN_ROLE_UNIT_KIND = {
    Role.COUNTY_ADMIN: UnitKind.CENTER,
    Role.INSTITUTE_ADMIN: UnitKind.INSTITUTE,
    Role.STATION_ADMIN: UnitKind.STATION,
}
ADMIN_ROLES = tuple(ADMIN_ROLE_UNIT_KIND)
# The kinds of unit each role may be granted on: a viewer reads a county, a township or a village.
ROLE_UNIT_KINDS = {
    **{role: (kind,) for role, kind in ADMIN_ROLE_UNIT_KIND.items()},
    Role.VIEWER: (UnitKind.CENTER, UnitKind.INSTITUTE, UnitKind.STATION),
}


class RoleAssignment(TimeStampedModel):
    """A role a user holds on a unit. Admin roles grant that unit's subtree; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="roles")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_assignment_unique"),
        ]

    def __str__(self):
        # The real name where there is one: people are shown by name, not by login (stations.people).
        name = self.user.first_name or self.user.get_username()
        return f"{name} · {self.get_role_display()} · {self.unit}"
