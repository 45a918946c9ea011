"""The scoping rule: which subtrees of the unit tree a user may see, and what each role allows there.

A user's roles on units each grant that unit's subtree together with the role's capabilities (a table
below). `scope_for(user)` turns them into a `Scope` in one query per request. Each scoped model declares
once, on its queryset, how it reaches its unit (`ScopeRule`); `.visible_to(user)` and `.changeable_by(user)`
build on that rule, and the admin, the API and the pages all read through them. Services check a write
with `require(...)`, the one function that decides whether a user may do a thing to a unit.

The rule is fail-closed: no role, an inactive user or a role on the wrong kind of unit grants nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

from .paths import path_depth, root_id

_CACHE_ATTR = "_practice_scope"


class Capability:
    """What a role allows inside its subtree. Names are stable: later apps add their own."""

    UNITS_CHANGE = "units.change"  # edit a unit's details, add units below it
    UNITS_RESTRUCTURE = "units.restructure"  # move a unit or change its kind (only below one's own)
    UNITS_DEACTIVATE = "units.deactivate"  # (only below one's own)
    UNITS_DELETE = "units.delete"  # (only below one's own)
    UNITS_VIEW_CONTACTS = "units.view_contacts"  # see contact phones unmasked
    REFERENCE_CHANGE = "reference.change"  # platforms and standards of a center
    INSPECTIONS_RECORD = "inspections.record"  # (only below one's own)
    ROLES_GRANT = "roles.grant"  # (only below one's own)


_ADMIN = frozenset(
    {
        Capability.UNITS_CHANGE,
        Capability.UNITS_RESTRUCTURE,
        Capability.UNITS_DEACTIVATE,
        Capability.UNITS_DELETE,
        Capability.UNITS_VIEW_CONTACTS,
        Capability.INSPECTIONS_RECORD,
    }
)

# Role (its stored value) → the capabilities it carries in the subtree of its unit. Seeing the subtree
# comes with every role; a role missing here grants nothing at all. Later apps add their capabilities to
# these roles with `extend_role_capabilities`.
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    "county_admin": _ADMIN | {Capability.REFERENCE_CHANGE, Capability.ROLES_GRANT},
    "institute_admin": _ADMIN | {Capability.ROLES_GRANT},
    "station_admin": _ADMIN,
    # Dashboards and other systems: read-only, and no personal data.
    "viewer": frozenset(),
}


# Grants on other trees than the unit tree (a team leader's team and its sub-teams): kind of tree →
# role → capabilities, and the source of the rows, registered by the app that owns the tree.
_TREE_ROLE_CAPABILITIES: dict[str, dict[str, frozenset[str]]] = {}
_TREE_GRANT_SOURCES: dict[str, object] = {}


def extend_role_capabilities(role: str, capabilities) -> None:
    """A later app's capabilities for a role on units (e.g. volunteers.change for the admins)."""
    ROLE_CAPABILITIES[role] = ROLE_CAPABILITIES.get(role, frozenset()) | frozenset(capabilities)


def extend_tree_role_capabilities(tree: str, role: str, capabilities) -> None:
    """A later app's capabilities for a role on another tree (e.g. approving hours for team leaders)."""
    roles = _TREE_ROLE_CAPABILITIES.setdefault(tree, {})
    roles[role] = roles.get(role, frozenset()) | frozenset(capabilities)


def register_tree_grants(tree: str, *, roles: dict[str, frozenset[str]], source) -> None:
    """Roles on another tree of materialized paths (teams): `source(user)` is a queryset of
    (role, path) pairs, read in the same query as the user's roles on units (a UNION)."""
    known = _TREE_ROLE_CAPABILITIES.setdefault(tree, {})
    for role, capabilities in roles.items():
        known[role] = known.get(role, frozenset()) | frozenset(capabilities)
    _TREE_GRANT_SOURCES[tree] = source


def _minimal_roots(paths) -> tuple[str, ...]:
    """The paths none of which lies inside another, sorted."""
    roots: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return tuple(sorted(roots))


def subtree_q(path: str, lookup: str = "") -> Q:
    """Rows whose unit lies in the subtree rooted at `path`: one indexed prefix match."""
    return Q(**{f"{lookup}__path__startswith" if lookup else "path__startswith": path})


