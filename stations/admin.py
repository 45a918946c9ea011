"""Admin of the practice network, in Chinese. Every list and choice is scoped by the models' own rules;
every write goes through a service."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from kernel.errors import ApplicationError
from kernel.images import image_intake
from kernel.masking import mask_phone

from . import services
from .admin_scoping import ScopedAdminForm, ScopedInline, ScopedModelAdmin
from .models import (
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionPhoto,
    InspectionResult,
    Platform,
    RoleAssignment,
    Unit,
    UnitKind,
)
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


@admin.register(Unit)
class UnitAdmin(ScopedModelAdmin):
    form = UnitAdminForm
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
class PlatformAdmin(CenterOwnedAdmin):
    form = PlatformAdminForm
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


class InspectionPhotoForm(forms.ModelForm):
    class Meta:
        model = InspectionPhoto
        fields = ("image", "caption")

    def clean_image(self):
        # The intake runs here, once, so a refused photo is shown on its own row; the service takes the
        # cleaned image as it is.
        image = self.cleaned_data.get("image")
        if image is not None and image != self.initial.get("image"):
            try:
                return image_intake(image, field="image")
            except ApplicationError as error:
                raise forms.ValidationError(error.message) from None
        return image


class InspectionPhotoInline(ScopedInline, admin.TabularInline):
    model = InspectionPhoto
    form = InspectionPhotoForm
    extra = 1


class InspectionAdminForm(ScopedAdminForm):
    class Meta:
        model = Inspection
        fields = ("unit", "checklist", "inspected_on", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


@admin.register(Inspection)
class InspectionAdmin(ScopedModelAdmin):
    form = InspectionAdminForm
    list_display = ("unit", "checklist", "inspected_on", "score", "items_summary", "inspector")
    list_filter = (("checklist", admin.RelatedOnlyFieldListFilter), "unit__kind", InstituteFilter)
    list_select_related = ("unit", "checklist", "inspector")
    search_fields = ("unit__name", "unit__code", "note")
    date_hierarchy = "inspected_on"
    autocomplete_fields = ("unit",)
    fields = ("unit", "checklist", "inspected_on", "inspector", "score", "items_met", "items_total", "note")
    readonly_fields = ("inspector", "score", "items_met", "items_total")
    inlines = (InspectionResultInline, InspectionPhotoInline)

    @admin.display(description=_("items met"))
    def items_summary(self, obj):
        return f"{obj.items_met}/{obj.items_total}"

    def unit_choices(self, request, db_field):
        return Unit.objects.inspectable_by(request.user)

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
        return self.inlines if obj is not None else (InspectionPhotoInline,)

    def save_model(self, request, obj, form, change):
        if change:
            services.inspection_update(actor=request.user, inspection=obj, **self.submitted(form))
        else:
            self.adopt(obj, services.inspection_record(actor=request.user, **self.submitted(form)))

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
        _save_inline_rows(
            formset,
            add=lambda data: services.photo_add(actor=actor, inspection=inspection, **data),
            update=lambda photo, data: services.photo_update(actor=actor, photo=photo, **data),
            remove=lambda photo: services.photo_delete(actor=actor, photo=photo),
        )

    def service_delete(self, request, obj):
        services.inspection_delete(actor=request.user, inspection=obj)

    def response_add(self, request, obj, post_url_continue=None):
        # The item rows exist only now: go straight to ticking them.
        self.message_user(request, _("Inspection created. Now mark each item met or not."))
        return HttpResponseRedirect(reverse("admin:stations_inspection_change", args=[obj.pk]))


# --- Roles ----------------------------------------------------------------------------------------


class RoleAssignmentAdminForm(ScopedAdminForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "unit")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedModelAdmin):
    form = RoleAssignmentAdminForm
    list_display = ("user", "role", "unit", "granted_by", "created_at")
    list_filter = ("role", InstituteFilter)
    list_select_related = ("user", "unit", "granted_by")
    search_fields = ("user__username", "user__first_name", "user__last_name", "unit__name")
    autocomplete_fields = ("user", "unit")

    # In the admin, roles are granted and revoked by system administrators: choosing the user means
    # searching every account, which only they may do. The services also serve scoped grants elsewhere.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False  # an assignment is granted or revoked, never edited into another one

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def unit_choices(self, request, db_field):
        return Unit.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        self.adopt(obj, services.role_grant(actor=request.user, **self.submitted(form)))

    def service_delete(self, request, obj):
        services.role_revoke(actor=request.user, assignment=obj)


class RoleAssignmentInline(admin.TabularInline):
    """The user's roles, shown on the account; granted and revoked under 角色授权."""

    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ("role", "unit", "granted_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (RoleAssignmentInline,)
