"""Staff accounts managed from one level up, inside one's own subtree: the stations part of the account rule
(kernel.accounts) and the services that create an account with its first role and grant and revoke roles.

An account is manageable by an actor iff it is not a superuser, it is not the actor, and every role it
holds lies strictly below a unit where the actor holds Capability.ROLES_GRANT (the kernel adds: and no
other app's role lies beyond the actor). So a county admin manages institute and station admins, an
institute admin the station admins and viewers of its township; nobody edits a superuser, a peer or an
account that also holds a role elsewhere. The generic writes (real name, email, deactivate, password)
are kernel.accounts' services, checked by the same rule.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kernel import accounts
from kernel.errors import ApplicationError

from . import services
from .models import ROLE_UNIT_KINDS, Role, RoleAssignment, Unit, UnitKind
from .paths import path_depth
from .scoping import Capability, scope_for

# How deep in the tree each kind of unit lies: the tree's kinds fix it (ALLOWED_PARENT_KINDS).
_KIND_DEPTH = {UnitKind.CENTER: 0, UnitKind.INSTITUTE: 1, UnitKind.STATION: 2}


def _granted_below_q(actor, lookup: str = "unit") -> Q:
    """Role rows on units strictly below a unit where `actor` grants roles."""
    return scope_for(actor).q(lookup, capability=Capability.ROLES_GRANT, below=True)


def manages_accounts(actor) -> bool:
    return scope_for(actor).has(Capability.ROLES_GRANT)


def managed_q(actor) -> Q:
    """Accounts holding at least one role strictly below the actor's."""
    return Q(pk__in=RoleAssignment.objects.filter(_granted_below_q(actor)).values("user_id"))


def unmanaged_q(actor) -> Q:
    """Accounts holding a role anywhere else: on the actor's own unit, beside it or above it."""
    return Q(pk__in=RoleAssignment.objects.exclude(_granted_below_q(actor)).values("user_id"))


def grantable_roles(*, actor) -> list[Role]:
    """The roles `actor` may grant: those lower than its own level. An institute admin grants station
    admins and viewers; a county admin also institute admins; nobody a role of their own level."""
    if actor is None or actor.is_superuser:
        return list(Role)
    roots = scope_for(actor).roots_for(Capability.ROLES_GRANT)
    if not roots:
        return []
    own_depth = min(path_depth(root) for root in roots)
    # A role is below the actor's when it may sit on a kind of unit deeper than the actor's own.
    return [role for role in Role if any(_KIND_DEPTH[kind] > own_depth for kind in ROLE_UNIT_KINDS[role])]


def grantable_units(*, actor):
    """The units `actor` may grant a role on: active, not a point, strictly below its own."""
    units = Unit.objects.active().exclude(kind=UnitKind.POINT)
    if actor is None or actor.is_superuser:
        return units
    return units.filter(scope_for(actor).q(capability=Capability.ROLES_GRANT, below=True))


def _require_grantable_role(actor, role: str) -> None:
    if role in Role.values and Role(role) not in grantable_roles(actor=actor):
        raise ApplicationError(_("You may only grant roles below your own level."), field="role")


@transaction.atomic
def staff_account_create(
    *, actor, username: str, real_name: str, password: str, role: str | None, unit: Unit | None
):
    """A new staff account with its first role, so it is never orphaned. Only a system administrator
    makes an account without a role."""
    if role is None or unit is None:
        if actor is not None and not actor.is_superuser:
            raise ApplicationError(_("Choose the role of the new account and its unit."), field="role")
        if unit is not None or role is not None:
            raise ApplicationError(_("Choose both a role and a unit, or neither."), field="unit")
        return accounts.account_build(username=username, real_name=real_name, password=password)
    # The role is checked before the account exists: nobody makes an account they could not manage.
    _require_grantable_role(actor, role)
    services.role_validate(actor=actor, role=role, unit=unit)
    user = accounts.account_build(username=username, real_name=real_name, password=password)
    services.role_grant(actor=actor, user=user, role=role, unit=unit)
    return user


@transaction.atomic
def staff_role_grant(*, actor, user, role: str, unit: Unit) -> RoleAssignment:
    """Give an account one manages a role below one's own."""
    user = accounts.lock_account(user)
    accounts.require_manageable(actor, user, field="user")
    _require_grantable_role(actor, role)
    return services.role_grant(actor=actor, user=user, role=role, unit=unit)


@transaction.atomic
def staff_role_revoke(*, actor, assignment: RoleAssignment) -> None:
    """Take a role from an account one manages. Its last role stays: an account without any would be
    nobody's to manage, so a scoped admin deactivates the account instead."""
    user_id = RoleAssignment.objects.filter(pk=assignment.pk).values_list("user_id", flat=True).first()
    if user_id is None:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    # The account first: two revokes of its last two roles wait for each other here.
    user = accounts.lock_account(get_user_model()(pk=user_id))
    accounts.require_manageable(actor, user, field="user")
    if actor is not None and not actor.is_superuser and user.roles.count() <= 1:
        raise ApplicationError(
            _("This is the account's last role; deactivate the account instead."), field=None
        )
    services.role_revoke(actor=actor, assignment=assignment)


class StationsAccounts(accounts.AccountExtension):
    """The stations part of the rule. The admin parts are added by stations.admin_accounts."""

    name = "stations"

    def manages_accounts(self, actor) -> bool:
        return manages_accounts(actor)

    def managed_q(self, actor) -> Q:
        return managed_q(actor)

    def unmanaged_q(self, actor) -> Q:
        return unmanaged_q(actor)
