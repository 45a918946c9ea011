"""Admin of the project library and the yearly key-project lists. Lists and choices are scoped by the
models' own rules (a project's or a list's unit); every write goes through a service, whose refusals come
back as form errors on their field or as one message per row.

A project is added and changed through project_create / project_update and moved through its lifecycle
with the actions (publish, start, back to draft) and the closing page (结项), which asks for the closing
report; a closed project is read only. A key-project list is made with its twelve months by
key_list_create; each month is filled on the list's page through key_month_update, or all twelve at once
from an Excel workbook. Nothing of this app is deleted here.
"""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kernel.admin_export import XLSX_CONTENT_TYPE
from kernel.errors import ApplicationError
from stations.admin import InstituteFilter
from stations.admin_scoping import DomainFilter, ScopedInline, ScopedModelAdmin, run_each
from stations.models import Platform, Unit
from stations.people import person_label
from stations.scoping import scope_for

from . import excel, services
from .admin_forms import (
    MONTH_FIELDS,
    PROJECT_FIELDS,
    KeyListImportForm,
    KeyProjectListAdminForm,
    KeyProjectMonthForm,
    ProjectAdminForm,
    ProjectCloseForm,
)
from .capabilities import Capability
from .models import KeyProjectList, KeyProjectMonth, Project, ProjectPhoto, ProjectStatus

FORM_TEMPLATE = "admin/projects/form_page.html"


class ProjectsAdminBase(ScopedModelAdmin):
    """What every admin of this app shares: nothing deleted, actions only for those who may change such
    rows somewhere."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return super().get_actions(request) if self.rule.can_change(request.user) else {}

    def form_page(self, request, obj, *, title, intro, form, button, multipart=False, refusal=None):
        """A page of one form about `obj` (closing a project, importing a list), in the admin's frame."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(obj),
            "intro": intro,
            "refusal": refusal,
            "opts": self.opts,
            "original": obj,
            "form": form,
            "button": button,
            "multipart": multipart,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)


# --- Projects --------------------------------------------------------------------------------------------


class ProjectPhotoInline(ScopedInline, admin.TabularInline):
    """The closing report's photos, read only: they come through the image intake."""

    model = ProjectPhoto
    fields = ("preview", "caption")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("photos of the closing report")

    @admin.display(description=_("photo"))
    def preview(self, obj):
        if not obj.image:
            return "-"
        # The small file where there is one (photos from before thumbnails have none).
        shown = obj.thumbnail or obj.image
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">'
            '<img src="{}" alt="{}" width="160" loading="lazy"></a>',
            obj.image.url,
            shown.url,
            obj.caption,
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


_LIFECYCLE_FIELDS = ("status", "created_by_label", "published_at", "started_at", "closed_at")
_CLOSING_FIELDS = ("closing_report", "closing_people_served", "closing_volunteers", "closing_hours")


