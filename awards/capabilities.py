"""What the awards app adds to the scoping rule: giving and revoking awards inside one's subtree."""


class Capability:
    AWARDS_GIVE = (
        "awards.give"  # give an award to a volunteer, team, project or unit of one's subtree, revoke it
    )


UNIT_ROLE_CAPABILITIES = {
    "county_admin": frozenset({Capability.AWARDS_GIVE}),
    "institute_admin": frozenset({Capability.AWARDS_GIVE}),
}


def register() -> None:
    from stations.scoping import extend_role_capabilities

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
