"""What the volunteers app adds to the scoping rule: its capabilities, which unit roles carry them, and
the team-leader role, which grants a team and its sub-teams (a tree of its own, stations.scoping)."""

from django.db.models import F


class Capability:
    VOLUNTEERS_CHANGE = "volunteers.change"  # register volunteers on their behalf, edit, import
    VOLUNTEERS_VIEW_CONTACTS = "volunteers.view_contacts"  # phones unmasked on a volunteer's page
    VOLUNTEERS_VIEW_ID_NUMBER = "volunteers.view_id_number"  # the full ID number, each reveal audited
    TEAMS_CHANGE = "teams.change"  # add and edit teams on one's units
    TEAMS_MEMBERS = "teams.members"  # admit, remove and appoint members
    TRANSFERS_DECIDE = "volunteers.transfers"  # approve or reject a transfer into one's unit or team


TEAM_TREE = "team"
TEAM_LEADER_ROLE = "leader"

_STAFF = {
    Capability.VOLUNTEERS_CHANGE,
    Capability.VOLUNTEERS_VIEW_CONTACTS,
    Capability.TEAMS_CHANGE,
    Capability.TEAMS_MEMBERS,
    Capability.TRANSFERS_DECIDE,
}
UNIT_ROLE_CAPABILITIES = {
    "county_admin": _STAFF | {Capability.VOLUNTEERS_VIEW_ID_NUMBER},
    "institute_admin": _STAFF,
    "station_admin": _STAFF,
}
TEAM_ROLE_CAPABILITIES = {
    TEAM_LEADER_ROLE: frozenset({Capability.TEAMS_MEMBERS, Capability.TRANSFERS_DECIDE})
}


def team_grants(user):
    """The teams `user` leads: (role, path) rows for the scope's one query. A suspended or departed
    volunteer, or a disabled account, leads nothing (the membership row stays as history)."""
    from .models import MembershipRole, MembershipStatus, TeamMembership, VolunteerStatus

    return TeamMembership.objects.filter(
        volunteer__user=user,
        volunteer__user__is_active=True,
        volunteer__status=VolunteerStatus.ACTIVE,
        role=MembershipRole.LEADER,
        status=MembershipStatus.ACTIVE,
        team__is_active=True,
    ).annotate(path=F("team__path"))


def register() -> None:
    from stations.scoping import extend_role_capabilities, register_tree_grants

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
    register_tree_grants(TEAM_TREE, roles=TEAM_ROLE_CAPABILITIES, source=team_grants)
