"""Awards for tests, given through the service by the system (no actor) unless told otherwise."""

from awards import services
from awards.kinds import ensure_default_kinds
from awards.models import AwardKind


def kind(name: str) -> AwardKind:
    """One of the default kinds (made again when a transactional test before emptied the table)."""
    ensure_default_kinds(AwardKind)
    return AwardKind.objects.get(name=name)


def give(kind_name: str, *, giving_unit, year=2026, actor=None, citation="", **recipient):
    return services.award_create(
        actor=actor, giving_unit=giving_unit, kind=kind(kind_name), year=year, citation=citation, **recipient
    )
