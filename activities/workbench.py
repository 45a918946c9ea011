"""The coordinators' workbench, under /activities/workbench/: the activities a user runs today and next,
the hours waiting for their approval, the reports missing; an activity's roster, whose check-in buttons
keep working without signal (static/activities/roster.js queues them and sends them here once online);
the QR screen at the venue, its code renewed every ACTIVITY_QR_SECONDS; and the report form.

Thin: every write is a service of activities.services; every read is scoped by RUN_RULE, so an activity
the user does not run is a 404, whoever's it is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from functools import cache

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kernel.errors import ApplicationError
from kernel.uploads import staged_upload_create, staged_uploads_of
from kernel.views import staged_upload_response
from records.models import ServiceRecord
from records.views import decides_records
from stations.scoping import scope_for

from . import checkin, services
from .models import (
    Activity,
    ActivityOrganiser,
    ActivityStatus,
    Attendance,
    OfflineAction,
    OfflineEntry,
    OfflineOutcome,
    Signup,
    SignupStatus,
)
from .querysets import RUN_RULE
from .workbench_forms import ReportForm

LOGIN_URL = reverse_lazy("volunteers:login")
LIST_SIZE = 50
# At most this many roster entries in one request; a phone that held more sends the rest next time.
SYNC_BATCH = 200
# The static files the roster and QR pages need, cached by the service worker for a reload offline.
ROSTER_ASSETS = ("volunteers/volunteers.css", "activities/workbench.css", "activities/roster.js")


def _runs(user):
    """The activities `user` runs: their units' (with the capability) and those naming them."""
    return Activity.objects.filter(RUN_RULE.changeable_q(scope_for(user), user))


def _runs_anything(user) -> bool:
    return RUN_RULE.can_change(user) or ActivityOrganiser.objects.filter(user_id=user.pk).exists()


def _run_activity(request, activity_id: int, *, select=("unit",)) -> Activity:
    return get_object_or_404(_runs(request.user).select_related(*select), pk=activity_id)


# --- The workbench -----------------------------------------------------------------------------------


@login_required(login_url=LOGIN_URL)
def workbench(request):
    """Today's and the coming activities the user runs, with their counts; the hours waiting for the
    user's approval; the finished activities whose report is overdue. A 404 to whoever runs nothing."""
    user = request.user
    if not _runs_anything(user):
        raise Http404
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    runs = _runs(user)
    current = list(
        runs.exclude(status=ActivityStatus.CANCELLED)
        .filter(ended_at__gte=today)
        .select_related("unit")
        .annotate(checked_in=Count("attendances"))
        .order_by("started_at", "id")[:LIST_SIZE]
    )
    for activity in current:
        activity.is_today = timezone.localtime(activity.started_at).date() <= today.date()
        activity.is_over = activity.ended_at <= now
    overdue = runs.report_overdue(now).select_related("unit").order_by("-ended_at", "-id")
    missing = list(overdue[:LIST_SIZE])
    for activity in missing:
        activity.report_due = services.report_due(activity)
    context = {
        "activities": current,
        "missing": missing,
        "missing_count": overdue.count(),
        "pending_count": ServiceRecord.objects.changeable_by(user).pending().count(),
        # The queue is a 404 to whoever decides no records anywhere: no link to it then.
        "decides_records": decides_records(user),
        # "月月有活动": which stations held an activity each month; a page for the units' staff.
        "sees_compliance": user.is_staff and not scope_for(user).is_empty,
        "nav": "workbench",
    }
    return render(request, "activities/workbench/index.html", context)


# --- The roster --------------------------------------------------------------------------------------


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def _attendance_state(attendance: Attendance | None) -> dict | None:
    if attendance is None:
        return None
    return {
        "in": _iso(attendance.checked_in_at),
        "out": _iso(attendance.checked_out_at),
        "in_late": attendance.in_arrived_late,
        "out_late": attendance.out_arrived_late,
        "missed": attendance.missed_checkout,
    }


