"""Admin of volunteers, teams, memberships and transfers, in Chinese. Lists and choices are scoped by the
models' own rules; every write goes through a service. ID numbers and phones are masked everywhere here;
a county admin may reveal one number on a volunteer's page or export full numbers, and each time an audit
row is written."""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kernel.admin_export import ExcelExportMixin, dated_filename
from kernel.admin_site import ServiceRefusalAdminMixin, SuperuserOnlyAdmin
from kernel.auth import client_ip
from kernel.errors import ApplicationError
from kernel.masking import mask_phone
from stations.admin import InstituteFilter
from stations.admin_scoping import DomainFilter, ScopedModelAdmin, run_each
from stations.models import Platform, Unit
from stations.paths import path_prefixes
from stations.people import people_prefetch, person_label
from stations.scoping import can, scope_for

from . import crypto, services, teams
from .admin_forms import (
    MembershipAddForm,
    PrivacyNoticeAdminForm,
    TeamAdminForm,
    TransferRejectForm,
    VolunteerAddForm,
    VolunteerChangeForm,
)
from .admin_imports import import_urls
from .capabilities import Capability
from .identity import IdType, age_on, validate_id_number
from .models import (
    IdNumberReveal,
    MembershipRole,
    MembershipStatus,
    PrivacyNotice,
    Team,
    TeamKind,
    TeamMembership,
    Transfer,
    TransferStatus,
    Volunteer,
)
from .validators import normalize_mobile

# Columns whose values must never be narrowed down through a list filter (a masked value would be
# guessable digit by digit): the phone, the ID number's columns, and the account name, which is the phone.
_HIDDEN_LOOKUPS = {
    "phone",
    "guardian_phone",
    "id_number_hash",
    "id_number_masked",
    "id_number_encrypted",
    "user",
}


def _parent_team_units_q(user) -> Q:
    """Teams that may be the parent of a team the user adds: on a unit where the user adds teams, or on
    one above such a unit."""
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    roots = scope.roots_for(Capability.TEAMS_CHANGE)
    above = {prefix for root in roots for prefix in path_prefixes(root)}
    return scope.q("unit", capability=Capability.TEAMS_CHANGE) | Q(unit__path__in=above)


class VolunteerDomainFilter(DomainFilter):
    """Volunteers of one service domain: a subquery, so a volunteer of two domains stays one row."""

    def of_domain(self, queryset, platform_id: int):
        through = Volunteer.domains.through.objects.filter(platform_id=platform_id)
        return queryset.filter(pk__in=through.values("volunteer_id"))


# --- Volunteers ---------------------------------------------------------------------------------------


