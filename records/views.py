"""The records' phone pages: my service (hours, stars, records), logging a service, a record's page with its
audit trail and corrections, the coordinators' approval queue, my trainings and evaluations, and my
certificates. Thin: every write is a service of records.services (or records.certificates), every read
a selector scoped to whoever asks."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kernel.errors import ApplicationError
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import scope_for
from volunteers.capabilities import TEAM_TREE
from volunteers.forms import home_units
from volunteers.models import MembershipStatus, Team, Volunteer
from volunteers.views import volunteer_page

from . import selectors, services
from .capabilities import Capability
from .forms import (
    CertificateRequestForm,
    CorrectionDecideForm,
    CorrectionRequestForm,
    DecisionForm,
    QueueFilterForm,
    ServiceRecordForm,
)
from .models import (
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
)
from .querysets import RECORD_RULE

PAGE_SIZE = 50
LOGIN_URL = reverse_lazy("volunteers:login")
# How often the certificates page looks again while a certificate is being prepared.
CERTIFICATE_REFRESH_SECONDS = 5


# --- Who sees what ---------------------------------------------------------------------------------


_DECIDES_ATTR = "_records_decides"


def decides_records(user) -> bool:
    """Whether `user` has records to decide anywhere: approvers of units (records.approve), team leaders,
    or the organiser named on a record. Remembered on the user object (one query at most per request,
    beyond the scope itself). Whoever does not gets a 404 from the queue, and no menu entry."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    known = getattr(user, _DECIDES_ATTR, None)
    if known is None:
        known = RECORD_RULE.can_change(user) or ServiceRecord.objects.filter(organiser=user).exists()
        setattr(user, _DECIDES_ATTR, known)
    return known


def _records_for(user):
    """The records `user` may open: their own, and those their scope holds (or they organised)."""
    return ServiceRecord.objects.visible_to(user) | ServiceRecord.objects.filter(volunteer__user=user)


def _volunteer_of(request) -> Volunteer | None:
    volunteer = Volunteer.objects.of_user(request.user).first()
    request.volunteer = volunteer
    return volunteer


def _record_label(record: ServiceRecord) -> str:
    return f"{record.volunteer.name} · {date_format(record.service_date, 'Y-m-d')} · {record.content}"


def _span(record) -> str:
    start, end = timezone.localtime(record.started_at), timezone.localtime(record.ended_at)
    end_format = "H:i" if start.date() == end.date() else "Y-m-d H:i"
    return f"{date_format(start, 'H:i')}–{date_format(end, end_format)}"


def _hours(value) -> str:
    """Hours as the pages show them: 2, 2.5 (no trailing zeros)."""
    value = Decimal(value)
    return f"{value.normalize():f}" if value else "0"


# --- My service ------------------------------------------------------------------------------------


def _star_context(totals) -> dict:
    stars = totals.stars
    levels = len(settings.SERVICE_STAR_THRESHOLDS)
    return {
        "stars": stars,
        "star_icons": [index < stars.level for index in range(levels)],
        "star_levels": levels,
        "hours_text": _hours(totals.hours),
        "hours_to_next_text": _hours(stars.hours_to_next) if stars.hours_to_next is not None else "",
    }


@volunteer_page
def mine(request):
    volunteer = request.volunteer
    totals = selectors.my_totals(volunteer)
    page = Paginator(selectors.my_records(volunteer), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "volunteer": volunteer,
        "totals": totals,
        **_star_context(totals),
        "page": page,
        "records": [_row(record) for record in page],
        "nav": "records",
    }
    return render(request, "records/mine.html", context)


def _row(record: ServiceRecord) -> ServiceRecord:
    record.span = _span(record)
    record.hours_text = _hours(record.hours)
    record.badge = "superseded" if getattr(record, "is_superseded", False) else record.status
    return record


def _county_units(volunteer: Volunteer):
    county = Unit.objects.only("path").get(pk=root_id(volunteer.home_unit.path)).path
    return home_units().filter(path__startswith=county)


def _my_teams(volunteer: Volunteer):
    return (
        Team.objects.active()
        .filter(memberships__volunteer=volunteer, memberships__status=MembershipStatus.ACTIVE)
        .select_related("unit")
        .order_by("path")
        .distinct()
    )


