"""The portal's admin site: Django's, with an autocomplete that answers only for the fields it serves."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError


class PortalAutocompleteJsonView(AutocompleteJsonView):
    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        # Django accepts any relation name here, reverse ones included, and then fails on them with a
        # 500. Only a field that the source model's admin lists in autocomplete_fields is served.
        source_admin = self.admin_site._registry.get(source_field.model)
        if (
            not getattr(source_field, "concrete", False)
            or source_admin is None
            or source_field.name not in source_admin.get_autocomplete_fields(request)
        ):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's widget looks the submitted value up to show it again, and a value that is not an id at all
    (`?parent=abc`) makes that lookup fail with a 500. Such a value is shown as nothing; the form field
    still refuses it with its own message."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        usable = []
        for item in value:
            try:
                target.run_validators(target.to_python(item))
            except (ValidationError, TypeError, ValueError):
                continue
            usable.append(item)
        return super().optgroups(name, usable, attr)


class PortalAdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        return PortalAutocompleteJsonView.as_view(admin_site=self)(request)


class SuperuserOnlyAdmin:
    """For admins of data no scope can divide (accounts, API tokens): system administrators only."""

    def _superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request, *args):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)
