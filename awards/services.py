"""Every write of the awards app: one function per use case, each in a transaction, each checking the
actor's scope with `stations.scoping.require` and refusing with an `ApplicationError` that names the field.

An award goes to exactly one recipient of its kind's type, inside the giving unit's subtree (and so inside
the actor's): a township gives nothing to another township's volunteers. An award is revoked, never deleted.
Every change drops the cached honour rolls.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel import pagecache
from kernel.errors import ApplicationError
from stations.models import Unit
from stations.scoping import require

from .capabilities import Capability
from .models import RECIPIENT_FIELDS, Award, AwardKind, RecipientType

# The page cache name of the public honour rolls (awards.views).
HONOURS_PAGES = "awards:honours"
# The portal's home page lists no awards; nothing else to drop.


# Whole sentences per type of recipient, so that each translates as a sentence.
_OUTSIDE = {
    RecipientType.VOLUNTEER: gettext_lazy("Choose a volunteer inside the giving unit's area."),
    RecipientType.TEAM: gettext_lazy("Choose a team inside the giving unit's area."),
    RecipientType.PROJECT: gettext_lazy("Choose a project inside the giving unit's area."),
    RecipientType.UNIT: gettext_lazy("Choose a unit inside the giving unit's area."),
}
_ONE_OF = {
    RecipientType.VOLUNTEER: gettext_lazy(
        "A “%(kind)s” is given to one volunteer: choose one, and nothing else."
    ),
    RecipientType.TEAM: gettext_lazy("A “%(kind)s” is given to one team: choose one, and nothing else."),
    RecipientType.PROJECT: gettext_lazy(
        "A “%(kind)s” is given to one project: choose one, and nothing else."
    ),
    RecipientType.UNIT: gettext_lazy("A “%(kind)s” is given to one unit: choose one, and nothing else."),
}


def _check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ApplicationError(_("Give a year from 2000 to 2100."), field="year") from None
    if not 2000 <= year <= 2100:
        raise ApplicationError(_("Give a year from 2000 to 2100."), field="year")
    return year


def recipient_unit(field: str, recipient) -> Unit | None:
    """The unit a recipient belongs to: a volunteer's home unit, a team's or project's unit, a unit itself."""
    if field == RecipientType.VOLUNTEER:
        return recipient.home_unit
    if field in (RecipientType.TEAM, RecipientType.PROJECT):
        return recipient.unit
    return recipient


def _fresh(field: str, recipient):
    model = type(recipient)
    rows = model._default_manager.all()
    if field != RecipientType.UNIT:
        rows = rows.select_related("home_unit" if field == RecipientType.VOLUNTEER else "unit")
    return rows.get(pk=recipient.pk)


def _recipient_refusal(field: str, recipient) -> str | None:
    from projects.models import ProjectStatus
    from volunteers.models import VolunteerStatus

    if field == RecipientType.VOLUNTEER and recipient.status != VolunteerStatus.ACTIVE:
        return _("This volunteer is not active.")
    if field == RecipientType.TEAM and not recipient.is_active:
        return _("This team is no longer active.")
    if field == RecipientType.PROJECT and recipient.status == ProjectStatus.DRAFT:
        return _("A draft project is not awarded: publish it first.")
    if field == RecipientType.UNIT and not recipient.is_active:
        return _("This unit is no longer active.")
    return None


def _taken_message() -> str:
    return _("This recipient already has this award for that year.")