@volunteer_page
def record_new(request):
    volunteer = request.volunteer
    initial = {"started_at": [timezone.localdate(), None], "ended_at": [timezone.localdate(), None]}
    if volunteer.home_unit.is_active:
        initial["unit"] = volunteer.home_unit.pk
    form = ServiceRecordForm(
        request.POST or None,
        request.FILES or None,
        units=_county_units(volunteer),
        teams=_my_teams(volunteer),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        record = form.run_service(
            services.record_submit, actor=request.user, volunteer=volunteer, **form.service_arguments()
        )
        if record is not None:
            messages.success(request, _("Your service was logged. It counts once it is approved."))
            return redirect("records:record", record_id=record.pk)
    context = {
        "volunteer": volunteer,
        "form": form,
        "photo_dropped": request.method == "POST" and bool(request.FILES),
        "nav": "records",
    }
    return render(request, "records/record_new.html", context)


# --- A record's page -------------------------------------------------------------------------------


_TRAIL_FIELDS = ("content", "started_at", "ended_at", "hours", "status", "unit", "team")


def _trail(record: ServiceRecord) -> list[dict]:
    """The audit trail as the page shows it: each step with the fields it changed, before → after."""
    events = list(selectors.record_events(record))
    unit_ids, team_ids = set(), set()
    for event in events:
        for values in (event.before, event.after):
            unit_ids.add(values.get("unit"))
            team_ids.add(values.get("team"))
    unit_ids.discard(None)
    team_ids.discard(None)
    names = {
        "unit": dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name")) if unit_ids else {},
        "team": dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name")) if team_ids else {},
    }
    trail = []
    for event in events:
        changes = []
        for key in _TRAIL_FIELDS:
            before, after = event.before.get(key), event.after.get(key)
            if before == after or (before is None and after is None):
                continue
            label = ServiceRecord._meta.get_field(key).verbose_name
            changes.append(
                {
                    "field": str(label),
                    "before": _trail_value(key, before, names),
                    "after": _trail_value(key, after, names),
                }
            )
        trail.append({"event": event, "changes": changes, "record_id": event.after.get("record")})
    return trail


def _trail_value(key: str, value, names) -> str:
    if value is None or value == "":
        return ""
    if key in ("started_at", "ended_at"):
        moment = parse_datetime(str(value))
        return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else str(value)
    if key == "status":
        try:
            return str(RecordStatus(value).label)
        except ValueError:
            return str(value)
    if key == "hours":
        return _hours(value)
    if key in names:
        return names[key].get(value, f"#{value}")
    return str(value)


def _chain(record: ServiceRecord) -> list[ServiceRecord]:
    """The record's corrections in order, oldest first: what it superseded, itself, what superseded it."""
    older, current = [], record
    while current.supersedes_id is not None and len(older) < 50:
        current = ServiceRecord.objects.only("pk", "service_date", "content", "hours", "status").get(
            pk=current.supersedes_id
        )
        older.append(current)
    newer, current = [], record
    while len(newer) < 50:
        following = (
            ServiceRecord.objects.filter(supersedes=current)
            .only("pk", "service_date", "content", "hours", "status", "supersedes")
            .first()
        )
        if following is None:
            break
        newer.append(following)
        current = following
    return [*reversed(older), record, *newer]


class _RecordForms:
    """The forms a record's page may show, bound to the POST of the one that was sent."""

    def __init__(self, request, record: ServiceRecord, pending_corrections):
        data = request.POST if request.method == "POST" else None
        action = data.get("action") if data else None
        self.action = action
        self.decision = DecisionForm(data if action in ("approve", "reject") else None)
        self.correction = CorrectionRequestForm(data if action == "correction" else None, record=record)
        posted = data.get("correction") if action == "correction_decide" else None
        self.decide = {
            correction.pk: CorrectionDecideForm(
                data if posted == str(correction.pk) else None, correction=correction
            )
            for correction in pending_corrections
        }


def _open_record(request, record_id: int) -> ServiceRecord:
    return get_object_or_404(
        _records_for(request.user).select_related(
            "volunteer", "unit", "team", "submitted_by", "decided_by", "organiser", "supersedes"
        ),
        pk=record_id,
    )


@login_required(login_url=LOGIN_URL)
def record_page(request, record_id: int):
    """One record, to the volunteer it belongs to and to whoever's scope holds it (404 to anyone else):
    its facts and photo, the audit trail, corrections, and what the viewer may do with it."""
    record = _open_record(request, record_id)
    user = request.user
    volunteer = _volunteer_of(request)
    is_owner = record.volunteer.user_id == user.pk
    corrections = list(
        CorrectionRequest.objects.filter(record=record)
        .select_related("requested_by", "decided_by", "new_record")
        .order_by("created_at", "pk")
    )
    pending_corrections = [c for c in corrections if c.status == CorrectionStatus.PENDING]
    for correction in pending_corrections:
        correction.record = record
    forms = _RecordForms(request, record, pending_corrections)
    if request.method == "POST":
        done = _record_post(request, record, forms)
        if done:
            messages.success(request, done)
            return redirect("records:record", record_id=record.pk)
    superseded_by = ServiceRecord.objects.filter(supersedes=record).only("pk").first()
    decide_refusal = services.decide_refusal(user, record)
    may_decide = decide_refusal is None and not is_owner
    open_flags = list(RecordFlag.objects.filter(record=record, is_open=True).select_related("other_record"))
    _row(record)
    if superseded_by is not None:
        record.badge = "superseded"
    context = {
        "record": record,
        "volunteer": volunteer,
        "is_owner": is_owner,
        "superseded_by": superseded_by,
        "chain": _chain(record) if record.supersedes_id or superseded_by else [],
        "trail": _trail(record),
        "flags": open_flags,
        "corrections": corrections,
        "decide_forms": [(c, forms.decide[c.pk]) for c in pending_corrections] if may_decide else [],
        "may_withdraw": is_owner and record.status == RecordStatus.PENDING,
        "may_decide": may_decide and record.status == RecordStatus.PENDING,
        "needs_review": bool(open_flags) and record.status == RecordStatus.PENDING,
        "may_correct": is_owner
        and record.status in (RecordStatus.APPROVED, RecordStatus.REJECTED)
        and superseded_by is None
        and not pending_corrections,
        "forms": forms,
        "nav": "records" if is_owner else "approvals",
    }
    return render(request, "records/record.html", context)


def _record_post(request, record: ServiceRecord, forms: _RecordForms) -> str | None:
    """Run what the page's POST asks; the success message, or None with the refusal on its form."""
    user, action = request.user, forms.action
    try:
        if action == "withdraw":
            services.record_withdraw(actor=user, record=record)
            return _("The record was withdrawn.")
        if action in ("approve", "reject"):
            form = forms.decision
            if not form.is_valid():
                return None
            if action == "approve":
                result = form.run_service(
                    services.record_approve, actor=user, record=record, note=form.cleaned_data["note"]
                )
                return _("The record was approved.") if result else None
            result = form.run_service(
                services.record_reject, actor=user, record=record, reason=form.cleaned_data["reason"]
            )
            return _("The record was rejected.") if result else None
        if action == "correction":
            form = forms.correction
            if not form.is_valid():
                return None
            result = form.run_service(
                services.correction_request, actor=user, record=record, **form.service_arguments()
            )
            return _("Your request for a correction was sent to the organiser.") if result else None
        if action == "correction_decide":
            correction_id = request.POST.get("correction", "")
            form = forms.decide.get(int(correction_id)) if correction_id.isdigit() else None
            if form is None:
                raise ApplicationError(_("This correction has been decided already."))
            if not form.is_valid():
                return None
            accept = request.POST.get("decision") == "accept"
            correction = CorrectionRequest.objects.get(pk=int(correction_id))
            result = form.run_service(
                services.correction_decide,
                actor=user,
                correction=correction,
                accept=accept,
                **form.service_arguments(accept=accept),
            )
            if result is None:
                return None
            return _("The correction was accepted.") if accept else _("The correction was refused.")
    except ApplicationError as error:
        messages.error(request, error.message)
        return None
    return None


@login_required(login_url=LOGIN_URL)
def evidence_photo(request, record_id: int):
    """A record's evidence photo, to those who may open the record; 404 to everyone else."""
    record = get_object_or_404(_records_for(request.user).only("pk", "evidence_photo"), pk=record_id)
    if not record.evidence_photo:
        raise Http404
    storage, name = record.evidence_photo.storage, record.evidence_photo.name
    if not storage.exists(name):
        raise Http404
    response = FileResponse(storage.open(name, "rb"))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- The approval queue ----------------------------------------------------------------------------


def _queue_units(user):
    """The units an approver filters by: those they approve for, and the units of the teams they lead."""
    scope = scope_for(user)
    q = scope.q(capability=Capability.RECORDS_APPROVE) if scope.holds_units else Q(pk__in=[])
    led = scope.tree_roots_for(TEAM_TREE, Capability.RECORDS_APPROVE)
    if led and not scope.is_global:
        q |= Q(pk__in=_queue_teams(user).values("unit_id"))
    return Unit.objects.active().filter(q).order_by("path").only("pk", "name", "path", "depth", "kind")


def _queue_teams(user):
    scope = scope_for(user)
    q = scope.q("unit", capability=Capability.RECORDS_APPROVE) if scope.holds_units else Q(pk__in=[])
    q |= scope.tree_q(TEAM_TREE, capability=Capability.RECORDS_APPROVE)
    return Team.objects.filter(q).order_by("path").only("pk", "name", "path", "depth", "unit_id")


def queue_records(user, filters, search: str = ""):
    """The queue's rows: the selector's, searched by name or number, with their open flags."""
    records = selectors.approval_queue(user, filters)
    if search:
        records = records.filter(Q(volunteer__name__icontains=search) | Q(volunteer__number__iexact=search))
    return records.prefetch_related(
        Prefetch(
            "flags",
            queryset=RecordFlag.objects.filter(is_open=True).order_by("created_at", "pk"),
            to_attr="open_flags",
        )
    )


@login_required(login_url=LOGIN_URL)
def queue(request):
    """The coordinators' approval queue: pending records the user may decide (404 to whoever has none
    to decide anywhere), filtered, 50 a page, decided in bulk; and corrections waiting."""
    user = request.user
    if not decides_records(user):
        raise Http404
    _volunteer_of(request)
    if request.method == "POST":
        _queue_decide(request)
        return redirect(request.get_full_path())
    form = QueueFilterForm(
        request.GET if _has_filters(request) else None, units=_queue_units(user), teams=_queue_teams(user)
    )
    filters, search = form.filters()
    page = Paginator(queue_records(user, filters, search), PAGE_SIZE).get_page(request.GET.get("page"))
    corrections = list(selectors.corrections_to_decide(user)[:PAGE_SIZE])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "records": [_row(record) for record in page],
        "corrections": corrections,
        "query": query.urlencode(),
        "nav": "approvals",
    }
    return render(request, "records/queue.html", context)