@admin.register(Volunteer)
class VolunteerAdmin(ExcelExportMixin, ScopedModelAdmin):
    list_display = (
        "number",
        "name",
        "id_number_masked",
        "masked_phone",
        "gender",
        "age",
        "home_unit_short",
        "status",
        "registered_on",
    )
    list_display_links = ("number", "name")
    list_filter = ("status", "gender", "political_status", VolunteerDomainFilter, InstituteFilter)
    list_select_related = ("home_unit",)
    search_fields = ("name", "number")
    search_help_text = _("Name, volunteer number, or the exact ID number or mobile number.")
    ordering = ("-registered_on", "-id")
    export_fields = (
        "number",
        "name",
        "id_type",
        "id_number_masked",
        "phone",
        "gender",
        "birth_date",
        "political_status",
        "education",
        "skills",
        "home_unit__name",
        "status",
        "registered_on",
    )
    add_fieldsets = (
        (None, {"fields": ("name", "id_type", "id_number", "birth_date", "gender", "phone")}),
        (
            _("Unit and service"),
            {"fields": ("home_unit", "political_status", "education", "skills", "domains")},
        ),
        (
            _("Guardian (volunteers aged 14 to 17)"),
            {"fields": ("guardian_name", "guardian_phone", "guardian_consent")},
        ),
        (_("Consent"), {"fields": ("privacy_notice_shown", "consent")}),
    )
    change_fieldsets = (
        (
            None,
            {"fields": ("number", "name", "id_type", "id_number_masked", "birth_date", "gender", "phone")},
        ),
        (
            _("Unit and service"),
            {"fields": ("home_unit", "status", "political_status", "education", "skills", "domains")},
        ),
        (_("Guardian (volunteers aged 14 to 17)"), {"fields": ("guardian_name", "guardian_phone")}),
        (
            _("Registration"),
            {"fields": ("registered_on", "registered_by_label", "privacy_notice", "consented_at")},
        ),
    )

    # --- The list --------------------------------------------------------------------------------

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("home_unit")

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj):
        return obj.phone_masked

    @admin.display(description=_("age"), ordering="-birth_date")
    def age(self, obj):
        return age_on(obj.birth_date, timezone.localdate())

    @admin.display(description=_("home unit"), ordering="home_unit__path")
    def home_unit_short(self, obj):
        return obj.home_unit.short_name

    def get_search_results(self, request, queryset, search_term):
        """An ID number or a mobile number is found by its exact value only (the ID through its keyed
        hash: the encrypted column is never searched); anything else by name or volunteer number."""
        term = (search_term or "").strip()
        phone = normalize_mobile(term)
        if len(phone) == 11 and phone.isdigit() and phone.startswith("1"):
            return queryset.filter(phone=phone), False
        hashes = []
        for id_type in IdType.values:
            try:
                hashes.append(crypto.id_hash(id_type, validate_id_number(id_type, term)))
            except ApplicationError:
                continue
        if hashes and any(ch.isdigit() for ch in term) and len(term) >= 8:
            # A volunteer number may look like a passport number: both are tried.
            return queryset.filter(Q(id_number_hash__in=hashes) | Q(number__iexact=term)), False
        return super().get_search_results(request, queryset, search_term)

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split("__")[0] in _HIDDEN_LOOKUPS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "may_import": self.has_add_permission(request),
            "may_export_full": scope_for(request.user).has(Capability.VOLUNTEERS_VIEW_ID_NUMBER),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- Add and change --------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if self._sees_contacts(request, obj):
            return self.change_fieldsets
        # Without the capability the phones are shown masked, as on the list.
        swap = {"phone": "masked_phone", "guardian_phone": "masked_guardian_phone"}
        return [
            (title, {**options, "fields": [swap.get(name, name) for name in options["fields"]]})
            for title, options in self.change_fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("privacy_notice_shown",)
        return (
            "number",
            "id_type",
            "id_number_masked",
            "birth_date",
            "gender",
            "phone",
            "masked_phone",
            "guardian_name",
            "guardian_phone",
            "masked_guardian_phone",
            "registered_on",
            "registered_by_label",
            "privacy_notice",
            "consented_at",
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = VolunteerChangeForm if obj is not None else VolunteerAddForm
        return super().get_form(request, obj, change, **kwargs)

    def unit_choices(self, request, db_field):
        # Staff register and move volunteers only to units where they may change volunteers.
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.VOLUNTEERS_CHANGE), is_active=True)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "domains":
            kwargs["queryset"] = Platform.objects.visible_to(request.user).filter(is_active=True)
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _sees_contacts(self, request, obj) -> bool:
        return can(request.user, Capability.VOLUNTEERS_VIEW_CONTACTS, obj.home_unit)

    @admin.display(description=_("guardian's mobile phone"))
    def masked_guardian_phone(self, obj):
        return mask_phone(obj.guardian_phone) if obj.guardian_phone else "-"

    @admin.display(description=_("registered by"))
    def registered_by_label(self, obj):
        return person_label(obj.registered_by) if obj.registered_by_id else _("the volunteer")

    @admin.display(description=_("privacy notice"))
    def privacy_notice_shown(self, obj):
        try:
            notice = services.current_privacy_notice()
        except ApplicationError as error:
            return error.message
        return format_html(
            "{}<br><small>{}</small>",
            notice,
            _("Read it to the volunteer, or let them read it, before ticking the box below."),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["may_reveal_id_number"] = can(
                request.user, Capability.VOLUNTEERS_VIEW_ID_NUMBER, obj.home_unit
            )
            context["reveal_url"] = reverse("admin:volunteers_volunteer_reveal", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            domains = data.pop("domains", None)
            changed = {name: data[name] for name in form.changed_data if name in data}
            self.adopt(
                obj,
                services.volunteer_update(
                    actor=request.user,
                    volunteer=obj,
                    domains=domains if "domains" in form.changed_data else None,
                    **changed,
                ),
            )
            return
        consent = data.pop("consent", False)
        notice = services.current_privacy_notice()
        for name in ("birth_date",):
            if data.get(name) is None:
                data.pop(name, None)
        self.adopt(
            obj,
            services.volunteer_register(actor=request.user, privacy_notice=notice, consent=consent, **data),
        )

    def save_related(self, request, form, formsets, change):
        pass  # the domains were set by the service; there are no inlines

    # --- The full ID number, audited ---------------------------------------------------------------

    def reveal_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        volunteer = self.get_object(request, unquote(object_id))
        try:
            number = services.id_number_reveal(
                actor=request.user, volunteer=volunteer, ip_address=client_ip(request)
            )
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:volunteers_volunteer_change", args=[volunteer.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Full ID number"),
            "opts": self.opts,
            "original": volunteer,
            "volunteer": volunteer,
            "id_number": number,
        }
        response = TemplateResponse(request, "admin/volunteers/volunteer/id_number.html", context)
        response["Cache-Control"] = "no-store"
        return response

    # --- Excel export: masked, or (audited) with full numbers ------------------------------------------

    def _wants_full(self, request) -> bool:
        return getattr(request, "_full_id_numbers", False)

    def export_values(self, request):
        return ("home_unit__path", "id_number_encrypted") if self._wants_full(request) else ()

    def export_row_transform(self, request):
        if not self._wants_full(request):

            def mask(row):
                row["phone"] = mask_phone(row["phone"] or "")

            return mask
        scope = scope_for(request.user)

        def reveal(row):
            path = row["home_unit__path"]
            if scope.contains_path(path, capability=Capability.VOLUNTEERS_VIEW_ID_NUMBER):
                row["id_number_masked"] = crypto.decrypt(row["id_number_encrypted"])
            if not scope.contains_path(path, capability=Capability.VOLUNTEERS_VIEW_CONTACTS):
                row["phone"] = mask_phone(row["phone"] or "")

        return reveal

    def export_filename(self, request):
        stem = str(self.opts.verbose_name_plural)
        if self._wants_full(request):
            full = gettext("full ID numbers")
            stem = f"{stem}_{full}"
        return dated_filename(stem)

    def export_changelist(self, request):
        changelist = super().export_changelist(request)
        if self._wants_full(request) and changelist.result_count <= self.export_max_rows:
            services.id_numbers_export_audit(
                actor=request.user, count=changelist.result_count, ip_address=client_ip(request)
            )
        return changelist

    def export_full_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not scope_for(request.user).has(Capability.VOLUNTEERS_VIEW_ID_NUMBER):
            raise PermissionDenied
        request._full_id_numbers = True
        return self.export_view(request)

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("export/full/", view(self.export_full_view), name="volunteers_volunteer_export_full"),
            path("<path:object_id>/id-number/", view(self.reveal_view), name="volunteers_volunteer_reveal"),
        ]
        return import_urls(view) + own + super().get_urls()