def _roster_rows(activity: Activity) -> list[Signup]:
    signups = (
        Signup.objects.filter(activity=activity)
        .active()
        .select_related("volunteer", "attendance")
        .order_by("status", "queued_at", "id")
    )
    rows = []
    for signup in signups:
        signup.is_accepted = signup.status == SignupStatus.ACCEPTED
        signup.att = getattr(signup, "attendance", None)
        rows.append(signup)
    return rows


def _notable_entries(activity: Activity):
    """The roster entries worth showing: refused, or received late (made offline, sent later)."""
    return (
        OfflineEntry.objects.filter(activity=activity)
        .filter(Q(outcome=OfflineOutcome.REFUSED) | Q(arrived_late=True))
        .select_related("volunteer")
        .order_by("-received_at", "-id")[:LIST_SIZE]
    )


@login_required(login_url=LOGIN_URL)
def roster(request, activity_id: int):
    """An activity's roster: the accepted and the waitlisted, each one's check-in and check-out. The
    buttons post here without script (checked now, through attendance_mark); with it, roster.js keeps
    them in a queue on the phone and sends them to roster-sync, signal or not."""
    activity = _run_activity(request, activity_id)
    if request.method == "POST":
        _mark_by_hand(request, activity)
        return redirect("activities:roster", activity.pk)
    rows = _roster_rows(activity)
    accepted = sum(1 for row in rows if row.is_accepted)
    context = {
        "activity": activity,
        "rows": rows,
        "accepted": accepted,
        "waitlisted": len(rows) - accepted,
        "checked_in": sum(1 for row in rows if row.att is not None),
        "entries": list(_notable_entries(activity)),
        "rendered_at": timezone.now().isoformat(),
        "is_over": activity.ended_at <= timezone.now(),
        "sync_seconds": 15,
        "nav": "workbench",
        "labels": {
            "in": _("In"),
            "out": _("Out"),
            "waiting": _("not sent yet"),
            "late": _("sent later"),
            "missed": _("missed check-out"),
            "refused": _("Refused"),
            "applied": _("Saved"),
            "unchanged": _("Already so"),
            "check_in": _("Check-in"),
            "check_out": _("Check-out"),
            "offline": _("Offline: %(count)s waiting to be sent."),
            "sending": _("Sending…"),
            "synced": _("All sent."),
        },
    }
    return render(request, "activities/workbench/roster.html", context)


def _mark_by_hand(request, activity: Activity) -> None:
    volunteer = (request.POST.get("volunteer") or "").strip()
    if not volunteer.isascii() or not volunteer.isdigit():
        raise Http404
    try:
        outcome = services.attendance_mark(
            actor=request.user, activity=activity, volunteer=int(volunteer), action=request.POST.get("action")
        )
    except ApplicationError as error:
        messages.error(request, str(error.message))
        return
    if outcome == OfflineOutcome.UNCHANGED:
        messages.info(request, _("Nothing changed: it was so already."))
    else:
        messages.success(request, _("Saved."))


def _parse_entry(raw) -> dict | None:
    """One entry of the phone's queue in the service's shape, or None when it is damaged."""
    if not isinstance(raw, dict):
        return None
    try:
        key = uuid.UUID(str(raw.get("key")))
    except ValueError:
        return None
    volunteer = raw.get("volunteer")
    if isinstance(volunteer, str) and volunteer.isascii() and volunteer.isdigit():
        volunteer = int(volunteer)
    if not isinstance(volunteer, int) or isinstance(volunteer, bool) or volunteer <= 0:
        return None
    if raw.get("action") not in OfflineAction.values:
        return None
    try:
        at = parse_datetime(str(raw.get("at") or ""))
    except ValueError:
        at = None
    if at is None or timezone.is_naive(at):
        return None
    return {"key": key, "volunteer": volunteer, "action": raw["action"], "at": at}


def _answer(entry: OfflineEntry) -> dict:
    return {
        "key": str(entry.key),
        "volunteer": entry.volunteer_id,
        "action": entry.action,
        "at": _iso(entry.happened_at),
        "outcome": entry.outcome,
        "message": entry.message,
        "arrived_late": entry.arrived_late,
    }


