"""The portal's admin site: Django's, with an autocomplete that answers only for the fields it serves."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError

from .errors import ApplicationError

_REFUSAL_ATTR = "_service_refusal"


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
        self.source_admin = source_admin
        return term, model_admin, source_field, to_field_name

    def get_queryset(self):
        # Django answers from the target admin's whole list; the form field may offer fewer (only the
        # units one may inspect, say). Answer only what the form would accept.
        queryset = super().get_queryset()
        field = self.source_admin.formfield_for_foreignkey(self.source_field, self.request)
        if field is not None and getattr(field, "queryset", None) is not None:
            queryset = queryset.filter(pk__in=field.queryset.values("pk"))
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # A target admin may name its choices better than str() can, for a whole page in one query.
        labels = getattr(self.model_admin, "autocomplete_labels", None)
        self.labels = labels(list(context["object_list"])) if labels else {}
        return context

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if obj.pk in self.labels:
            result["text"] = self.labels[obj.pk]
        return result


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


class ServiceRefusalAdminMixin:
    """For a model admin that writes through services: a refusal the service raises after the form was
    valid (a rule, or a race only its locked re-check saw) rolls the transaction back, and the same form is
    shown again with the refusal on it, never a 500. The form takes it from `service_refusal(request)`."""

    @staticmethod
    def service_refusal(request) -> ApplicationError | None:
        return getattr(request, _REFUSAL_ATTR, None)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as refusal:
            if request.method != "POST" or hasattr(request, _REFUSAL_ATTR):
                raise
            setattr(request, _REFUSAL_ATTR, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)
