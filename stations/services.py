"""Writes on the unit tree, platforms, standards, inspections and roles: one function per use case.

`actor` is the user on whose behalf the write happens; None means the system itself (commands, seeding),
which is not scoped. Every rule breach raises ApplicationError, which the admin shows as a form error
and the API as a 400.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, F, ProtectedError, Q, Sum, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

from .models import (
    ADMIN_ROLE_UNIT_KIND,
    ALLOWED_PARENT_KINDS,
    PATH_SEGMENT_WIDTH,
    Checklist,
    Inspection,
    InspectionResult,
    Role,
    RoleAssignment,
    Unit,
    UnitKind,
)
from .scoping import forget_scope, scope_for


def _check_in_scope(
    actor, unit: Unit | None, *, strictly: bool = False, field: str | None = "parent"
) -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    allowed = scope.contains_strictly(unit) if strictly else scope.contains(unit)
    if not allowed:
        raise ApplicationError(_("This unit is outside the area you administer."), field=field)


# --- Units ----------------------------------------------------------------------------------------


def unit_validate(*, actor, unit: Unit, current: Unit | None = None) -> None:
    """Check the rules for saving `unit` (new, or changed in memory) without writing anything.

    `current` is the stored row, already locked by the caller when it is about to write.
    """
    kind = UnitKind(unit.kind)
    parent = unit.parent
    allowed = ALLOWED_PARENT_KINDS[kind]
    if not allowed:
        if parent is not None:
            raise ApplicationError(
                _("A practice center is the root of its tree and has no parent."), field="parent"
            )
        if actor is not None and not actor.is_superuser:
            raise ApplicationError(
                _("Only a system administrator may create a practice center."), field="kind"
            )
    else:
        if parent is None:
            raise ApplicationError(_("Choose the unit this one belongs to."), field="parent")
        if parent.kind not in allowed:
            names = "、".join(str(UnitKind(k).label) for k in allowed)
            raise ApplicationError(
                _("A %(kind)s must belong to a %(parents)s.") % {"kind": kind.label, "parents": names},
                field="parent",
            )
    if unit.pk is None:
        _check_in_scope(actor, parent)
        return
    if current is None:
        current = Unit.objects.only("parent_id", "path", "kind").get(pk=unit.pk)
    _check_in_scope(actor, current, field=None)
    moved, rekinded = current.parent_id != unit.parent_id, current.kind != unit.kind
    if moved or rekinded:
        # A unit's place in the tree is decided from above: nobody moves or re-kinds their own unit.
        _check_in_scope(actor, current, strictly=True, field="parent" if moved else "kind")
    if rekinded and unit.children.exists():
        raise ApplicationError(_("A unit that has sub-units cannot change its kind."), field="kind")
    if rekinded and (unit.roles.exists() or unit.inspections.exists()):
        # Roles and inspections were given for the unit as it was; they would silently stop fitting.
        raise ApplicationError(
            _("A unit with role assignments or inspections cannot change its kind."), field="kind"
        )
    if moved:
        _check_in_scope(actor, parent)
        if parent is not None and parent.path.startswith(current.path):
            raise ApplicationError(
                _("A unit cannot be moved under itself or its own sub-units."), field="parent"
            )


def _lock_trees(*paths: str) -> None:
    """Serialize moves within the trees they touch by locking the trees' centers, in id order.

    Every other write on the tree locks a single row (the unit, or the parent it is added under), so
    with this lock taken first no two writes can wait on each other in a circle.
    """
    root_ids = sorted({int(path[:PATH_SEGMENT_WIDTH]) for path in paths})
    list(Unit.objects.select_for_update().filter(pk__in=root_ids).order_by("pk").values_list("pk", flat=True))


def _changed_meanwhile():
    return ApplicationError(_("This unit was changed by someone else meanwhile; reload it and try again."))


@transaction.atomic
def unit_save(*, actor, unit: Unit) -> Unit:
    """Create or update `unit`, keeping the materialized paths of it and its subtree right."""
    if unit.pk is None:
        if unit.parent_id is not None:
            # Lock the parent so a concurrent move cannot change the path we are about to copy.
            unit.parent = Unit.objects.select_for_update().get(pk=unit.parent_id)
        unit_validate(actor=actor, unit=unit)
        unit.depth = unit.parent.depth + 1 if unit.parent else 0
        unit.path = f"~{uuid.uuid4().hex}"  # unique placeholder until the id is known
        unit.save()
        unit.path = (unit.parent.path if unit.parent else "") + Unit.path_segment(unit.pk)
        Unit.objects.filter(pk=unit.pk).update(path=unit.path)
        return unit

    peek = Unit.objects.only("parent_id", "path").get(pk=unit.pk)
    moving = peek.parent_id != unit.parent_id
    if moving:
        new_parent_path = (
            Unit.objects.values_list("path", flat=True).get(pk=unit.parent_id) if unit.parent_id else ""
        )
        _lock_trees(peek.path, *filter(None, [new_parent_path]))
    # Lock the unit: a child being added under it, or a kind change, waits for us or we for it.
    current = Unit.objects.select_for_update().only("parent_id", "path", "kind", "depth").get(pk=unit.pk)
    if (current.parent_id != unit.parent_id) != moving:
        raise _changed_meanwhile()
    if not moving:
        unit_validate(actor=actor, unit=unit, current=current)
        unit.path, unit.depth = current.path, current.depth
        unit.save()
        return unit

    unit.parent = Unit.objects.select_for_update().get(pk=unit.parent_id) if unit.parent_id else None
    if (
        unit.parent is not None
        and unit.parent.path[:PATH_SEGMENT_WIDTH] != new_parent_path[:PATH_SEGMENT_WIDTH]
    ):
        raise _changed_meanwhile()
    unit_validate(actor=actor, unit=unit, current=current)
    unit.depth = unit.parent.depth + 1 if unit.parent else 0
    unit.path = (unit.parent.path if unit.parent else "") + Unit.path_segment(unit.pk)
    unit.save()
    # Lock the whole subtree, in path order, so a sub-unit being added right now commits before the
    # UPDATE below takes its snapshot, and is moved with the rest instead of keeping a stale path.
    list(
        Unit.objects.select_for_update()
        .filter(path__startswith=current.path)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    # One UPDATE rewrites the whole subtree: swap the old prefix for the new one.
    Unit.objects.filter(path__startswith=current.path).exclude(pk=unit.pk).update(
        path=Concat(Value(unit.path), Substr("path", len(current.path) + 1)),
        depth=F("depth") + (unit.depth - current.depth),
        updated_at=timezone.now(),
    )
    return unit


def unit_create(*, actor, kind: str, name: str, code: str, parent: Unit | None = None, **fields) -> Unit:
    return unit_save(actor=actor, unit=Unit(kind=kind, name=name, code=code, parent=parent, **fields))


@transaction.atomic
def unit_delete(*, actor, unit: Unit) -> None:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)  # a child being added waits, or we wait for it
    _check_in_scope(actor, unit, strictly=True, field=None)
    if unit.children.exists():
        raise ApplicationError(
            _("Remove or move its sub-units first; a unit with sub-units cannot be deleted.")
        )
    if (
        unit.inspections.exists()
        or unit.roles.exists()
        or unit.platforms.exists()
        or unit.checklists.exists()
    ):
        raise ApplicationError(_("This unit has records that refer to it; deactivate it instead."))
    try:
        with transaction.atomic():
            unit.delete()
    except ProtectedError as error:  # a record of a later feature that refers to the unit
        raise ApplicationError(_("This unit has records that refer to it; deactivate it instead.")) from error


# --- Inspections ------------------------------------------------------------------------------------


def inspection_validate(*, actor, inspection: Inspection) -> None:
    # Nobody inspects their own unit: the inspector holds it from above. For a recorded inspection the
    # stored unit counts, and unit and standard stay as they were (the results belong to them).
    stored = Inspection.objects.select_related("unit").get(pk=inspection.pk) if inspection.pk else None
    unit = stored.unit if stored else inspection.unit
    if actor is not None and not scope_for(actor).contains_strictly(unit):
        raise ApplicationError(_("You may only inspect units below your own."), field="unit")
    if stored is not None:
        if (stored.unit_id, stored.checklist_id) != (inspection.unit_id, inspection.checklist_id):
            raise ApplicationError(
                _("The unit and standard of a recorded inspection cannot change."), field="unit"
            )
        return
    checklist = inspection.checklist
    if not checklist.is_active:
        raise ApplicationError(_("This standard is no longer in use."), field="checklist")
    if checklist.unit_kind != unit.kind:
        raise ApplicationError(
            _("This standard applies to %(kind)s, not to this unit.")
            % {"kind": checklist.get_unit_kind_display()},
            field="checklist",
        )
    if not unit.path.startswith(checklist.center.path):
        raise ApplicationError(_("This standard belongs to another practice center."), field="checklist")


@transaction.atomic
def inspection_save(*, actor, inspection: Inspection, met_item_ids=None) -> Inspection:
    """Record or update an inspection. A new one gets one result per item of its standard, with the
    item's text and weight copied, so later edits of the standard do not rewrite past scores."""
    inspection_validate(actor=actor, inspection=inspection)
    creating = inspection.pk is None
    if creating and actor is not None:
        inspection.inspector = actor
    inspection.save()
    if creating:
        met = set(met_item_ids or ())
        InspectionResult.objects.bulk_create(
            [
                InspectionResult(
                    inspection=inspection,
                    item=item,
                    item_text=item.text,
                    weight=item.weight,
                    met=item.pk in met,
                )
                for item in inspection.checklist.items.all()
            ]
        )
    inspection_score_refresh(inspection=inspection)
    return inspection


