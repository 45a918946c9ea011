"""Writes on teams (总队 › 大队 › 分队), their membership and the team-leader role.

A team sits on a unit: that unit's admins (and those above) add and change it. A team leader admits,
removes and appoints members of its team and sub-teams; a leader never acts outside them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.locks import lock_objects
from kernel.services import lock_one, model_save, model_update, model_validate, only_fields
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import forget_scope, require, scope_for, scope_rule_of
from stations.services import tree_node_save

from .capabilities import TEAM_TREE, Capability
from .models import (
    TEAM_PARENT_KINDS,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamKind,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)

TEAM_FIELDS = ("domain", "team_type", "description", "is_active")


def _check_team_placement(*, kind: str, parent: Team | None, unit: Unit) -> None:
    if kind not in TeamKind.values:
        raise ApplicationError(_("Choose the level of the team."), field="kind")
    allowed = TEAM_PARENT_KINDS[TeamKind(kind)]
    if parent is None and allowed:
        raise ApplicationError(_("A brigade or squad must belong to a parent team."), field="parent")
    if parent is not None and parent.kind not in allowed:
        raise ApplicationError(
            _("A %(kind)s cannot belong to a %(parent)s.")
            % {"kind": TeamKind(kind).label, "parent": TeamKind(parent.kind).label},
            field="parent",
        )
    # The parent's unit is the team's own or one above it: a team never hangs under a team beside its
    # unit (another township's), whose leaders would then hold its members.
    if parent is not None and not unit.path.startswith(parent.unit.path):
        raise ApplicationError(
            _("The parent team must be on the team's own unit or on a unit above it."), field="parent"
        )
    if not unit.is_active:
        raise ApplicationError(_("This unit is no longer active; choose another."), field="unit")


def _check_domain(domain, unit: Unit) -> None:
    if domain is not None and domain.center_id != root_id(unit.path):
        raise ApplicationError(_("Choose a service domain of the team's own county."), field="domain")


@transaction.atomic
def team_create(*, actor, kind: str, name: str, unit: Unit, parent: Team | None = None, **fields) -> Team:
    """Add a team on `unit` (in the actor's scope), under `parent` if it is a brigade or squad."""
    only_fields(fields, TEAM_FIELDS, "a team")
    if parent is not None:
        parent = Team.objects.select_for_update().select_related("unit").get(pk=parent.pk)
    require(actor, Capability.TEAMS_CHANGE, unit, field="unit")
    _check_team_placement(kind=kind, parent=parent, unit=unit)
    _check_domain(fields.get("domain"), unit)
    team = Team(kind=kind, name=(name or "").strip(), unit=unit, parent=parent, **fields)
    return tree_node_save(team, parent)


@transaction.atomic
def team_update(*, actor, team: Team, **fields) -> Team:
    """Change a team's name and details, or deactivate it: the admins of its unit (and above) only.
    The level, the unit and the parent stay: they place the team in both trees."""
    only_fields(fields, ("name", *TEAM_FIELDS), "a team")
    team = lock_one(Team.objects.select_related("unit", "parent"), team.pk)
    require(
        actor,
        Capability.TEAMS_CHANGE,
        team.unit,
        message=_("Only the admins of the team's unit may change the team."),
    )
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    if "domain" in fields:
        _check_domain(fields["domain"], team.unit)
    deactivating = fields.get("is_active") is False and team.is_active
    if deactivating and Team.objects.subtree_of(team, include_self=False).active().exists():
        raise ApplicationError(_("Deactivate the team's sub-teams first."), field="is_active")
    reactivating = fields.get("is_active") is True and not team.is_active
    if reactivating and team.parent is not None and not team.parent.is_active:
        raise ApplicationError(_("The parent team is not active."), field="is_active")
    team, _changed = model_update(instance=team, fields=("name", *TEAM_FIELDS), data=fields)
    return team


# --- Membership and the team-leader role ---------------------------------------------------------


def _require_members(actor, team: Team) -> None:
    """The membership rule of the scope: the team's leaders (its team or one above) or the admins of
    its unit with TEAMS_MEMBERS. A leader acting on another team, or on a team above its own, is refused."""
    if actor is None:
        return
    if not scope_rule_of(TeamMembership).can_change(actor, TeamMembership(team=team)):
        raise ApplicationError(_("This team is outside the teams you lead or administer."), field="team")


def _require_appoints_leaders(actor, team: Team) -> None:
    """Leaders of `team` are appointed by its unit's admins, or by a leader of a team above it: nobody
    grants a role beside their own."""
    if actor is None:
        return
    scope = scope_for(actor)
    if scope.contains(team.unit, capability=Capability.TEAMS_MEMBERS):
        return
    if scope.tree_contains_path(TEAM_TREE, team.path, capability=Capability.TEAMS_MEMBERS, below=True):
        return
    raise ApplicationError(
        _("Team leaders are appointed by the unit's admins or by the leaders of a team above."), field="role"
    )


def _check_can_join(team: Team, volunteer: Volunteer) -> None:
    if not team.is_active:
        raise ApplicationError(_("This team is no longer active."), field="team")
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ApplicationError(_("Only an active volunteer can join a team."), field="volunteer")


def _lock_membership(membership: TeamMembership) -> TeamMembership:
    return lock_one(TeamMembership.objects.select_related("team__unit", "volunteer"), membership.pk)


def _forget_leader_scope(actor, user_id, volunteer: Volunteer | None) -> None:
    """A leader's remembered scope is stale once the role changes: drop it from the user objects in hand
    (the actor's own, and the account of the volunteer the caller passed)."""
    if actor is not None and actor.pk == user_id:
        forget_scope(actor)
    if volunteer is not None and Volunteer._meta.get_field("user").is_cached(volunteer) and volunteer.user:
        forget_scope(volunteer.user)


def _volunteer_in_hand(membership: TeamMembership) -> Volunteer | None:
    return membership.volunteer if TeamMembership._meta.get_field("volunteer").is_cached(membership) else None


@transaction.atomic
def membership_request(*, actor, team: Team, volunteer: Volunteer) -> TeamMembership:
    """The volunteer (`actor` is their account) asks to join `team`; the team's leaders or its unit's
    admins decide."""
    volunteer = lock_one(Volunteer, volunteer.pk)  # one request of a volunteer at a time
    if actor is not None and volunteer.user_id != actor.pk:
        raise ApplicationError(_("You may ask to join a team only for yourself."), field="volunteer")
    team = Team.objects.select_related("unit").get(pk=team.pk)
    _check_can_join(team, volunteer)
    membership = TeamMembership(team=team, volunteer=volunteer, status=MembershipStatus.PENDING)
    model_validate(membership)  # one open membership per team (a constraint)
    model_save(membership)
    return membership


@transaction.atomic
def membership_add(
    *, actor, team: Team, volunteer: Volunteer, role: str = MembershipRole.MEMBER
) -> TeamMembership:
    """A leader or an admin admits `volunteer` to `team` directly (a request already waiting is admitted)."""
    given, volunteer = volunteer, lock_one(Volunteer, volunteer.pk)
    team = Team.objects.select_related("unit").get(pk=team.pk)
    _require_members(actor, team)
    if role not in MembershipRole.values:
        raise ApplicationError(_("Choose the role in the team."), field="role")
    if role == MembershipRole.LEADER:
        _require_appoints_leaders(actor, team)
    _check_can_join(team, volunteer)
    waiting = lock_objects(TeamMembership.objects.pending().filter(team=team, volunteer=volunteer))
    # Whom one may add: a volunteer one sees (one's own unit's, or already in one's team), or one who asked.
    if (
        not waiting
        and actor is not None
        and not Volunteer.objects.visible_to(actor).filter(pk=volunteer.pk).exists()
    ):
        raise ApplicationError(
            _("This volunteer is outside your area: ask them to request to join the team."), field="volunteer"
        )
    membership = waiting[0] if waiting else TeamMembership(team=team, volunteer=volunteer)
    membership.role = role
    membership.status = MembershipStatus.ACTIVE
    membership.joined_on = timezone.localdate()
    membership.decided_by = actor
    membership.decided_at = timezone.now()
    model_validate(membership)
    model_save(membership)
    if role == MembershipRole.LEADER:
        _forget_leader_scope(actor, volunteer.user_id, given)
    return membership


@transaction.atomic
def membership_decide(*, actor, membership: TeamMembership, approve: bool, note: str = "") -> TeamMembership:
    """Admit or turn down a request to join; the reason is kept in the note."""
    locked = _lock_membership(membership)
    _require_members(actor, locked.team)
    if locked.status != MembershipStatus.PENDING:
        raise ApplicationError(_("This request has already been decided."))
    if actor is not None and locked.volunteer.user_id == actor.pk:
        raise ApplicationError(_("You cannot decide your own request."))
    if approve:
        _check_can_join(locked.team, locked.volunteer)
        locked.status = MembershipStatus.ACTIVE
        locked.joined_on = timezone.localdate()
    else:
        locked.status = MembershipStatus.REJECTED
    locked.note = (note or "").strip()
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    model_validate(locked)
    model_save(locked)
    return locked


@transaction.atomic
def membership_end(*, actor, membership: TeamMembership, note: str = "") -> TeamMembership:
    """The volunteer leaves (or withdraws a request), or a leader or an admin removes them. Removing a
    leader follows the rule of appointing one."""
    locked = _lock_membership(membership)
    own = actor is not None and locked.volunteer.user_id == actor.pk
    if not own:
        _require_members(actor, locked.team)
        if locked.role == MembershipRole.LEADER and locked.status == MembershipStatus.ACTIVE:
            _require_appoints_leaders(actor, locked.team)
    if locked.status not in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
        raise ApplicationError(_("This volunteer is no longer in this team."))
    was_leader = locked.role == MembershipRole.LEADER
    locked.status = MembershipStatus.LEFT
    locked.left_on = timezone.localdate()
    locked.note = (note or "").strip()
    model_validate(locked)
    model_save(locked)
    if was_leader:
        _forget_leader_scope(actor, locked.volunteer.user_id, _volunteer_in_hand(membership))
    return locked


@transaction.atomic
def leader_appoint(*, actor, membership: TeamMembership) -> TeamMembership:
    """Make an admitted member the team's leader (its team and sub-teams come with the role)."""
    locked = _lock_membership(membership)
    _require_appoints_leaders(actor, locked.team)
    if locked.status != MembershipStatus.ACTIVE:
        raise ApplicationError(_("Only an admitted member can be made team leader."))
    if locked.role == MembershipRole.LEADER:
        raise ApplicationError(_("This member already leads the team."))
    _check_can_join(locked.team, locked.volunteer)
    locked.role = MembershipRole.LEADER
    model_save(locked, update_fields=["role", "updated_at"])
    _forget_leader_scope(actor, locked.volunteer.user_id, _volunteer_in_hand(membership))
    return locked


@transaction.atomic
def leader_revoke(*, actor, membership: TeamMembership) -> TeamMembership:
    """The leader stays a member of the team without the role."""
    locked = _lock_membership(membership)
    _require_appoints_leaders(actor, locked.team)
    if locked.role != MembershipRole.LEADER or locked.status != MembershipStatus.ACTIVE:
        raise ApplicationError(_("This member does not lead the team."))
    locked.role = MembershipRole.MEMBER
    model_save(locked, update_fields=["role", "updated_at"])
    _forget_leader_scope(actor, locked.volunteer.user_id, _volunteer_in_hand(membership))
    return locked
