"""Admin of activities, their sign-ups, attendance, roster entries and reports. Lists and choices are
scoped by the models' own rules (an activity's unit and those above, and its named organisers); every
write goes through a service, whose refusals come back as form errors or as one message per row.

An activity is planned and changed through activity_create / activity_update, and moved on with the
actions (publish, confirm insurance, cancel, finish); nothing of this app is deleted here. Sign-ups and
attendance are read only (a sign-up is cancelled with the action). Volunteers appear by volunteer number
and name only, masked on the lists of sign-ups and attendance; no phone is shown, and of a check-in's
location only whether it was shared, never where.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kernel.validators import is_id
from records.admin_forms import NoteForm
from records.certificates import mask_name
from stations.admin import InstituteFilter
from stations.admin_scoping import DomainFilter, ScopedInline, ScopedModelAdmin, run_each
from stations.models import Platform, Unit
from stations.people import people_prefetch, person_label
from stations.scoping import scope_for
from volunteers.models import VolunteerStatus

from . import services
from .admin_forms import ACTIVITY_FIELDS, ActivityAdminForm, ActivityReportAdminForm
from .capabilities import Capability
from .models import (
    Activity,
    ActivityReport,
    ActivityReportPhoto,
    ActivityStatus,
    Attendance,
    OfflineEntry,
    Signup,
    SignupStatus,
)
from .querysets import ACTIVITY_RULE, RUN_RULE

NOTE_TEMPLATE = "admin/records/note_action.html"


def _runnable(user):
    """The activities `user` runs: their units' (with the capability) and those naming them."""
    return Activity.objects.filter(RUN_RULE.changeable_q(scope_for(user), user))


def _volunteer_number(obj) -> str:
    return obj.volunteer.number


def _volunteer_masked(obj) -> str:
    return mask_name(obj.volunteer.name)


class ActivitiesAdminBase(ScopedModelAdmin):
    """What every admin of this app shares: no lookups on a volunteer's personal data, nothing deleted,
    actions only for those who may change such rows somewhere."""

    def lookup_allowed(self, lookup, value, request=None):
        blocked = ("phone", "id_number", "name", "latitude", "longitude")
        if any(word in lookup for word in blocked) or lookup.split("__")[-1] == "user":
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Where an admin here has no form of its own, its rows change only through its actions."""
        raise PermissionDenied

    def save_formset(self, request, form, formset, change):
        # The inlines here are read only: nothing saved, a forged formset neither.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request, form, formsets, change):
        # Organisers go through the service with the activity; the inline rows are not saved.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def get_actions(self, request):
        return super().get_actions(request) if self.rule.can_change(request.user) else {}

    def ask_note(self, request, rows, *, action, title, intro, label, button):
        """The page an action shows to ask for its reason or note: (note, None) once given, else
        (None, the page)."""
        form = NoteForm(request.POST if "post" in request.POST else None, label=label)
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


# --- List filters -----------------------------------------------------------------------------------------


class PublishedFilter(admin.SimpleListFilter):
    title = _("published as news")
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", _("Published")), ("no", _("Not published"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.published()
        if self.value() == "no":
            return queryset.unpublished()
        return queryset


class ActivityFilter(admin.SimpleListFilter):
    """Rows of one activity: reached from the activity's page, offered once chosen."""

    title = _("activity")
    parameter_name = "activity"

    def lookups(self, request, model_admin):
        value = self.value()
        if not is_id(value):
            return []
        activity = Activity.objects.visible_to(request.user).filter(pk=int(value)).only("title").first()
        return [(value, activity.title)] if activity is not None else []

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not is_id(value):
            return queryset.none()
        return queryset.filter(activity_id=int(value))


class ActivityStatusFilter(admin.SimpleListFilter):
    title = _("activity status")
    parameter_name = "activity_status"

    def lookups(self, request, model_admin):
        return ActivityStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value in ActivityStatus.values:
            return queryset.filter(activity__status=value)
        return queryset if not value else queryset.none()


# --- The activity's sign-ups and attendance, read only ----------------------------------------------------

# Rows shown on an activity's page; the rest are on the sign-up and attendance lists, filtered to it.
SHOWN_ROWS = 200


