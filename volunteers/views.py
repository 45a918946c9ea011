"""The volunteers' phone pages: registration, login (password or SMS code), my profile, my teams, my
transfers, and a team leader's page of its team. Thin: every write is a service, every read is scoped."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from kernel.auth import client_ip, login_succeeded
from kernel.errors import ApplicationError
from stations.paths import root_id

from . import selectors, services, teams, transfers
from .forms import (
    PasswordLoginForm,
    RegistrationForm,
    SmsLoginForm,
    TeamJoinForm,
    TransferRequestForm,
    home_units,
)
from .login import sms_code_login, sms_code_send, sms_code_spend
from .models import SmsCode, Team, TeamMembership, Transfer, TransferKind, Volunteer


def volunteer_page(view):
    """A page for a signed-in volunteer: `request.volunteer` is theirs; anyone else goes to the login."""

    @login_required(login_url=reverse_lazy("volunteers:login"))
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        volunteer = (
            Volunteer.objects.of_user(request.user).select_related("home_unit", "privacy_notice").first()
        )
        if volunteer is None:
            raise Http404
        request.volunteer = volunteer
        return view(request, *args, **kwargs)

    return wrapper


def _posted_id(request, name: str) -> int:
    """The id posted as `name`; a 404 when it is missing or not a whole number (nothing can match it)."""
    value = (request.POST.get(name) or "").strip()
    if not value.isascii() or not value.isdigit():
        raise Http404
    return int(value)


def _center_path(volunteer: Volunteer) -> str:
    from stations.models import Unit

    return Unit.objects.only("path").get(pk=root_id(volunteer.home_unit.path)).path


# --- Registration and login ----------------------------------------------------------------------


@sensitive_post_parameters("id_number", "phone", "password", "password_confirm", "guardian_phone", "code")
def register(request):
    """Self-registration. The phone is proved by an SMS code: "get code" (action send_code) texts one and
    shows the form again as typed; the registration spends it, in the transaction that registers."""
    if request.user.is_authenticated and Volunteer.objects.of_user(request.user).exists():
        return redirect("volunteers:me")
    try:
        notice = services.current_privacy_notice()
    except ApplicationError as error:
        return render(request, "volunteers/closed.html", {"message": error.message}, status=503)
    platforms = _registration_platforms()
    form = RegistrationForm(request.POST or None, platforms=platforms)
    sending = request.method == "POST" and request.POST.get("action") == "send_code"
    code_sent = ""
    if sending:
        form.as_typed()
    if request.method == "POST" and _registration_checks_used(request):
        form.is_valid()  # the form is shown again as typed, with nothing checked beyond its shape
        form.add_error(None, _("Too many registration attempts from this network; try again later."))
    elif sending:
        try:
            code_sent = sms_code_send(
                request=request, phone=request.POST.get("phone", ""), purpose=SmsCode.Purpose.REGISTER
            )
        except ApplicationError as error:
            form.add_service_error(error)
            if _tells_who_is_registered(form):
                _registration_check_count(request)
    elif request.method == "POST" and form.is_valid():
        volunteer = _register_with_code(request, form, notice)
        if volunteer is not None:
            login_succeeded(request, volunteer.user)
            messages.success(request, _("Welcome! You are registered as a volunteer."))
            return redirect("volunteers:me")
        if _tells_who_is_registered(form):
            _registration_check_count(request)
    context = {"form": form, "notice": notice, "code_sent": code_sent}
    return render(request, "volunteers/register.html", context)


def _register_with_code(request, form, notice):
    """Spend the registration code of the typed phone and register, in one transaction: a wrong code
    saves nothing but the wrong try; a refused registration leaves the code unspent. None if refused."""
    register = functools.partial(
        services.volunteer_register, actor=None, privacy_notice=notice, **form.service_arguments()
    )
    try:
        return sms_code_spend(
            request=request,
            phone=form.cleaned_data["phone"],
            code=form.cleaned_data["code"],
            purpose=SmsCode.Purpose.REGISTER,
            then=register,
        )
    except ApplicationError as error:
        form.add_service_error(error)
        return None


# "This phone / ID number is registered already" must be said (one has to learn why one cannot register),
# but it tells whoever asks who is registered: such answers are counted per client address, and an
# address that had settings.REGISTRATION_CHECKS_PER_IP_HOUR of them may not register for the hour.
REGISTRATION_CHECKS_SECONDS = 3600


def registration_checks_key(ip_address: str | None) -> str:
    # Clients whose address is unknown share one count, as they share one lock for the SMS codes.
    return f"volunteers:registration_checks:{ip_address or '-'}"


def _registration_key(request) -> str:
    return registration_checks_key(client_ip(request))


def _registration_checks_used(request) -> bool:
    return (cache.get(_registration_key(request)) or 0) >= settings.REGISTRATION_CHECKS_PER_IP_HOUR


def _tells_who_is_registered(form) -> bool:
    taken = {"phone": services.phone_taken_message(), "id_number": services.id_number_taken_message()}
    return any(str(message) in map(str, form.errors.get(field, [])) for field, message in taken.items())


def _registration_check_count(request) -> None:
    key = _registration_key(request)
    # The window starts with the first such answer; incr keeps its expiry.
    cache.add(key, 0, timeout=REGISTRATION_CHECKS_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=REGISTRATION_CHECKS_SECONDS)


def _registration_platforms():
    """The service domains one may pick: those of the active counties (usually one). The service
    checks that they belong to the chosen home unit's county."""
    from stations.models import Platform

    return Platform.objects.filter(is_active=True, center__is_active=True).order_by("center", "order", "id")


