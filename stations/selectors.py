"""Reads on the unit tree and its reference data, already scoped to the user who asks."""

from django.db.models import Count, Q, QuerySet

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
