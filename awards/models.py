"""Awards (表彰) by year and kind, and the kinds themselves.

An award kind (最美志愿者, 最佳志愿服务组织 …) is configuration: its name, its place on the honour roll and
what it is given to (a volunteer, a team, a project or a unit). An award names exactly one recipient, in one
of four nullable foreign keys (a constraint makes any other number unstorable); that the recipient is of the
kind's type is the service's check, since a constraint cannot read the kind's row. The giving unit is the
award's scope: a township's admin sees and gives the awards of its own subtree only. An award is never
deleted: a revoked award keeps its row, who revoked it and why, and leaves the honour rolls.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kernel.models import Revocable, TimeStampedModel

from .querysets import AwardKindQuerySet, AwardQuerySet


class RecipientType(models.TextChoices):
    VOLUNTEER = "volunteer", _("volunteer")
    TEAM = "team", _("volunteer team")
    PROJECT = "project", _("project")
    UNIT = "unit", _("unit")


RECIPIENT_FIELDS = tuple(RecipientType.values)


class AwardKind(TimeStampedModel):
    """A kind of award, e.g. 最美志愿者, given to one type of recipient."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    recipient_type = models.CharField(_("given to"), max_length=12, choices=RecipientType.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0, help_text=_("Lower comes first."))
    is_active = models.BooleanField(_("active"), default=True)

    objects = AwardKindQuerySet.as_manager()

    class Meta:
        verbose_name = _("award kind")
        verbose_name_plural = _("award kinds")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


def _one_recipient() -> Q:
    """Exactly one of the four recipient columns is set."""
    parts = [
        Q(
            **{f"{name}__isnull": False},
            **{f"{other}__isnull": True for other in RECIPIENT_FIELDS if other != name},
        )
        for name in RECIPIENT_FIELDS
    ]
    either = parts[0]
    for part in parts[1:]:
        either |= part
    return either


class Award(Revocable, TimeStampedModel):
    """An award of a year to one volunteer, team, project or unit, given by a unit."""

    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.ForeignKey(
        AwardKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="awards"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
    )
    team = models.ForeignKey(
        "volunteers.Team",
        verbose_name=_("volunteer team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
    )
    unit = models.ForeignKey(
        "stations.Unit",
        verbose_name=_("awarded unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
    )
    citation = models.TextField(_("citation"), blank=True)
    giving_unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("giving unit"), on_delete=models.PROTECT, related_name="awards_given"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-year", "kind__order", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_one_recipient(),
                name="award_exactly_one_recipient",
                violation_error_message=_("An award goes to exactly one volunteer, team, project or unit."),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100),
                name="award_year_in_range",
                violation_error_message=_("Give a year from 2000 to 2100."),
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="award_revoked_with_reason",
                violation_error_message=_("A revoked award says why."),
            ),
            *(
                models.UniqueConstraint(
                    fields=["year", "kind", name],
                    condition=Q(revoked_at__isnull=True, **{f"{name}__isnull": False}),
                    name=f"award_once_a_year_{name}",
                    violation_error_message=_("This recipient already has this award for that year."),
                )
                for name in RECIPIENT_FIELDS
            ),
        ]
        indexes = [
            models.Index(fields=["year", "kind"], name="award_year_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.kind}"

    @property
    def recipient(self):
        for name in RECIPIENT_FIELDS:
            if getattr(self, f"{name}_id") is not None:
                return getattr(self, name)
        return None
