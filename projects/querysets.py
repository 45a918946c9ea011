"""Chainable filters of the projects app, and each model's scope rule, declared once."""

from __future__ import annotations

from stations.scoping import ScopedQuerySet, ScopeRule

from .capabilities import Capability

PROJECT_RULE = ScopeRule(lookup="unit", capability=Capability.PROJECTS_CHANGE)
KEY_LIST_RULE = ScopeRule(lookup="unit", capability=Capability.KEY_LISTS_CHANGE)


class ProjectQuerySet(ScopedQuerySet):
    scope_rule = PROJECT_RULE

    def public(self):
        """Projects the public sees: published, running or closed (never a draft)."""
        from .models import PUBLIC_STATUSES

        return self.filter(status__in=PUBLIC_STATUSES)

    def brand(self):
        return self.filter(is_brand=True)

    def open(self):
        """Projects activities may still be planned under: published or running."""
        from .models import ProjectStatus

        return self.filter(status__in=[ProjectStatus.PUBLISHED, ProjectStatus.RUNNING])


class ProjectPhotoQuerySet(ScopedQuerySet):
    scope_rule = PROJECT_RULE.through("project")


class KeyProjectListQuerySet(ScopedQuerySet):
    scope_rule = KEY_LIST_RULE

    def of_year(self, year: int):
        return self.filter(year=year)


class KeyProjectMonthQuerySet(ScopedQuerySet):
    scope_rule = KEY_LIST_RULE.through("plan")
