"""What stations adds to the kernel's account admin: the roles inline, the creation form that gives a new
account its first role, the units-and-roles column and the role filter. Registered in StationsConfig.ready()
with kernel.accounts.register_account_extension; every write is a service of stations.accounts."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from kernel import accounts as kernel_accounts
from kernel.admin_accounts import REAL_NAME
from kernel.forms import ServiceFormMixin

from . import accounts
from .models import Role, RoleAssignment, Unit
from .people import people_prefetch, person_label, roles_summary

_BLANK = [("", "---------")]


def _role_choices(actor):
    return _BLANK + [(role.value, role.label) for role in accounts.grantable_roles(actor=actor)]


class GrantableUnitField(forms.ModelChoiceField):
    """The units one may grant a role on, in tree order, indented so the list reads as the tree."""

    def label_from_instance(self, obj):
        return "\u3000" * max(obj.depth - 1, 0) + obj.name


class StaffAccountCreationForm(ServiceFormMixin, UserCreationForm):
    """A new account: login name, real name, password twice, and its first role on a unit."""

    actor = None  # set per request by the admin
    role = forms.ChoiceField(label=_("role"), choices=())
    unit = GrantableUnitField(label=_("unit"), queryset=Unit.objects.none())

    class Meta(UserCreationForm.Meta):
        fields = ("username", "first_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].label = REAL_NAME
        self.fields["first_name"].required = True
        self.fields["role"].choices = _role_choices(self.actor)
        self.fields["unit"].queryset = accounts.grantable_units(actor=self.actor)
        if self.actor is not None and self.actor.is_superuser:
            # A system administrator may make an account without a role (another system administrator).
            self.fields["role"].required = self.fields["unit"].required = False

    def account_create(self, *, actor):
        data = self.cleaned_data
        return accounts.staff_account_create(
            actor=actor,
            username=data["username"],
            real_name=data["first_name"],
            password=data["password1"],
            role=data.get("role") or None,
            unit=data.get("unit"),
        )


class AccountRoleForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "unit")
        field_classes = {"unit": GrantableUnitField}


class AccountRoleInline(admin.TabularInline):
    """The account's roles: granted and revoked here, through stations.accounts; a role is never edited
    into another one (revoke it and grant the other)."""

    model = RoleAssignment
    fk_name = "user"
    form = AccountRoleForm
    extra = 0
    fields = ("role", "unit", "granted_by_label", "created_at")
    readonly_fields = ("granted_by_label", "created_at")

    @admin.display(description=_("granted by"))
    def granted_by_label(self, obj):
        return person_label(obj.granted_by) if obj is not None and obj.granted_by_id else "-"

    def get_queryset(self, request):
        queryset = RoleAssignment.objects.select_related("unit", "granted_by").prefetch_related(
            people_prefetch("granted_by")
        )
        return queryset if request.user.is_superuser else queryset.filter(pk__in=self._visible(request))

    @staticmethod
    def _visible(request):
        return RoleAssignment.objects.visible_to(request.user).values("pk")

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = _role_choices(request.user)
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = accounts.grantable_units(actor=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # The account admin has already decided that this account is the user's to manage.
    def has_view_permission(self, request, obj=None):
        return kernel_accounts.manages_accounts(request.user)

    def has_add_permission(self, request, obj=None):
        return obj is not None and kernel_accounts.manages_accounts(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return kernel_accounts.manages_accounts(request.user)

    def save_rows(self, request, formset) -> None:
        """New roles first, then the revoked ones: replacing an account's only role in one save works."""
        actor, user = request.user, formset.instance
        deleted = [row for row in formset.initial_forms if row in formset.deleted_forms]
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.extra_forms:
            if row.has_changed() and row not in formset.deleted_forms:
                data = row.cleaned_data
                formset.new_objects.append(
                    accounts.staff_role_grant(actor=actor, user=user, role=data["role"], unit=data["unit"])
                )
        for row in deleted:
            accounts.staff_role_revoke(actor=actor, assignment=row.instance)
            formset.deleted_objects.append(row.instance)


class AccountRoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in Role.values:
            return queryset.none()
        return queryset.filter(pk__in=RoleAssignment.objects.filter(role=value).values("user_id"))


class StationsAccountAdmin(accounts.StationsAccounts):
    """The stations extension of the account admin: the rule (stations.accounts) with its admin parts."""

    inlines = (AccountRoleInline,)
    list_filter = (AccountRoleFilter,)
    add_form = StaffAccountCreationForm

    def __init__(self):
        self.list_display = (self.units_and_roles,)

    @admin.display(description=_("Units and roles"))
    def units_and_roles(self, user):
        return roles_summary(user) or "-"

    def list_queryset(self, queryset):
        return queryset.prefetch_related(people_prefetch())
