"""Chainable filters on the unit tree. A subtree is one prefix match on the indexed materialized path."""

from django.db import models


class UnitQuerySet(models.QuerySet):
    def subtree_of(self, unit, *, include_self: bool = True):
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)

    def ancestors_of(self, unit, *, include_self: bool = False):
        paths = unit.ancestor_paths(include_self=include_self)
        return self.filter(path__in=paths).order_by("depth")

    def active(self):
        return self.filter(is_active=True)

    def of_kind(self, kind):
        return self.filter(kind=kind)
