"""Admin of service records, corrections, review flags, trainings, evaluations, certificate issuers,
certificates and national exports. Lists and choices are scoped by the models' own rules; every write goes
through a service, whose refusals come back as form errors or as one message per row.

Records are never edited here: a pending record is approved or rejected with the actions, a decided one
is corrected through a correction request, and nothing of this app is deleted from the admin. The audit
trail of a record is shown, read-only, on its page. Volunteers appear by name and volunteer number only;
their phones and ID numbers are not shown, and no list filters on them.
"""

from __future__ import annotations

import datetime

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kernel.auth import client_ip
from kernel.validators import is_id
from stations.admin import InstituteFilter
from stations.admin_scoping import ScopedInline, ScopedModelAdmin, run_each
from stations.models import Unit, UnitKind
from stations.paths import path_depth
from stations.people import people_prefetch, person_label
from stations.scoping import scope_for, subtree_q
from volunteers.capabilities import TEAM_TREE
from volunteers.capabilities import Capability as VolunteerCapability
from volunteers.models import Team

from . import exports, selectors, services, trainings
from .admin_forms import (
    EvaluationAdminForm,
    IssuerProfileAdminForm,
    NationalExportAddForm,
    NoteForm,
    RecordAddForm,
    TrainingAdminForm,
)
from .capabilities import Capability
from .models import (
    Certificate,
    CertificateStatus,
    CorrectionRequest,
    CorrectionStatus,
    Evaluation,
    IssuerProfile,
    NationalExport,
    RecordEvent,
    RecordFlag,
    RecordStatus,
    ServiceRecord,
    Training,
)

NOTE_TEMPLATE = "admin/records/note_action.html"


def _file_response(field, *, filename: str, as_attachment: bool = True) -> FileResponse:
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=as_attachment, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class RecordsAdminBase(ScopedModelAdmin):
    """What every admin of this app shares: no lookups on a volunteer's phone or ID number (a masked value
    must not be guessable through a filter), nothing deleted, and actions only for those who may change
    such rows somewhere."""

    def lookup_allowed(self, lookup, value, request=None):
        if "phone" in lookup or "id_number" in lookup or lookup.split("__")[-1] == "user":
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Where an admin here has no form of its own (corrections, flags, certificates), its rows change
        only through its actions, which call the services: a forged POST saves nothing."""
        raise PermissionDenied

    def save_formset(self, request, form, formset, change):
        """The inlines here are read only (a record's trail, flags and corrections): nothing to save, and
        a forged formset is not saved either."""
        return None

    def get_actions(self, request):
        return super().get_actions(request) if self.rule.can_change(request.user) else {}

    def ask_note(self, request, rows, *, action, title, intro, label, button, required=True, help_text=""):
        """The page an action shows to ask for its reason or note. Returns (note, None) once it was given
        (the form posted back), else (None, the page to show)."""
        form = NoteForm(
            request.POST if "post" in request.POST else None,
            label=label,
            required=required,
            help_text=help_text,
        )
        if form.is_bound and form.is_valid():
            return form.cleaned_data["note"], None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "button": button,
            "opts": self.opts,
            "rows": rows,
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return None, TemplateResponse(request, NOTE_TEMPLATE, context)


# --- List filters --------------------------------------------------------------------------------------


class UnitFilter(admin.SimpleListFilter):
    """Rows of one unit's subtree. Offered: the user's own topmost units and the units right below them;
    any unit the user sees is accepted (a link from elsewhere)."""

    title = _("organising unit")
    parameter_name = "unit"
    unit_lookup = "unit"

    def lookups(self, request, model_admin):
        scope = scope_for(request.user)
        units = Unit.objects.visible_to(request.user).exclude(kind=UnitKind.POINT)
        if scope.is_global:
            units = units.filter(depth__lte=1)
        else:
            deepest = max((path_depth(root) for root in scope.roots), default=0)
            units = units.filter(depth__lte=deepest + 1)
        return [
            (str(u.pk), f"{'　' * u.depth}{u.short_name}") for u in units.only("pk", "name", "depth", "path")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        path_ = None
        if is_id(value):
            path_ = (
                Unit.objects.visible_to(request.user)
                .filter(pk=int(value))
                .values_list("path", flat=True)
                .first()
            )
        if path_ is None:
            return queryset.none()
        return queryset.filter(subtree_q(path_, self.unit_lookup))


class TeamFilter(admin.SimpleListFilter):
    """Rows of one team (of the first teams the user sees, in tree order; any team seen is accepted)."""

    title = _("team")
    parameter_name = "team"
    team_lookup = "team"
    offered = 100

    def lookups(self, request, model_admin):
        teams = Team.objects.visible_to(request.user).filter(is_active=True).order_by("path")
        return [(str(t.pk), t.name) for t in teams.only("pk", "name")[: self.offered]]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not is_id(value) or not Team.objects.visible_to(request.user).filter(pk=int(value)).exists():
            return queryset.none()
        return queryset.filter(**{f"{self.team_lookup}_id": int(value)})


class VolunteerFilter(admin.SimpleListFilter):
    """Rows of one volunteer: reached from a row's volunteer link, offered once chosen."""

    title = _("volunteer")
    parameter_name = "volunteer"

    def lookups(self, request, model_admin):
        value = self.value()
        if not is_id(value):
            return []
        from volunteers.models import Volunteer

        volunteer = Volunteer.objects.visible_to(request.user).filter(pk=int(value)).first()
        return [(value, str(volunteer))] if volunteer is not None else []

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not is_id(value):
            return queryset.none()
        return queryset.filter(volunteer_id=int(value))


class FlaggedFilter(admin.SimpleListFilter):
    title = _("review flags")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("With open flags")), ("no", _("Without open flags"))]

    def queryset(self, request, queryset):
        open_flags = RecordFlag.objects.filter(record=OuterRef("pk"), is_open=True)
        if self.value() == "yes":
            return queryset.filter(Exists(open_flags))
        if self.value() == "no":
            return queryset.filter(~Exists(open_flags))
        return queryset


