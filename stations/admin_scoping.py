"""The admin side of the scoping rule: the bases every app's admin extends.

A model admin lists `Model.objects.visible_to(user)`, the rule the model declares once on its queryset;
change, delete and history pages answer 404 outside it, the same as for a row that does not exist. What
may be changed is the same rule's `can_change`. Every write goes through a service: the bases refuse to
save or delete by themselves, and a service's refusal comes back as a form error, never a 500.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.admin_site import SafeAutocompleteSelect, ServiceRefusalAdminMixin
from kernel.errors import ApplicationError
from kernel.forms import ServiceFormMixin
from kernel.validators import is_id

from .models import Platform, Unit
from .scoping import Scope, ScopeRule, scope_for, scope_rule_of


class ScopedAdminForm(ServiceFormMixin, forms.ModelForm):
    """The base form of scoped admins: shows a service's refusal as a field error."""


class ScopedAdminMixin:
    def scope(self, request) -> Scope:
        return scope_for(request.user)

    @property
    def rule(self) -> ScopeRule:
        return scope_rule_of(self.model)

    def get_queryset(self, request):
        return self.scoped_queryset(request)

    def scoped_queryset(self, request):
        """The rows this user may see; override to add joins or annotations, never to widen."""
        return self.model._default_manager.visible_to(request.user)


class ScopedModelAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = ScopedAdminForm
    list_per_page = 50
    # One COUNT per list page: the unfiltered total would be a second scan of the same scope.
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Out of scope or absent: the same 404, so nobody learns what exists elsewhere.
            raise Http404
        return obj

    # --- Permissions: the model's scope rule, nothing repeated here ------------------------------------

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and not self.scope(request).is_empty

    def has_view_permission(self, request, obj=None):
        return not self.scope(request).is_empty

    def has_add_permission(self, request):
        return self.rule.can_change(request.user)

    def has_change_permission(self, request, obj=None):
        return self.rule.can_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return self._deletes_through_service() and self.rule.can_change(request.user, obj)

    def unit_choices(self, request, db_field):
        """The units a foreign key of this admin may point to."""
        return Unit.objects.changeable_by(request.user)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # No editing of another record from inside this form (a popup that skips its own page's
            # rules, and clutter on a phone): only a link to look at it.
            widget.can_add_related = widget.can_change_related = widget.can_delete_related = False
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Unit:
            kwargs["queryset"] = self.unit_choices(request, db_field)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- Writes: through services only ---------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        raise ImproperlyConfigured(f"{type(self).__name__} must save through a service")

    def save_formset(self, request, form, formset, change):
        raise ImproperlyConfigured(f"{type(self).__name__} must save its inline rows through services")

    def service_delete(self, request, obj) -> None:
        """Override to delete through a service; its refusals then show as messages, not 500s."""
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def _deletes_through_service(self) -> bool:
        return type(self).service_delete is not ScopedModelAdmin.service_delete

    @staticmethod
    def adopt(obj, saved) -> None:
        """Make the admin's in-memory object the row the service saved (its id, path, computed fields)."""
        vars(obj).update(vars(saved))

    @staticmethod
    def submitted(form, *, exclude=()) -> dict:
        """The form's fields as keywords for a service."""
        return {name: value for name, value in form.cleaned_data.items() if name not in exclude}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not issubclass(form, ServiceFormMixin):
            raise ImproperlyConfigured(f"{type(self).__name__}.form must extend ScopedAdminForm")
        refusal = self.service_refusal(request)
        if refusal is not None:
            form = type(form.__name__, (form,), {"service_error": refusal})
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one by one, through the service, so each refusal is told
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if not self.has_delete_permission(request, obj):
            raise PermissionDenied
        opts = self.opts
        try:
            with transaction.atomic():
                self.log_deletions(request, [obj])  # undone with the delete if the service refuses
                self.service_delete(request, obj)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            )
        self.message_user(request, _("“%(object)s” was deleted.") % {"object": obj})
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))


class ScopedInline(ScopedAdminMixin):
    """An inline lists its own model's visible rows; whether they may be changed follows the rule of the
    parent model for the parent object (the inline is part of that object's page)."""

    def _parent_allows(self, request, obj) -> bool:
        # The parent admin's own answer, which may know more than the scope rule (a locked inspection).
        return self.admin_site._registry[self.parent_model].has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return not self.scope(request).is_empty

    def has_add_permission(self, request, obj=None):
        return self._parent_allows(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_allows(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_allows(request, obj)


# --- Shared by the apps' admins ----------------------------------------------------------------------------


def run_each(request, rows, service, *, done: str, label=str) -> None:
    """`service(row)` for each row in its own transaction; how many went through, and each refusal with
    the row it was for."""
    count = 0
    for row in rows:
        try:
            with transaction.atomic():
                service(row)
        except ApplicationError as error:
            messages.error(request, f"{label(row)}：{error.message}")
        else:
            count += 1
    if count:
        messages.success(request, done % {"count": count})


class DomainFilter(admin.SimpleListFilter):
    """Rows of one service platform (of the centers the user sees), by the row's `domain`."""

    title = gettext_lazy("service domain")
    parameter_name = "domain"

    def lookups(self, request, model_admin):
        platforms = Platform.objects.visible_to(request.user).filter(is_active=True).only("pk", "name")
        return [(str(p.pk), p.name) for p in platforms.order_by("center", "order")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not is_id(value):
            return queryset.none()
        return self.of_domain(queryset, int(value))

    def of_domain(self, queryset, platform_id: int):
        return queryset.filter(domain_id=platform_id)
