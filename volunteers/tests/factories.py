"""Volunteers and teams for tests, made through the services. ID numbers are well-formed and fake."""

import datetime
import importlib
import itertools

from django.apps import apps as django_apps

from volunteers import services, teams
from volunteers.identity import fake_resident_id
from volunteers.models import MembershipRole, MembershipStatus, PrivacyNotice, TeamKind, TeamMembership

_serial = itertools.count(1)


def next_id_number(birth_date=datetime.date(1990, 5, 3), region="350721") -> str:
    return fake_resident_id(region, birth_date, next(_serial))


def next_phone() -> str:
    return f"139{next(_serial) % 10**8:08d}"


def notice() -> PrivacyNotice:
    """The current privacy notice; made again as the migration makes it when a transactional test before
    emptied the tables (its flush removes what migrations wrote)."""
    found = PrivacyNotice.objects.order_by("-effective_from").first()
    if found is None:
        migration = importlib.import_module("volunteers.migrations.0002_privacy_notice_v1")
        migration.add_notice(django_apps, None)
        found = PrivacyNotice.objects.order_by("-effective_from").first()
    return found


def make_volunteer(home_unit, name="张三", *, actor=None, password=None, domains=(), **details):
    details.setdefault("id_number", next_id_number())
    details.setdefault("phone", next_phone())
    return services.volunteer_register(
        actor=actor,
        privacy_notice=notice(),
        consent=True,
        password=password,
        name=name,
        home_unit=home_unit,
        domains=domains,
        **details,
    )


def make_team(unit, name=None, kind=TeamKind.CORPS, parent=None, **fields):
    name = name or f"志愿服务队{next(_serial)}"
    return teams.team_create(actor=None, kind=kind, name=name, unit=unit, parent=parent, **fields)


def make_member(team, volunteer, role=MembershipRole.MEMBER):
    """An admitted member (a leader when `role` says so), written directly: the services are tested on
    their own."""
    import django.utils.timezone as tz

    return TeamMembership.objects.create(
        team=team, volunteer=volunteer, role=role, status=MembershipStatus.ACTIVE, joined_on=tz.localdate()
    )