class OpenFlagFilter(admin.SimpleListFilter):
    """Open flags unless asked otherwise: the list is a review queue."""

    title = _("open")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("cleared", _("Cleared")), ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or "open"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(is_open=True)
        if value == "cleared":
            return queryset.filter(is_open=False)
        return queryset


# --- Service records -------------------------------------------------------------------------------------


class _ReadOnlyInline(ScopedInline, admin.TabularInline):
    """Rows shown on their record's page, scoped as their record is: read only."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _field_label(key: str) -> str:
    try:
        return str(ServiceRecord._meta.get_field(key).verbose_name)
    except FieldDoesNotExist:
        return key


def _value_label(key: str, value) -> str:
    if key == "status" and value in RecordStatus.values:
        return str(RecordStatus(value).label)
    return "-" if value in (None, "") else str(value)


def _changes(before: dict, after: dict) -> str:
    """What a step of the trail changed, in the record's own field names: "hours: 2.00 → 3.00"."""
    keys = [key for key in after if before.get(key) != after.get(key)] if before else list(after)
    parts = []
    for key in keys:
        new = _value_label(key, after.get(key))
        if before and key in before:
            parts.append(f"{_field_label(key)}：{_value_label(key, before.get(key))} → {new}")
        else:
            parts.append(f"{_field_label(key)}：{new}")
    return "；".join(parts) or "-"


