"""Admin of the practice network, in Chinese. Every list and choice is scoped by the models' own rules;
every write goes through a service."""

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from kernel import accounts as kernel_accounts
from kernel.forms import KeptPhotosFormMixin
from kernel.masking import mask_phone

from . import accounts as station_accounts
from . import services
from .admin_reports import ScopedExcelExportMixin, UnitReportsMixin
from .admin_scoping import ScopedAdminForm, ScopedInline, ScopedModelAdmin
from .models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionFollowUp,
    InspectionPhoto,
    InspectionResult,
    Platform,
    RoleAssignment,
    Unit,
    UnitKind,
)
from .people import people_prefetch, person_label
from .scoping import Capability, can, scope_for, scope_rule_of, subtree_q
from .selectors import checklist_list

admin.site.site_header = _("New Era Civilization Practice Center")
admin.site.site_title = _("Practice center administration")
admin.site.index_title = _("Administration")


class InstituteFilter(admin.SimpleListFilter):
    """Rows of one institute's subtree; the way from a row to its unit is the model's own scope rule."""

    title = _("institute")
    parameter_name = "institute"

    def __init__(self, request, params, model, model_admin):
        self.unit_lookup = scope_rule_of(model).lookup
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        institutes = Unit.objects.visible_to(request.user).of_kind(UnitKind.INSTITUTE).only("pk", "name")
        return [(str(u.pk), u.name) for u in institutes]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        path = None
        if value.isascii() and value.isdigit() and len(value) <= 18:
            path = (
                Unit.objects.visible_to(request.user)
                .filter(pk=int(value))
                .values_list("path", flat=True)
                .first()
            )
        if path is None:
            return queryset.none()  # not an institute this user sees: nothing, as for one without rows
        return queryset.filter(subtree_q(path, self.unit_lookup))


def _save_inline_rows(formset, *, add, update, remove) -> None:
    """Hand each inline row to a service: `add(data)`, `update(instance, changed data)`, `remove(instance)`.
    Records what was done as `formset.save()` would, for the admin's history message."""
    deleted = set(formset.deleted_forms) if formset.can_delete else set()
    skip = {"id", "DELETE", formset.fk.name}
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for row in formset.forms:
        data = {name: value for name, value in row.cleaned_data.items() if name not in skip}
        if row in deleted:
            if row.instance.pk is not None:
                remove(row.instance)
                formset.deleted_objects.append(row.instance)
        elif row.instance.pk is None:
            if row.has_changed():
                formset.new_objects.append(add(data))
        elif row.has_changed():
            update(row.instance, {name: data[name] for name in row.changed_data if name in data})
            formset.changed_objects.append((row.instance, row.changed_data))


# --- Units ----------------------------------------------------------------------------------------


