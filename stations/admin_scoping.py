"""The admin side of the scoping rule: a ModelAdmin base that every app's admin extends.

Lists, change pages, deletes, every foreign-key choice to a unit and every autocomplete go through
`scope_for(request.user)`. An object outside the scope answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404

from kernel.errors import ApplicationError

from .models import Unit
from .scoping import Scope, scope_for


class ScopedAdminMixin:
    """Shared by model admins and inlines. `scope_lookup` leads from the model to its Unit ("" = itself)."""

    scope_lookup: str = "unit"
    # "subtree": rows of units inside the user's subtrees. "reference": rows owned by a center, readable
    # by everyone under it, changeable only by those who hold the center.
    scope_mode: str = "subtree"
    # Whether changing a row needs the unit strictly below the user's own (e.g. inspections).
    change_needs_strict: bool = False

    def scope(self, request) -> Scope:
        return scope_for(request.user)

    def unit_of(self, obj) -> Unit | None:
        if obj is None:
            return None
        if not self.scope_lookup:
            return obj
        value = obj
        for part in self.scope_lookup.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    def scope_q(self, request):
        scope = self.scope(request)
        if self.scope_mode == "reference":
            return scope.reference_q(self.scope_lookup)
        return scope.q(self.scope_lookup)

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
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.scope_q(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Out of scope or absent: the same 404, so nobody learns what exists elsewhere.
            raise Http404
        return obj

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
    """Mixin for admin forms: run a service's validation once the instance is built, as form errors."""

    actor = None  # set by the admin's get_form

    def validate_with_service(self, check) -> None:
        try:
            check()
        except ApplicationError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
