"""Writes on the parts of a volunteer's record that staff enter by hand (条例 art. 19): trainings attended,
the team's yearly evaluations, and the issuer's details that a unit's certificates name.

Who may record a training: staff holding `records.trainings` on the unit that ran it. Whom for: a
volunteer they see (home unit in their scope, or a member of a team they lead), or a volunteer who took
part in a service record of that unit or a unit below it; a unit records the trainings it ran for
whoever came, including a volunteer registered in the next township. Each refusal is an ApplicationError
with the field it concerns; nothing is saved then.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.images import image_intake
from kernel.locks import lock_keys
from kernel.services import lock_one, model_save, model_update, model_validate
from stations.models import Unit
from stations.scoping import require, scope_for, scope_rule_of
from volunteers.capabilities import TEAM_TREE
from volunteers.models import MembershipStatus, Team, TeamMembership, Volunteer

from .capabilities import Capability
from .models import Evaluation, IssuerProfile, ServiceRecord, Training
from .services import at_or_above

TRAINING_FIELDS = ("title", "organiser", "date", "hours")
# A member who has left was still a member in the years they served: their team evaluates those years.
_WAS_MEMBER = (MembershipStatus.ACTIVE, MembershipStatus.LEFT)
_MAX_TRAINING_HOURS = Decimal(200)


# --- Trainings -------------------------------------------------------------------------------------


def training_volunteers(actor) -> QuerySet[Volunteer]:
    """The volunteers `actor` may record a training for somewhere: those they see, and those who served
    in a unit where they record trainings (what the admin's choices and autocomplete offer)."""
    scope = scope_for(actor)
    # Served: an approved record there, not a mere self-report, which anyone may file for any unit.
    served = (
        ServiceRecord.objects.approved_current()
        .filter(scope.q("unit", capability=Capability.TRAININGS_CHANGE))
        .values("volunteer_id")
    )
    return Volunteer.objects.filter(
        Q(pk__in=Volunteer.objects.visible_to(actor).values("pk")) | Q(pk__in=served)
    )


def _may_train(actor, volunteer: Volunteer, unit: Unit) -> bool:
    if actor is None or Volunteer.objects.visible_to(actor).filter(pk=volunteer.pk).exists():
        return True
    return (
        ServiceRecord.objects.approved_current()
        .filter(volunteer=volunteer, unit__path__startswith=unit.path)
        .exists()
    )


def _training_hours(hours) -> Decimal:
    try:
        value = Decimal(str(hours)) if hours is not None and hours != "" else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value > _MAX_TRAINING_HOURS:
        raise ApplicationError(_("A training lasts more than 0 and at most 200 hours."), field="hours")
    return value


def _check_date(date) -> None:
    if not isinstance(date, datetime.date):
        raise ApplicationError(_("Give the date of the training."), field="date")
    if date > timezone.localdate():
        raise ApplicationError(_("A training is recorded once it has taken place."), field="date")


def _check_unique(training: Training) -> None:
    others = Training.objects.filter(
        volunteer_id=training.volunteer_id, title=training.title, date=training.date
    ).exclude(pk=training.pk)
    if others.exists():
        raise ApplicationError(_("This training is already recorded for this volunteer."), field="title")


def training_create(
    *, actor, volunteer: Volunteer, unit: Unit, title: str, organiser: str, date: datetime.date, hours
) -> Training:
    """Record a training `volunteer` attended, for the unit that ran it."""
    if unit is None:
        raise ApplicationError(_("Choose the unit that records the training."), field="unit")
    require(
        actor,
        Capability.TRAININGS_CHANGE,
        unit,
        field="unit",
        message=_("This unit is outside the area you record trainings for."),
    )
    if not unit.is_active:
        raise ApplicationError(_("This unit is no longer active."), field="unit")
    if volunteer is None or not _may_train(actor, volunteer, unit):
        raise ApplicationError(
            _("This volunteer is neither in your area nor served with this unit."), field="volunteer"
        )
    _check_date(date)
    training = Training(
        volunteer=volunteer,
        unit=unit,
        title=(title or "").strip(),
        organiser=(organiser or "").strip(),
        date=date,
        hours=_training_hours(hours),
        entered_by=actor,
    )
    _check_unique(training)
    model_validate(training, exclude=["entered_by"])
    with transaction.atomic():
        model_save(training)
    return training


def training_update(*, actor, training: Training, **fields) -> Training:
    """Change what was recorded of a training (its title, organiser, date or hours); the volunteer and
    the unit stay."""
    if "hours" in fields:
        fields["hours"] = _training_hours(fields["hours"])
    for name in ("title", "organiser"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    with transaction.atomic():
        training = lock_one(Training.objects.select_related("unit", "volunteer"), training.pk)
        require(
            actor,
            Capability.TRAININGS_CHANGE,
            training.unit,
            field="unit",
            message=_("This training was recorded by a unit outside the area you record trainings for."),
        )
        if not at_or_above(actor, training.entered_by, training.unit, Capability.TRAININGS_CHANGE):
            raise ApplicationError(_("This training was recorded above your level; it is changed there."))
        if "date" in fields:
            _check_date(fields["date"])
        preview = Training(
            pk=training.pk,
            volunteer_id=training.volunteer_id,
            title=fields.get("title", training.title),
            date=fields.get("date", training.date),
        )
        _check_unique(preview)
        training, _changed = model_update(instance=training, fields=TRAINING_FIELDS, data=fields)
    return training


# --- Evaluations -----------------------------------------------------------------------------------


def evaluation_teams(actor) -> QuerySet[Team]:
    """The teams whose volunteers `actor` evaluates: teams on units where they hold
    `records.evaluations`, and the teams (and sub-teams) they lead."""
    scope = scope_for(actor)
    q = scope.q("unit", capability=Capability.EVALUATIONS_CHANGE)
    if scope.tree_grants:
        q |= scope.tree_q(TEAM_TREE, "", capability=Capability.EVALUATIONS_CHANGE)
    return Team.objects.filter(q)


def evaluation_volunteers(actor) -> QuerySet[Volunteer]:
    """The volunteers who are or were admitted members of a team `actor` evaluates."""
    members = TeamMembership.objects.filter(team__in=evaluation_teams(actor), status__in=_WAS_MEMBER).values(
        "volunteer_id"
    )
    return Volunteer.objects.filter(pk__in=members)


def _require_may_evaluate(actor, team: Team) -> None:
    if actor is None:
        return
    rule = scope_rule_of(Evaluation)
    if not actor.is_active or not rule.can_change(actor, Evaluation(team=team)):
        raise ApplicationError(_("This team is outside the area you evaluate for."), field="team")


def evaluation_save(
    *, actor, volunteer: Volunteer, team: Team, year: int, grade: str, comment: str = ""
) -> Evaluation:
    """The team's evaluation of `volunteer` for `year`: made, or changed if the team already gave one
    (one per volunteer, team and year)."""
    if team is None:
        raise ApplicationError(_("Choose the team that evaluates."), field="team")
    _require_may_evaluate(actor, team)
    if volunteer is None:
        raise ApplicationError(_("Choose the volunteer."), field="volunteer")
    if actor is not None and volunteer.user_id == actor.pk:
        raise ApplicationError(_("Nobody evaluates themselves."), field="volunteer")
    if not TeamMembership.objects.filter(team=team, volunteer=volunteer, status__in=_WAS_MEMBER).exists():
        raise ApplicationError(
            _("Only an admitted member of the team, now or before, is evaluated by it."), field="volunteer"
        )
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ApplicationError(_("Give a year from 2000 to 2100."), field="year")
    if year > timezone.localdate().year:
        raise ApplicationError(_("A year is evaluated once it has begun."), field="year")
    comment = (comment or "").strip()
    with transaction.atomic():
        # The first evaluation of a volunteer, team and year has no row to lock yet.
        lock_keys(f"records.evaluation:{volunteer.pk}:{team.pk}:{year}")
        evaluation = Evaluation.objects.filter(volunteer=volunteer, team=team, year=year).first()
        if evaluation is not None:
            if not at_or_above(actor, evaluation.entered_by, team.unit, Capability.EVALUATIONS_CHANGE):
                raise ApplicationError(_("This evaluation was given above your level; it is changed there."))
            evaluation, _changed = model_update(
                instance=evaluation,
                fields=("grade", "comment", "entered_by"),
                data={"grade": grade, "comment": comment, "entered_by": actor},
            )
            return evaluation
        evaluation = Evaluation(
            volunteer=volunteer, team=team, year=year, grade=grade, comment=comment, entered_by=actor
        )
        model_validate(evaluation, exclude=["entered_by"])
        model_save(evaluation)
    return evaluation


# --- The issuer's details on certificates ------------------------------------------------------------

ISSUER_FIELDS = ("person_in_charge", "handler", "contact")


def issuer_profile_save(
    *, actor, unit: Unit, person_in_charge: str, handler: str, contact: str, seal=None
) -> IssuerProfile:
    """The person in charge, the handler, a contact and (optionally) the seal image that `unit`'s
    certificates name; made or changed by staff holding `certificates.manage` on the unit. Certificates
    already issued keep the details they were issued with."""
    if unit is None:
        raise ApplicationError(_("Choose the unit that issues certificates."), field="unit")
    require(
        actor,
        Capability.CERTIFICATES_MANAGE,
        unit,
        field="unit",
        message=_("This unit is outside the area whose certificates you manage."),
    )
    image = image_intake(seal, field="seal", max_side=1024) if seal else None
    data = {
        "person_in_charge": (person_in_charge or "").strip(),
        "handler": (handler or "").strip(),
        "contact": (contact or "").strip(),
    }
    with transaction.atomic():
        profile = IssuerProfile.objects.select_for_update().filter(unit=unit).first()
        old_seal = profile.seal.name if profile is not None and image is not None else ""
        if profile is None:
            profile = IssuerProfile(unit=unit, **data)
        else:
            for name, value in data.items():
                setattr(profile, name, value)
        if image is not None:
            profile.seal.save(image.name, image, save=False)
        model_validate(profile)
        model_save(profile)
        if old_seal:
            from kernel.files import delete_file_on_commit

            delete_file_on_commit(profile.seal.storage, old_seal)
    return profile