@admin.register(Project)
class ProjectAdmin(ProjectsAdminBase):
    form = ProjectAdminForm
    list_display = ("name", "domain", "unit_short", "status", "is_brand")
    list_display_links = ("name",)
    list_filter = ("status", "is_brand", DomainFilter, InstituteFilter)
    search_fields = ("name", "unit__name")
    search_help_text = _("Name of the project, or of its responsible unit.")
    ordering = ("-created_at", "-id")
    actions = ("publish", "start", "back_to_draft", "close")
    inlines = (ProjectPhotoInline,)

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("unit", "domain")

    @admin.display(description=_("responsible unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    @admin.display(description=_("created by"))
    def created_by_label(self, obj):
        return person_label(obj.created_by) or "-"

    # --- The form ----------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("unit", *PROJECT_FIELDS)})]
        return [
            (None, {"fields": ("unit", *PROJECT_FIELDS)}),
            (_("lifecycle"), {"fields": _LIFECYCLE_FIELDS}),
            (_("closing report"), {"fields": _CLOSING_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return ("unit", *_LIFECYCLE_FIELDS, *_CLOSING_FIELDS) if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # A closed project is history: its page is read only (project_update refuses it too).
        if obj is not None and obj.status == ProjectStatus.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.PROJECTS_CHANGE), is_active=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "domain":
            kwargs["queryset"] = Platform.objects.visible_to(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            changed = {name: data[name] for name in PROJECT_FIELDS if name in data}
            saved = services.project_update(actor=request.user, project=obj, **changed)
        else:
            saved = services.project_create(actor=request.user, **data)
        self.adopt(obj, saved)

    def save_formset(self, request, form, formset, change):
        # The photos are read only here: nothing saved, a forged formset neither.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        running = obj is not None and obj.status == ProjectStatus.RUNNING
        if running and self.has_change_permission(request, obj):
            context["close_url"] = reverse("admin:projects_project_close", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- The lifecycle -----------------------------------------------------------------------------

    def _changeable(self, request, queryset):
        return list(queryset.filter(pk__in=Project.objects.changeable_by(request.user).values("pk")))

    def _move(self, request, queryset, to: str, *, done: str) -> None:
        rows = self._changeable(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected projects is yours to change."))
            return
        actor = request.user
        run_each(
            request, rows, lambda p: services.project_transition(actor=actor, project=p, to=to), done=done
        )

    @admin.action(description=_("Publish the selected projects"))
    def publish(self, request, queryset):
        self._move(request, queryset, ProjectStatus.PUBLISHED, done=gettext("%(count)d projects published."))

    @admin.action(description=_("Start the selected projects"))
    def start(self, request, queryset):
        self._move(request, queryset, ProjectStatus.RUNNING, done=gettext("%(count)d projects started."))

    @admin.action(description=_("Move the selected projects back to draft"))
    def back_to_draft(self, request, queryset):
        self._move(
            request, queryset, ProjectStatus.DRAFT, done=gettext("%(count)d projects moved back to draft.")
        )

    @admin.action(description=_("Close the selected project, with its closing report"))
    def close(self, request, queryset):
        rows = self._changeable(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected projects is yours to change."))
            return None
        if len(rows) > 1:
            self.message_user(
                request,
                gettext("Close one project at a time: each has its own closing report."),
                level=messages.WARNING,
            )
            return None
        return HttpResponseRedirect(reverse("admin:projects_project_close", args=[rows[0].pk]))

    def close_view(self, request, object_id):
        project = self.get_object(request, unquote(object_id))
        if not self.has_change_permission(request, project):
            raise PermissionDenied
        form = ProjectCloseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            closed = form.run_service(
                services.project_transition,
                actor=request.user,
                project=project,
                to=ProjectStatus.CLOSED,
                closing_report=data["closing_report"],
                people_served=data["people_served"],
                volunteers=data["volunteers"],
                hours=data["hours"],
            )
            if closed is not None:
                self.log_change(request, closed, gettext("Closed, with its closing report."))
                self.message_user(request, gettext("“%(project)s” was closed.") % {"project": closed})
                return HttpResponseRedirect(reverse("admin:projects_project_change", args=[closed.pk]))
        return self.form_page(
            request,
            project,
            title=gettext("Close the project"),
            intro=gettext(
                "A closed project (结项) is history: its details and report change no more. Write what "
                "the project did and the number of people it served."
            ),
            form=form,
            button=gettext("Close the project"),
            refusal=services.transition_refusal(project, ProjectStatus.CLOSED),
        )

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/close/",
                self.admin_site.admin_view(self.close_view),
                name="projects_project_close",
            )
        ]
        return own + super().get_urls()


# --- Key-project lists -----------------------------------------------------------------------------------


class MonthRefusal(ApplicationError):
    """A refusal of key_month_update, with the month it was for: shown on that row of the list's page."""

    def __init__(self, error: ApplicationError, *, month_id: int):
        super().__init__(error.message, field=error.field, extra=error.extra)
        self.month_id = month_id


def _choices(queryset, label) -> dict:
    return {"queryset": queryset, "options": [(row.pk, label(row)) for row in queryset]}


class KeyProjectMonthInline(ScopedInline, admin.TabularInline):
    """The list's twelve months; a changed row is written through key_month_update."""

    model = KeyProjectMonth
    form = KeyProjectMonthForm
    fields = ("month", *MONTH_FIELDS)
    readonly_fields = ("month",)
    extra = 0
    can_delete = False
    ordering = ("month",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("projects", "responsible_units")

    def has_add_permission(self, request, obj=None):
        return False  # the twelve months are made with the list

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The form sets its own choices and widgets; no popup to edit a project or a unit from here.
        if db_field.name in ("projects", "responsible_units"):
            return db_field.formfield(**kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        attrs = {}
        if obj is not None:
            # Read once for the twelve rows: what the list may name (key_month_update checks again).
            depth = obj.unit.depth
            attrs["project_choices"] = _choices(
                services.allowed_projects(obj).select_related("unit").order_by("unit__path", "name"),
                lambda p: f"{p.name}（{p.unit.short_name}）",
            )
            attrs["unit_choices"] = _choices(
                services.allowed_units(obj).order_by("path"),
                lambda u: f"{'　' * (u.depth - depth)}{u.short_name}",
            )
        refusal = ScopedModelAdmin.service_refusal(request)
        if isinstance(refusal, MonthRefusal):
            attrs["month_refusal"] = refusal
        kwargs["form"] = type("KeyProjectMonthForm", (self.form,), attrs)
        return super().get_formset(request, obj, **kwargs)


@admin.register(KeyProjectList)
class KeyProjectListAdmin(ProjectsAdminBase):
    form = KeyProjectListAdminForm
    list_display = ("title", "unit_short", "year", "updated_at")
    list_display_links = ("title",)
    list_filter = ("year", InstituteFilter)
    search_fields = ("title", "unit__name")
    search_help_text = _("Title of the list, or name of its unit.")
    ordering = ("-year", "unit__path")
    inlines = (KeyProjectMonthInline,)

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("unit")

    @admin.display(description=_("unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    def get_fields(self, request, obj=None):
        return ("unit", "year", "title", "note")

    def get_readonly_fields(self, request, obj=None):
        # A list's unit and year are what it is; its months are what is edited.
        return ("unit", "year", "title", "note") if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.KEY_LISTS_CHANGE), is_active=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if isinstance(self.service_refusal(request), MonthRefusal):
            # Shown on its month's row, not again at the top.
            form = type(form.__name__, (form,), {"service_error": None})
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of the list itself is edited here; its months are saved with the rows
        data = self.submitted(form)
        self.adopt(obj, services.key_list_create(actor=request.user, **data))

    def save_formset(self, request, form, formset, change):
        actor = request.user
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        # Only the list's own months: a row added to the form by hand is not one.
        for row in formset.initial_forms:
            if not row.has_changed():
                continue
            data = row.cleaned_data
            try:
                services.key_month_update(
                    actor=actor,
                    month=row.instance,
                    theme=data.get("theme") or "",
                    key_dates=data.get("key_dates") or "",
                    note=data.get("note") or "",
                    projects=list(data.get("projects") or ()),
                    responsible_units=list(data.get("responsible_units") or ()),
                )
            except ApplicationError as error:
                raise MonthRefusal(error, month_id=row.instance.pk) from error
            formset.changed_objects.append((row.instance, row.changed_data))

    def response_add(self, request, obj, post_url_continue=None):
        # The twelve months exist only now: go straight to filling them.
        self.message_user(request, gettext("The list was made with its twelve months. Now fill them in."))
        return HttpResponseRedirect(reverse("admin:projects_keyprojectlist_change", args=[obj.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["export_url"] = reverse("admin:projects_keyprojectlist_export", args=[obj.pk])
            if self.has_change_permission(request, obj):
                context["import_url"] = reverse("admin:projects_keyprojectlist_import", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Excel -------------------------------------------------------------------------------------

    def export_view(self, request, object_id):
        plan = self.get_object(request, unquote(object_id))
        response = FileResponse(
            io.BytesIO(excel.key_list_export(plan)),
            as_attachment=True,
            filename=f"{plan.title.replace('/', '_')}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def import_view(self, request, object_id):
        plan = self.get_object(request, unquote(object_id))
        if not self.has_change_permission(request, plan):
            raise PermissionDenied
        form = KeyListImportForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
        )
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    excel.key_list_import(actor=request.user, plan=plan, upload=form.cleaned_data["file"])
            except ApplicationError as error:
                # One message a bad row, each on the file field.
                for message in error.extra.get("rows") or [error.message]:
                    form.add_error("file", message)
            else:
                self.log_change(request, plan, gettext("Imported the twelve months from Excel."))
                self.message_user(request, gettext("The twelve months were imported."))
                return HttpResponseRedirect(reverse("admin:projects_keyprojectlist_change", args=[plan.pk]))
        return self.form_page(
            request,
            plan,
            title=gettext("Import the list from Excel"),
            intro=gettext(
                "Export the list, fill in its twelve rows (projects by name, responsible units by code, "
                "several joined by 、) and upload it. A file with any bad row changes nothing; every "
                "problem is listed."
            ),
            form=form,
            button=gettext("Upload and import"),
            multipart=True,
        )

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="projects_keyprojectlist_export",
            ),
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="projects_keyprojectlist_import",
            ),
        ]
        return own + super().get_urls()


# Not registered: ProjectPhoto (shown on its project's page) and KeyProjectMonth (edited on its list's).