@require_POST
@login_required(login_url=LOGIN_URL)
def roster_sync(request, activity_id: int):
    """The phone's queued check-ins and check-outs, `{"entries": [{key, volunteer, action, at}, …]}`: each
    is applied once at its own time (attendance_sync); the answer gives each entry's outcome, message and
    whether it arrived late, and the roster's attendance as the server now holds it. Sending the same
    entries again changes nothing and gets the same answers."""
    activity = _run_activity(request, activity_id, select=())
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return HttpResponseBadRequest(_("Send the entries as JSON."))
    entries = body.get("entries", []) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return HttpResponseBadRequest(_("Send the entries as JSON."))
    results = []
    for raw in entries[:SYNC_BATCH]:
        entry = _parse_entry(raw)
        if entry is None:
            key = raw.get("key") if isinstance(raw, dict) else None
            results.append(
                {
                    "key": str(key or ""),
                    "outcome": OfflineOutcome.REFUSED,
                    "message": _("This entry is damaged and cannot be applied."),
                    "arrived_late": False,
                }
            )
            continue
        try:
            (stored,) = services.attendance_sync(actor=request.user, activity=activity, entries=[entry])
        except ApplicationError as error:
            # Refused before it could be stored (another roster's key, an unknown volunteer).
            results.append(
                {
                    "key": str(entry["key"]),
                    "volunteer": entry["volunteer"],
                    "action": entry["action"],
                    "at": _iso(entry["at"]),
                    "outcome": OfflineOutcome.REFUSED,
                    "message": str(error.message),
                    "arrived_late": False,
                }
            )
            continue
        results.append(_answer(stored))
    attendance = {
        str(row.volunteer_id): _attendance_state(row)
        for row in Attendance.objects.filter(activity=activity).order_by()
    }
    return JsonResponse({"results": results, "attendance": attendance, "server_time": _iso(timezone.now())})


# --- The QR screen -----------------------------------------------------------------------------------


def _scan_url(request, activity_id: int) -> tuple[str, str, int]:
    window = checkin.current_window()
    token = checkin.token_for(activity_id, window=window)
    url = request.build_absolute_uri(reverse("activities:scan", args=[activity_id, token]))
    return url, token, window


