"""Every write of a resident's request: one function per step (点单 › 派单 › 接单 › 评单), each in a
transaction, each locking the request's row and refusing a move its status does not allow with an
`ApplicationError` that says which moves it does allow.

    submitted ─ dispatched ─┬─ accepted ─ serving ─ completed ─ rated
    declined ──┘(again)     └─ declined
    cancelled: from any step before the service began

Who may do what: a request is dispatched by the staff whose scope holds its unit, to a team inside
their own scope; the team's leaders (or the staff of the team's unit) accept or decline it, link their
activities, and complete it; the resident rates it once, with the private link's token.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity, ActivityStatus
from kernel.errors import ApplicationError
from stations.models import Platform, Unit
from stations.paths import root_id
from stations.scoping import require, scope_for
from volunteers.capabilities import TEAM_TREE
from volunteers.models import Team
from volunteers.validators import normalize_mobile, validate_mobile

from .capabilities import Capability
from .models import RequestActivity, RequestEvent, RequestSequence, RequestStatus, ServiceRequest

S = RequestStatus
# The lifecycle: from a status, the statuses a request may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.SUBMITTED: (S.DISPATCHED, S.CANCELLED),
    S.DISPATCHED: (S.ACCEPTED, S.DECLINED, S.CANCELLED),
    S.DECLINED: (S.DISPATCHED, S.CANCELLED),
    S.ACCEPTED: (S.SERVING, S.CANCELLED),
    S.SERVING: (S.SERVING, S.COMPLETED),
    S.COMPLETED: (S.RATED,),
    S.RATED: (),
    S.CANCELLED: (),
}


def token_hash(token: str) -> str:
    """What is stored of a private link's token: its SHA-256. The token has 256 random bits, so the
    hash is as unguessable as the token, and a stolen table opens no status page."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def transition_refusal(request: ServiceRequest, to: str) -> str | None:
    """Why `request` may not move to `to` (None: it may)."""
    allowed = TRANSITIONS.get(request.status, ())
    if to in allowed:
        return None
    if not allowed:
        return _("A request that is %(status)s moves no more.") % {"status": S(request.status).label}
    return _("A request that is %(status)s can only become %(allowed)s.") % {
        "status": S(request.status).label,
        # A request being served may take more activities: staying is not a move to name.
        "allowed": _(" or ").join(str(S(status).label) for status in allowed if status != request.status),
    }


def _check_move(request: ServiceRequest, to: str) -> None:
    refusal = transition_refusal(request, to)
    if refusal:
        raise ApplicationError(refusal, field="status")


def _locked(request: ServiceRequest | int) -> ServiceRequest:
    pk = request.pk if isinstance(request, ServiceRequest) else request
    return ServiceRequest.objects.select_for_update().get(pk=pk)


def _move(
    request: ServiceRequest, to: str, *, actor, now, note: str = "", team=None, **fields
) -> ServiceRequest:
    """Write the move and its event (`team`: the team it is dispatched to); the caller has locked the
    row and checked the move."""
    if team is not None:
        request.team = team
    RequestEvent.objects.create(
        request=request,
        from_status=request.status,
        to_status=to,
        at=now,
        actor=actor,
        team=team or request.team,
        note=note[:500],
    )
    if to != request.status:
        request.status_changed_at = now
    request.status = to
    for name, value in fields.items():
        setattr(request, name, value)
    request.save()
    return request


def _next_reference(day: datetime.date) -> str:
    """QD<day>-<n>: the n-th request of the day, counted under a row lock so two never share it."""
    if not RequestSequence.objects.filter(day=day).exists():
        try:
            with transaction.atomic():
                RequestSequence.objects.create(day=day)
        except IntegrityError:  # made by another submission a moment ago
            pass
    sequence = RequestSequence.objects.select_for_update().get(day=day)
    RequestSequence.objects.filter(pk=sequence.pk).update(last=F("last") + 1)
    return f"QD{day:%Y%m%d}-{sequence.last + 1:04d}"