def _table(headers, rows, *, more_url: str, more: str) -> str:
    if not rows:
        return "-"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
    )
    table = format_html(
        '<table class="activity-rows"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
    )
    if len(rows) >= SHOWN_ROWS:
        table = format_html('{}<p><a href="{}">{}</a></p>', table, more_url, more)
    return table


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else "-"


def _late_label(obj) -> str:
    parts = []
    if obj.in_arrived_late:
        parts.append(gettext("check-in"))
    if obj.out_arrived_late:
        parts.append(gettext("check-out"))
    return "、".join(parts) or "-"


def _location_label(obj) -> str:
    return gettext("shared") if obj.location_consented_at else gettext("not shared")


# --- Activities -------------------------------------------------------------------------------------------

_DETAIL_FIELDS = (
    "signups_table",
    "attendance_table",
    "status",
    "places",
    "waitlisted_count",
    "insurance_confirmed_at",
    "insurance_confirmed_by_label",
    "organisers_label",
    "created_by_label",
    "published_at",
    "finished_at",
    "cancelled_at",
    "cancel_reason",
)


@admin.register(Activity)
class ActivityAdmin(ActivitiesAdminBase):
    form = ActivityAdminForm
    list_display = ("title", "unit_short", "started_at", "status", "places", "waitlisted_count")
    list_display_links = ("title",)
    list_filter = (
        "status",
        DomainFilter,
        InstituteFilter,
        ("started_at", admin.DateFieldListFilter),
    )
    search_fields = ("title", "venue")
    search_help_text = _("Title or venue of the activity.")
    ordering = ("-started_at", "-id")
    actions = ("publish", "confirm_insurance", "cancel", "finish")

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("unit")

    # --- The list ----------------------------------------------------------------------------------

    @admin.display(description=_("organising unit"), ordering="unit__path")
    def unit_short(self, obj):
        return obj.unit.short_name

    @admin.display(description=_("accepted / places"))
    def places(self, obj):
        return f"{obj.accepted_count}/{obj.capacity}"

    @admin.display(description=_("insurance confirmed by"))
    def insurance_confirmed_by_label(self, obj):
        return person_label(obj.insurance_confirmed_by) or "-"

    @admin.display(description=_("created by"))
    def created_by_label(self, obj):
        return person_label(obj.created_by) or "-"

    @admin.display(description=_("organisers"))
    def organisers_label(self, obj):
        users = get_user_model().objects.filter(pk__in=obj.organiser_links.values("user_id"))
        users = users.order_by("pk").prefetch_related(people_prefetch())
        return "、".join(person_label(user) for user in users) or "-"

    @admin.display(description=_("sign-ups"))
    def signups_table(self, obj):
        """Volunteer number and masked name only, in queue order."""
        rows = [
            (s.volunteer.number, mask_name(s.volunteer.name), s.get_status_display(), _when(s.queued_at))
            for s in obj.signups.select_related("volunteer").order_by("queued_at", "id")[:SHOWN_ROWS]
        ]
        headers = (gettext("volunteer number"), gettext("name"), gettext("status"), gettext("signed up at"))
        more_url = reverse("admin:activities_signup_changelist") + f"?activity={obj.pk}"
        return _table(headers, rows, more_url=more_url, more=gettext("All sign-ups"))

    @admin.display(description=_("attendance"))
    def attendance_table(self, obj):
        rows = [
            (
                a.volunteer.number,
                mask_name(a.volunteer.name),
                _when(a.checked_in_at),
                _when(a.checked_out_at),
                _late_label(a),
                gettext("Yes") if a.missed_checkout else gettext("No"),
                _location_label(a),
            )
            for a in obj.attendances.select_related("volunteer")
            .defer("latitude", "longitude")
            .order_by("checked_in_at", "id")[:SHOWN_ROWS]
        ]
        headers = (
            gettext("volunteer number"),
            gettext("name"),
            gettext("checked in at"),
            gettext("checked out at"),
            gettext("sent later"),
            gettext("missed check-out"),
            gettext("location"),
        )
        more_url = reverse("admin:activities_attendance_changelist") + f"?activity={obj.pk}"
        return _table(headers, rows, more_url=more_url, more=gettext("All attendance"))

    # --- The form ----------------------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("unit", *ACTIVITY_FIELDS, "organisers")
        editable = self.has_change_permission(request, obj)
        return ("unit", *ACTIVITY_FIELDS, *(("organisers",) if editable else ()), *_DETAIL_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return ("unit", *_DETAIL_FIELDS) if obj is not None else ()

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.filter(scope.q(capability=Capability.ACTIVITIES_CHANGE), is_active=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "domain":
            kwargs["queryset"] = Platform.objects.visible_to(request.user).filter(is_active=True)
        if db_field.name == "project":
            from projects.models import Project, ProjectStatus

            kwargs["queryset"] = Project.objects.visible_to(request.user).filter(
                status__in=[ProjectStatus.PUBLISHED, ProjectStatus.RUNNING]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def organiser_choices(self, request, obj=None):
        """Who this admin may name: staff of the units they see and active volunteers of those units
        (services.may_organise decides for the activity's unit), and those named already."""
        units = Unit.objects.visible_to(request.user).values("pk")
        q = Q(is_staff=True, roles__unit__in=units) | Q(
            volunteer__status=VolunteerStatus.ACTIVE, volunteer__home_unit__in=units
        )
        if obj is not None and obj.pk is not None:
            q |= Q(pk__in=obj.organiser_links.values("user_id"))
        users = get_user_model().objects.filter(q, is_active=True)
        return (
            get_user_model()
            .objects.filter(pk__in=users.values("pk"))
            .select_related("volunteer")
            .order_by("first_name", "username")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "organisers" in form.base_fields:
            form = type(form.__name__, (form,), {"organiser_choices": self.organiser_choices(request, obj)})
        return form

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        organisers = list(data.pop("organisers", None) or [])
        if change:
            changed = {name: data[name] for name in form.changed_data if name in ACTIVITY_FIELDS}
            kwargs = {"organisers": organisers} if "organisers" in form.changed_data else {}
            saved = services.activity_update(actor=request.user, activity=obj, **changed, **kwargs)
        else:
            saved = services.activity_create(actor=request.user, organisers=organisers, **data)
        self.adopt(obj, saved)

    # --- The actions -------------------------------------------------------------------------------

    def _changeable(self, request, queryset):
        return list(queryset.filter(pk__in=Activity.objects.changeable_by(request.user).values("pk")))

    def _runs(self, request, queryset):
        return list(queryset.filter(pk__in=_runnable(request.user).values("pk")))

    @admin.action(description=_("Publish the selected activities"))
    def publish(self, request, queryset):
        rows = self._changeable(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected activities is yours to change."))
            return
        actor = request.user
        run_each(
            request,
            rows,
            lambda a: services.activity_publish(actor=actor, activity=a),
            done=gettext("%(count)d activities published."),
        )

    @admin.action(description=_("Confirm the volunteers' insurance, naming the policy"))
    def confirm_insurance(self, request, queryset):
        rows = self._runs(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected activities is organised by you."))
            return None
        note, page = self.ask_note(
            request,
            rows,
            action="confirm_insurance",
            title=gettext("Confirm insurance"),
            intro=gettext("Confirm that the volunteers of these activities are insured (条例 art. 17)."),
            label=gettext("Insurer or policy"),
            button=gettext("Confirm the insurance"),
        )
        if page is not None:
            return page
        actor = request.user
        run_each(
            request,
            rows,
            lambda a: services.activity_confirm_insurance(actor=actor, activity=a, note=note),
            done=gettext("Insurance confirmed for %(count)d activities."),
        )
        return None

    @admin.action(description=_("Cancel the selected activities, with a reason"))
    def cancel(self, request, queryset):
        rows = self._changeable(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected activities is yours to change."))
            return None
        reason, page = self.ask_note(
            request,
            rows,
            action="cancel",
            title=gettext("Cancel activities"),
            intro=gettext(
                "These activities will be cancelled with every sign-up; each volunteer is told the reason."
            ),
            label=gettext("Reason for cancelling"),
            button=gettext("Cancel the activities"),
        )
        if page is not None:
            return page
        actor = request.user
        run_each(
            request,
            rows,
            lambda a: services.activity_cancel(actor=actor, activity=a, reason=reason),
            done=gettext("%(count)d activities cancelled."),
        )
        return None

    @admin.action(description=_("Finish the selected activities"))
    def finish(self, request, queryset):
        rows = self._runs(request, queryset)
        if not rows:
            self.message_user(request, gettext("None of the selected activities is organised by you."))
            return
        actor = request.user
        run_each(
            request,
            rows,
            lambda a: services.activity_finish(actor=actor, activity=a),
            done=gettext("%(count)d activities finished."),
        )


# --- Sign-ups ---------------------------------------------------------------------------------------------


def _row_label(obj) -> str:
    """A sign-up's or attendance's name on a list: the volunteer's number and masked name."""
    return f"{obj.volunteer.number} {mask_name(obj.volunteer.name)} · {obj.activity.title}"


class _VolunteerColumns:
    def action_checkbox(self, obj):
        # Django's checkbox, labelled without the volunteer's full name.
        attrs = {
            "class": "action-select",
            "aria-label": format_html(gettext("Select this object for an action - {}"), _row_label(obj)),
        }
        return forms.CheckboxInput(attrs, lambda value: False).render(ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.display(description=_("activity"), ordering="activity__started_at")
    def activity_link(self, obj):
        url = reverse("admin:activities_activity_change", args=[obj.activity_id])
        return format_html('<a href="{}">{}</a>', url, obj.activity)

    @admin.display(description=_("volunteer number"), ordering="volunteer__number")
    def volunteer_number(self, obj):
        return _volunteer_number(obj)

    @admin.display(description=_("name"))
    def volunteer_name(self, obj):
        return _volunteer_masked(obj)


@admin.register(Signup)
class SignupAdmin(_VolunteerColumns, ActivitiesAdminBase):
    list_display = ("activity_link", "volunteer_number", "volunteer_name", "status", "queued_at")
    list_filter = ("status", ActivityStatusFilter, ActivityFilter)
    search_fields = ("volunteer__number", "activity__title")
    search_help_text = _("Volunteer number, or the activity's title.")
    ordering = ("-queued_at", "-id")
    actions = ("cancel",)
    fields = (
        "activity_link",
        "volunteer_number",
        "volunteer_name",
        "status",
        "queued_at",
        "promoted_at",
        "cancelled_at",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("activity", "volunteer")

    def has_add_permission(self, request):
        return False  # volunteers sign up on their pages or through the API

    def has_change_permission(self, request, obj=None):
        return obj is None and self.rule.can_change(request.user)

    @admin.action(description=_("Cancel the selected sign-ups"))
    def cancel(self, request, queryset):
        rows = list(
            queryset.exclude(status=SignupStatus.CANCELLED).filter(
                pk__in=Signup.objects.changeable_by(request.user).values("pk")
            )
        )
        if not rows:
            self.message_user(request, gettext("None of the selected sign-ups can be cancelled by you."))
            return
        actor = request.user
        run_each(
            request,
            rows,
            lambda s: services.signup_cancel(actor=actor, signup=s),
            done=gettext("%(count)d sign-ups cancelled."),
            label=_row_label,
        )


# --- Attendance -------------------------------------------------------------------------------------------


class _ReadOnlyAdmin(_VolunteerColumns, ActivitiesAdminBase):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(Attendance)
class AttendanceAdmin(_ReadOnlyAdmin):
    list_display = (
        "activity_link",
        "volunteer_number",
        "volunteer_name",
        "checked_in_at",
        "checked_out_at",
        "in_method",
        "late",
        "missed_checkout",
        "location_shared",
        "record_link",
    )
    list_filter = (
        "missed_checkout",
        "in_arrived_late",
        "out_arrived_late",
        ActivityStatusFilter,
        ActivityFilter,
    )
    search_fields = ("volunteer__number", "activity__title")
    search_help_text = _("Volunteer number, or the activity's title.")
    ordering = ("-checked_in_at", "-id")
    fields = (
        "activity_link",
        "volunteer_number",
        "volunteer_name",
        "checked_in_at",
        "in_method",
        "in_by_label",
        "checked_out_at",
        "out_method",
        "out_by_label",
        "late",
        "missed_checkout",
        "location_shared",
        "record_link",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return (
            super()
            .scoped_queryset(request)
            .select_related("activity", "volunteer", "in_by", "out_by")
            .defer("latitude", "longitude")
        )

    @admin.display(description=_("sent later"))
    def late(self, obj):
        return _late_label(obj)

    @admin.display(description=_("location"))
    def location_shared(self, obj):
        return _location_label(obj)

    @admin.display(description=_("service record"))
    def record_link(self, obj):
        if obj.record_id is None:
            return "-"
        url = reverse("admin:records_servicerecord_change", args=[obj.record_id])
        return format_html('<a href="{}">{}</a>', url, gettext("record %(id)s") % {"id": obj.record_id})

    @admin.display(description=_("checked in by"))
    def in_by_label(self, obj):
        return person_label(obj.in_by) or "-"

    @admin.display(description=_("checked out by"))
    def out_by_label(self, obj):
        return person_label(obj.out_by) or "-"


@admin.register(OfflineEntry)
class OfflineEntryAdmin(_ReadOnlyAdmin):
    list_display = (
        "received_at",
        "activity_link",
        "volunteer_number",
        "volunteer_name",
        "action",
        "happened_at",
        "arrived_late",
        "outcome",
        "message",
    )
    list_filter = ("outcome", "action", "arrived_late", ActivityFilter)
    search_fields = ("volunteer__number", "activity__title")
    ordering = ("-received_at", "-id")
    fields = (
        "key",
        "activity_link",
        "volunteer_number",
        "volunteer_name",
        "action",
        "happened_at",
        "received_at",
        "arrived_late",
        "sent_by_label",
        "outcome",
        "message",
    )
    readonly_fields = fields

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("activity", "volunteer", "sent_by")

    @admin.display(description=_("sent by"))
    def sent_by_label(self, obj):
        return person_label(obj.sent_by) or "-"


# --- Reports ----------------------------------------------------------------------------------------------


def _photo_preview(photo, width: int = 120):
    if not photo.image:
        return "-"
    shown = photo.thumbnail or photo.image  # the small file where there is one
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" width="{}" loading="lazy"></a>',
        photo.image.url,
        shown.url,
        photo.caption,
        width,
    )


class ActivityReportPhotoInline(ScopedInline, admin.TabularInline):
    """The report's photos as thumbnails, their captions and order; new ones come through the form's
    photo field, several at once, and each through the one image intake. Changes go through the
    services (report_photo_update, report_photo_remove)."""

    model = ActivityReportPhoto
    fields = ("preview", "caption", "position", "size")
    readonly_fields = ("preview", "size")
    extra = 0
    verbose_name_plural = _("photos")

    @admin.display(description=_("photo"))
    def preview(self, obj):
        return _photo_preview(obj)

    @admin.display(description=_("size"))
    def size(self, obj):
        return f"{obj.width}×{obj.height}" if obj.width and obj.height else "-"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ActivityReport)
class ActivityReportAdmin(ActivitiesAdminBase):
    form = ActivityReportAdminForm
    inlines = (ActivityReportPhotoInline,)
    list_display = (
        "activity_link",
        "unit_short",
        "people_served",
        "photo_count",
        "published_flag",
        "submitted_by_label",
        "updated_at",
    )
    list_filter = (PublishedFilter, InstituteFilter)
    search_fields = ("activity__title",)
    ordering = ("-created_at", "-id")
    actions = ("publish", "unpublish")

    def scoped_queryset(self, request):
        return (
            super()
            .scoped_queryset(request)
            .select_related("activity__unit", "submitted_by")
            .annotate(photo_total=Count("photos"))
            .prefetch_related(people_prefetch("submitted_by"))
        )

    @admin.display(description=_("activity"), ordering="activity__started_at")
    def activity_link(self, obj):
        url = reverse("admin:activities_activity_change", args=[obj.activity_id])
        return format_html('<a href="{}">{}</a>', url, obj.activity)

    @admin.display(description=_("organising unit"), ordering="activity__unit__path")
    def unit_short(self, obj):
        return obj.activity.unit.short_name

    @admin.display(description=_("photos"), ordering="photo_total")
    def photo_count(self, obj):
        return getattr(obj, "photo_total", "-")

    @admin.display(description=_("published as news"), boolean=True, ordering="published_at")
    def published_flag(self, obj):
        return obj.published_at is not None

    @admin.display(description=_("submitted by"))
    def submitted_by_label(self, obj):
        return person_label(obj.submitted_by) or "-"

    @admin.display(description=_("published by"))
    def published_by_label(self, obj):
        return person_label(obj.published_by) or "-"

    def get_fields(self, request, obj=None):
        fields = ("activity", "text", "people_served")
        if obj is None:
            return (*fields, "add_photos", "kept_photos")
        shown = (*fields, "submitted_by_label", "published_at", "published_by_label")
        if self.has_change_permission(request, obj):
            shown = (*shown, "add_photos", "kept_photos")
        return shown

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("activity", "submitted_by_label", "published_at", "published_by_label")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"photo_owner": request.user})

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_actions(self, request):
        # Publishing is the staff's (ACTIVITIES_CHANGE), not every organiser's.
        if not ACTIVITY_RULE.can_change(request.user):
            return {}
        return super(ActivitiesAdminBase, self).get_actions(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "activity":
            kwargs["queryset"] = (
                _runnable(request.user)
                .filter(ended_at__lte=timezone.now(), report__isnull=True)
                .exclude(status=ActivityStatus.CANCELLED)
                .select_related("unit")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        activity = obj.activity if change else form.cleaned_data["activity"]
        report = services.report_submit(
            actor=request.user,
            activity=activity,
            text=form.cleaned_data["text"],
            people_served=form.cleaned_data["people_served"],
            photos=form.cleaned_data.get("add_photos") or [],
        )
        self.adopt(obj, report)

    def save_formset(self, request, form, formset, change):
        if formset.model is ActivityReportPhoto:
            actor = request.user
            for row in formset.initial_forms:
                photo = row.instance
                if row.cleaned_data.get("DELETE"):
                    services.report_photo_remove(actor=actor, photo=photo.pk)
                elif row.has_changed():
                    services.report_photo_update(
                        actor=actor,
                        photo=photo.pk,
                        caption=row.cleaned_data.get("caption", photo.caption),
                        position=row.cleaned_data.get("position", photo.position),
                    )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- The actions -------------------------------------------------------------------------------

    @admin.action(description=_("Publish the selected reports as news"))
    def publish(self, request, queryset):
        actor = request.user
        run_each(
            request,
            list(queryset.select_related("activity")),
            lambda report: services.report_publish(actor=actor, report=report.pk),
            done=gettext("%(count)d reports published."),
        )

    @admin.action(description=_("Take the selected reports off the public pages"))
    def unpublish(self, request, queryset):
        actor = request.user
        run_each(
            request,
            list(queryset.select_related("activity")),
            lambda report: services.report_unpublish(actor=actor, report=report.pk),
            done=gettext("%(count)d reports taken off the public pages."),
        )


@admin.register(ActivityReportPhoto)
class ActivityReportPhotoAdmin(ActivitiesAdminBase):
    """Every report photo of the activities the user runs, as thumbnails: read only (they are changed on
    their report's page)."""

    list_display = ("preview", "report_link", "caption", "position", "created_at")
    list_filter = (InstituteFilter,)
    search_fields = ("report__activity__title", "caption")
    ordering = ("-id",)
    fields = ("preview", "report_link", "caption", "position", "width", "height")
    readonly_fields = fields

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).select_related("report__activity")

    @admin.display(description=_("photo"))
    def preview(self, obj):
        return _photo_preview(obj, width=80)

    @admin.display(description=_("report"))
    def report_link(self, obj):
        url = reverse("admin:activities_activityreport_change", args=[obj.report_id])
        return format_html('<a href="{}">{}</a>', url, obj.report.activity)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


# Not registered: ActivityOrganiser (chosen on the activity's form, written by its services).