@dataclass(frozen=True)
class Scope:
    """The subtrees a user holds, each with the capabilities granted there."""

    is_global: bool = False
    grants: tuple[tuple[str, frozenset[str]], ...] = ()  # (root path, capabilities)
    # Grants on other trees: (tree, root path, capabilities), e.g. ("team", "00000003/", {...}).
    tree_grants: tuple[tuple[str, str, frozenset[str]], ...] = ()
    _by_capability: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def roots(self) -> tuple[str, ...]:
        """What the user sees: the topmost of all granted subtrees."""
        return _minimal_roots(path for path, _caps in self.grants)

    def roots_for(self, capability: str | None) -> tuple[str, ...]:
        """The topmost subtrees in which the user has `capability` (a grant holds in all of its subtree)."""
        if capability is None:
            return self.roots
        if capability not in self._by_capability:
            self._by_capability[capability] = _minimal_roots(
                path for path, caps in self.grants if capability in caps
            )
        return self._by_capability[capability]

    @property
    def is_empty(self) -> bool:
        """No grant at all, on units or on any other tree."""
        return not self.is_global and not self.grants and not self.tree_grants

    @property
    def holds_units(self) -> bool:
        """Some subtree of the unit tree (what staff hold; a team leader alone holds none)."""
        return self.is_global or bool(self.grants)

    def tree_roots_for(self, tree: str, capability: str | None = None) -> tuple[str, ...]:
        key = (tree, capability)
        if key not in self._by_capability:
            self._by_capability[key] = _minimal_roots(
                path
                for kind, path, caps in self.tree_grants
                if kind == tree and (capability is None or capability in caps)
            )
        return self._by_capability[key]

    def tree_q(self, tree: str, lookup: str = "", *, capability: str | None = None) -> Q:
        """Rows whose node of `tree` (reached by `lookup`) lies in a subtree granted there. A global
        scope holds every tree whole through its units, so this part adds nothing for it."""
        roots = () if self.is_global else self.tree_roots_for(tree, capability)
        if not roots:
            return Q(pk__in=[])
        q = Q()
        for root in roots:
            q |= subtree_q(root, lookup)
        return q

    def tree_contains_path(
        self, tree: str, path: str, *, capability: str | None = None, below: bool = False
    ) -> bool:
        """`path` lies in a subtree granted on `tree` (with `below`, strictly under its root)."""
        return any(
            path.startswith(root) and not (below and path == root)
            for root in self.tree_roots_for(tree, capability)
        )

    def has(self, capability: str) -> bool:
        """Whether the user has `capability` anywhere."""
        return self.is_global or bool(self.roots_for(capability))

    # --- SQL form ---------------------------------------------------------------------------------

    def q(self, lookup: str = "", *, capability: str | None = None, below: bool = False) -> Q:
        """Rows whose unit (reached by `lookup`, "" for a unit itself) lies in a subtree where the user
        has `capability` (None: sees); with `below`, not the subtree roots themselves."""
        if self.is_global:
            return Q()
        roots = self.roots_for(capability)
        if not roots:
            return Q(pk__in=[])
        q = Q()
        for root in roots:
            q |= subtree_q(root, lookup)
        if below:
            q &= ~Q(**{f"{lookup}__path__in" if lookup else "path__in": roots})
        return q

    def center_ids(self, capability: str | None = None) -> list[int]:
        """Centers whose reference data the user reads (any grant under them) or, with `capability`,
        changes (a grant on the center itself)."""
        if capability is None:
            return sorted({root_id(root) for root in self.roots})
        return sorted({root_id(root) for root in self.roots_for(capability) if path_depth(root) == 0})

    def center_q(self, lookup: str, capability: str | None = None) -> Q:
        """Rows owned by a center (reached by `lookup`), filtered on the center's id: no join needed."""
        if self.is_global:
            return Q()
        return Q(**{f"{lookup}_id__in": self.center_ids(capability)})

    # --- Python form: the same answers for one unit in hand ------------------------------------------

    def contains(self, unit, *, capability: str | None = None, below: bool = False) -> bool:
        if unit is None:
            return self.is_global
        return self.contains_path(unit.path, capability=capability, below=below)

    def contains_path(self, path: str, *, capability: str | None = None, below: bool = False) -> bool:
        if self.is_global:
            return True
        return any(
            path.startswith(root) and not (below and path == root) for root in self.roots_for(capability)
        )

    def owns_center(self, center_id: int, capability: str | None = None) -> bool:
        return self.is_global or center_id in self.center_ids(capability)


NO_SCOPE = Scope()


