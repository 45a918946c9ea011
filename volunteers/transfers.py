"""Transfers (关系转接): a volunteer moves to another home unit or team, decided by the receiving side.

The volunteer (their own account) or the admins of their home unit ask; only the side the volunteer
moves to decides (`Transfer.objects.changeable_by`: the admins of `to_unit`, or the leaders of
`to_team`). The Transfer rows are the history and are kept; the volunteer's service records stay with
the volunteer: only the home unit or the team membership changes.

Every service locks the volunteer's row first, then the transfer's, then memberships: the same order
everywhere, so two decisions at once wait for each other and only the first one applies.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.locks import lock_objects
from kernel.services import lock_one, model_save, model_validate
from stations.models import Unit
from stations.paths import root_id
from stations.scoping import forget_scope, require, scope_rule_of

from .capabilities import Capability
from .models import (
    MembershipRole,
    MembershipStatus,
    Team,
    TeamMembership,
    Transfer,
    TransferKind,
    TransferStatus,
    Volunteer,
    VolunteerStatus,
)


def _check_volunteer_active(volunteer: Volunteer) -> None:
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ApplicationError(_("Only an active volunteer can be transferred."), field="volunteer")


def _already_in_team_message() -> str:
    # The wording of the one-open-membership constraint, for the same state found before it is hit.
    return _("This volunteer already belongs to this team or has asked to join it.")


@transaction.atomic
def transfer_request(
    *,
    actor,
    volunteer: Volunteer,
    to_unit: Unit | None = None,
    to_team: Team | None = None,
    reason: str = "",
    from_team: Team | None = None,
) -> Transfer:
    """Ask to move `volunteer` to another home unit (`to_unit`) or to another team (`to_team`, leaving
    `from_team` if named). One transfer waits for a decision per volunteer at a time."""
    volunteer = lock_one(Volunteer, volunteer.pk)
    if actor is None or volunteer.user_id != actor.pk:
        require(
            actor,
            Capability.VOLUNTEERS_CHANGE,
            volunteer.home_unit,
            field="volunteer",
            message=_("Only the volunteer or the admins of their unit may ask for a transfer."),
        )
    requested_by = actor or volunteer.user
    if requested_by is None:
        raise ValueError("transfer_request needs an actor, or a volunteer with an account")
    _check_volunteer_active(volunteer)
    # Service domains and teams are each county's own: a volunteer moves within their county only.
    county = root_id(volunteer.home_unit.path)
    if to_team is not None:
        to_team = Team.objects.select_related("unit").get(pk=to_team.pk)
        if root_id(to_team.unit.path) != county:
            raise ApplicationError(_("Choose a team of the volunteer's own county."), field="to_team")
        if to_unit is not None and to_unit.pk != to_team.unit_id:
            raise ApplicationError(_("A move to a team goes to the team's own unit."), field="to_unit")
        if not to_team.is_active:
            raise ApplicationError(_("This team is no longer active."), field="to_team")
        if from_team is not None:
            if from_team.pk == to_team.pk:
                raise ApplicationError(
                    _("Choose a team other than the one the volunteer leaves."), field="to_team"
                )
            if not TeamMembership.objects.filter(
                team=from_team, volunteer=volunteer, status=MembershipStatus.ACTIVE
            ).exists():
                raise ApplicationError(_("The volunteer is not a member of this team."), field="from_team")
        if TeamMembership.objects.open().filter(team=to_team, volunteer=volunteer).exists():
            raise ApplicationError(_already_in_team_message(), field="to_team")
        kind, to_unit = TransferKind.TEAM, to_team.unit
    else:
        if from_team is not None:
            raise ApplicationError(_("Choose the team to move to."), field="to_team")
        if to_unit is None:
            raise ApplicationError(_("Choose the unit or the team to move to."), field="to_unit")
        if root_id(to_unit.path) != county:
            raise ApplicationError(_("Choose a unit of the volunteer's own county."), field="to_unit")
        if not to_unit.is_active:
            raise ApplicationError(_("This unit is no longer active; choose another."), field="to_unit")
        if to_unit.pk == volunteer.home_unit_id:
            raise ApplicationError(_("The volunteer already belongs to this unit."), field="to_unit")
        kind = TransferKind.UNIT
    transfer = Transfer(
        volunteer=volunteer,
        kind=kind,
        from_unit=volunteer.home_unit,
        to_unit=to_unit,
        from_team=from_team,
        to_team=to_team,
        reason=(reason or "").strip(),
        requested_by=requested_by,
    )
    # One pending transfer per volunteer is a constraint: the check names it, and a race lost to
    # another request becomes the same message (model_save).
    model_validate(transfer)
    model_save(transfer)
    return transfer


def _lock(transfer: Transfer) -> tuple[Volunteer, Transfer]:
    # The volunteer's row alone: locked with a join to its home unit, a row whose home unit another
    # decision just changed would fail the join when PostgreSQL re-reads it, and look deleted.
    volunteer = lock_one(Volunteer, transfer.volunteer_id)
    locked = lock_one(
        Transfer.objects.select_related("from_unit", "to_unit", "from_team", "to_team__unit"), transfer.pk
    )
    return volunteer, locked


def _check_pending(transfer: Transfer) -> None:
    if transfer.status != TransferStatus.PENDING:
        raise ApplicationError(_("This transfer has already been decided or withdrawn."))


@transaction.atomic
def transfer_decide(*, actor, transfer: Transfer, approve: bool, note: str = "") -> Transfer:
    """The receiving side approves (the move happens now) or rejects (with a reason)."""
    volunteer, transfer = _lock(transfer)
    if actor is not None and not scope_rule_of(Transfer).can_change(actor, transfer):
        raise ApplicationError(
            _("Only the receiving side (the unit or team the volunteer moves to) decides a transfer.")
        )
    _check_pending(transfer)
    if actor is not None and volunteer.user_id == actor.pk:
        raise ApplicationError(_("You cannot decide your own transfer."))
    note = (note or "").strip()
    if not approve and not note:
        raise ApplicationError(_("Give the reason for rejecting."), field="note")
    if approve:
        _check_volunteer_active(volunteer)
        if root_id(transfer.to_unit.path) != root_id(volunteer.home_unit.path):  # asked before the rule
            if transfer.kind == TransferKind.UNIT:
                raise ApplicationError(_("Choose a unit of the volunteer's own county."), field="to_unit")
            raise ApplicationError(_("Choose a team of the volunteer's own county."), field="to_team")
        if transfer.kind == TransferKind.UNIT:
            _move_home_unit(volunteer, transfer)
        else:
            _move_team(volunteer, transfer, actor)
    transfer.status = TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.decision_note = note
    model_validate(transfer)
    model_save(transfer)
    return transfer


def _move_home_unit(volunteer: Volunteer, transfer: Transfer) -> None:
    if not transfer.to_unit.is_active:
        raise ApplicationError(_("This unit is no longer active; choose another."), field="to_unit")
    volunteer.home_unit = transfer.to_unit
    model_save(volunteer, update_fields=["home_unit", "updated_at"])


def _move_team(volunteer: Volunteer, transfer: Transfer, actor) -> None:
    to_team = transfer.to_team
    if not to_team.is_active:
        raise ApplicationError(_("This team is no longer active."), field="to_team")
    today, now = timezone.localdate(), timezone.now()
    leaving = []
    if transfer.from_team_id is not None:
        leaving = lock_objects(
            TeamMembership.objects.filter(
                team_id=transfer.from_team_id, volunteer=volunteer, status=MembershipStatus.ACTIVE
            )
        )
    joining = lock_objects(TeamMembership.objects.open().filter(team=to_team, volunteer=volunteer))
    if any(m.status == MembershipStatus.ACTIVE for m in joining):
        raise ApplicationError(_already_in_team_message(), field="to_team")
    for membership in leaving:
        membership.status = MembershipStatus.LEFT
        membership.left_on = today
        model_save(membership, update_fields=["status", "left_on", "updated_at"])
    membership = joining[0] if joining else TeamMembership(team=to_team, volunteer=volunteer)
    membership.role = MembershipRole.MEMBER
    membership.status = MembershipStatus.ACTIVE
    membership.joined_on = today
    membership.decided_by = actor
    membership.decided_at = now
    model_validate(membership)
    model_save(membership)
    if any(m.role == MembershipRole.LEADER for m in leaving) and volunteer.user is not None:
        forget_scope(volunteer.user)  # a leader who moves away leaves the role behind


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer) -> Transfer:
    """Whoever asked, or the volunteer, withdraws a transfer while it waits."""
    volunteer, transfer = _lock(transfer)
    if actor is not None and actor.pk not in (transfer.requested_by_id, volunteer.user_id):
        raise ApplicationError(_("Only the volunteer or whoever asked may withdraw this transfer."))
    _check_pending(transfer)
    transfer.status = TransferStatus.CANCELLED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    model_save(transfer, update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return transfer