@transaction.atomic
def award_create(
    *,
    actor,
    giving_unit: Unit,
    kind: AwardKind,
    year,
    volunteer=None,
    team=None,
    project=None,
    unit=None,
    citation: str = "",
) -> Award:
    """Give an award of `kind` for `year` to one volunteer, team, project or unit of the giving unit's
    subtree."""
    require(actor, Capability.AWARDS_GIVE, giving_unit, field="giving_unit")
    if not giving_unit.is_active:
        raise ApplicationError(_("This unit is no longer active."), field="giving_unit")
    if kind is None or not kind.is_active:
        raise ApplicationError(_("Choose an award kind in use."), field="kind")
    year = _check_year(year)
    given = {"volunteer": volunteer, "team": team, "project": project, "unit": unit}
    named = [field for field in RECIPIENT_FIELDS if given[field] is not None]
    field = kind.recipient_type
    if named != [field]:
        wrong = next((name for name in named if name != field), None)
        raise ApplicationError(str(_ONE_OF[field]) % {"kind": kind.name}, field=wrong or field)
    # Read afresh: the caller's object may be older than the row (a project published since).
    recipient = _fresh(field, given[field])
    home = recipient_unit(field, recipient)
    if home is None or not home.path.startswith(giving_unit.path):
        raise ApplicationError(str(_OUTSIDE[field]), field=field)
    require(actor, Capability.AWARDS_GIVE, home, field=field)
    refusal = _recipient_refusal(field, recipient)
    if refusal:
        raise ApplicationError(refusal, field=field)
    if Award.objects.standing().filter(year=year, kind=kind, **{field: recipient}).exists():
        raise ApplicationError(_taken_message(), field=field)
    try:
        with transaction.atomic():
            award = Award.objects.create(
                year=year,
                kind=kind,
                giving_unit=giving_unit,
                citation=(citation or "").strip(),
                created_by=actor,
                **{field: recipient},
            )
    except IntegrityError:  # the same award given by someone else a moment ago
        raise ApplicationError(_taken_message(), field=field) from None
    pagecache.invalidate(HONOURS_PAGES)
    return award


def _locked(award: Award | int) -> Award:
    pk = award.pk if isinstance(award, Award) else award
    return Award.objects.select_for_update().select_related("giving_unit").get(pk=pk)


@transaction.atomic
def award_update(*, actor, award: Award | int, citation: str) -> Award:
    """Change an award's citation; who got what stays (revoke it and give another instead)."""
    award = _locked(award)
    require(actor, Capability.AWARDS_GIVE, award.giving_unit, field="citation")
    if award.revoked_at is not None:
        raise ApplicationError(_("A revoked award is no longer changed."), field="citation")
    award.citation = (citation or "").strip()
    award.save(update_fields=["citation", "updated_at"])
    pagecache.invalidate(HONOURS_PAGES)
    return award


@transaction.atomic
def award_revoke(*, actor, award: Award | int, reason: str) -> Award:
    """Take an award back: its row stays, with who revoked it, when and why; the honour rolls drop it."""
    award = _locked(award)
    require(actor, Capability.AWARDS_GIVE, award.giving_unit, field="revoke_reason")
    if award.revoked_at is not None:
        raise ApplicationError(_("This award is revoked already."), field="revoke_reason")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the award is revoked."), field="revoke_reason")
    if len(reason) > 300:
        raise ApplicationError(_("At most %(limit)d characters.") % {"limit": 300}, field="revoke_reason")
    award.mark_revoked(actor=actor, reason=reason)
    pagecache.invalidate(HONOURS_PAGES)
    return award


# --- Award kinds: the county's configuration -------------------------------------------------------------


def award_kinds_may_change(user) -> bool:
    """System administrators and county admins (the awards capability on a center itself)."""
    from stations.scoping import scope_for

    if user is None:
        return True
    scope = scope_for(user)
    return scope.is_global or bool(scope.center_ids(Capability.AWARDS_GIVE))


@transaction.atomic
def award_kind_save(
    *, actor, kind: AwardKind | None = None, name: str, recipient_type: str, order: int = 0, is_active=True
) -> AwardKind:
    """Add a kind of award, or change one. A kind already given keeps what it is given to."""
    if not award_kinds_may_change(actor):
        raise ApplicationError(_("Only the county's administrators configure award kinds."), field="name")
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the award kind a name."), field="name")
    if recipient_type not in RecipientType.values:
        raise ApplicationError(_("Choose what the award is given to."), field="recipient_type")
    if AwardKind.objects.filter(name=name).exclude(pk=getattr(kind, "pk", None)).exists():
        raise ApplicationError(_("An award kind of this name exists already."), field="name")
    if kind is None:
        kind = AwardKind(name=name, recipient_type=recipient_type)
    else:
        kind = AwardKind.objects.select_for_update().get(pk=kind.pk)
        if kind.recipient_type != recipient_type and kind.awards.exists():
            raise ApplicationError(
                _("This kind has been given already: what it is given to stays."), field="recipient_type"
            )
    kind.name, kind.recipient_type, kind.order, kind.is_active = name, recipient_type, order, bool(is_active)
    kind.save()
    pagecache.invalidate(HONOURS_PAGES)
    return kind
