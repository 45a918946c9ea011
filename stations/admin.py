"""Admin of the practice network, in Chinese, every list and choice scoped to the user's subtrees."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_scoping import ScopedInline, ScopedModelAdmin, ServiceValidatedForm
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
from .scoping import scope_for, subtree_q
from .selectors import (
    checklist_list,
    inspection_list,
    platform_list,
    role_assignment_list,
    unit_list,
)

admin.site.site_header = _("New Era Civilization Practice Center")
admin.site.site_title = _("Practice center administration")
admin.site.index_title = _("Administration")

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class InstituteFilter(admin.SimpleListFilter):
    title = _("institute")
    parameter_name = "institute"
    unit_lookup = ""  # from the listed model to its unit

    def lookups(self, request, model_admin):
        institutes = scope_for(request.user).filter(Unit.objects.of_kind(UnitKind.INSTITUTE))
        return [(str(u.pk), u.name) for u in institutes.only("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        institute = None
        if value.isascii() and value.isdigit():
            institute = scope_for(request.user).filter(Unit.objects.filter(pk=int(value))).first()
        if institute is None:
            return queryset.none()
        return queryset.filter(subtree_q(institute.path, self.unit_lookup))


class UnitInstituteFilter(InstituteFilter):
    unit_lookup = "unit"


class UnitAdminForm(ServiceValidatedForm, forms.ModelForm):
    class Meta:
        model = Unit
        fields = (
            "kind",
            "name",
            "code",
            "parent",
            "category",
            "is_active",
            "address",
            "longitude",
            "latitude",
            "contact_person",
            "contact_phone",
            "recognition_level",
            "highlight",
        )

    def service_validate(self):
        services.unit_validate(actor=self.actor, unit=self.instance)


@admin.register(Unit)
class UnitAdmin(ScopedModelAdmin):
    form = UnitAdminForm
    selector = unit_list
    scope_lookup = ""
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

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.scope(request).contains_strictly(obj):
            # The user's own unit: its place in the tree is decided from above.
            fields += ["kind", "parent"]
        return fields

    def has_delete_permission(self, request, obj=None):
        # Nobody deletes their own unit: it is removed, if ever, from above.
        return self.can_change_object(request, obj) and (
            obj is None or self.scope(request).contains_strictly(obj)
        )

    def save_model(self, request, obj, form, change):
        services.unit_save(actor=request.user, unit=obj)

    def service_delete(self, request, obj):
        services.unit_delete(actor=request.user, unit=obj)


class CenterOwnedAdmin(ScopedModelAdmin):
    """Platforms and standards: owned by a center, read by all under it, changed by its county admins."""

    scope_lookup = "center"

    def unit_choices(self, request, db_field):
        return super().unit_choices(request, db_field).filter(kind=UnitKind.CENTER)

    def has_add_permission(self, request):
        return self.unit_choices(request, None).exists()


@admin.register(Platform)
class PlatformAdmin(CenterOwnedAdmin):
    selector = platform_list
    list_display = ("name", "code", "responsible_department", "center", "order", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("center",)
    search_fields = ("name", "code", "responsible_department")
    ordering = ("center", "order")


class ChecklistItemInline(ScopedInline, admin.TabularInline):
    model = ChecklistItem
    extra = 1
    scope_lookup = "center"


@admin.register(Checklist)
class ChecklistAdmin(CenterOwnedAdmin):
    selector = checklist_list
    list_display = ("name", "unit_kind", "center", "item_count", "is_active")
    list_filter = ("unit_kind", "is_active")
    list_select_related = ("center",)
    search_fields = ("name",)
    inlines = (ChecklistItemInline,)

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj):
        return obj.item_count


class InspectionResultInline(ScopedInline, admin.TabularInline):
    model = InspectionResult
    extra = 0
    fields = ("item_text", "weight", "met", "note")
    readonly_fields = ("item_text", "weight")
    scope_lookup = "unit"
    change_needs_strict = True

    def has_add_permission(self, request, obj=None):
        return False  # rows come from the standard's items when the inspection is created

    def has_delete_permission(self, request, obj=None):
        return False


class InspectionPhotoForm(forms.ModelForm):
    class Meta:
        model = InspectionPhoto
        fields = ("image", "caption")

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and getattr(image, "size", 0) > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("A photo may be at most 5 MB."))
        return image


class InspectionPhotoInline(ScopedInline, admin.TabularInline):
    model = InspectionPhoto
    form = InspectionPhotoForm
    extra = 1
    scope_lookup = "unit"
    change_needs_strict = True


class InspectionAdminForm(ServiceValidatedForm, forms.ModelForm):
    class Meta:
        model = Inspection
        fields = ("unit", "checklist", "inspected_on", "note")

    def service_validate(self):
        if self.instance.unit_id and self.instance.checklist_id:
            services.inspection_validate(actor=self.actor, inspection=self.instance)


@admin.register(Inspection)
class InspectionAdmin(ScopedModelAdmin):
    form = InspectionAdminForm
    selector = inspection_list
    change_needs_strict = True
    list_display = ("unit", "checklist", "inspected_on", "score", "items_summary", "inspector")
    list_filter = (("checklist", admin.RelatedOnlyFieldListFilter), "unit__kind", UnitInstituteFilter)
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
        # Inspections are of units below the inspector's own.
        return Unit.objects.filter(self.scope(request).strict_q())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "checklist":
            kwargs["queryset"] = Checklist.objects.filter(
                self.scope(request).reference_q("center"), is_active=True
            ).select_related("center")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["unit", "checklist"]  # the results belong to this unit and this standard
        return fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else (InspectionPhotoInline,)

    def save_model(self, request, obj, form, change):
        services.inspection_save(actor=request.user, inspection=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.inspection_score_refresh(inspection=form.instance)

    def response_add(self, request, obj, post_url_continue=None):
        # The item rows exist only now: go straight to ticking them.
        self.message_user(request, _("Inspection created. Now mark each item met or not."))
        return HttpResponseRedirect(reverse("admin:stations_inspection_change", args=[obj.pk]))


class RoleAssignmentAdminForm(ServiceValidatedForm, forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "unit")

    def service_validate(self):
        services.role_validate(actor=self.actor, role=self.instance.role, unit=self.instance.unit)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedModelAdmin):
    form = RoleAssignmentAdminForm
    selector = role_assignment_list
    list_display = ("user", "role", "unit", "granted_by", "created_at")
    list_filter = ("role", UnitInstituteFilter)
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

    def save_model(self, request, obj, form, change):
        saved = services.role_grant(actor=request.user, user=obj.user, role=obj.role, unit=obj.unit)
        obj.pk = saved.pk

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