# --- Teams ------------------------------------------------------------------------------------------


@admin.register(Team)
class TeamAdmin(ScopedModelAdmin):
    form = TeamAdminForm
    list_display = (
        "tree_name",
        "kind",
        "unit_short",
        "domain",
        "team_type",
        "leaders",
        "member_count",
        "is_active",
    )
    list_display_links = ("tree_name",)
    list_filter = ("kind", "team_type", DomainFilter, InstituteFilter, "is_active")
    list_select_related = ("unit", "domain")
    search_fields = ("name",)
    ordering = ("path",)

    def scoped_queryset(self, request):
        leaders = TeamMembership.objects.filter(
            role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE
        ).select_related("volunteer")
        return (
            super()
            .scoped_queryset(request)
            .select_related("unit", "domain")
            .annotate(
                active_members=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE))
            )
            .prefetch_related(Prefetch("memberships", queryset=leaders, to_attr="leader_memberships"))
        )

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj):
        return format_html(
            '<span style="padding-left:{}em">{}{}</span>',
            obj.depth * 1.2,
            "└ " if obj.depth else "",
            obj.name,
        )

    @admin.display(description=_("unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    @admin.display(description=_("team leaders"))
    def leaders(self, obj):
        names = [m.volunteer.name for m in getattr(obj, "leader_memberships", [])]
        return "、".join(names) or "-"

    @admin.display(description=_("members"), ordering="active_members")
    def member_count(self, obj):
        return obj.active_members

    def get_readonly_fields(self, request, obj=None):
        return ("kind", "parent", "unit") if obj is not None else ()

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.TEAMS_CHANGE), is_active=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # A brigade or squad hangs under a team on its own unit or a unit above it (teams.team_create):
            # the teams on one's units and on the units above them, never those of a township beside.
            kwargs["queryset"] = Team.objects.filter(
                _parent_team_units_q(request.user),
                is_active=True,
                kind__in=[TeamKind.CORPS, TeamKind.BRIGADE],
            )
        if db_field.name == "domain":
            kwargs["queryset"] = Platform.objects.visible_to(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            changed = {name: data[name] for name in form.changed_data if name in data}
            self.adopt(obj, teams.team_update(actor=request.user, team=obj, **changed))
        else:
            self.adopt(obj, teams.team_create(actor=request.user, **data))


@admin.register(TeamMembership)
class TeamMembershipAdmin(ScopedModelAdmin):
    """Who is in which team. Joins are admitted or turned down and leaders appointed with the actions;
    staff add a member directly with the add form."""

    form = MembershipAddForm
    list_display = ("volunteer_label", "team", "role", "status", "joined_on", "created_at")
    list_filter = ("status", "role", "team__kind", InstituteFilter)
    list_select_related = ("team", "volunteer")
    search_fields = ("volunteer__name", "volunteer__number", "team__name")
    autocomplete_fields = ("team", "volunteer")
    actions = ("admit", "turn_down", "appoint_leader", "revoke_leader", "end_membership")
    readonly_fields = ("team", "volunteer", "role", "status", "joined_on", "left_on", "decided_at", "note")

    @admin.display(description=_("volunteer"), ordering="volunteer__name")
    def volunteer_label(self, obj):
        return f"{obj.volunteer.name}（{obj.volunteer.number}）"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("team", "volunteer", "role")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # The actions change memberships; a membership's page only shows it.
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team":
            kwargs["queryset"] = Team.objects.changeable_by(request.user).filter(is_active=True)
        if db_field.name == "volunteer":
            kwargs["queryset"] = Volunteer.objects.visible_to(request.user).active()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.rule.can_change(request.user):
            return {}
        return actions

    def _changeable(self, request, queryset):
        return queryset.filter(pk__in=TeamMembership.objects.changeable_by(request.user).values("pk"))

    def _each_changeable(self, request, rows, service, done: str) -> None:
        """`service(actor=, membership=)` for each selected row the user may change."""
        rows = self._changeable(request, rows)
        run_each(request, rows, lambda m: service(actor=request.user, membership=m), done=done)

    @admin.action(description=_("Admit the selected volunteers to their teams"))
    def admit(self, request, queryset):
        admit = functools.partial(teams.membership_decide, approve=True)
        self._each_changeable(request, queryset.pending(), admit, gettext("%(count)d volunteers admitted."))

    @admin.action(description=_("Turn down the selected requests to join"))
    def turn_down(self, request, queryset):
        turn_down = functools.partial(teams.membership_decide, approve=False)
        done = gettext("%(count)d requests turned down.")
        self._each_changeable(request, queryset.pending(), turn_down, done)

    @admin.action(description=_("Appoint the selected members team leaders"))
    def appoint_leader(self, request, queryset):
        done = gettext("%(count)d team leaders appointed.")
        self._each_changeable(request, queryset, teams.leader_appoint, done)

    @admin.action(description=_("Revoke the selected team leaders"))
    def revoke_leader(self, request, queryset):
        self._each_changeable(
            request, queryset, teams.leader_revoke, gettext("%(count)d team leaders revoked.")
        )

    @admin.action(description=_("Remove the selected members from their teams"))
    def end_membership(self, request, queryset):
        self._each_changeable(request, queryset, teams.membership_end, gettext("%(count)d members removed."))

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        self.adopt(obj, teams.membership_add(actor=request.user, **data))


# --- Transfers ----------------------------------------------------------------------------------------


@admin.register(Transfer)
class TransferAdmin(ScopedModelAdmin):
    """Transfers (关系转接) both sides see; the receiving side approves or rejects them with the actions."""

    list_display = ("volunteer", "kind", "route", "status", "created_at", "decided_at")
    list_filter = ("status", "kind")
    list_select_related = ("volunteer", "from_unit", "to_unit", "from_team", "to_team")
    search_fields = ("volunteer__name", "volunteer__number")
    actions = ("approve", "reject")
    fields = (
        "volunteer",
        "kind",
        "from_unit",
        "to_unit",
        "from_team",
        "to_team",
        "reason",
        "status",
        "requested_by_label",
        "created_at",
        "decided_by_label",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        decidable = Transfer.objects.changeable_by(request.user).filter(
            pk=OuterRef("pk"), status=TransferStatus.PENDING
        )
        return (
            super()
            .scoped_queryset(request)
            .select_related("volunteer", "from_unit", "to_unit", "from_team", "to_team")
            .annotate(may_decide=Exists(decidable))
        )

    @admin.display(description=_("from → to"))
    def route(self, obj):
        if obj.to_team_id:
            return f"{obj.from_team or obj.from_unit.short_name} → {obj.to_team}"
        return f"{obj.from_unit.short_name} → {obj.to_unit.short_name}"

    @admin.display(description=_("requested by"))
    def requested_by_label(self, obj):
        return person_label(obj.requested_by)

    @admin.display(description=_("decided by"))
    def decided_by_label(self, obj):
        return person_label(obj.decided_by) or "-"

    def action_checkbox(self, obj):
        # Only a transfer this user may decide can be ticked for a decision.
        return super().action_checkbox(obj) if getattr(obj, "may_decide", False) else ""

    def has_add_permission(self, request):
        return False  # asked for on the volunteer's pages and through the API

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def get_actions(self, request):
        return super().get_actions(request) if self.rule.can_change(request.user) else {}

    def _decidable(self, request, queryset):
        return queryset.filter(may_decide=True)

    @staticmethod
    def _decide(actor, transfer, *, approve: bool, note: str = ""):
        from .transfers import transfer_decide

        return transfer_decide(actor=actor, transfer=transfer, approve=approve, note=note)

    @admin.action(description=_("Approve the selected transfers"))
    def approve(self, request, queryset):
        actor = request.user
        run_each(
            request,
            self._decidable(request, queryset),
            lambda t: self._decide(actor, t, approve=True),
            done=gettext("%(count)d transfers approved."),
        )

    @admin.action(description=_("Reject the selected transfers, with a reason"))
    def reject(self, request, queryset):
        rows = list(self._decidable(request, queryset))
        form = TransferRejectForm(request.POST if "post" in request.POST else None)
        if form.is_bound and form.is_valid():
            actor, note = request.user, form.cleaned_data["note"]
            run_each(
                request,
                rows,
                lambda t: self._decide(actor, t, approve=False, note=note),
                done=gettext("%(count)d transfers rejected."),
            )
            return None
        if not rows:
            self.message_user(request, gettext("None of the selected transfers waits for your decision."))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reject transfers"),
            "opts": self.opts,
            "transfers": rows,
            "form": form,
            "action": "reject",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/volunteers/transfer/reject.html", context)

    def save_model(self, request, obj, form, change):
        raise PermissionDenied  # transfers are decided with the actions


# --- Privacy notices and the reveal audit ---------------------------------------------------------------


class _CountyAdminOnly(SuperuserOnlyAdmin):
    """System administrators, and county admins for the part that is theirs: no institute or station."""

    def _superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_staff and self.allows(request.user)

    def allows(self, user) -> bool:
        return user.is_superuser


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(ServiceRefusalAdminMixin, _CountyAdminOnly, admin.ModelAdmin):
    """Versions of the privacy notice. A version volunteers consented to stays as it was: a change is a
    new version."""

    form = PrivacyNoticeAdminForm
    list_display = ("version", "title", "effective_from", "consents")
    ordering = ("-effective_from", "-version")

    def allows(self, user):
        return services.privacy_notice_may_publish(user)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(in_use=Exists(Volunteer.objects.filter(privacy_notice=OuterRef("pk"))))
        )

    @admin.display(description=_("consented to"), boolean=True)
    def consents(self, obj):
        return obj.in_use

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = self.service_refusal(request)
        if refusal is not None:
            form = type(form.__name__, (form,), {"service_error": refusal})
        return form

    def has_change_permission(self, request, obj=None):
        if obj is not None and services.privacy_notice_in_use(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            ScopedModelAdmin.adopt(
                obj, services.privacy_notice_update(actor=request.user, notice=obj, **data)
            )
        else:
            data = dict(form.cleaned_data)
            ScopedModelAdmin.adopt(obj, services.privacy_notice_publish(actor=request.user, **data))


@admin.register(IdNumberReveal)
class IdNumberRevealAdmin(_CountyAdminOnly, admin.ModelAdmin):
    """The audit log of full ID numbers shown or exported: read only."""

    list_display = ("created_at", "actor_label", "volunteer", "purpose", "count", "ip_address")
    list_filter = ("purpose",)
    list_select_related = ("actor", "volunteer")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor_label", "volunteer", "purpose", "count", "ip_address")
    readonly_fields = fields

    def allows(self, user):
        return user.is_superuser or scope_for(user).has(Capability.VOLUNTEERS_VIEW_ID_NUMBER)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("actor", "volunteer")
        scope = scope_for(request.user)
        if scope.is_global:
            return queryset.prefetch_related(people_prefetch("actor"))
        from stations.models import RoleAssignment

        area = scope.q("unit", capability=Capability.VOLUNTEERS_VIEW_ID_NUMBER)
        people_there = RoleAssignment.objects.filter(area).values("user_id")
        seen = (
            scope.q("volunteer__home_unit", capability=Capability.VOLUNTEERS_VIEW_ID_NUMBER)
            | Q(volunteer__isnull=True, actor__in=people_there)
            | Q(actor=request.user)
        )
        return queryset.filter(seen).prefetch_related(people_prefetch("actor"))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    @admin.display(description=_("by"), ordering="actor__first_name")
    def actor_label(self, obj):
        return person_label(obj.actor)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
