"""What the residents app adds to the scoping rule: dispatching residents' requests (派单) on one's units,
and serving them (接单) as a team, whether through its leader or through the staff of the team's unit."""


class Capability:
    REQUESTS_DISPATCH = "requests.dispatch"  # dispatch a request of one's units to a team, cancel it
    REQUESTS_SERVE = "requests.serve"  # accept, decline, link activities and complete for a team


_STAFF = frozenset({Capability.REQUESTS_DISPATCH, Capability.REQUESTS_SERVE})
UNIT_ROLE_CAPABILITIES = {"county_admin": _STAFF, "institute_admin": _STAFF, "station_admin": _STAFF}
TEAM_ROLE_CAPABILITIES = {"leader": frozenset({Capability.REQUESTS_SERVE})}


def register() -> None:
    from stations.scoping import extend_role_capabilities, extend_tree_role_capabilities
    from volunteers.capabilities import TEAM_TREE

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
    for role, capabilities in TEAM_ROLE_CAPABILITIES.items():
        extend_tree_role_capabilities(TEAM_TREE, role, capabilities)