class RecordEventInline(_ReadOnlyInline):
    model = RecordEvent
    verbose_name_plural = _("audit trail")
    fields = ("at", "action", "actor_name", "changes", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    @admin.display(description=_("changes"))
    def changes(self, obj):
        return _changes(obj.before or {}, obj.after or {})


class RecordFlagInline(_ReadOnlyInline):
    model = RecordFlag
    fk_name = "record"
    fields = ("kind", "detail", "created_at", "is_open", "note")
    readonly_fields = fields


class CorrectionInline(_ReadOnlyInline):
    model = CorrectionRequest
    fk_name = "record"
    fields = ("created_at", "reason", "status", "decision_note", "new_record")
    readonly_fields = fields


@admin.register(ServiceRecord)
class ServiceRecordAdmin(RecordsAdminBase):
    form = RecordAddForm
    list_display = (
        "service_date",
        "volunteer_link",
        "content",
        "hours",
        "unit_short",
        "team",
        "status",
        "flagged",
        "superseded",
    )
    list_display_links = ("service_date", "content")
    list_filter = (
        "status",
        UnitFilter,
        TeamFilter,
        VolunteerFilter,
        ("service_date", admin.DateFieldListFilter),
        FlaggedFilter,
        "source",
    )
    search_fields = ("volunteer__name", "volunteer__number", "content")
    search_help_text = _("Name or volunteer number of the volunteer, or what the service was.")
    ordering = ("-started_at", "-id")
    actions = ("approve", "reject")
    autocomplete_fields = ("volunteer", "team")
    inlines = (RecordEventInline, RecordFlagInline, CorrectionInline)

    detail_fields = (
        "volunteer",
        "unit",
        "team",
        "content",
        "started_at",
        "ended_at",
        "service_date",
        "hours",
        "source",
        "status",
        "evidence_note",
        "evidence",
        "submitted_by_label",
        "organiser_label",
        "decided_by_label",
        "decided_at",
        "decision_note",
        "supersedes",
        "superseded_by_link",
        "exported",
    )

    def scoped_queryset(self, request):
        return selectors.records_visible(request.user)

    # --- The list ----------------------------------------------------------------------------------

    @admin.display(description=_("volunteer"), ordering="volunteer__name")
    def volunteer_link(self, obj):
        url = reverse("admin:records_servicerecord_changelist")
        return format_html('<a href="{}?volunteer={}">{}</a>', url, obj.volunteer_id, obj.volunteer)

    @admin.display(description=_("organising unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    @admin.display(description=_("flagged"), boolean=True)
    def flagged(self, obj):
        return getattr(obj, "has_open_flags", False)

    @admin.display(description=_("superseded"), boolean=True)
    def superseded(self, obj):
        return getattr(obj, "is_superseded", False)

    # --- A record's page: read only, with its trail ---------------------------------------------------

    def has_add_permission(self, request):
        scope = scope_for(request.user)
        return scope.has(Capability.RECORDS_ENTER) or bool(
            scope.tree_roots_for(TEAM_TREE, Capability.RECORDS_ENTER)
        )

    def has_change_permission(self, request, obj=None):
        # Records are decided with the actions and corrected through corrections, never edited.
        return obj is None and self.rule.can_change(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return RecordAddForm._meta.fields
        return self.detail_fields

    def get_readonly_fields(self, request, obj=None):
        return self.detail_fields if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    @admin.display(description=_("evidence photo"))
    def evidence(self, obj):
        if not obj.evidence_photo:
            return "-"
        url = reverse("admin:records_servicerecord_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" width="160"></a>', url, url
        )

    @admin.display(description=_("submitted by"))
    def submitted_by_label(self, obj):
        return person_label(obj.submitted_by) or "-"

    @admin.display(description=_("organiser"))
    def organiser_label(self, obj):
        return person_label(obj.organiser) or "-"

    @admin.display(description=_("decided by"))
    def decided_by_label(self, obj):
        return person_label(obj.decided_by) or "-"

    @admin.display(description=_("superseded by"))
    def superseded_by_link(self, obj):
        newer = ServiceRecord.objects.filter(supersedes=obj).only("pk", "service_date", "content").first()
        if newer is None:
            return "-"
        url = reverse("admin:records_servicerecord_change", args=[newer.pk])
        return format_html('<a href="{}">{}</a>', url, newer)

    @admin.display(description=_("exported to the national system"))
    def exported(self, obj):
        mark = getattr(obj, "export_mark", None) if obj.pk else None
        if mark is None:
            return gettext("No")
        return gettext("Yes, in export %(id)s") % {"id": mark.export_id}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_for(request.user)
        if db_field.name == "volunteer":
            from volunteers.models import Volunteer

            kwargs["queryset"] = Volunteer.objects.visible_to(request.user).active()
        if db_field.name == "team":
            teams = Team.objects.filter(
                scope.q("unit", capability=Capability.RECORDS_ENTER)
                | scope.tree_q(TEAM_TREE, "", capability=Capability.RECORDS_ENTER),
                is_active=True,
            )
            kwargs["queryset"] = teams
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.RECORDS_ENTER), is_active=True)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        self.adopt(obj, services.record_submit(actor=request.user, **data))

    def save_related(self, request, form, formsets, change):
        pass  # no inline rows are written from this page

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, gettext("The record was saved; it waits for another approver."))
        return HttpResponseRedirect(reverse("admin:records_servicerecord_change", args=[obj.pk]))

    # --- Deciding ------------------------------------------------------------------------------------

    def _decide(self, request, queryset, *, approve: bool, reason: str = "", note: str = ""):
        rows = list(queryset)
        labels = {row.pk: str(row) for row in rows}
        outcome = services.records_decide(
            actor=request.user, ids=[row.pk for row in rows], approve=approve, reason=reason, note=note
        )
        for record_id, message in outcome.refused:
            messages.error(request, f"{labels.get(record_id, record_id)}：{message}")
        if outcome.done:
            done = (
                gettext("%(count)d records approved.") if approve else gettext("%(count)d records rejected.")
            )
            messages.success(request, done % {"count": len(outcome.done)})

    @admin.action(description=_("Approve the selected records"))
    def approve(self, request, queryset):
        rows = list(queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected records is yours to decide."))
            return None
        if any(getattr(row, "has_open_flags", False) for row in rows):
            note, page = self.ask_note(
                request,
                rows,
                action="approve",
                title=gettext("Approve records"),
                intro=gettext(
                    "Some of these records are flagged for review: say why they are approved. An admin "
                    "above the record's unit approves a flagged record."
                ),
                label=gettext("Note"),
                button=gettext("Approve the records"),
                required=False,
            )
            if page is not None:
                return page
            self._decide(request, queryset, approve=True, note=note)
            return None
        self._decide(request, queryset, approve=True)
        return None

    @admin.action(description=_("Reject the selected records, with a reason"))
    def reject(self, request, queryset):
        rows = list(queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected records is yours to decide."))
            return None
        reason, page = self.ask_note(
            request,
            rows,
            action="reject",
            title=gettext("Reject records"),
            intro=gettext("These records will be rejected. The volunteer sees the reason."),
            label=gettext("Reason for the rejection"),
            button=gettext("Reject the records"),
        )
        if page is not None:
            return page
        self._decide(request, queryset, approve=False, reason=reason)
        return None

    # --- The evidence photo, to those who see the record ----------------------------------------------

    def evidence_view(self, request, object_id):
        record = self.get_object(request, unquote(object_id))
        return _file_response(record.evidence_photo, filename=record.evidence_photo.name.rsplit("/", 1)[-1])

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path(
                "<path:object_id>/evidence/",
                view(self.evidence_view),
                name="records_servicerecord_evidence",
            )
        ]
        return own + super().get_urls()


# --- Corrections -----------------------------------------------------------------------------------------


class CorrectionUnitFilter(UnitFilter):
    unit_lookup = "record__unit"


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(RecordsAdminBase):
    """Corrections volunteers asked for; the organiser's side accepts or refuses them with the actions
    (an accepted one becomes a new record that supersedes the old one)."""

    list_display = ("record_link", "volunteer", "reason", "status", "requested_by_label", "created_at")
    list_filter = ("status", CorrectionUnitFilter)
    search_fields = ("record__volunteer__name", "record__volunteer__number", "reason")
    ordering = ("-created_at", "-id")
    actions = ("accept", "refuse")
    fields = (
        "record_link",
        "volunteer",
        "reason",
        "content",
        "started_at",
        "ended_at",
        "status",
        "requested_by_label",
        "created_at",
        "decided_by_label",
        "decided_at",
        "decision_note",
        "new_record",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return (
            super()
            .scoped_queryset(request)
            .select_related("record__volunteer", "record__unit", "requested_by", "decided_by", "new_record")
            .prefetch_related(people_prefetch("requested_by"))
        )

    @admin.display(description=_("service record"), ordering="record__started_at")
    def record_link(self, obj):
        url = reverse("admin:records_servicerecord_change", args=[obj.record_id])
        return format_html('<a href="{}">{}</a>', url, obj.record)

    @admin.display(description=_("volunteer"), ordering="record__volunteer__name")
    def volunteer(self, obj):
        return str(obj.record.volunteer)

    @admin.display(description=_("requested by"))
    def requested_by_label(self, obj):
        return person_label(obj.requested_by)

    @admin.display(description=_("decided by"))
    def decided_by_label(self, obj):
        return person_label(obj.decided_by) or "-"

    def has_add_permission(self, request):
        return False  # asked for by the volunteer on their pages, or through the API

    def has_change_permission(self, request, obj=None):
        return obj is None and self.rule.can_change(request.user)

    def _decidable(self, request, queryset):
        return queryset.filter(
            status=CorrectionStatus.PENDING,
            pk__in=CorrectionRequest.objects.changeable_by(request.user).values("pk"),
        )

    @admin.action(description=_("Accept the selected corrections"))
    def accept(self, request, queryset):
        actor = request.user
        run_each(
            request,
            self._decidable(request, queryset),
            lambda c: services.correction_decide(actor=actor, correction=c, accept=True),
            done=gettext("%(count)d corrections accepted."),
        )

    @admin.action(description=_("Refuse the selected corrections, with a reason"))
    def refuse(self, request, queryset):
        rows = list(self._decidable(request, queryset))
        if not rows:
            self.message_user(request, gettext("None of the selected corrections waits for your decision."))
            return None
        note, page = self.ask_note(
            request,
            rows,
            action="refuse",
            title=gettext("Refuse corrections"),
            intro=gettext("These corrections will be refused. The volunteer sees the reason."),
            label=gettext("Reason for the refusal"),
            button=gettext("Refuse the corrections"),
        )
        if page is not None:
            return page
        actor = request.user
        run_each(
            request,
            rows,
            lambda c: services.correction_decide(actor=actor, correction=c, accept=False, note=note),
            done=gettext("%(count)d corrections refused."),
        )
        return None


# --- Review flags ----------------------------------------------------------------------------------------


class FlagUnitFilter(UnitFilter):
    unit_lookup = "record__unit"


@admin.register(RecordFlag)
class RecordFlagAdmin(RecordsAdminBase):
    """The review list: open flags first; a reviewer above the record's unit clears them with a note."""

    list_display = ("record_link", "volunteer", "kind", "detail", "created_at", "is_open")
    list_filter = (OpenFlagFilter, "kind", FlagUnitFilter)
    search_fields = ("record__volunteer__name", "record__volunteer__number")
    ordering = ("-created_at", "-id")
    actions = ("clear",)
    fields = (
        "record_link",
        "volunteer",
        "kind",
        "detail",
        "other_record_shown",
        "created_at",
        "is_open",
        "cleared_by_label",
        "cleared_at",
        "note",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return (
            super()
            .scoped_queryset(request)
            .select_related("record__volunteer", "record__unit", "other_record", "cleared_by")
        )

    @admin.display(description=_("service record"), ordering="record__started_at")
    def record_link(self, obj):
        url = reverse("admin:records_servicerecord_change", args=[obj.record_id])
        return format_html('<a href="{}">{}</a>', url, obj.record)

    @admin.display(description=_("other record"))
    def other_record_shown(self, obj):
        """The other record of an overlap, linked where the reviewer sees it; of another township's
        record only its time, never what it was or who organised it."""
        other = obj.other_record
        if other is None:
            return "—"
        if getattr(obj, "other_record_visible", False):
            url = reverse("admin:records_servicerecord_change", args=[other.pk])
            return format_html('<a href="{}">{}</a>', url, other)
        start, end = timezone.localtime(other.started_at), timezone.localtime(other.ended_at)
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and obj.other_record_id is not None:
            # Read for this request on the row itself (the admin object is shared by every request).
            visible = ServiceRecord.objects.visible_to(request.user).filter(pk=obj.other_record_id)
            obj.other_record_visible = visible.exists()
        return obj

    @admin.display(description=_("volunteer"), ordering="record__volunteer__name")
    def volunteer(self, obj):
        return str(obj.record.volunteer)

    @admin.display(description=_("cleared by"))
    def cleared_by_label(self, obj):
        return person_label(obj.cleared_by) or "-"

    def has_add_permission(self, request):
        return False  # raised by the checks and the scan

    def has_change_permission(self, request, obj=None):
        return obj is None and self.rule.can_change(request.user)

    @admin.action(description=_("Clear the selected flags, with a note"))
    def clear(self, request, queryset):
        rows = list(
            queryset.filter(is_open=True, pk__in=RecordFlag.objects.changeable_by(request.user).values("pk"))
        )
        if not rows:
            self.message_user(request, gettext("None of the selected flags is open for your review."))
            return None
        note, page = self.ask_note(
            request,
            rows,
            action="clear",
            title=gettext("Clear flags"),
            intro=gettext("Say what the review of these records found."),
            label=gettext("Review note"),
            button=gettext("Clear the flags"),
        )
        if page is not None:
            return page
        actor = request.user
        run_each(
            request,
            rows,
            lambda flag: services.flag_clear(actor=actor, flag=flag, note=note),
            done=gettext("%(count)d flags cleared."),
        )
        return None


# --- Trainings and evaluations -----------------------------------------------------------------------------


@admin.register(Training)
class TrainingAdmin(RecordsAdminBase):
    form = TrainingAdminForm
    list_display = ("date", "volunteer", "title", "organiser", "hours", "unit_short")
    list_filter = (InstituteFilter, ("date", admin.DateFieldListFilter))
    list_select_related = ("volunteer", "unit")
    search_fields = ("volunteer__name", "volunteer__number", "title", "organiser")
    ordering = ("-date", "-id")
    autocomplete_fields = ("volunteer",)

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("volunteer", "unit")

    @admin.display(description=_("recording unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    def get_readonly_fields(self, request, obj=None):
        return ("volunteer", "unit") if obj is not None else ()

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.TRAININGS_CHANGE), is_active=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "volunteer":
            kwargs["queryset"] = trainings.training_volunteers(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            changed = {name: data[name] for name in form.changed_data if name in trainings.TRAINING_FIELDS}
            self.adopt(obj, trainings.training_update(actor=request.user, training=obj, **changed))
        else:
            self.adopt(obj, trainings.training_create(actor=request.user, **data))


@admin.register(Evaluation)
class EvaluationAdmin(RecordsAdminBase):
    form = EvaluationAdminForm
    list_display = ("year", "volunteer", "team", "grade", "comment")
    list_filter = ("year", "grade", InstituteFilter)
    list_select_related = ("volunteer", "team")
    search_fields = ("volunteer__name", "volunteer__number", "team__name")
    ordering = ("-year", "team__name", "id")
    autocomplete_fields = ("volunteer", "team")

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("volunteer", "team")

    def get_readonly_fields(self, request, obj=None):
        return ("volunteer", "team", "year") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "volunteer":
            kwargs["queryset"] = trainings.evaluation_volunteers(request.user)
        if db_field.name == "team":
            kwargs["queryset"] = trainings.evaluation_teams(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            data = {"volunteer": obj.volunteer, "team": obj.team, "year": obj.year, **data}
        self.adopt(obj, trainings.evaluation_save(actor=request.user, **data))


# --- Certificates and their issuers ------------------------------------------------------------------------


@admin.register(IssuerProfile)
class IssuerProfileAdmin(RecordsAdminBase):
    """What a unit's certificates name: its person in charge, the handler, a contact and the seal."""

    form = IssuerProfileAdminForm
    list_display = ("unit", "person_in_charge", "handler", "contact", "has_seal")
    list_select_related = ("unit",)
    list_filter = (InstituteFilter,)
    search_fields = ("unit__name", "person_in_charge", "handler")
    ordering = ("unit__path",)

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("unit")

    @admin.display(description=_("seal image"), boolean=True)
    def has_seal(self, obj):
        return bool(obj.seal)

    @admin.display(description=_("current seal"))
    def seal_preview(self, obj):
        if obj is None or not obj.seal:
            return "-"
        url = reverse("admin:records_issuerprofile_seal", args=[obj.pk])
        return format_html('<img src="{}" alt="" width="120">', url)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("unit", "person_in_charge", "handler", "contact", "seal")
        return ("unit", "person_in_charge", "handler", "contact", "seal_preview", "seal")

    def get_readonly_fields(self, request, obj=None):
        return ("unit", "seal_preview") if obj is not None else ()

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(
            scope.q(capability=Capability.CERTIFICATES_MANAGE), is_active=True, issuer_profile__isnull=True
        )

    def save_model(self, request, obj, form, change):
        data = self.submitted(form, exclude=("unit", "seal"))
        seal = form.cleaned_data.get("seal") if "seal" in form.changed_data else None
        unit = obj.unit if change else form.cleaned_data["unit"]
        self.adopt(
            obj, trainings.issuer_profile_save(actor=request.user, unit=unit, seal=seal or None, **data)
        )

    def seal_view(self, request, object_id):
        profile = self.get_object(request, unquote(object_id))
        return _file_response(
            profile.seal, filename=profile.seal.name.rsplit("/", 1)[-1], as_attachment=False
        )

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/seal/",
                self.admin_site.admin_view(self.seal_view),
                name="records_issuerprofile_seal",
            )
        ]
        return own + super().get_urls()


@admin.register(Certificate)
class CertificateAdmin(RecordsAdminBase):
    """Certificates (志愿服务证明) as issued: read only, downloadable, revocable with a reason."""

    list_display = (
        "number_label",
        "volunteer",
        "issuer_short",
        "status",
        "total_hours",
        "issued_at",
        "pdf_link",
    )
    list_filter = ("status", "year", InstituteFilter)
    search_fields = ("number", "volunteer__name", "volunteer__number")
    ordering = ("-created_at", "-id")
    actions = ("revoke",)
    fields = (
        "number",
        "volunteer",
        "issuer",
        "status",
        "period_from",
        "period_to",
        "total_hours",
        "issued_at",
        "person_in_charge",
        "handler",
        "contact",
        "pdf_link",
        "error",
        "revoked_at",
        "revoked_by_label",
        "revoke_reason",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("volunteer", "issuer", "revoked_by")

    @admin.display(description=_("certificate number"), ordering="number")
    def number_label(self, obj):
        return obj.number or gettext("being prepared")

    @admin.display(description=_("issuing unit"), ordering="issuer__path")
    def issuer_short(self, obj):
        return obj.issuer.short_name

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj is None or not obj.pdf:
            return "-"
        url = reverse("admin:records_certificate_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    @admin.display(description=_("revoked by"))
    def revoked_by_label(self, obj):
        return person_label(obj.revoked_by) or "-"

    def has_add_permission(self, request):
        return False  # applied for by the volunteer; made by the certificate task

    def has_change_permission(self, request, obj=None):
        return obj is None and self.rule.can_change(request.user)

    @admin.action(description=_("Revoke the selected certificates, with a reason"))
    def revoke(self, request, queryset):
        rows = list(
            queryset.filter(
                status=CertificateStatus.READY,
                pk__in=Certificate.objects.changeable_by(request.user).values("pk"),
            )
        )
        if not rows:
            self.message_user(request, gettext("None of the selected certificates can be revoked by you."))
            return None
        reason, page = self.ask_note(
            request,
            rows,
            action="revoke",
            title=gettext("Revoke certificates"),
            intro=gettext("These certificates will be revoked; their verification page then says so."),
            label=gettext("Reason for revoking"),
            button=gettext("Revoke the certificates"),
        )
        if page is not None:
            return page
        from .certificates import certificate_revoke

        actor = request.user
        run_each(
            request,
            rows,
            lambda c: certificate_revoke(actor=actor, certificate=c, reason=reason),
            done=gettext("%(count)d certificates revoked."),
        )
        return None

    def pdf_view(self, request, object_id):
        certificate = self.get_object(request, unquote(object_id))
        if certificate.status not in (CertificateStatus.READY, CertificateStatus.REVOKED):
            raise Http404
        return _file_response(certificate.pdf, filename=f"{certificate.number}.pdf")

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="records_certificate_pdf",
            )
        ]
        return own + super().get_urls()


# --- Exports for the national system ---------------------------------------------------------------------


@admin.register(NationalExport)
class NationalExportAdmin(RecordsAdminBase):
    """Exports of approved records for the national volunteer system. Only those who may export see
    them: a file holds names (and, when asked for, full ID numbers)."""

    form = NationalExportAddForm
    list_display = (
        "created_at",
        "unit",
        "period_from",
        "period_to",
        "format",
        "with_id_numbers",
        "row_count",
        "created_by_label",
        "file_link",
    )
    list_filter = ("format", "with_id_numbers", InstituteFilter)
    search_fields = ("unit__name", "unit__code")
    ordering = ("-created_at", "-id")
    detail_fields = (
        "unit",
        "period_from",
        "period_to",
        "format",
        "with_id_numbers",
        "row_count",
        "created_by_label",
        "created_at",
        "file_link",
    )

    def scoped_queryset(self, request):
        return (
            NationalExport.objects.changeable_by(request.user)
            .select_related("unit", "created_by")
            .prefetch_related(people_prefetch("created_by"))
        )

    @admin.display(description=_("exported by"))
    def created_by_label(self, obj):
        return person_label(obj.created_by) or "-"

    @admin.display(description=_("file"))
    def file_link(self, obj):
        if obj is None or not obj.file:
            return "-"
        url = reverse("admin:records_nationalexport_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.detail_fields
        fields = ["unit", "period_from", "period_to", "format"]
        if scope_for(request.user).has(VolunteerCapability.VOLUNTEERS_VIEW_ID_NUMBER):
            fields.append("with_id_numbers")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.detail_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return obj is None and self.rule.can_change(request.user)

    def get_actions(self, request):
        return {}

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.RECORDS_EXPORT)).exclude(kind=UnitKind.POINT)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        data["with_id_numbers"] = bool(data.get("with_id_numbers"))
        export = exports.national_export_create(actor=request.user, ip_address=client_ip(request), **data)
        self.adopt(obj, export)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            gettext("The export holds %(count)d records not sent before.") % {"count": obj.row_count},
        )
        return HttpResponseRedirect(reverse("admin:records_nationalexport_change", args=[obj.pk]))

    def file_view(self, request, object_id):
        export = self.get_object(request, unquote(object_id))
        if export.with_id_numbers:
            # A file with full ID numbers: for those whose role shows them, and every download audited.
            if not exports.may_export_id_numbers(request.user, export.unit):
                raise Http404
            from volunteers.services import id_numbers_export_audit

            id_numbers_export_audit(actor=request.user, count=export.row_count, ip_address=client_ip(request))
        day = timezone.localtime(export.created_at).date() if export.created_at else datetime.date.today()
        filename = (
            f"{gettext('national export')}_{export.unit.code}_"
            f"{export.period_from:%Y%m%d}-{export.period_to:%Y%m%d}_{day:%Y%m%d}.{export.format}"
        )
        return _file_response(export.file, filename=filename)

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="records_nationalexport_file",
            )
        ]
        return own + super().get_urls()


# Not registered: CertificateSequence (the numbering, written only by the issuing service) and
# ExportedRecord (the sent-marks, written only by the export); both show through the rows they belong to.
