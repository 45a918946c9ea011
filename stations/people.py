"""People as the portal shows them: real name and unit, "张三（双溪街道所）", never a login name.

The unit is the one of the person's highest role (a county admin's center before an institute, an admin
role before a viewer's), its name shortened by dropping "新时代文明实践". A list shows many people at a
constant number of queries by prefetching their roles with `people_prefetch` (or `prefetch_people`)
first; `person_label` then reads only what is prefetched.
"""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects

from .models import Role, RoleAssignment

# Highest first: the role whose unit names the person.
ROLE_ORDER = {Role.COUNTY_ADMIN: 0, Role.INSTITUTE_ADMIN: 1, Role.STATION_ADMIN: 2, Role.VIEWER: 3}


def people_prefetch(lookup: str = "") -> Prefetch:
    """The prefetch that `person_label` reads, for the people at `lookup` ("" for the users themselves,
    "inspector" for an inspection's). Every list uses this one, so two never clash."""
    return Prefetch(
        f"{lookup}__roles" if lookup else "roles",
        queryset=RoleAssignment.objects.select_related("unit").order_by("pk"),
    )


def prefetch_people(users) -> None:
    """Prefetch the roles of users already in hand (one query for all of them)."""
    users = [user for user in users if user is not None]
    if users:
        prefetch_related_objects(users, people_prefetch())


def _sorted_roles(user) -> list[RoleAssignment]:
    return sorted(
        user.roles.all(), key=lambda r: (ROLE_ORDER.get(r.role, len(ROLE_ORDER)), len(r.unit.path), r.pk)
    )


def person_unit(user):
    """The unit of the person's highest role, or None."""
    roles = _sorted_roles(user)
    return roles[0].unit if roles else None


def real_name(user) -> str:
    return (user.first_name or "").strip() or user.get_username()


def person_label(user) -> str:
    """ "张三（双溪街道所）"; the username when there is no real name; "" for nobody."""
    if user is None:
        return ""
    unit = person_unit(user)
    name = real_name(user)
    return f"{name}（{unit.short_name}）" if unit is not None else name


def roles_summary(user) -> str:
    """Every role of the person with its unit: "实践站管理员：甲一村站；数据查看员：甲镇所"."""
    return "；".join(f"{r.get_role_display()}：{r.unit.short_name}" for r in _sorted_roles(user))
