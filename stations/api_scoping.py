"""The API side of the scoping rule: the base of every read endpoint of every app."""

from django.core.exceptions import ImproperlyConfigured
from django_filters.rest_framework import DjangoFilterBackend
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


# The attribute of the request that says which unit's subtree the view's queryset already is.
_SUBTREE_WITHIN = "api_subtree_within"


class HeldSubtreeMixin:
    """A scoped list asked for `subtree_of=<unit>` where the caller sees that unit: every row under it
    is one the caller sees, so the list is that subtree alone, without the scope's own predicate.

    The scope's prefix match and the filter's on the same column would make PostgreSQL multiply their
    selectivities, expect a handful of rows and, at city scale, plan a scan of the whole subtree (or the
    table) to sort it for a page of 50. A unit the caller does not see, or a malformed id, takes the
    ordinary path, where the filter set refuses it with its message. `subtree_lookup` leads from a row
    to its unit; the filter set's `subtree_of` is a `SubtreeOfFilterMixin` on the same lookup."""

    subtree_lookup = "unit"

    def held_subtree(self):
        """The rows of the named subtree, or None (no `subtree_of`, or not a unit the caller sees)."""
        from .models import Unit

        raw = self.request.query_params.get("subtree_of", "") if self.request else ""
        if getattr(self, "swagger_fake_view", False) or not (raw.isascii() and raw.isdigit()):
            return None
        root = Unit.objects.visible_to(self.request.user).filter(pk=int(raw)).values("pk", "path").first()
        if root is None:
            return None
        setattr(self.request, _SUBTREE_WITHIN, root["pk"])
        return self.model._default_manager.filter(
            **{f"{self.subtree_lookup}__path__startswith": root["path"]}
        )

    def filter_queryset(self, queryset):
        named = self.request.query_params.keys() & self.filterset_class.base_filters.keys()
        if named == {"subtree_of"} and getattr(self.request, _SUBTREE_WITHIN, None) is not None:
            # The subtree is applied and checked already and no other filter is named: the other
            # backends (the ordering) only.
            for backend in self.filter_backends:
                if not issubclass(backend, DjangoFilterBackend):
                    queryset = backend().filter_queryset(self.request, queryset, self)
            return queryset
        return super().filter_queryset(queryset)


class SubtreeOfFilterMixin:
    """The `subtree_of` filter of a `HeldSubtreeMixin` view: rows whose unit (`subtree_lookup`) lies
    under the chosen unit, or nothing more to do when the view's queryset is that subtree already."""

    subtree_lookup = "unit"

    def filter_subtree_of(self, queryset, name, value):
        if not value or getattr(self.request, _SUBTREE_WITHIN, None) == value.pk:
            return queryset
        return queryset.filter(**{f"{self.subtree_lookup}__path__startswith": value.path})
