"""The scoping rule: which subtrees of the unit tree a user may see and change.

Every queryset shown to a user, in the admin, the API or a page, passes through `scope_for(user)`.
A user's admin roles (county, institute, station) each grant the subtree of their unit; a superuser
sees everything. Reference data owned by a center (platforms, standards) is readable by anyone whose
subtree lies under that center, and changeable only by those whose subtree contains the center.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import ADMIN_ROLE_UNIT_KIND, RoleAssignment, Unit

_CACHE_ATTR = "_practice_scope"


def path_field(lookup: str = "") -> str:
    """The path column reached by `lookup` from a model to its unit ("" for a Unit itself)."""
    return f"{lookup}__path" if lookup else "path"


def subtree_q(path: str, lookup: str = "") -> Q:
    """Rows whose unit lies in the subtree rooted at `path`: one indexed prefix match."""
    return Q(**{f"{path_field(lookup)}__startswith": path})


@dataclass(frozen=True)
class Scope:
    is_global: bool
    roots: tuple[str, ...]  # paths of the subtree roots, none inside another

    @property
    def is_empty(self) -> bool:
        return not self.is_global and not self.roots

    def q(self, lookup: str = "") -> Q:
        """Rows whose unit (reached by `lookup`, e.g. "unit") lies in one of the subtrees."""
        if self.is_global:
            return Q()
        if not self.roots:
            return Q(pk__in=[])
        q = Q()
        for root in self.roots:
            q |= subtree_q(root, lookup)
        return q

    def strict_q(self, lookup: str = "") -> Q:
        """As `q`, less the roots themselves: what lies below the user's own units."""
        if self.is_global:
            return Q()
        return self.q(lookup) & ~Q(**{f"{path_field(lookup)}__in": self.roots})

    def reference_q(self, lookup: str) -> Q:
        """Rows owned by a unit that is an ancestor of, or inside, one of the subtrees."""
        if self.is_global:
            return Q()
        field = path_field(lookup)
        ancestors = {prefix for root in self.roots for prefix in Unit.path_prefixes(root)}
        return self.q(lookup) | Q(**{f"{field}__in": sorted(ancestors)})

    def filter(self, queryset: QuerySet, lookup: str = "") -> QuerySet:
        return queryset.filter(self.q(lookup))

    def contains(self, unit: Unit | None) -> bool:
        if unit is None:
            return self.is_global
        return self.is_global or any(unit.path.startswith(root) for root in self.roots)

    def contains_strictly(self, unit: Unit | None) -> bool:
        if unit is None:
            return self.is_global
        return self.is_global or any(unit.path.startswith(root) and unit.path != root for root in self.roots)


def _minimal_roots(paths) -> tuple[str, ...]:
    roots: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return tuple(sorted(roots))


def scope_for(user) -> Scope:
    """The subtrees `user` administers; one query, remembered on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(is_global=False, roots=())
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(is_global=True, roots=())
    else:
        # Only an admin role on the kind of unit it is made for grants anything, whatever wrote the row.
        granted = Q()
        for role, kind in ADMIN_ROLE_UNIT_KIND.items():
            granted |= Q(role=role, unit__kind=kind)
        paths = RoleAssignment.objects.filter(granted, user=user, unit__is_active=True).values_list(
            "unit__path", flat=True
        )
        scope = Scope(is_global=False, roots=_minimal_roots(paths))
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the remembered scope, after the user's roles changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
