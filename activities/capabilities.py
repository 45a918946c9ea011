"""What the activities app adds to the scoping rule: planning and running the activities of one's units.
An activity's organisers (users named on it) run it whatever their roles: the scope rule's `person`."""


class Capability:
    ACTIVITIES_CHANGE = "activities.change"  # plan, publish, cancel activities of one's units
    ACTIVITIES_RUN = "activities.run"  # the roster, the check-in QR, check people in and out by hand


_STAFF = frozenset({Capability.ACTIVITIES_CHANGE, Capability.ACTIVITIES_RUN})
UNIT_ROLE_CAPABILITIES = {"county_admin": _STAFF, "institute_admin": _STAFF, "station_admin": _STAFF}


def register() -> None:
    from stations.scoping import extend_role_capabilities

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
