"""Residents' requests for a service (群众点单): a resident asks a unit for a service, the center or the
institute dispatches it to a team (派单), the team accepts or declines it (接单), serves it through one or
more activities, completes it, and the resident rates it (评单) once, through a private link.

The link's token is shown to the resident once and stored only as its SHA-256 hash. Every step is an
event row (who, when, from which status to which), and the request keeps the times the selectors and
the reminders read. What must never happen is refused by the database too: a rating outside 1–5, a
rated request without its rating, a dispatched request without its team.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kernel.models import TimeStampedModel
from volunteers.validators import validate_mobile

from .querysets import RequestEventQuerySet, ServiceRequestQuerySet


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    SERVING = "serving", _("Being served")
    COMPLETED = "completed", _("Completed")
    RATED = "rated", _("Rated")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which a team holds the request.
WITH_TEAM = (
    RequestStatus.DISPATCHED,
    RequestStatus.ACCEPTED,
    RequestStatus.SERVING,
    RequestStatus.COMPLETED,
    RequestStatus.RATED,
)
# Statuses waiting for a dispatcher, for the team to answer, for the team to finish.
WAITING_DISPATCH = (RequestStatus.SUBMITTED, RequestStatus.DECLINED)
WAITING_ANSWER = (RequestStatus.DISPATCHED,)
WAITING_FINISH = (RequestStatus.ACCEPTED, RequestStatus.SERVING)


def step_limits() -> dict[str, datetime.timedelta]:
    """How long each waiting status may last (settings, so a county sets its own)."""
    dispatch = datetime.timedelta(hours=settings.REQUEST_DISPATCH_HOURS)
    accept = datetime.timedelta(hours=settings.REQUEST_ACCEPT_HOURS)
    finish = datetime.timedelta(days=settings.REQUEST_FINISH_DAYS)
    return {
        RequestStatus.SUBMITTED: dispatch,
        RequestStatus.DECLINED: dispatch,
        RequestStatus.DISPATCHED: accept,
        RequestStatus.ACCEPTED: finish,
        RequestStatus.SERVING: finish,
    }


def step_due(status, status_changed_at, accepted_at, limits=None) -> datetime.datetime | None:
    """When the step a request in `status` waits in is due, or None (it waits for nobody): the rule
    `ServiceRequestQuerySet.with_due()` writes in SQL, for a row at hand. The finishing steps count from
    the acceptance, the others from the last change of status. `limits`: step_limits(), read once for a
    list."""
    limit = (limits or step_limits()).get(status)
    start = accepted_at if status in WAITING_FINISH else status_changed_at
    return None if limit is None or start is None else start + limit


class ServiceRequest(TimeStampedModel):
    """One resident's request (点单), from its submission to its rating."""

    reference = models.CharField(_("reference number"), max_length=20, unique=True, editable=False)
    token_hash = models.CharField(_("hash of the private link"), max_length=64, unique=True, editable=False)
    resident_name = models.CharField(_("resident's name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=11, validators=[validate_mobile])
    unit = models.ForeignKey(
        "stations.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="service_requests"
    )
    domain = models.ForeignKey(
        "stations.Platform",
        verbose_name=_("service domain"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    description = models.TextField(_("what is needed"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    # When the request entered its present status: the start of the step it waits in.
    status_changed_at = models.DateTimeField(_("status since"))
    team = models.ForeignKey(
        "volunteers.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    serving_at = models.DateTimeField(_("served from"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=300, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    activities = models.ManyToManyField(
        "activities.Activity",
        verbose_name=_("activities"),
        through="RequestActivity",
        blank=True,
        related_name="service_requests",
    )

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident's request")
        verbose_name_plural = _("residents' requests")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="request_rating_1_to_5",
                violation_error_message=_("A rating is from 1 to 5."),
            ),
            models.CheckConstraint(
                condition=(Q(status="rated") & Q(rating__isnull=False) & Q(rated_at__isnull=False))
                | (~Q(status="rated") & Q(rating__isnull=True)),
                name="request_rated_once_with_rating",
                violation_error_message=_("A rated request has its rating, and only a rated one."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=WITH_TEAM) | Q(team__isnull=False),
                name="request_dispatched_has_team",
                violation_error_message=_("A dispatched request has its team."),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | (Q(cancelled_at__isnull=False) & ~Q(cancel_reason="")),
                name="request_cancelled_has_reason",
                violation_error_message=_("Give the reason for cancelling."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="request_status_since"),
            models.Index(fields=["unit", "status"], name="request_unit_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def due_at(self) -> datetime.datetime | None:
        """When the step the request waits in is due (None: it waits for nobody)."""
        return step_due(self.status, self.status_changed_at, self.accepted_at)

    def is_overdue(self, now: datetime.datetime) -> bool:
        due = self.due_at
        return due is not None and due < now


class RequestActivity(models.Model):
    """An activity through which the serving team serves the request."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="activity_links"
    )
    activity = models.ForeignKey(
        "activities.Activity", verbose_name=_("activity"), on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("linked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("activity serving a request")
        verbose_name_plural = _("activities serving a request")
        constraints = [
            models.UniqueConstraint(fields=["request", "activity"], name="request_activity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} · {self.activity_id}"


class RequestEvent(models.Model):
    """One step of a request: who moved it, when, from which status to which, and why."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(_("from"), max_length=12, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=RequestStatus.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "volunteers.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = RequestEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("step of a request")
        verbose_name_plural = _("steps of a request")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="request_event_at")]

    def __str__(self) -> str:
        return f"{self.request_id} › {self.to_status}"


class RequestSequence(models.Model):
    """The last reference number given on a day: QD20261203-0042 is the 42nd request of that day."""

    day = models.DateField(_("day"), unique=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("reference sequence")
        verbose_name_plural = _("reference sequences")

    def __str__(self) -> str:
        return f"{self.day} · {self.last}"
