"""The admin side of the scoping rule: a ModelAdmin base that every app's admin extends.

Lists come from the app's scoped selector; change, delete and history pages, every foreign-key choice to a
unit and every autocomplete go through `scope_for(request.user)` too. An object outside the scope answers
404, the same as one that does not exist.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

from .models import Unit
from .scoping import Scope, scope_for


class ScopedAdminMixin:
    """Shared by model admins and inlines. `scope_lookup` leads from the model to its Unit ("" = itself)."""

    scope_lookup: str = "unit"
    # Whether changing a row needs the unit strictly below the user's own (e.g. inspections).
    change_needs_strict: bool = False

    def scope(self, request) -> Scope:
        return scope_for(request.user)

    def unit_of(self, obj) -> Unit | None:
        value = obj
        for part in filter(None, self.scope_lookup.split("__")):
            value = getattr(value, part, None)
        return value

    def can_change_object(self, request, obj) -> bool:
        scope = self.scope(request)
        if scope.is_empty:
            return False
        if obj is None:
            return True
        unit = self.unit_of(obj)
        return scope.contains_strictly(unit) if self.change_needs_strict else scope.contains(unit)

    def unit_choices(self, request, db_field):
        """The units a foreign key of this admin may point to."""
        return self.scope(request).filter(Unit.objects.all())


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """`selector(user=…)` is the app's scoped read for this model; the admin lists nothing else."""

    selector = None
    list_per_page = 50

    def get_queryset(self, request):
        if self.selector is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a scoped selector")
        queryset = type(self).selector(user=request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Out of scope or absent: the same 404, so nobody learns what exists elsewhere.
            raise Http404
        return obj

    def service_delete(self, request, obj) -> None:
        """Override to delete through a service; its refusals then show as messages, not 500s."""
        raise NotImplementedError

    def _deletes_through_service(self) -> bool:
        return type(self).service_delete is not ScopedModelAdmin.service_delete

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self._deletes_through_service():
            actions.pop("delete_selected", None)  # one by one, so each refusal can be told
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST" or not self._deletes_through_service():
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if issubclass(form, ServiceValidatedForm):
            form.actor = request.user
        return form

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and not self.scope(request).is_empty

    def has_view_permission(self, request, obj=None):
        return not self.scope(request).is_empty

    def has_add_permission(self, request):
        return self.can_change_object(request, None)

    def has_change_permission(self, request, obj=None):
        return self.can_change_object(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.can_change_object(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Unit:
            kwargs["queryset"] = self.unit_choices(request, db_field)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedInline(ScopedAdminMixin):
    """An inline follows the permission its parent object gives."""

    scope_lookup = ""

    def _parent_allows(self, request, obj) -> bool:
        if obj is None:
            return not self.scope(request).is_empty
        return self.can_change_object(request, obj)

    def has_view_permission(self, request, obj=None):
        return not self.scope(request).is_empty

    def has_add_permission(self, request, obj=None):
        return self._parent_allows(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_allows(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_allows(request, obj)


class ServiceValidatedForm:
    """Mixin for admin forms: the service's own validation runs once the instance is built, so a rule
    breach is a form error (never a 500 from save_model). `service_validate` is the hook to fill in."""

    actor = None  # set by ScopedModelAdmin.get_form

    def service_validate(self) -> None:
        raise NotImplementedError

    def _post_clean(self):
        super()._post_clean()  # builds self.instance from the cleaned data
        if self.errors:
            return
        try:
            self.service_validate()
        except ApplicationError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
