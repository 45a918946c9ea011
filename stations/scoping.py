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


@dataclass(frozen=True)
class Scope:
    is_global: bool
    roots: tuple[str, ...]  # paths of the subtree roots, none inside another

    @property
    def is_empty(self) -> bool:
        return not self.is_global and not self.roots

    def _prefix(self, lookup: str) -> str:
        return f"{lookup}__path" if lookup else "path"

    def q(self, lookup: str = "") -> Q:
        """Rows whose unit (reached by `lookup`, e.g. "unit") lies in one of the subtrees."""
        if self.is_global:
            return Q()
        if not self.roots:
            return Q(pk__in=[])
        field = self._prefix(lookup)
        q = Q()
        for root in self.roots:
            q |= Q(**{f"{field}__startswith": root})
        return q

    def strict_q(self, lookup: str = "") -> Q:
        """As `q`, less the roots themselves: what lies below the user's own units."""
        if self.is_global:
            return Q()
        return self.q(lookup) & ~Q(**{f"{self._prefix(lookup)}__in": self.roots})

    def reference_q(self, lookup: str) -> Q:
        """Rows owned by a unit that is an ancestor of, or inside, one of the subtrees."""
        if self.is_global:
            return Q()
        field = self._prefix(lookup)
        ancestors = {prefix for root in self.roots for prefix in _prefixes(root)}
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


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[:i]) for i in range(1, len(parts) + 1)]


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
        paths = RoleAssignment.objects.filter(
            user=user, role__in=list(ADMIN_ROLE_UNIT_KIND), unit__is_active=True
        ).values_list("unit__path", flat=True)
        scope = Scope(is_global=False, roots=_minimal_roots(paths))
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the remembered scope, after the user's roles changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
