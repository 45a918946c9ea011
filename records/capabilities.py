"""What the records app adds to the scoping rule: its capabilities, on the unit roles (staff) and on the
team-leader role of the team tree (volunteers.capabilities)."""

from volunteers.capabilities import TEAM_LEADER_ROLE, TEAM_TREE


class Capability:
    RECORDS_APPROVE = "records.approve"  # approve or reject service records, decide corrections
    RECORDS_ENTER = "records.enter"  # record a service on a volunteer's behalf
    RECORDS_REVIEW = "records.review"  # clear review flags, approve a flagged record (from one level up)
    RECORDS_EXPORT = "records.export"  # export approved records for the national volunteer system
    TRAININGS_CHANGE = "records.trainings"  # record trainings attended
    EVALUATIONS_CHANGE = "records.evaluations"  # yearly evaluations of a team's volunteers
    CERTIFICATES_MANAGE = "certificates.manage"  # the issuer's details and seal, revoking certificates


_STAFF = frozenset(
    {
        Capability.RECORDS_APPROVE,
        Capability.RECORDS_ENTER,
        Capability.RECORDS_REVIEW,
        Capability.RECORDS_EXPORT,
        Capability.TRAININGS_CHANGE,
        Capability.EVALUATIONS_CHANGE,
        Capability.CERTIFICATES_MANAGE,
    }
)
UNIT_ROLE_CAPABILITIES = {"county_admin": _STAFF, "institute_admin": _STAFF, "station_admin": _STAFF}
TEAM_ROLE_CAPABILITIES = {
    TEAM_LEADER_ROLE: frozenset(
        {Capability.RECORDS_APPROVE, Capability.RECORDS_ENTER, Capability.EVALUATIONS_CHANGE}
    )
}


def register() -> None:
    from stations.scoping import extend_role_capabilities, extend_tree_role_capabilities

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
    for role, capabilities in TEAM_ROLE_CAPABILITIES.items():
        extend_tree_role_capabilities(TEAM_TREE, role, capabilities)
