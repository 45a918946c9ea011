"""Chainable filters, read like sentences. Each scoped model's queryset declares its scope rule here, once."""

from django.db.models import Exists, OuterRef
from django.db.models.functions import Substr

from .paths import path_length
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

    def with_active_standard(self):
        """Active units for which their center has an active construction standard of their kind."""
        from .models import Checklist

        return self.active().filter(
            Exists(
                Checklist.objects.active().filter(
                    unit_kind=OuterRef("kind"), center__path=Substr(OuterRef("path"), 1, path_length(depth=0))
                )
            )
        )


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
    # An inspection is recorded from above, by those holding a unit above the inspected one, and belongs
    # to its inspector: a level below the inspector's unit never rewrites it.
    scope_rule = ScopeRule(
        lookup="unit",
        capability=Capability.INSPECTIONS_RECORD,
        below=True,
        maker="inspector",
        maker_unit="inspector_unit",
    )


class InspectionPartQuerySet(ScopedQuerySet):
    """Results and photos follow their inspection."""

    scope_rule = InspectionQuerySet.scope_rule.through("inspection")


class InspectionFollowUpQuerySet(ScopedQuerySet):
    # A follow-up (整改) is written by whoever runs the inspected unit, or anyone above it.
    scope_rule = ScopeRule(lookup="inspection__unit", capability=Capability.UNITS_CHANGE)


class RoleAssignmentQuerySet(ScopedQuerySet):
    scope_rule = ScopeRule(lookup="unit", capability=Capability.ROLES_GRANT, below=True)

    def admin_roles(self):
        from .models import ADMIN_ROLES

        return self.filter(role__in=ADMIN_ROLES)