def _has_filters(request) -> bool:
    return any(key in request.GET for key in QueueFilterForm.base_fields)


def _queue_decide(request) -> None:
    """Approve or reject the ticked records through the one bulk service; say how many were decided and
    why each other one was refused. Ids the user may not see are named by number only."""
    raw = request.POST.getlist("records")
    ids = [int(value) for value in raw if value.isascii() and value.isdigit()]
    approve = request.POST.get("action") == "approve"
    if not ids:
        messages.error(request, _("Tick the records to decide first."))
        return
    outcome = services.records_decide(
        actor=request.user,
        ids=ids,
        approve=approve,
        note=(request.POST.get("note") or "").strip(),
        reason=(request.POST.get("reason") or "").strip(),
    )
    done = len(outcome.done)
    if done:
        text = (
            ngettext("%(count)d record approved.", "%(count)d records approved.", done)
            if approve
            else ngettext("%(count)d record rejected.", "%(count)d records rejected.", done)
        )
        messages.success(request, text % {"count": done})
    if outcome.refused:
        refused_ids = [record_id for record_id, _message in outcome.refused]
        labels = {
            record.pk: _record_label(record)
            for record in _records_for(request.user).filter(pk__in=refused_ids).select_related("volunteer")
        }
        messages.error(
            request,
            ngettext(
                "%(count)d record was not decided:", "%(count)d records were not decided:", len(refused_ids)
            )
            % {"count": len(refused_ids)},
        )
        for record_id, message in outcome.refused:
            label = labels.get(record_id, f"#{record_id}")
            messages.error(request, f"{label}: {message}")


