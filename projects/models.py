"""The project library (项目库) and the yearly key-project lists (重点项目清单).

A project is a service a unit runs over time (a brand such as "红马甲" or "四点半课堂"): draft › published ›
running › closed (结项), closed with a report (text, figures, photos). A key-project list is a unit's plan
for one year: twelve months, each with a theme (3月 学雷锋志愿服务月 …), its key dates, the projects and the
units responsible.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.models import TimeStampedModel

from .querysets import (
    KeyProjectListQuerySet,
    KeyProjectMonthQuerySet,
    ProjectPhotoQuerySet,
    ProjectQuerySet,
)


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")


PUBLIC_STATUSES = (ProjectStatus.PUBLISHED, ProjectStatus.RUNNING, ProjectStatus.CLOSED)


class Project(TimeStampedModel):
    """A service project of the library: its domain, the unit responsible, and where it is in its life."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="projects"
    )
    domain = models.ForeignKey(
        "stations.Platform",
        verbose_name=_("service domain"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
    )
    description = models.TextField(_("description"), blank=True)
    is_brand = models.BooleanField(_("brand project"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
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
    started_at = models.DateTimeField(_("running since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The closing report (结项报告): what was done, and its figures.
    closing_report = models.TextField(_("closing report"), blank=True)
    closing_people_served = models.PositiveIntegerField(_("people served"), null=True, blank=True)
    closing_volunteers = models.PositiveIntegerField(_("volunteers taking part"), null=True, blank=True)
    closing_hours = models.DecimalField(
        _("service hours"), max_digits=10, decimal_places=1, null=True, blank=True
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="project_name_unique_per_unit"),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    Q(closed_at__isnull=False)
                    & ~Q(closing_report="")
                    & Q(closing_people_served__isnull=False)
                ),
                name="project_closed_has_report",
                violation_error_message=_("A closed project has its closing report."),
            ),
        ]
        indexes = [models.Index(fields=["status", "is_brand"], name="project_status_brand")]

    def __str__(self) -> str:
        return self.name


def project_photo_upload_to(photo, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in {".jpg", ".png", ".webp"} else ".bin"
    return f"projects/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def project_thumbnail_upload_to(photo, filename: str) -> str:
    return f"projects/thumbs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


class ProjectPhoto(TimeStampedModel):
    """A photo of a project's closing report, stored as the image intake re-encoded it, with its
    thumbnail (kernel.images.image_thumbnail) for lists."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=project_photo_upload_to, max_length=200)
    thumbnail = models.ImageField(
        _("thumbnail"), upload_to=project_thumbnail_upload_to, max_length=200, blank=True
    )
    caption = models.CharField(_("caption"), max_length=100, blank=True)

    objects = ProjectPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("project photo")
        verbose_name_plural = _("project photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.caption or self.image.name


class KeyProjectList(TimeStampedModel):
    """A unit's key-project list for one year: twelve `KeyProjectMonth` rows, made with it."""

    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="key_project_lists"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = KeyProjectListQuerySet.as_manager()

    class Meta:
        verbose_name = _("key-project list")
        verbose_name_plural = _("key-project lists")
        ordering = ["-year", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="key_list_one_per_unit_and_year"),
            models.CheckConstraint(
                condition=Q(year__gte=2018) & Q(year__lte=2100),
                name="key_list_year_in_range",
                violation_error_message=_("Give a year from 2018 to 2100."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class KeyProjectMonth(models.Model):
    """One month of a key-project list: its theme, key dates, projects and responsible units."""

    plan = models.ForeignKey(
        KeyProjectList, verbose_name=_("key-project list"), on_delete=models.CASCADE, related_name="months"
    )
    month = models.PositiveSmallIntegerField(_("month"))
    theme = models.CharField(_("theme"), max_length=100, blank=True)
    key_dates = models.CharField(_("key dates"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    projects = models.ManyToManyField(
        Project, verbose_name=_("projects"), blank=True, related_name="key_months"
    )
    responsible_units = models.ManyToManyField(
        "stations.Unit", verbose_name=_("responsible units"), blank=True, related_name="key_months"
    )

    objects = KeyProjectMonthQuerySet.as_manager()

    class Meta:
        verbose_name = _("month of a key-project list")
        verbose_name_plural = _("months of a key-project list")
        ordering = ["plan", "month"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], name="key_month_unique"),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12),
                name="key_month_in_year",
                violation_error_message=_("A month is from 1 to 12."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.month}"