@sensitive_post_parameters("phone", "password", "code")
def login_page(request):
    method = request.POST.get("method") or request.GET.get("method") or "password"
    method = "sms" if method == "sms" else "password"
    password_form = PasswordLoginForm(request.POST if method == "password" and request.POST else None)
    sms_form = SmsLoginForm(request.POST if method == "sms" and request.POST else None)
    code_sent = ""
    if request.method == "POST" and method == "password" and password_form.is_valid():
        user = _password_login(request, password_form)
        if user is not None:
            return redirect(_next_page(request))
    elif request.method == "POST" and method == "sms" and sms_form.is_valid():
        phone, code = sms_form.cleaned_data["phone"], sms_form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "send":
                code_sent = sms_code_send(request=request, phone=phone)
            elif not code:
                sms_form.add_error("code", _("Enter the code from the text message."))
            else:
                sms_code_login(request=request, phone=phone, code=code)
                return redirect(_next_page(request))
        except ApplicationError as error:
            sms_form.add_service_error(error)
    context = {
        "method": method,
        "password_form": password_form,
        "sms_form": sms_form,
        "code_sent": code_sent,
        "next": _next_page(request),
    }
    return render(request, "volunteers/login.html", context)


def _password_login(request, form):
    phone = services.normalize_mobile(form.cleaned_data["phone"])
    # Through authenticate() with the request, so the lockout counts and refuses this login too.
    user = authenticate(request, username=phone, password=form.cleaned_data["password"])
    if user is None or not Volunteer.objects.filter(user=user).exists():
        form.add_error(None, _("The mobile number or the password is wrong."))
        return None
    login(request, user)
    return user


