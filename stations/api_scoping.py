"""The API side of the scoping rule: the base of every read endpoint of every app."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import viewsets

from kernel.api import ValuesListMixin


class ScopedReadOnlyViewSet(ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Lists and details of `model`, only the rows its scope rule lets the caller see."""

    model = None
    lookup_value_regex = r"\d+"  # ids only: anything else is a plain 404, never a database error

    def get_queryset(self):
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model")
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return self.model._default_manager.none()
        return self.model._default_manager.visible_to(self.request.user)