def inspection_record(
    *, actor, unit: Unit, checklist: Checklist, inspected_on, met_item_ids=(), note: str = ""
) -> Inspection:
    """Record a whole inspection at once: the items in `met_item_ids` are met, the others not."""
    return inspection_save(
        actor=actor,
        inspection=Inspection(unit=unit, checklist=checklist, inspected_on=inspected_on, note=note),
        met_item_ids=met_item_ids,
    )


def inspection_score_refresh(*, inspection: Inspection) -> Inspection:
    """Score = weight of items met / weight of all items × 100, kept on the row for lists and ranking."""
    totals = inspection.results.aggregate(
        weight_total=Sum("weight"),
        weight_met=Sum("weight", filter=Q(met=True)),
        count_total=Count("pk"),
        count_met=Count("pk", filter=Q(met=True)),
    )
    total_weight, met_weight = totals["weight_total"] or 0, totals["weight_met"] or 0
    score = (
        (Decimal(met_weight) * 100 / Decimal(total_weight)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if total_weight
        else Decimal(0)
    )
    inspection.items_met, inspection.items_total, inspection.score = (
        totals["count_met"],
        totals["count_total"],
        score,
    )
    Inspection.objects.filter(pk=inspection.pk).update(
        items_met=inspection.items_met, items_total=inspection.items_total, score=score
    )
    return inspection


# --- Roles ----------------------------------------------------------------------------------------


def role_validate(*, actor, role: str, unit: Unit) -> None:
    role = Role(role)
    expected_kind = ADMIN_ROLE_UNIT_KIND.get(role)
    if expected_kind is not None and unit.kind != expected_kind:
        raise ApplicationError(
            _("A %(role)s is granted on a %(kind)s.")
            % {"role": role.label, "kind": UnitKind(expected_kind).label},
            field="unit",
        )
    if actor is None:
        return
    scope = scope_for(actor)
    # An admin role on your own unit would let an admin mint peers: admin roles come from above.
    allowed = scope.contains_strictly(unit) if expected_kind is not None else scope.contains(unit)
    if not allowed:
        raise ApplicationError(_("You may not revoke a role on this unit."), field="unit")


@transaction.atomic
def role_grant(*, actor, user, role: str, unit: Unit) -> RoleAssignment:
    """Give `user` a role on `unit`. Admin roles make the user staff, so they can sign in to the admin."""
    role_validate(actor=actor, role=role, unit=unit)
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, unit=unit, defaults={"granted_by": actor}
    )
    if role in ADMIN_ROLE_UNIT_KIND and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    forget_scope(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    """Take a role away. Whoever keeps no admin role loses access to the admin too."""
    # Only the scope counts: a row that no longer fits its unit's kind must still be removable.
    if actor is not None and not scope_for(actor).contains_strictly(assignment.unit):
        raise ApplicationError(_("You may not revoke a role on this unit."), field="unit")
    user = assignment.user
    assignment.delete()
    still_admin = RoleAssignment.objects.filter(user=user, role__in=list(ADMIN_ROLE_UNIT_KIND)).exists()
    if user.is_staff and not user.is_superuser and not still_admin:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    forget_scope(user)