def _clean_text(value, *, field: str, limit: int, required: bool, message: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ApplicationError(message, field=field)
    if len(value) > limit:
        raise ApplicationError(_("At most %(limit)d characters.") % {"limit": limit}, field=field)
    return value


def requestable_units():
    """The units a resident may ask: every active unit of an active county."""
    return Unit.objects.filter(is_active=True)


@transaction.atomic
def request_submit(
    *,
    resident_name: str,
    phone: str,
    unit: Unit,
    description: str,
    domain: Platform | None = None,
    now: datetime.datetime | None = None,
    token: str | None = None,
) -> tuple[ServiceRequest, str]:
    """A resident's request (点单), public. Returns the request and the private link's token, which is
    shown once and never stored. (`token` is for the demo data only, whose link is printed every run.)"""
    now = now or timezone.now()
    name = _clean_text(
        resident_name, field="resident_name", limit=50, required=True, message=_("Give your name.")
    )
    phone = normalize_mobile(phone)
    if not phone:
        raise ApplicationError(_("Give a mobile number we can call you back on."), field="phone")
    try:
        validate_mobile(phone)
    except Exception as error:  # Django's ValidationError, with the volunteers' message
        raise ApplicationError(error.messages[0], field="phone") from None
    description = _clean_text(
        description,
        field="description",
        limit=1000,
        required=True,
        message=_("Say what service you need."),
    )
    if unit is None or not unit.is_active:
        raise ApplicationError(_("Choose a unit of the practice network."), field="unit")
    if domain is not None and (domain.center_id != root_id(unit.path) or not domain.is_active):
        raise ApplicationError(_("Choose a service platform of this unit's county."), field="domain")
    token = token or secrets.token_urlsafe(32)
    request = ServiceRequest.objects.create(
        reference=_next_reference(timezone.localdate(now)),
        token_hash=token_hash(token),
        resident_name=name,
        phone=phone,
        unit=unit,
        domain=domain,
        description=description,
        status=S.SUBMITTED,
        status_changed_at=now,
        submitted_at=now,
    )
    RequestEvent.objects.create(request=request, from_status="", to_status=S.SUBMITTED, at=now)
    return request, token


def dispatch_teams(actor):
    """Teams `actor` may dispatch to: the active teams on the units of their own scope."""
    scope = scope_for(actor)
    return Team.objects.filter(scope.q("unit", capability=Capability.REQUESTS_DISPATCH), is_active=True)


def _require_dispatcher(actor, request: ServiceRequest) -> None:
    require(
        actor,
        Capability.REQUESTS_DISPATCH,
        request.unit,
        field="status",
        message=_("This request is for a unit outside the area you administer."),
    )


@transaction.atomic
def request_dispatch(*, actor, request: ServiceRequest | int, team: Team) -> ServiceRequest:
    """Dispatch (派单) a submitted or declined request to a team of the dispatcher's scope."""
    request = _locked(request)
    _require_dispatcher(actor, request)
    _check_move(request, S.DISPATCHED)
    if team is None or not team.is_active:
        raise ApplicationError(_("Choose an active volunteer team."), field="team")
    require(
        actor,
        Capability.REQUESTS_DISPATCH,
        team.unit,
        field="team",
        message=_("Choose a team of the units you administer."),
    )
    if request.status == S.DECLINED and team.pk == request.team_id:
        raise ApplicationError(_("This team declined the request: choose another team."), field="team")
    now = timezone.now()
    return _move(
        request,
        S.DISPATCHED,
        actor=actor,
        now=now,
        team=team,
        dispatched_by=actor,
        dispatched_at=now,
        accepted_by=None,
        accepted_at=None,
        decline_reason="",
    )


def serves(actor, request: ServiceRequest) -> bool:
    """Whether `actor` may act for the request's team: one of its leaders (or of a team above it), or the
    staff of the team's unit. None is the system."""
    if actor is None:
        return True
    team = request.team
    if team is None:
        return False
    scope = scope_for(actor)
    return scope.tree_contains_path(TEAM_TREE, team.path, capability=Capability.REQUESTS_SERVE) or (
        scope.contains(team.unit, capability=Capability.REQUESTS_SERVE)
    )


def _require_serving(actor, request: ServiceRequest) -> None:
    if not serves(actor, request):
        raise ApplicationError(
            _("Only the team the request was dispatched to answers and serves it."), field="status"
        )


@transaction.atomic
def request_accept(*, actor, request: ServiceRequest | int) -> ServiceRequest:
    """The team takes the request on (接单)."""
    request = _locked(request)
    _require_serving(actor, request)
    _check_move(request, S.ACCEPTED)
    now = timezone.now()
    return _move(request, S.ACCEPTED, actor=actor, now=now, accepted_by=actor, accepted_at=now)


@transaction.atomic
def request_decline(*, actor, request: ServiceRequest | int, reason: str) -> ServiceRequest:
    """The team cannot serve it, and says why; the request waits to be dispatched again."""
    request = _locked(request)
    _require_serving(actor, request)
    _check_move(request, S.DECLINED)
    reason = _clean_text(
        reason, field="reason", limit=300, required=True, message=_("Say why the team cannot serve it.")
    )
    return _move(request, S.DECLINED, actor=actor, now=timezone.now(), note=reason, decline_reason=reason)


def linkable_activities(request: ServiceRequest):
    """Activities through which the request's team may serve it: those of the team's unit and the units
    below it, neither a draft nor cancelled."""
    if request.team_id is None:
        return Activity.objects.none()
    return Activity.objects.filter(unit__path__startswith=request.team.unit.path).exclude(
        status__in=[ActivityStatus.DRAFT, ActivityStatus.CANCELLED]
    )


@transaction.atomic
def request_link_activity(*, actor, request: ServiceRequest | int, activity: Activity) -> ServiceRequest:
    """An activity of the serving team serves the request; the first one starts the service."""
    request = _locked(request)
    _require_serving(actor, request)
    _check_move(request, S.SERVING)
    if activity is None or not linkable_activities(request).filter(pk=activity.pk).exists():
        raise ApplicationError(
            _("Choose a published activity of the serving team's unit or of a unit below it."),
            field="activity",
        )
    if RequestActivity.objects.filter(request=request, activity=activity).exists():
        raise ApplicationError(_("This activity already serves the request."), field="activity")
    RequestActivity.objects.create(request=request, activity=activity, linked_by=actor)
    now = timezone.now()
    return _move(
        request,
        S.SERVING,
        actor=actor,
        now=now,
        note=activity.title,
        serving_at=request.serving_at or now,
    )


@transaction.atomic
def request_complete(*, actor, request: ServiceRequest | int) -> ServiceRequest:
    """The team has served it; the resident may now rate it."""
    request = _locked(request)
    _require_serving(actor, request)
    _check_move(request, S.COMPLETED)
    now = timezone.now()
    return _move(request, S.COMPLETED, actor=actor, now=now, completed_at=now)


@transaction.atomic
def request_cancel(*, actor, request: ServiceRequest | int, reason: str) -> ServiceRequest:
    """Withdraw a request before its service began (a duplicate, a request the resident took back)."""
    request = _locked(request)
    _require_dispatcher(actor, request)
    _check_move(request, S.CANCELLED)
    reason = _clean_text(
        reason, field="reason", limit=300, required=True, message=_("Give the reason for cancelling.")
    )
    now = timezone.now()
    return _move(
        request, S.CANCELLED, actor=actor, now=now, note=reason, cancelled_at=now, cancel_reason=reason
    )


def request_by_token(token: str) -> ServiceRequest | None:
    """The request of a private link, or None."""
    if not token or len(token) > 100:
        return None
    return ServiceRequest.objects.filter(token_hash=token_hash(token)).first()


@transaction.atomic
def request_rate(*, token: str, score, comment: str = "") -> ServiceRequest:
    """The resident's rating (评单), once: a second one is refused, under the row lock and by the
    conditional update (and the database's constraint) besides."""
    found = request_by_token(token)
    if found is None:
        raise ApplicationError(_("This link opens no request."), field="token")
    request = _locked(found)
    if request.status == S.RATED:
        raise ApplicationError(_("This request has been rated already; thank you."), field="score")
    _check_move(request, S.RATED)
    try:
        score = int(str(score).strip())
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ApplicationError(_("Choose from 1 to 5 stars."), field="score")
    comment = _clean_text(comment, field="comment", limit=500, required=False, message="")
    now = timezone.now()
    updated = ServiceRequest.objects.filter(pk=request.pk, status=S.COMPLETED, rating__isnull=True).update(
        status=S.RATED,
        rating=score,
        rating_comment=comment,
        rated_at=now,
        status_changed_at=now,
        updated_at=now,
    )
    if updated != 1:
        raise ApplicationError(_("This request has been rated already; thank you."), field="score")
    RequestEvent.objects.create(
        request=request, from_status=S.COMPLETED, to_status=S.RATED, at=now, note=f"{score}★ {comment}"[:500]
    )
    request.refresh_from_db()
    return request