# --- Trainings and evaluations ---------------------------------------------------------------------


@volunteer_page
def trainings(request):
    volunteer = request.volunteer
    rows = list(selectors.my_trainings(volunteer))
    for training in rows:
        training.hours_text = _hours(training.hours)
    context = {
        "volunteer": volunteer,
        "trainings": rows,
        "training_hours": _hours(sum((training.hours for training in rows), Decimal(0))),
        "evaluations": list(selectors.my_evaluations(volunteer)),
        "nav": "records",
    }
    return render(request, "records/trainings.html", context)


# --- Certificates ------------------------------------------------------------------------------------


@volunteer_page
def certificates_page(request):
    from . import certificates

    volunteer = request.volunteer
    issuers = certificates.certificate_issuers(volunteer)
    form = CertificateRequestForm(request.POST or None, issuers=issuers)
    if request.method == "POST" and form.is_valid():
        certificate = form.run_service(
            certificates.certificate_request,
            actor=request.user,
            volunteer=volunteer,
            **form.service_arguments(),
        )
        if certificate is not None:
            messages.success(
                request, _("Your certificate is being prepared; this page shows when it is ready.")
            )
            return redirect("records:certificates")
    rows = list(selectors.my_certificates(volunteer))
    for certificate in rows:
        certificate.total_text = _hours(certificate.total_hours)
        if certificate.status == CertificateStatus.READY and certificate.pdf:
            certificate.download_url = reverse("records:certificate-download", args=[certificate.pk])
    preparing = any(certificate.status == CertificateStatus.REQUESTED for certificate in rows)
    context = {
        "volunteer": volunteer,
        "form": form,
        "issuers": list(issuers),
        "certificates": rows,
        "preparing": preparing,
        "refresh_seconds": CERTIFICATE_REFRESH_SECONDS,
        "hours_text": _hours(volunteer.service_hours),
        "nav": "records",
    }
    return render(request, "records/certificates.html", context)
