"""Chainable filters of the awards app, and the award's scope rule, declared once: the giving unit."""

from __future__ import annotations

from django.db import models

from stations.scoping import ScopedQuerySet, ScopeRule

from .capabilities import Capability

AWARD_RULE = ScopeRule(lookup="giving_unit", capability=Capability.AWARDS_GIVE)


class AwardQuerySet(ScopedQuerySet):
    scope_rule = AWARD_RULE

    def standing(self):
        """Awards not revoked: what the honour rolls show."""
        return self.filter(revoked_at__isnull=True)

    def of_year(self, year: int):
        return self.filter(year=year)


class AwardKindQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)
