"""Reads on the unit tree and its reference data, already scoped to the user who asks."""

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from .models import Checklist, Platform, Unit, UnitKind


def unit_list(*, user) -> QuerySet[Unit]:
    return Unit.objects.visible_to(user)


def platform_list(*, user) -> QuerySet[Platform]:
    return Platform.objects.visible_to(user)


def checklist_list(*, user) -> QuerySet[Checklist]:
    return Checklist.objects.visible_to(user).annotate(item_count=Count("items"))


def public_institutes() -> QuerySet[Unit]:
    """The active institutes of every center, with how many active stations each has."""
    return (
        Unit.objects.active()
        .of_kind(UnitKind.INSTITUTE)
        .select_related("parent")
        .annotate(
            station_count=Count(
                "children", filter=Q(children__kind=UnitKind.STATION, children__is_active=True)
            )
        )
        .order_by("parent__path", "code")
    )


def public_network_totals() -> dict[str, int]:
    counts = {
        row["kind"]: row["n"]
        for row in Unit.objects.active().values("kind").annotate(n=Count("pk")).order_by()
    }
    return {kind: counts.get(kind, 0) for kind in UnitKind.values}


COUNTY_NAME_CACHE_KEY = "stations:county-name"
COUNTY_NAME_CACHE_SECONDS = 300


def county_name() -> str:
    """The name of the active practice center (the county's), for headers and titles: one small query at
    most every few minutes; the generic name when there is none yet."""
    name = cache.get(COUNTY_NAME_CACHE_KEY)
    if name is None:
        name = (
            Unit.objects.active()
            .of_kind(UnitKind.CENTER)
            .order_by("path")
            .values_list("name", flat=True)
            .first()
        ) or ""
        cache.set(COUNTY_NAME_CACHE_KEY, name, COUNTY_NAME_CACHE_SECONDS)
    return name or _("New Era Civilization Practice Center")


def forget_county_name() -> None:
    """After a center is written: now for this transaction's own reads, and again once it commits."""
    cache.delete(COUNTY_NAME_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(COUNTY_NAME_CACHE_KEY))


def public_unit(*, unit_id: int) -> Unit | None:
    """An active institute or station for its public page, with its active stations; None otherwise
    (centers have the home page, points no page of their own, and an inactive parent hides its units)."""
    stations = Unit.objects.active().of_kind(UnitKind.STATION).order_by("path")
    unit = (
        Unit.objects.active()
        .filter(kind__in=[UnitKind.INSTITUTE, UnitKind.STATION])
        .select_related("parent")
        .prefetch_related(Prefetch("children", queryset=stations, to_attr="active_stations"))
        .filter(pk=unit_id)
        .first()
    )
    if unit is None or (unit.parent is not None and not unit.parent.is_active):
        return None
    return unit
