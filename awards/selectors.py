"""Reads of the awards app: the public honour rolls, a fixed number of queries however long.

A volunteer's name and number reach a public page only when the volunteer chose so (`public_name`);
otherwise the roll holds a masked name (林**) and no number. The roll is built as plain rows here, so a
template never holds a volunteer's row (and its ID number or phone) at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from .models import Award, AwardKind, RecipientType


def mask_name(name: str) -> str:
    """The surname's first character and two stars, whatever the length: 林**."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else "**"


def volunteer_public_label(name: str, number: str, public: bool) -> tuple[str, str]:
    """(name, number) as a public page shows a volunteer: whole with consent, else masked and no number."""
    return (name, number) if public else (mask_name(name), "")


@dataclass(frozen=True)
class Honour:
    """One line of an honour roll."""

    id: int
    year: int
    name: str
    number: str  # a volunteer's number, with consent only; "" otherwise
    place: str  # the unit the recipient belongs to, or the giving unit for a volunteer
    citation: str
    recipient_type: str


@dataclass
class KindRoll:
    kind: AwardKind
    honours: list[Honour] = field(default_factory=list)


# The columns a roll reads: never a volunteer's ID number, phone or birth date.
_ROLL_FIELDS = (
    "id",
    "year",
    "citation",
    "kind__id",
    "kind__name",
    "kind__order",
    "kind__recipient_type",
    "volunteer__name",
    "volunteer__number",
    "volunteer__public_name",
    "team__name",
    "team__unit__name",
    "project__name",
    "project__unit__name",
    "unit__name",
    "unit__parent__name",
    "giving_unit__name",
)


def honour_years() -> list[dict]:
    """The years that have standing awards, latest first, with how many: [{"year": 2026, "n": 12}]."""
    return list(Award.objects.standing().values("year").annotate(n=Count("id")).order_by("-year"))


def _honour(row: dict) -> Honour:
    kind = row["kind__recipient_type"]
    number = ""
    if kind == RecipientType.VOLUNTEER:
        name, number = volunteer_public_label(
            row["volunteer__name"], row["volunteer__number"], row["volunteer__public_name"]
        )
        place = row["giving_unit__name"]
    elif kind == RecipientType.TEAM:
        name, place = row["team__name"], row["team__unit__name"]
    elif kind == RecipientType.PROJECT:
        name, place = row["project__name"], row["project__unit__name"]
    else:
        name, place = row["unit__name"], row["unit__parent__name"] or ""
    return Honour(
        id=row["id"],
        year=row["year"],
        name=name or "",
        number=number or "",
        place=place or "",
        citation=row["citation"],
        recipient_type=kind,
    )


def honour_roll(
    *, year: int | None = None, kind_id: int | None = None, limit: int | None = None
) -> list[KindRoll]:
    """The standing awards (of `year`, of `kind_id`), grouped by kind in roll order: one query."""
    awards = Award.objects.standing()
    if year is not None:
        awards = awards.filter(year=year)
    if kind_id is not None:
        awards = awards.filter(kind_id=kind_id)
    rows = awards.order_by("-year", "kind__order", "kind_id", "id").values(*_ROLL_FIELDS)
    if limit is not None:
        rows = rows[:limit]
    rolls: dict[int, KindRoll] = {}
    for row in rows:
        roll = rolls.get(row["kind__id"])
        if roll is None:
            kind = AwardKind(
                id=row["kind__id"],
                name=row["kind__name"],
                order=row["kind__order"],
                recipient_type=row["kind__recipient_type"],
            )
            roll = rolls[row["kind__id"]] = KindRoll(kind=kind)
        roll.honours.append(_honour(row))
    return sorted(rolls.values(), key=lambda roll: (roll.kind.order, roll.kind.id))
