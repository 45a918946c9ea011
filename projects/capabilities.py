"""What the projects app adds to the scoping rule: keeping the project library and the yearly key-project
lists of one's units."""


class Capability:
    PROJECTS_CHANGE = "projects.change"  # add projects, move them through their lifecycle, close them
    KEY_LISTS_CHANGE = "projects.key_lists"  # the yearly key-project lists (重点项目清单)


_STAFF = frozenset({Capability.PROJECTS_CHANGE, Capability.KEY_LISTS_CHANGE})
UNIT_ROLE_CAPABILITIES = {"county_admin": _STAFF, "institute_admin": _STAFF, "station_admin": _STAFF}


def register() -> None:
    from stations.scoping import extend_role_capabilities

    for role, capabilities in UNIT_ROLE_CAPABILITIES.items():
        extend_role_capabilities(role, capabilities)