def scope_for(user) -> Scope:
    """The subtrees `user` holds; one query, remembered on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(is_global=True)
    else:
        # Imported here: the models import this module for their querysets.
        from .models import ROLE_UNIT_KINDS, RoleAssignment

        # Only a role on a kind of unit it is made for grants anything, whatever wrote the row.
        granted = Q(pk__in=[])
        for role, kinds in ROLE_UNIT_KINDS.items():
            if role in ROLE_CAPABILITIES:
                granted |= Q(role=role, unit__kind__in=kinds)
        # No ORDER BY in the parts of a UNION (SQLite refuses one there); the grants are sorted below.
        rows = (
            RoleAssignment.objects.filter(granted, user=user, unit__is_active=True)
            .order_by()
            .values_list("role", "unit__path", Value("", output_field=models.CharField()))
        )
        for tree, source in _TREE_GRANT_SOURCES.items():
            part = source(user).order_by().annotate(_tree=Value(tree)).values_list("role", "path", "_tree")
            rows = rows.union(part)
        grants, tree_grants = [], []
        for role, path, tree in rows:
            if not tree:
                grants.append((path, ROLE_CAPABILITIES[role]))
            elif role in _TREE_ROLE_CAPABILITIES.get(tree, {}):
                tree_grants.append((tree, path, _TREE_ROLE_CAPABILITIES[tree][role]))
        scope = Scope(grants=tuple(sorted(grants)), tree_grants=tuple(sorted(tree_grants)))
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the remembered scope, after the user's roles changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def require(
    actor,
    capability: str,
    unit,
    *,
    below: bool = False,
    field: str | None = None,
    message: str | None = None,
) -> None:
    """The one check of a write: may `actor` do `capability` to `unit`? `below` means only to units
    under the actor's own (nobody moves, deactivates, deletes or inspects the unit they hold). `actor`
    None is the system itself (commands, seeding), which is not scoped."""
    if actor is None:
        return
    if not scope_for(actor).contains(unit, capability=capability, below=below):
        raise ApplicationError(message or _("This unit is outside the area you administer."), field=field)


def can(user, capability: str, unit, *, below: bool = False) -> bool:
    """`require` as a yes or no, for what a page or the admin offers."""
    return user is None or scope_for(user).contains(unit, capability=capability, below=below)


# --- The scope rule each scoped model declares once ------------------------------------------------


@dataclass(frozen=True)
class ScopeRule:
    """How a model's rows are scoped.

    `lookup` leads from a row to its unit ("" for a unit itself). `owned_by_center`: reference data of a
    center (platforms, standards), read by everyone under the center and changed only with `capability`
    on the center itself. Otherwise a row is seen where its unit is, and changed where the user holds
    `capability` for its unit (strictly below the user's own units when `below`).

    `maker` and `maker_unit` make a record belong to whoever made it, inside the subtree too: the user
    who made it (`maker`, a foreign key to the user) and the unit on whose behalf (`maker_unit`). Then
    only the maker, or someone whose scope strictly contains the maker's unit, changes it: a level below
    never rewrites the level above's record. A row the system made (no maker) belongs to its unit's
    holders.
    """

    lookup: str
    capability: str
    below: bool = False
    owned_by_center: bool = False
    maker: str = ""
    maker_unit: str = ""
    # Rows reached through another tree too (a team leader sees its team's rows): the tree's name and the
    # lookup from a row to its node there ("" for a node itself). A rule whose row reaches its nodes
    # through a many-valued relation overrides `tree_part` with a subquery instead.
    tree: str = ""
    tree_lookup: str = ""
    # People named on a row (an activity's organisers, a record's organiser) see and change it whatever
    # their scope: `person(user, prefix)` is the Q of the rows naming `user`, `prefix` leading from the
    # rows asked for to the rows of this rule's model ("" for those rows themselves).
    person: Callable[[object, str], Q] | None = None
    person_prefix: str = ""

    def through(self, relation: str) -> ScopeRule:
        """The same rule for rows that belong to a row of this rule's model, reached by `relation`."""
        prefix = lambda lookup: f"{relation}__{lookup}" if lookup else relation  # noqa: E731
        return replace(
            self,
            lookup=prefix(self.lookup),
            maker=prefix(self.maker) if self.maker else "",
            maker_unit=prefix(self.maker_unit) if self.maker_unit else "",
            tree_lookup=prefix(self.tree_lookup)
            if self.tree and self.tree_lookup is not None
            else self.tree_lookup,
            person_prefix=f"{relation}__{self.person_prefix}",
        )

    def person_q(self, user) -> Q:
        """Rows on which `user` is named (none without a `person` rule, or for a signed-out user)."""
        if self.person is None or user is None or not user.is_authenticated or not user.is_active:
            return Q(pk__in=[])
        return self.person(user, self.person_prefix)

    def _with_person(self, q: Q, user) -> Q:
        return q | self.person_q(user) if self.person is not None and user is not None else q

    def unit_of(self, obj):
        return self._follow(obj, self.lookup)

    def tree_part(self, scope: Scope, capability: str | None) -> Q:
        """Rows granted through the other tree (none unless the rule names one)."""
        if not self.tree or not scope.tree_grants:
            return Q(pk__in=[])
        return scope.tree_q(self.tree, self.tree_lookup, capability=capability)

    def _with_tree(self, q: Q, scope: Scope, capability: str | None) -> Q:
        if self.tree and scope.tree_grants:
            return q | self.tree_part(scope, capability)
        return q

    def visible_q(self, scope: Scope, user=None) -> Q:
        if self.owned_by_center:
            return scope.center_q(self.lookup)
        return self._with_person(self._with_tree(scope.q(self.lookup), scope, None), user)

    def changeable_q(self, scope: Scope, user=None) -> Q:
        return self._with_person(self._scope_changeable_q(scope, user), user)

    def _scope_changeable_q(self, scope: Scope, user=None) -> Q:
        if self.owned_by_center:
            return scope.center_q(self.lookup, self.capability)
        if self.tree:
            return self._with_tree(
                scope.q(self.lookup, capability=self.capability, below=self.below), scope, self.capability
            )
        q = scope.q(self.lookup, capability=self.capability, below=self.below)
        if self.maker_unit and not scope.is_global:
            made_above_or_by_system = scope.q(self.maker_unit, capability=self.capability, below=True) | (
                Q(**{f"{self.maker}__isnull": True}) & scope.q(self.maker_unit, capability=self.capability)
            )
            if user is not None and user.pk is not None:
                made_above_or_by_system |= Q(**{f"{self.maker}_id": user.pk})
            q &= made_above_or_by_system
        return q

    def made_by_or_below(self, user, obj) -> bool:
        """The maker rule in Python: `user` made `obj`, or holds more than the unit it was made for."""
        if not self.maker_unit:
            return True
        scope = scope_for(user)
        if scope.is_global:
            return True
        maker_id = self._follow(obj, f"{self.maker}_id")
        if maker_id is not None and user is not None and maker_id == user.pk:
            return True
        maker_unit = self._follow(obj, self.maker_unit)
        if maker_unit is None:
            return False
        return scope.contains(maker_unit, capability=self.capability, below=maker_id is not None)

    @staticmethod
    def _follow(obj, lookup: str):
        value = obj
        for part in filter(None, lookup.split("__")):
            value = getattr(value, part, None)
        return value

    def names(self, user, obj) -> bool:
        """`obj` names `user` through the `person` rule (one query)."""
        if self.person is None or obj is None or obj.pk is None:
            return False
        return type(obj)._default_manager.filter(self.person_q(user), pk=obj.pk).exists()

    def can_change(self, user, obj=None) -> bool:
        """Whether `user` may change `obj`, or (obj None) whether they may change such rows anywhere
        through their scope (rows naming them come on top: `names`)."""
        scope = scope_for(user)
        if obj is None:
            return scope.has(self.capability) or bool(
                self.tree and scope.tree_roots_for(self.tree, self.capability)
            )
        if self._scope_can_change(scope, user, obj):
            return True
        return self.names(user, obj)

    def _scope_can_change(self, scope: Scope, user, obj) -> bool:
        if self.tree and self.tree_lookup is not None:
            node = self._follow(obj, self.tree_lookup)
            path = getattr(node, "path", None)
            if path and scope.tree_contains_path(self.tree, path, capability=self.capability):
                return True
        unit = self.unit_of(obj)
        if unit is None:
            return scope.is_global
        if self.owned_by_center:
            return scope.owns_center(unit.pk, self.capability)
        return scope.contains(unit, capability=self.capability, below=self.below) and self.made_by_or_below(
            user, obj
        )


class ScopedQuerySet(models.QuerySet):
    """The queryset of a scoped model. Subclasses set `scope_rule`; nothing else repeats the lookup."""

    scope_rule: ScopeRule

    def visible_to(self, user):
        return self.filter(self.scope_rule.visible_q(scope_for(user), user))

    def changeable_by(self, user):
        return self.filter(self.scope_rule.changeable_q(scope_for(user), user))


def scope_rule_of(model) -> ScopeRule:
    """The rule a model declares, or an error: an unscoped model never reaches a scoped view."""
    queryset = model._default_manager.all()
    if not isinstance(queryset, ScopedQuerySet):
        raise TypeError(f"{model.__name__} has no ScopedQuerySet: declare its scope_rule")
    return queryset.scope_rule