def qr_svg_data_uri(text: str) -> str:
    """`text` as a QR code, an SVG in a data: URI (no size of its own: the page sizes it)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image(image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")
    svg = re.sub(r'\s(width|height)="[^"]*mm"', "", svg, count=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _qr_state(request, activity: Activity) -> dict:
    url, token, window = _scan_url(request, activity.pk)
    seconds = checkin.lifetime()
    return {
        "url": url,
        "token": token,
        "image": qr_svg_data_uri(url),
        "window": window,
        "seconds": seconds,
        # When the next code is due, so the screen changes with the window, not a drifting timer.
        "next_in": round((window + 1) * seconds - time.time(), 3),
        "checked_in": Attendance.objects.filter(activity=activity).count(),
    }


@never_cache
@login_required(login_url=LOGIN_URL)
def qr(request, activity_id: int):
    """The check-in code to show at the venue, renewed by qr.js with each window."""
    activity = _run_activity(request, activity_id)
    context = {"activity": activity, "qr": _qr_state(request, activity), "nav": "workbench"}
    return render(request, "activities/workbench/qr.html", context)


@require_GET
@never_cache
@login_required(login_url=LOGIN_URL)
def qr_token(request, activity_id: int):
    activity = _run_activity(request, activity_id, select=())
    return JsonResponse(_qr_state(request, activity))


# --- The report --------------------------------------------------------------------------------------


def _captions(post, prefix: str = "caption_") -> dict[str, str]:
    return {key[len(prefix) :]: value for key, value in post.items() if key.startswith(prefix)}


@login_required(login_url=LOGIN_URL)
def report(request, activity_id: int):
    """The report of a held activity (图文资料), through services.report_submit; written again, it
    replaces the earlier text, keeps the photos not removed and adds the new ones.

    Photos come two ways: the page's script (static/activities/report.js) sends each picked file to
    `report_photo_stage` as it is picked, showing its progress, and puts the staged ids in the form; without
    the script the files come with the form and are staged here. Either way a refused file is never
    stored, and the ones accepted are kept for the next try if the form comes back with an error."""
    activity = _run_activity(request, activity_id, select=("unit", "report"))
    existing = getattr(activity, "report", None)
    stored = list(existing.photos.all()) if existing else []
    kept = []
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, stored=stored)
        valid = form.is_valid()
        kept = staged_uploads_of(owner=request.user, ids=form.cleaned_data.get("kept_photos") or [])
        for upload in form.cleaned_data.get("photos") or []:
            try:
                kept.append(staged_upload_create(owner=request.user, upload=upload, field="photos"))
            except ApplicationError as error:
                form.add_error("photos", f"{upload.name}: {error.message}")
                valid = False
        captions = _captions(request.POST)
        if valid and form.run_service(
            services.report_submit,
            actor=request.user,
            activity=activity,
            text=form.cleaned_data["text"],
            people_served=form.cleaned_data["people_served"],
            photos=[(row, captions.get(str(row.pk), "")) for row in kept],
            captions={key: value for key, value in captions.items() if key.isdigit()},
            remove_photos=form.cleaned_data.get("remove_photos") or [],
        ):
            messages.success(request, _("The report is saved."))
            return redirect("activities:workbench")
        for row in kept:
            row.caption = captions.get(str(row.pk), "")
    else:
        initial = {"text": existing.text, "people_served": existing.people_served} if existing else None
        form = ReportForm(initial=initial, stored=stored)
    context = {
        "activity": activity,
        "form": form,
        "existing": existing,
        "stored": stored,
        "kept": kept,
        "due": services.report_due(activity),
        "nav": "workbench",
    }
    return render(request, "activities/workbench/report.html", context)


@require_POST
@login_required(login_url=LOGIN_URL)
def report_photo_stage(request, activity_id: int):
    """One photo picked on the report page, sent by its script: cleaned by the one image intake and kept
    for the user (kernel.uploads), or refused with the intake's message. Nothing refused is written."""
    activity = _run_activity(request, activity_id, select=())
    if activity.status == ActivityStatus.CANCELLED or activity.ended_at > timezone.now():
        message = _("A report is written after the activity was held.")
        return JsonResponse({"field": "photos", "message": message}, status=400)
    upload = request.FILES.get("photo")
    if upload is None:
        return JsonResponse({"field": "photos", "message": _("Pick a photo.")}, status=400)
    try:
        staged = staged_upload_create(owner=request.user, upload=upload, field="photos")
    except ApplicationError as error:
        return JsonResponse({"field": "photos", "message": error.message, "name": upload.name}, status=400)
    return JsonResponse(
        {
            "id": str(staged.pk),
            "name": staged.original_name,
            "url": reverse("activities:report-kept", args=[activity.pk, staged.pk]),
        },
        status=201,
    )


@require_GET
@login_required(login_url=LOGIN_URL)
def report_kept_photo(request, activity_id: int, pk):
    """A photo kept for the report page, to the one who picked it; 404 to everyone else."""
    _run_activity(request, activity_id, select=())
    return staged_upload_response(request, pk)


# --- The service worker ------------------------------------------------------------------------------


@cache
def _worker_source() -> str:
    path = finders.find("activities/roster-sw.js")
    if path is None:  # only the collected files are there
        with staticfiles_storage.open("activities/roster-sw.js") as source:
            return source.read().decode("utf-8")
    with open(path, encoding="utf-8") as source:
        return source.read()


@require_GET
def service_worker(request):
    """static/activities/roster-sw.js served from /activities/workbench/, so its scope covers the roster
    pages, told which static files to keep (their URLs, hashed or not, as this deployment serves them)."""
    assets = [static(name) for name in ROSTER_ASSETS]
    body = _worker_source()
    version = hashlib.sha256((body + "".join(assets)).encode()).hexdigest()[:12]
    prelude = f"self.ROSTER_ASSETS = {json.dumps(assets)};\nself.ROSTER_VERSION = {json.dumps(version)};\n"
    response = HttpResponse(prelude + body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("activities:workbench")
    return response