class UnitAdminForm(ScopedAdminForm):
    class Meta:
        model = Unit
        fields = services.UNIT_FIELDS
        widgets = {"highlight": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "code" in self.fields:
            # Given by the service from the parent's code when left empty; the page fills in a suggestion.
            self.fields["code"].required = False
            self.fields["code"].help_text = _("Suggested from the parent unit's code; you may change it.")


@admin.register(Unit)
class UnitAdmin(UnitReportsMixin, ScopedModelAdmin):
    form = UnitAdminForm
    change_list_template = "admin/stations/unit/change_list.html"
    # The columns in the order a clerk reads them (name first), not the form's.
    export_fields = (
        "name",
        "kind",
        "code",
        "parent__name",
        "category",
        "address",
        "longitude",
        "latitude",
        "contact_person",
        "contact_phone",
        "recognition_level",
        "highlight",
        "is_active",
    )
    list_display = ("tree_name", "kind", "code", "parent", "recognition_level", "contact_person", "is_active")
    list_display_links = ("tree_name",)
    list_filter = ("kind", InstituteFilter, "recognition_level", "category", "is_active")
    list_select_related = ("parent",)
    search_fields = ("name", "code", "address", "contact_person")
    autocomplete_fields = ("parent",)
    ordering = ("path",)
    readonly_fields = ("breadcrumb", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("breadcrumb", "kind", "name", "code", "parent", "category", "is_active")}),
        (
            _("Location and contacts"),
            {"fields": ("address", ("longitude", "latitude"), "contact_person", "contact_phone")},
        ),
        (_("Recognition and brand"), {"fields": ("recognition_level", "highlight")}),
        (_("Record"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj):
        # Indent by depth so the list reads as the tree it is (rows are in path order).
        return format_html(
            '<span style="padding-left:{}em">{}{}</span>',
            obj.depth * 1.2,
            "└ " if obj.depth else "",
            obj.name,
        )

    @admin.display(description=_("position in the tree"))
    def breadcrumb(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html_join(
            " › ", "{}", ((u.name,) for u in Unit.objects.ancestors_of(obj, include_self=True))
        )

    @admin.display(description=_("contact phone"))
    def masked_contact_phone(self, obj):
        return mask_phone(obj.contact_phone) if obj is not None else ""

    def _hides_contacts(self, request, obj) -> bool:
        return obj is not None and not can(request.user, Capability.UNITS_VIEW_CONTACTS, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._hides_contacts(request, obj):
            return fieldsets
        swap = {"contact_phone": "masked_contact_phone"}
        return [
            (
                title,
                {
                    **options,
                    "fields": [swap.get(f, f) if isinstance(f, str) else f for f in options["fields"]],
                },
            )
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += services.unit_fields_decided_above(actor=request.user, unit=obj)
        if self._hides_contacts(request, obj):
            fields.append("masked_contact_phone")
        return fields

    def has_delete_permission(self, request, obj=None):
        return services.unit_may_delete(actor=request.user, unit=obj)

    def unit_choices(self, request, db_field):
        return Unit.objects.changeable_by(request.user).exclude(kind=UnitKind.POINT)

    def autocomplete_labels(self, units):
        return services.unit_labels_with_township(units)

    def lookup_allowed(self, lookup, value, request=None):
        # A masked phone must not be guessable digit by digit through a filter on the list, the map or
        # the export: nobody filters by phone.
        return not lookup.startswith("contact_phone") and super().lookup_allowed(lookup, value, request)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if "parent" not in initial:
            parent = services.unit_default_parent(actor=request.user)
            if parent is not None:
                initial["parent"] = parent.pk
                kinds = services.unit_kinds_under(parent)
                initial.setdefault("kind", kinds[0].value if kinds else "")
                if kinds:
                    initial.setdefault("code", services.unit_code_suggest(parent=parent, kind=kinds[0]))
        return initial

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            # Only what this user may add anywhere; the page narrows it to the chosen parent.
            kinds = services.unit_kinds_creatable(actor=request.user)
            kwargs["choices"] = [("", "---------"), *((kind.value, kind.label) for kind in kinds)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_urls(self):
        placement = path(
            "placement/",
            self.admin_site.admin_view(self.placement_view),
            name="stations_unit_placement",
        )
        return [placement, *super().get_urls()]

    def placement_view(self, request):
        """For the add form: the kinds that may go under a parent, and the code suggested there."""
        parent_id = request.GET.get("parent", "")
        parent = None
        if parent_id.isascii() and parent_id.isdigit() and len(parent_id) <= 18:
            parent = self.unit_choices(request, None).filter(pk=int(parent_id)).first()
        if parent is None:
            return JsonResponse({"kinds": [], "code": ""})
        creatable = set(services.unit_kinds_creatable(actor=request.user))
        kinds = [kind for kind in services.unit_kinds_under(parent) if kind in creatable]
        wanted = request.GET.get("kind", "")
        kind = next((k for k in kinds if k.value == wanted), kinds[0] if kinds else None)
        return JsonResponse(
            {
                "kinds": [[k.value, str(k.label)] for k in kinds],
                "code": services.unit_code_suggest(parent=parent, kind=kind) if kind else "",
            }
        )

    @property
    def media(self):
        return super().media + forms.Media(js=["admin/js/jquery.init.js", "js/unit-placement.js"])

    def save_model(self, request, obj, form, change):
        data = self.submitted(form)
        if change:
            services.unit_update(actor=request.user, unit=obj, **data)
        else:
            self.adopt(obj, services.unit_create(actor=request.user, **data))

    def service_delete(self, request, obj):
        services.unit_delete(actor=request.user, unit=obj)


# --- Platforms and standards ----------------------------------------------------------------------


class CenterOwnedAdmin(ScopedModelAdmin):
    """Platforms and standards: owned by a center, read by all under it, changed by its county admins."""

    def unit_choices(self, request, db_field):
        scope = scope_for(request.user)
        return Unit.objects.of_kind(UnitKind.CENTER).filter(scope.q(capability=Capability.REFERENCE_CHANGE))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "center"] if obj is not None else fields  # reference data stays with its center


class PlatformAdminForm(ScopedAdminForm):
    class Meta:
        model = Platform
        fields = ("center", "name", "code", "responsible_department", "description", "order", "is_active")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


@admin.register(Platform)
class PlatformAdmin(ScopedExcelExportMixin, CenterOwnedAdmin):
    form = PlatformAdminForm
    export_fields = (
        "name",
        "code",
        "center__name",
        "responsible_department",
        "description",
        "order",
        "is_active",
    )
    list_display = ("name", "code", "responsible_department", "center", "order", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("center",)
    search_fields = ("name", "code", "responsible_department")
    ordering = ("center", "order")

    def save_model(self, request, obj, form, change):
        if change:
            services.platform_update(actor=request.user, platform=obj, **self.submitted(form))
        else:
            self.adopt(obj, services.platform_create(actor=request.user, **self.submitted(form)))

    def service_delete(self, request, obj):
        services.platform_delete(actor=request.user, platform=obj)


class ChecklistItemInline(ScopedInline, admin.TabularInline):
    model = ChecklistItem
    fields = ("order", "text", "weight")
    extra = 1


class ChecklistAdminForm(ScopedAdminForm):
    class Meta:
        model = Checklist
        fields = ("center", "name", "unit_kind", "description", "is_active")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


@admin.register(Checklist)
class ChecklistAdmin(CenterOwnedAdmin):
    form = ChecklistAdminForm
    list_display = ("name", "unit_kind", "center", "item_count", "is_active")
    list_filter = ("unit_kind", "is_active")
    list_select_related = ("center",)
    search_fields = ("name",)
    inlines = (ChecklistItemInline,)

    def scoped_queryset(self, request):
        return checklist_list(user=request.user)

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    def save_model(self, request, obj, form, change):
        if change:
            services.checklist_update(actor=request.user, checklist=obj, **self.submitted(form))
        else:
            self.adopt(obj, services.checklist_create(actor=request.user, **self.submitted(form)))

    def save_formset(self, request, form, formset, change):
        actor, checklist = request.user, form.instance
        _save_inline_rows(
            formset,
            add=lambda data: services.checklist_item_add(actor=actor, checklist=checklist, **data),
            update=lambda item, data: services.checklist_item_update(actor=actor, item=item, **data),
            remove=lambda item: services.checklist_item_remove(actor=actor, item=item),
        )

    def service_delete(self, request, obj):
        services.checklist_delete(actor=request.user, checklist=obj)


# --- Inspections ------------------------------------------------------------------------------------


class InspectionResultInline(ScopedInline, admin.TabularInline):
    model = InspectionResult
    extra = 0
    fields = ("item_text", "weight", "met", "note")
    readonly_fields = ("item_text", "weight")

    def has_add_permission(self, request, obj=None):
        return False  # rows come from the standard's items when the inspection is recorded

    def has_delete_permission(self, request, obj=None):
        return False


def _thumbnail(photo):
    if not photo.image:
        return "-"
    url = reverse("protected-file", args=[photo.image.name])
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" class="evidence-thumb"></a>',
        url,
        url,
        photo.caption,
    )


class FollowUpDisplay:
    """How a follow-up shows, on its own page and inside its inspection's."""

    @admin.display(description=_("evidence photos"))
    def evidence(self, obj):
        photos = list(obj.photos.all())
        return format_html_join(" ", "{}", ((_thumbnail(photo),) for photo in photos)) if photos else "-"

    @admin.display(description=_("written by"))
    def author_label(self, obj):
        return person_label(obj.author) or "-"


class InspectionPhotoInline(ScopedInline, admin.TabularInline):
    """The inspection's own evidence photos, as thumbnails; new ones come through the form's photo
    field, several at once."""

    model = InspectionPhoto
    fields = ("thumbnail", "caption")
    readonly_fields = ("thumbnail",)
    extra = 0
    verbose_name_plural = _("evidence photos")

    @admin.display(description=_("photo"))
    def thumbnail(self, obj):
        return _thumbnail(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(follow_up__isnull=True)

    def has_add_permission(self, request, obj=None):
        return False


class InspectionFollowUpInline(FollowUpDisplay, ScopedInline, admin.StackedInline):
    """The follow-ups (整改) added after the inspection, read-only: each is a dated record of its own."""

    model = InspectionFollowUp
    fields = ("created_at", "author_label", "note", "evidence")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("author")
            .prefetch_related("photos", people_prefetch("author"))
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InspectionAdminForm(KeptPhotosFormMixin, ScopedAdminForm):
    class Meta:
        model = Inspection
        fields = ("unit", "checklist", "inspected_on", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


@admin.register(Inspection)
class InspectionAdmin(ScopedExcelExportMixin, ScopedModelAdmin):
    form = InspectionAdminForm
    export_fields = (
        "unit__name",
        ("unit__code", _("unit code")),
        ("unit__kind", _("unit kind")),
        "checklist__name",
        "inspected_on",
        "score",
        "items_met",
        "items_total",
        ("inspector__first_name", _("inspector")),
        "inspector_unit__name",
        "note",
    )
    list_display = ("unit", "checklist", "inspected_on", "score", "items_summary", "inspector_label")
    list_filter = (("checklist", admin.RelatedOnlyFieldListFilter), "unit__kind", InstituteFilter)
    list_select_related = ("unit", "checklist", "inspector")
    search_fields = ("unit__name", "unit__code", "note")
    date_hierarchy = "inspected_on"
    autocomplete_fields = ("unit",)
    readonly_fields = (
        "inspector_label",
        "inspector_unit",
        "score",
        "items_met",
        "items_total",
        "edit_deadline",
    )
    inlines = (InspectionResultInline, InspectionPhotoInline, InspectionFollowUpInline)
    change_form_template = "admin/stations/inspection/change_form.html"

    @admin.display(description=_("items met"))
    def items_summary(self, obj):
        return f"{obj.items_met}/{obj.items_total}"

    @admin.display(description=_("inspector"), ordering="inspector__first_name")
    def inspector_label(self, obj):
        return person_label(obj.inspector) or "-"

    def scoped_queryset(self, request):
        # The inspecting unit is read by every permission check of a row (whose inspection it is).
        return (
            super()
            .scoped_queryset(request)
            # Named whole: a queryset that selects anything itself gets no list_select_related.
            .select_related("unit", "checklist", "inspector", "inspector_unit")
            .prefetch_related(people_prefetch("inspector"))
        )

    @admin.display(description=_("open for correction until"))
    def edit_deadline(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return timezone.localtime(services.inspection_edit_deadline(obj)).strftime("%Y-%m-%d %H:%M")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("unit", "checklist", "inspected_on", "note", "add_photos", "kept_photos")
        fields = ["unit", "checklist", "inspected_on", "inspector_label", "inspector_unit", "edit_deadline"]
        fields += ["score", "items_met", "items_total", "note"]
        if self.has_change_permission(request, obj):
            fields += ["add_photos", "kept_photos"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"photo_owner": request.user})

    def unit_choices(self, request, db_field):
        return Unit.objects.inspectable_by(request.user).with_active_standard()

    def autocomplete_labels(self, units):
        return services.unit_labels_with_township(units)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "checklist":
            kwargs["queryset"] = Checklist.objects.visible_to(request.user).active().select_related("center")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["unit", "checklist"]  # the results belong to this unit and this standard
        return fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # Whose inspection it is decides, not only where it is: the services say.
    def has_add_permission(self, request):
        return services.inspection_may_record_any(actor=request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return services.inspection_may_change(actor=request.user, inspection=obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # the inspection the page already loaded: no second lookup
            context["change_refusal"] = services.inspection_refusal(actor=request.user, inspection=obj)
            if services.follow_up_may_add(actor=request.user, inspection=obj):
                add_url = reverse("admin:stations_inspectionfollowup_add")
                context["follow_up_add_url"] = f"{add_url}?inspection={obj.pk}"
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        data = self.submitted(form, exclude=("add_photos",))
        photos = form.cleaned_data.get("add_photos") or []
        if change:
            services.inspection_update(actor=request.user, inspection=obj, **data)
            if photos:
                services.photos_add(actor=request.user, inspection=obj, images=photos)
        else:
            self.adopt(obj, services.inspection_record(actor=request.user, photos=photos, **data))

    def save_formset(self, request, form, formset, change):
        actor, inspection = request.user, form.instance
        if formset.model is InspectionResult:
            # Only the rows of the recorded results: a row added to the form by hand has no item.
            rows = [(row.instance.item_id, row.cleaned_data) for row in formset.initial_forms]
            services.inspection_results_set(
                actor=actor,
                inspection=inspection,
                met_item_ids=[item_id for item_id, data in rows if data.get("met")],
                notes={item_id: data.get("note", "") for item_id, data in rows},
            )
            formset.new_objects, formset.deleted_objects = [], []
            formset.changed_objects = [
                (row.instance, row.changed_data) for row in formset.initial_forms if row.has_changed()
            ]
            return
        if formset.model is InspectionPhoto:
            _save_inline_rows(
                formset,
                add=lambda data: services.photo_add(actor=actor, inspection=inspection, **data),
                update=lambda photo, data: services.photo_update(actor=actor, photo=photo, **data),
                remove=lambda photo: services.photo_delete(actor=actor, photo=photo),
            )
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def service_delete(self, request, obj):
        services.inspection_delete(actor=request.user, inspection=obj)

    def response_add(self, request, obj, post_url_continue=None):
        # The item rows exist only now: go straight to ticking them.
        self.message_user(request, _("Inspection created. Now mark each item met or not."))
        return HttpResponseRedirect(reverse("admin:stations_inspection_change", args=[obj.pk]))


class FollowUpAdminForm(KeptPhotosFormMixin, ScopedAdminForm):
    class Meta:
        model = InspectionFollowUp
        fields = ("inspection", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 4})}


@admin.register(InspectionFollowUp)
class InspectionFollowUpAdmin(FollowUpDisplay, ScopedModelAdmin):
    """Follow-ups (整改记录): added by those who run the inspected unit, then kept as written."""

    form = FollowUpAdminForm
    list_display = ("inspection", "created_at", "author_label", "short_note")
    list_select_related = ("inspection__unit", "inspection__checklist", "author")
    list_filter = (InstituteFilter,)
    search_fields = ("inspection__unit__name", "note")
    readonly_fields = ("created_at", "author_label", "evidence")

    def scoped_queryset(self, request):
        return super().scoped_queryset(request).prefetch_related("photos", people_prefetch("author"))

    @admin.display(description=_("rectification note"))
    def short_note(self, obj):
        return obj.note if len(obj.note) <= 40 else obj.note[:40] + "…"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("inspection", "note", "add_photos", "kept_photos")
        return ("inspection", "created_at", "author_label", "note", "evidence")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"photo_owner": request.user})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "inspection":
            kwargs["queryset"] = services.follow_up_inspections(actor=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"inspection": request.GET.get("inspection", "")}

    def has_change_permission(self, request, obj=None):
        return False  # a follow-up is a dated record: a later one corrects an earlier one

    def save_model(self, request, obj, form, change):
        data = self.submitted(form, exclude=("add_photos",))
        photos = form.cleaned_data.get("add_photos") or []
        self.adopt(obj, services.follow_up_add(actor=request.user, photos=photos, **data))

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Follow-up added to the inspection."))
        return HttpResponseRedirect(reverse("admin:stations_inspection_change", args=[obj.inspection_id]))


# --- Roles ----------------------------------------------------------------------------------------


class RoleAssignmentAdminForm(ScopedAdminForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "unit")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedModelAdmin):
    """Who holds which role, for reading and revoking. Roles are granted on the account's page
    (kernel.admin_accounts with stations.admin_accounts); here only a system administrator adds one.
    A revoke follows the account rule of stations.accounts: the account is one the user manages, and
    its last role stays."""

    form = RoleAssignmentAdminForm
    list_display = ("user_label", "role", "unit", "granted_by_label", "created_at")
    list_filter = ("role", InstituteFilter)
    list_select_related = ("user", "unit", "granted_by")
    search_fields = ("user__username", "user__first_name", "user__last_name", "unit__name")
    autocomplete_fields = ("user", "unit")

    @admin.display(description=_("user"), ordering="user__first_name")
    def user_label(self, obj):
        return person_label(obj.user)

    @admin.display(description=_("granted by"))
    def granted_by_label(self, obj):
        return person_label(obj.granted_by) or "-"

    def scoped_queryset(self, request):
        return (
            super()
            .scoped_queryset(request)
            .prefetch_related(people_prefetch("user"), people_prefetch("granted_by"))
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False  # an assignment is granted or revoked, never edited into another one

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return kernel_accounts.manages_accounts(request.user)
        return self.rule.can_change(request.user, obj) and kernel_accounts.may_manage(request.user, obj.user)

    def unit_choices(self, request, db_field):
        return Unit.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        self.adopt(obj, station_accounts.staff_role_grant(actor=request.user, **self.submitted(form)))

    def service_delete(self, request, obj):
        station_accounts.staff_role_revoke(actor=request.user, assignment=obj)
