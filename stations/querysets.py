"""Chainable filters, read like sentences. Each scoped model's queryset declares its scope rule here, once."""

from .scoping import Capability, ScopedQuerySet, ScopeRule, scope_for


class UnitQuerySet(ScopedQuerySet):
    # A unit is changed by whoever holds it; moving, deactivating and deleting check more (services).
    scope_rule = ScopeRule(lookup="", capability=Capability.UNITS_CHANGE)

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

    def inspectable_by(self, user):
        """Units the user may inspect: strictly below their own."""
        return self.filter(scope_for(user).q(capability=Capability.INSPECTIONS_RECORD, below=True))


class CenterOwnedQuerySet(ScopedQuerySet):
    """Reference data of a center (platforms, standards): read by all under it, changed by its county."""

    scope_rule = ScopeRule(lookup="center", capability=Capability.REFERENCE_CHANGE, owned_by_center=True)

    def active(self):
        return self.filter(is_active=True)


class ChecklistItemQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(
        lookup="checklist__center", capability=Capability.REFERENCE_CHANGE, owned_by_center=True
    )


class InspectionQuerySet(ScopedQuerySet):
    # An inspection is recorded from above: by those holding a unit above the inspected one.
    scope_rule = ScopeRule(lookup="unit", capability=Capability.INSPECTIONS_RECORD, below=True)


class InspectionPartQuerySet(ScopedQuerySet):
    """Results and photos follow their inspection."""

    scope_rule = ScopeRule(lookup="inspection__unit", capability=Capability.INSPECTIONS_RECORD, below=True)


class RoleAssignmentQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.ROLES_GRANT, below=True)

    def admin_roles(self):
        from .models import ADMIN_ROLES

        return self.filter(role__in=ADMIN_ROLES)
