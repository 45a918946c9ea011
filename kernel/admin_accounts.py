"""The account admin: Django's user admin, scoped by the account rule of kernel.accounts.

A system administrator sees every account with Django's full form. An administrator who manages accounts
(an app's extension says so: a county or institute admin) sees exactly the accounts they manage, edits
the real name and email, deactivates and reactivates, resets the password, and works on what the apps'
extensions add (the roles inline of stations). An account outside is a 404, like one that does not exist.
Every write goes through the services of kernel.accounts or of an app; a refusal is a form error.
"""

from __future__ import annotations

import copy

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import accounts
from .admin_site import ServiceRefusalAdminMixin
from .errors import ApplicationError
from .forms import ServiceFormMixin

REAL_NAME = gettext_lazy("Real name")
_MANAGEABLE_ATTR = "_manageable_account_ids"


class AccountChangeForm(ServiceFormMixin, UserChangeForm):
    """Django's change form; the first-name field holds the whole real name (姓名)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "first_name" in self.fields:
            self.fields["first_name"].label = REAL_NAME


class AccountCreationForm(ServiceFormMixin, AdminUserCreationForm):
    """A system administrator's account without a role, used when no app offers a creation form."""

    class Meta(AdminUserCreationForm.Meta):
        fields = ("username", "first_name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].label = REAL_NAME
        self.fields["first_name"].required = True

    def account_create(self, *, actor):
        return accounts.account_create(
            actor=actor,
            username=self.cleaned_data["username"],
            real_name=self.cleaned_data["first_name"],
            password=self.cleaned_data["password1"],
        )


class AccountPasswordForm(AdminPasswordChangeForm):
    """Django's password page, saved by the service; only a system administrator may turn password login
    off."""

    actor = None  # set per request by the admin

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        if not self.actor.is_superuser:
            self.fields.pop("usable_password", None)
            self.fields["password1"].required = self.fields["password2"].required = True

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return accounts.account_password_set(actor=self.actor, user=self.user, password=password)


@admin.action(description=gettext_lazy("Deactivate the selected accounts"))
def deactivate_accounts(modeladmin, request, queryset):
    modeladmin.each_account(request, queryset, accounts.account_deactivate, _("Deactivated: %(names)s."))


@admin.action(description=gettext_lazy("Reactivate the selected accounts"))
def reactivate_accounts(modeladmin, request, queryset):
    modeladmin.each_account(request, queryset, accounts.account_reactivate, _("Reactivated: %(names)s."))


@admin.action(description=gettext_lazy("Lift the login lockout of the selected accounts"))
def unlock_accounts(modeladmin, request, queryset):
    modeladmin.each_account(request, queryset, accounts.account_login_unlock, _("Login unlocked: %(names)s."))


# The actions on selected accounts, for whoever manages them. Each calls a service per account.
ACCOUNT_ACTIONS = [deactivate_accounts, reactivate_accounts, unlock_accounts]


class PortalUserAdmin(ServiceRefusalAdminMixin, DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = AccountPasswordForm
    search_fields = ("username", "first_name")
    list_per_page = 50
    show_full_result_count = False  # one COUNT per page
    actions = ACCOUNT_ACTIONS

    managed_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "email")}),
        (gettext_lazy("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    superuser_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "email")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    # --- Who sees what ---------------------------------------------------------------------------------

    @staticmethod
    def _superuser(request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def get_queryset(self, request):
        queryset = accounts.manageable_accounts(request.user)
        for extension in accounts.account_extensions():
            queryset = extension.list_queryset(queryset)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404  # outside the accounts one manages, or absent: the same answer
        return obj

    def _manages(self, request, obj) -> bool:
        if self._superuser(request):
            return True
        if not accounts.manages_accounts(request.user):
            return False
        if obj is None:
            return True
        # Asked several times per page: the answer for this request is kept.
        known = getattr(request, _MANAGEABLE_ATTR, None)
        if known is None:
            known = {}
            setattr(request, _MANAGEABLE_ATTR, known)
        if obj.pk not in known:
            known[obj.pk] = accounts.may_manage(request.user, obj)
        return known[obj.pk]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._manages(request, None)

    def has_view_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_add_permission(self, request):
        return self._manages(request, None) and self._add_form_class(request) is not None

    def has_delete_permission(self, request, obj=None):
        # A managing admin deactivates; deleting an account (and the records naming it) is for a
        # system administrator, with Django's own confirmation of what goes with it.
        return self._superuser(request)

    # --- The list ------------------------------------------------------------------------------------

    @admin.display(description=REAL_NAME, ordering="first_name")
    def real_name(self, obj):
        return obj.first_name

    def get_list_display(self, request):
        columns = ["real_name", "username"]
        for extension in accounts.account_extensions():
            columns += extension.list_display
        columns += ["is_active", "last_login"]
        if self._superuser(request):
            columns += ["is_staff", "is_superuser"]
        return columns

    def get_list_display_links(self, request, list_display):
        return ("real_name", "username")

    def get_list_filter(self, request):
        filters = ["is_active"]
        for extension in accounts.account_extensions():
            filters += extension.list_filter
        if self._superuser(request):
            filters += ["is_staff", "is_superuser", "groups"]
        return filters

    def get_search_fields(self, request):
        fields = list(self.search_fields)
        for extension in accounts.account_extensions():
            fields += [f for f in extension.search_fields if f not in fields]
        return fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        for extension in accounts.account_extensions():
            for action in extension.actions:
                name = getattr(action, "__name__", str(action))
                actions[name] = self.get_action(action)
        if not self._superuser(request):
            actions.pop("delete_selected", None)
        return actions

    def each_account(self, request, queryset, service, done_message) -> None:
        """Run `service(actor=, user=)` on each selected account (already the ones this user manages);
        say which were done and why any were refused."""
        done = []
        for user in queryset:
            try:
                with transaction.atomic():
                    service(actor=request.user, user=user)
            except ApplicationError as error:
                self.message_user(request, f"{user.get_username()}: {error.message}", level=messages.ERROR)
            else:
                done.append(user.first_name or user.get_username())
        if done:
            self.message_user(request, done_message % {"names": "、".join(done)})

    # --- The pages -----------------------------------------------------------------------------------

    def _add_form_class(self, request):
        for extension in accounts.account_extensions():
            if extension.add_form is not None:
                return extension.add_form
        return self.add_form if self._superuser(request) else None

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = list(self._add_form_class(request).base_fields)
            if "usable_password" in fields and not self._superuser(request):
                fields.remove("usable_password")
            return [(None, {"classes": ("wide",), "fields": fields})]
        return self.superuser_fieldsets if self._superuser(request) else self.managed_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The dates are the login's and the account's own record; the username is a login name that
        # other records (the lockout, the logs) follow, so only a system administrator changes it.
        dates = ("last_login", "date_joined")
        return dates if self._superuser(request) else ("username", *dates)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self._add_form_class(request)
        form = super().get_form(request, obj, **kwargs)
        if not issubclass(form, ServiceFormMixin):
            raise ImproperlyConfigured(f"{form.__name__} must extend kernel.forms.ServiceFormMixin")
        attrs = {"actor": request.user}
        refusal = self.service_refusal(request)
        if refusal is not None:
            attrs["service_error"] = refusal
        return type(form.__name__, (form,), attrs)

    def get_inlines(self, request, obj):
        if obj is None:
            return ()  # an account is created with its first role, on the creation form
        inlines = []
        for extension in accounts.account_extensions():
            inlines += extension.inlines
        return inlines

    def user_change_password(self, request, id, form_url=""):
        # Django builds the form as self.change_password_form(user, data); a copy of this admin for the
        # request carries the actor into it without touching the shared instance.
        bound = copy.copy(self)
        bound.change_password_form = type(
            "AccountPasswordForm", (self.change_password_form,), {"actor": request.user}
        )
        with transaction.atomic():
            return DjangoUserAdmin.user_change_password(bound, request, id, form_url)

    # --- Writes: through services only ---------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        actor = request.user
        if not change:
            vars(obj).update(vars(form.account_create(actor=actor)))
            return
        changed = set(form.changed_data)
        data = {
            name: form.cleaned_data[name]
            for name in changed
            if name in form.cleaned_data and name not in ("password", "is_active")
        }
        if data:
            accounts.account_update(actor=actor, user=obj, **data)
        if "is_active" in changed:
            service = accounts.account_reactivate if obj.is_active else accounts.account_deactivate
            service(actor=actor, user=obj)

    def save_related(self, request, form, formsets, change):
        # Groups and permissions were written by account_update; the inlines save through their services.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        for inline in self.get_inline_instances(request, form.instance):
            if inline.model is formset.model and hasattr(inline, "save_rows"):
                inline.save_rows(request, formset)
                return
        raise ImproperlyConfigured(f"no account inline saves {formset.model.__name__} rows through services")