def _next_page(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return str(reverse_lazy("volunteers:me"))


@require_POST
def logout_page(request):
    logout(request)
    return redirect("volunteers:login")


# --- My pages ------------------------------------------------------------------------------------


@volunteer_page
def me(request):
    volunteer = request.volunteer
    if request.method == "POST" and request.POST.get("action") == "public_name":
        chosen = request.POST.get("public_name") == "on"
        services.volunteer_public_name_set(actor=request.user, volunteer=volunteer, shown=chosen)
        messages.success(
            request,
            _("Your name is shown on public pages.") if chosen else _("Your name is masked on public pages."),
        )
        return redirect("volunteers:me")
    context = {
        "volunteer": volunteer,
        "domains": list(volunteer.domains.all()),
        "leads": list(selectors.teams_led_by(request.user)),
        "nav": "me",
    }
    return render(request, "volunteers/me.html", context)


def _county_teams(volunteer: Volunteer):
    return (
        Team.objects.active()
        .filter(unit__path__startswith=_center_path(volunteer))
        .select_related("unit")
        .order_by("path")
    )


@volunteer_page
def my_teams(request):
    volunteer = request.volunteer
    open_team_ids = TeamMembership.objects.filter(volunteer=volunteer).open().values("team_id")
    join_form = TeamJoinForm(
        request.POST if request.POST.get("action") == "join" else None,
        teams=_county_teams(volunteer).exclude(pk__in=open_team_ids),
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "join" and join_form.is_valid():
            try:
                teams.membership_request(
                    actor=request.user, team=join_form.cleaned_data["team"], volunteer=volunteer
                )
            except ApplicationError as error:
                join_form.add_error("team", error.message)
            else:
                messages.success(request, _("Your request to join was sent to the team's leaders."))
                return redirect("volunteers:my-teams")
        elif action == "leave":
            membership = get_object_or_404(
                TeamMembership.objects.filter(volunteer=volunteer).open(),
                pk=_posted_id(request, "membership"),
            )
            try:
                teams.membership_end(actor=request.user, membership=membership)
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("You have left the team."))
            return redirect("volunteers:my-teams")
    memberships = (
        TeamMembership.objects.filter(volunteer=volunteer)
        .select_related("team", "team__unit")
        .order_by("-status", "team__path")
    )
    context = {"volunteer": volunteer, "memberships": memberships, "join_form": join_form, "nav": "teams"}
    return render(request, "volunteers/my_teams.html", context)


@volunteer_page
def transfer(request):
    volunteer = request.volunteer
    county = _center_path(volunteer)
    form = TransferRequestForm(
        request.POST if request.POST.get("action") == "request" else None,
        units=home_units().filter(path__startswith=county),
        teams=_county_teams(volunteer),
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "request" and form.is_valid():
            data = form.cleaned_data
            team_move = data["kind"] == TransferKind.TEAM
            try:
                transfers.transfer_request(
                    actor=request.user,
                    volunteer=volunteer,
                    to_unit=None if team_move else data["to_unit"],
                    to_team=data["to_team"] if team_move else None,
                    reason=data["reason"],
                )
            except ApplicationError as error:
                for field, message in error.field_errors():
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, _("Your transfer request was sent to the receiving side."))
                return redirect("volunteers:transfer")
        elif action == "cancel":
            pending = get_object_or_404(
                Transfer.objects.filter(volunteer=volunteer).pending(), pk=_posted_id(request, "transfer")
            )
            try:
                transfers.transfer_cancel(actor=request.user, transfer=pending)
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Your transfer request was withdrawn."))
            return redirect("volunteers:transfer")
    history = Transfer.objects.filter(volunteer=volunteer).select_related(
        "from_unit", "to_unit", "from_team", "to_team"
    )
    context = {"volunteer": volunteer, "form": form, "transfers": history, "nav": "transfer"}
    return render(request, "volunteers/transfer.html", context)


# --- A team leader's page ------------------------------------------------------------------------


@login_required(login_url=reverse_lazy("volunteers:login"))
def team_page(request, team_id: int):
    """A team its leader runs: members (phones masked), requests to join, transfers into the team.
    Any other team is a 404, whether or not it exists."""
    team = get_object_or_404(
        Team.objects.visible_to(request.user).select_related("unit", "parent"), pk=team_id
    )
    if request.method == "POST":
        _team_decision(request, team)
        return redirect("volunteers:team", team_id=team.pk)
    context = {
        "team": team,
        "members": list(selectors.team_members(request.user, team)),
        "pending": list(selectors.pending_joins(request.user, team)),
        "incoming": list(selectors.transfers_to_decide(request.user).filter(to_team=team)),
        "nav": "teams",
    }
    return render(request, "volunteers/team.html", context)


def _team_decision(request, team: Team) -> None:
    action = request.POST.get("action")
    approve = request.POST.get("decision") == "approve"
    note = (request.POST.get("note") or "").strip()[:200]
    try:
        if action == "membership":
            membership = get_object_or_404(
                selectors.pending_joins(request.user, team), pk=_posted_id(request, "membership")
            )
            teams.membership_decide(actor=request.user, membership=membership, approve=approve, note=note)
        elif action == "transfer":
            pending = get_object_or_404(
                selectors.transfers_to_decide(request.user).filter(to_team=team),
                pk=_posted_id(request, "transfer"),
            )
            transfers.transfer_decide(actor=request.user, transfer=pending, approve=approve, note=note)
        else:
            return
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Approved.") if approve else _("Rejected."))
