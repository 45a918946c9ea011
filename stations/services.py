"""Writes on the unit tree, platforms, standards, inspections and roles: one function per use case.

Services take the row to act on and the fields to set as keywords, never an instance the caller already
changed. `actor` is the user on whose behalf the write happens; None means the system itself (commands,
seeding), which is not scoped. What an actor may do is decided by `scoping.require`; every refusal is an
ApplicationError, which the admin shows as a form error and the API as a 400.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, ProtectedError, Q, Sum, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.errors import ApplicationError
from kernel.files import delete_file_on_commit
from kernel.images import IntakeImage, image_intake
from kernel.services import lock_one, model_save, model_update, model_validate, only_fields
from kernel.uploads import StagedUpload, staged_upload_take

from .models import (
    ADMIN_ROLES,
    ALLOWED_PARENT_KINDS,
    ROLE_UNIT_KINDS,
    Checklist,
    ChecklistItem,
    Inspection,
    InspectionFollowUp,
    InspectionPhoto,
    InspectionResult,
    Platform,
    Role,
    RoleAssignment,
    Unit,
    UnitKind,
    short_unit_name,
)
from .paths import path_length, path_segment, root_id
from .scoping import Capability, can, forget_scope, require, scope_for, scope_rule_of
from .selectors import forget_county_name

# --- Units ----------------------------------------------------------------------------------------

UNIT_FIELDS = (
    "kind",
    "name",
    "code",
    "parent",
    "category",
    "address",
    "longitude",
    "latitude",
    "contact_person",
    "contact_phone",
    "recognition_level",
    "highlight",
    "is_active",
)
# What only an administrator above a unit may change about it, and the capability that takes there.
DECIDED_ABOVE = {
    "parent": Capability.UNITS_RESTRUCTURE,
    "kind": Capability.UNITS_RESTRUCTURE,
    "is_active": Capability.UNITS_DEACTIVATE,
}
_DECIDED_ABOVE_MESSAGES = {
    # Moving or re-kinding the unit one holds would change one's own powers; deactivating it would cut
    # off its own admins while the units below kept theirs.
    Capability.UNITS_RESTRUCTURE: gettext_lazy("The place and kind of your own unit are decided from above."),
    Capability.UNITS_DEACTIVATE: gettext_lazy(
        "Only an administrator above this unit may deactivate or reactivate it."
    ),
}


def unit_fields_decided_above(*, actor, unit: Unit) -> list[str]:
    """The fields of `unit` that `actor` may not change: they are decided above the actor."""
    return [
        name for name, capability in DECIDED_ABOVE.items() if not can(actor, capability, unit, below=True)
    ]


def unit_may_delete(*, actor, unit: Unit | None = None) -> bool:
    """Whether `actor` may delete `unit` (None: any unit at all). Nobody deletes the unit they hold."""
    if unit is None:
        return actor is None or scope_for(actor).has(Capability.UNITS_DELETE)
    return can(actor, Capability.UNITS_DELETE, unit, below=True)


def _check_placement(*, actor, kind: str, parent: Unit | None) -> None:
    """A unit hangs under the kind of unit above it; only a system administrator makes a new tree."""
    kind = UnitKind(kind)
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
        return
    if parent is None:
        raise ApplicationError(_("Choose the unit this one belongs to."), field="parent")
    if parent.kind not in allowed:
        names = "、".join(str(UnitKind(k).label) for k in allowed)
        raise ApplicationError(
            _("A %(kind)s must belong to a %(parents)s.") % {"kind": kind.label, "parents": names},
            field="parent",
        )


def unit_kinds_under(parent: Unit | None) -> list[UnitKind]:
    """The kinds of unit that may hang under `parent` (None: the root of a new tree)."""
    parent_kind = parent.kind if parent is not None else None
    return [
        UnitKind(kind)
        for kind, allowed in ALLOWED_PARENT_KINDS.items()
        if (parent_kind in allowed if parent_kind else not allowed)
    ]


def unit_kinds_creatable(*, actor) -> list[UnitKind]:
    """The kinds of unit `actor` may add somewhere: a station admin only ever adds points."""
    if actor is None or scope_for(actor).is_global:
        return list(UnitKind)
    parent_kinds = set(Unit.objects.changeable_by(actor).values_list("kind", flat=True).distinct().order_by())
    return [
        UnitKind(kind) for kind, allowed in ALLOWED_PARENT_KINDS.items() if parent_kinds.intersection(allowed)
    ]


def unit_default_parent(*, actor) -> Unit | None:
    """Where `actor` most likely adds a unit: the topmost unit they run that may have sub-units."""
    return Unit.objects.changeable_by(actor).exclude(kind=UnitKind.POINT).order_by("depth", "path").first()


def unit_code_suggest(*, parent: Unit, kind: str) -> str:
    """The next free code under `parent`, from its code: SC-03 › SC-03-001 (a station), SC-03-001-01 (a
    point), SC-03-P01 (a point right under an institute)."""
    letter = "P" if kind == UnitKind.POINT and parent.kind == UnitKind.INSTITUTE else ""
    width = 3 if kind == UnitKind.STATION else 2
    prefix = f"{parent.code}-{letter}"
    taken = set(Unit.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    numbers = [int(code[len(prefix) :]) for code in taken if code[len(prefix) :].isdigit()]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def _lock_trees(*paths: str) -> None:
    """Serialize moves within the trees they touch by locking the trees' centers, in id order.

    Every other write on the tree locks a single row (the unit, or the parent it is added under), so
    with this lock taken first no two writes can wait on each other in a circle.
    """
    root_ids = sorted({root_id(path) for path in paths})
    list(Unit.objects.select_for_update().filter(pk__in=root_ids).order_by("pk").values_list("pk", flat=True))


def _changed_meanwhile():
    return ApplicationError(_("This unit was changed by someone else meanwhile; reload it and try again."))


def tree_node_save(node, parent):
    """Validate and save a new node of a materialized-path tree (a unit, a team) under `parent`: its
    path ends in its own id, so it is written once the id is known."""
    node.depth = parent.depth + 1 if parent else 0
    node.path = f"~{uuid.uuid4().hex}"  # unique placeholder until the id is known
    model_validate(node)
    model_save(node)
    node.path = (parent.path if parent else "") + path_segment(node.pk)
    type(node).objects.filter(pk=node.pk).update(path=node.path)
    return node


@transaction.atomic
def unit_create(*, actor, kind: str, name: str, code: str = "", parent: Unit | None = None, **fields) -> Unit:
    """Add a unit; with no `code`, the next free one under its parent's is given."""
    if parent is not None:
        # Lock the parent so a concurrent move cannot change the path we are about to copy, and two
        # units added under it at once get different codes.
        parent = Unit.objects.select_for_update().get(pk=parent.pk)
    _check_placement(actor=actor, kind=kind, parent=parent)
    if parent is not None:
        require(actor, Capability.UNITS_CHANGE, parent, field="parent")
    code = (code or "").strip()
    if not code:
        if parent is None:
            raise ApplicationError(_("Give the practice center a code."), field="code")
        code = unit_code_suggest(parent=parent, kind=kind)
    only_fields(fields, UNIT_FIELDS, "a unit")
    unit = tree_node_save(Unit(kind=kind, name=name, code=code, parent=parent, **fields), parent)
    if kind == UnitKind.CENTER:
        forget_county_name()
    return unit


@transaction.atomic
def unit_update(*, actor, unit: Unit, **fields) -> Unit:
    """Change a unit's fields; a new `parent` moves it with its whole subtree."""
    peek = Unit.objects.only("parent_id", "path").get(pk=unit.pk)
    new_parent = fields.get("parent")
    new_parent_id = new_parent.pk if new_parent is not None else None
    moving = "parent" in fields and new_parent_id != peek.parent_id
    if moving and new_parent is not None:
        new_parent_path = Unit.objects.values_list("path", flat=True).get(pk=new_parent_id)
        _lock_trees(peek.path, new_parent_path)
    elif moving:
        _lock_trees(peek.path)
    # Lock the unit: a child being added under it, or a kind change, waits for us or we for it.
    current = Unit.objects.select_for_update().get(pk=unit.pk)
    if moving != ("parent" in fields and new_parent_id != current.parent_id):
        raise _changed_meanwhile()
    require(actor, Capability.UNITS_CHANGE, current)
    kind = fields.get("kind", current.kind)
    rekinded = kind != current.kind
    changing = {
        "parent": moving,
        "kind": rekinded,
        "is_active": "is_active" in fields and fields["is_active"] != current.is_active,
    }
    for name, capability in DECIDED_ABOVE.items():
        if changing[name]:
            message = str(_DECIDED_ABOVE_MESSAGES[capability])
            require(actor, capability, current, below=True, field=name, message=message)
    parent = current.parent
    if moving:
        parent = Unit.objects.select_for_update().get(pk=new_parent_id) if new_parent_id else None
        if parent is not None and root_id(parent.path) != root_id(new_parent_path):
            raise _changed_meanwhile()
    _check_placement(actor=actor, kind=kind, parent=parent)
    if rekinded and current.children.exists():
        raise ApplicationError(_("A unit that has sub-units cannot change its kind."), field="kind")
    if rekinded and (current.roles.exists() or current.inspections.exists()):
        # Roles and inspections were given for the unit as it was; they would silently stop fitting.
        raise ApplicationError(
            _("A unit with role assignments or inspections cannot change its kind."), field="kind"
        )
    if moving:
        require(actor, Capability.UNITS_CHANGE, parent, field="parent")
        if parent is not None and parent.path.startswith(current.path):
            raise ApplicationError(
                _("A unit cannot be moved under itself or its own sub-units."), field="parent"
            )
    old_path, old_depth = current.path, current.depth
    if moving:
        current.depth = parent.depth + 1 if parent else 0
        current.path = (parent.path if parent else "") + Unit.path_segment(current.pk)
        fields = {**fields, "parent": parent}
    model_update(instance=current, fields=UNIT_FIELDS, data=fields)
    if moving:
        Unit.objects.filter(pk=current.pk).update(path=current.path, depth=current.depth)
        # Lock the whole subtree, in path order, so a sub-unit being added right now commits before the
        # UPDATE below takes its snapshot, and is moved with the rest instead of keeping a stale path.
        list(
            Unit.objects.select_for_update()
            .filter(path__startswith=old_path)
            .order_by("path")
            .values_list("pk", flat=True)
        )
        # One UPDATE rewrites the whole subtree: swap the old prefix for the new one.
        Unit.objects.filter(path__startswith=old_path).exclude(pk=current.pk).update(
            path=Concat(Value(current.path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (current.depth - old_depth),
            updated_at=timezone.now(),
        )
    if current.kind == UnitKind.CENTER:
        forget_county_name()
    return current


@transaction.atomic
def unit_delete(*, actor, unit: Unit) -> None:
    unit = Unit.objects.select_for_update().get(pk=unit.pk)  # a child being added waits, or we wait for it
    require(actor, Capability.UNITS_DELETE, unit, below=True)
    if unit.children.exists():
        raise ApplicationError(
            _("Remove or move its sub-units first; a unit with sub-units cannot be deleted.")
        )
    refused = ApplicationError(_("This unit has records that refer to it; deactivate it instead."))
    if (
        unit.inspections.exists()
        or unit.roles.exists()
        or unit.platforms.exists()
        or unit.checklists.exists()
    ):
        raise refused
    try:
        with transaction.atomic():
            unit.delete()
    except ProtectedError as error:  # a record of a later feature that refers to the unit
        raise refused from error
    if unit.kind == UnitKind.CENTER:
        forget_county_name()


# --- Platforms and standards: reference data of a center ------------------------------------------------

PLATFORM_FIELDS = ("name", "code", "responsible_department", "description", "order", "is_active")
CHECKLIST_FIELDS = ("name", "unit_kind", "description", "is_active")
CHECKLIST_ITEM_FIELDS = ("order", "text", "weight")


def _require_reference_change(actor, center: Unit, *, field: str | None = "center") -> None:
    if center.kind != UnitKind.CENTER:
        raise ApplicationError(_("Platforms and standards belong to a practice center."), field=field)
    require(
        actor,
        Capability.REFERENCE_CHANGE,
        center,
        field=field,
        message=_("Only the county administrators of this center may change its platforms and standards."),
    )


def _reference_create(actor, instance, allowed: tuple[str, ...], fields: dict):
    """Create a platform or standard of a center, with the optional `fields` the service allows."""
    _require_reference_change(actor, instance.center)
    only_fields(fields, allowed, type(instance).__name__)
    for name, value in fields.items():
        setattr(instance, name, value)
    model_validate(instance)
    model_save(instance)
    return instance


def _delete_or_refuse(instance, message) -> None:
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise ApplicationError(message) from error


@transaction.atomic
def platform_create(
    *, actor, center: Unit, name: str, code: str, responsible_department: str, **fields
) -> Platform:
    return _reference_create(
        actor,
        Platform(center=center, name=name, code=code, responsible_department=responsible_department),
        PLATFORM_FIELDS,
        fields,
    )


def _locked_platform(actor, platform_id: int) -> Platform:
    platform = lock_one(Platform.objects.select_related("center"), platform_id)
    _require_reference_change(actor, platform.center, field=None)
    return platform


@transaction.atomic
def platform_update(*, actor, platform: Platform, **fields) -> Platform:
    platform = _locked_platform(actor, platform.pk)
    return model_update(instance=platform, fields=PLATFORM_FIELDS, data=fields)[0]


@transaction.atomic
def platform_delete(*, actor, platform: Platform) -> None:
    _delete_or_refuse(
        _locked_platform(actor, platform.pk), _("This platform is in use; deactivate it instead.")
    )


@transaction.atomic
def checklist_create(*, actor, center: Unit, name: str, unit_kind: str, **fields) -> Checklist:
    return _reference_create(
        actor, Checklist(center=center, name=name, unit_kind=unit_kind), CHECKLIST_FIELDS, fields
    )


def _locked_checklist(actor, checklist_id: int) -> Checklist:
    checklist = lock_one(Checklist.objects.select_related("center"), checklist_id)
    _require_reference_change(actor, checklist.center, field=None)
    return checklist


@transaction.atomic
def checklist_update(*, actor, checklist: Checklist, **fields) -> Checklist:
    checklist = _locked_checklist(actor, checklist.pk)
    if fields.get("unit_kind", checklist.unit_kind) != checklist.unit_kind and checklist.inspections.exists():
        raise ApplicationError(
            _("A standard that inspections used cannot change the kind of unit it applies to."),
            field="unit_kind",
        )
    return model_update(instance=checklist, fields=CHECKLIST_FIELDS, data=fields)[0]


@transaction.atomic
def checklist_delete(*, actor, checklist: Checklist) -> None:
    _delete_or_refuse(
        _locked_checklist(actor, checklist.pk), _("Inspections used this standard; deactivate it instead.")
    )


@transaction.atomic
def checklist_item_add(*, actor, checklist: Checklist, text: str, weight: int = 1, order: int = 0):
    checklist = _locked_checklist(actor, checklist.pk)
    item = ChecklistItem(checklist=checklist, text=text, weight=weight, order=order)
    model_validate(item)
    model_save(item)
    return item


def _locked_item(actor, item_id: int) -> ChecklistItem:
    """The item as stored, its standard locked and checked: never the standard a caller says it has."""
    checklist_id = ChecklistItem.objects.filter(pk=item_id).values_list("checklist_id", flat=True).first()
    if checklist_id is None:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    checklist = _locked_checklist(actor, checklist_id)
    return lock_one(ChecklistItem.objects.filter(checklist=checklist), item_id)


@transaction.atomic
def checklist_item_update(*, actor, item: ChecklistItem, **fields) -> ChecklistItem:
    item = _locked_item(actor, item.pk)
    return model_update(instance=item, fields=CHECKLIST_ITEM_FIELDS, data=fields)[0]


@transaction.atomic
def checklist_item_remove(*, actor, item: ChecklistItem) -> None:
    _delete_or_refuse(
        _locked_item(actor, item.pk),
        _("Inspections scored this item; it stays in the standard. Change its text or weight instead."),
    )


# --- Inspections ------------------------------------------------------------------------------------

INSPECTION_FIELDS = ("inspected_on", "note")


def _require_inspector(actor, unit: Unit) -> None:
    # Nobody inspects their own unit: the inspector holds it from above.
    require(
        actor,
        Capability.INSPECTIONS_RECORD,
        unit,
        below=True,
        field="unit",
        message=_("You may only inspect units below your own."),
    )


def _inspecting_unit(actor, unit: Unit) -> Unit:
    """The unit on whose behalf `actor` inspects `unit`: the topmost they hold above it. The system and
    system administrators inspect on behalf of the practice center."""
    if actor is None or scope_for(actor).is_global:
        return Unit.objects.get(pk=root_id(unit.path))
    roots = scope_for(actor).roots_for(Capability.INSPECTIONS_RECORD)
    return Unit.objects.get(path=next(root for root in roots if unit.path.startswith(root)))


def inspection_edit_deadline(inspection: Inspection):
    """When a recorded inspection stops being changeable: it is the record of that day's visit."""
    return inspection.created_at + datetime.timedelta(days=settings.INSPECTION_EDIT_DAYS)


def inspection_refusal(*, actor, inspection: Inspection) -> ApplicationError | None:
    """Why `actor` may not change or delete `inspection`, or None if they may. Only its inspector, or
    someone whose scope strictly contains the inspecting unit, changes it, and only while it is recent."""
    if actor is None:
        return None
    if not scope_for(actor).contains(inspection.unit, capability=Capability.INSPECTIONS_RECORD, below=True):
        return ApplicationError(_("You may only inspect units below your own."), field="unit")
    if not scope_rule_of(Inspection).made_by_or_below(actor, inspection):
        return ApplicationError(
            _(
                "This inspection was recorded by %(unit)s; only its inspector or an administrator above "
                "may change it. Add a follow-up instead."
            )
            % {"unit": inspection.inspector_unit.name}
        )
    if not actor.is_superuser and timezone.now() > inspection_edit_deadline(inspection):
        return ApplicationError(
            _("An inspection is locked %(days)d days after it was recorded.")
            % {"days": settings.INSPECTION_EDIT_DAYS}
        )
    return None


def inspection_may_change(*, actor, inspection: Inspection) -> bool:
    return inspection_refusal(actor=actor, inspection=inspection) is None


def inspection_may_record_any(*, actor) -> bool:
    """Whether `actor` has anything to inspect: a unit below their own that a standard applies to."""
    return Unit.objects.inspectable_by(actor).with_active_standard().exists()


def unit_labels_with_township(units) -> dict[int, str]:
    """Each unit's name with its township, as a choice reads best: "甲一村站（甲镇所）"; one query."""
    township = path_length(depth=1)
    township_paths = {unit.path[:township] for unit in units if unit.depth >= 2}
    townships = dict(Unit.objects.filter(path__in=township_paths).values_list("path", "name"))
    labels = {}
    for unit in units:
        name = townships.get(unit.path[:township]) if unit.depth >= 2 else None
        labels[unit.pk] = f"{unit.short_name}（{short_unit_name(name)}）" if name else unit.name
    return labels


@transaction.atomic
def inspection_record(
    *,
    actor,
    unit: Unit,
    checklist: Checklist,
    inspected_on,
    met_item_ids=(),
    note: str = "",
    photos=(),
) -> Inspection:
    """Record an inspection: one result per item of the standard, with the item's text and weight copied
    (so later edits of the standard do not rewrite past scores); the items in `met_item_ids` are met.
    `photos` are evidence images (uploads, or files kept from an earlier try of the same form)."""
    # Locked as stored now, unit first: a re-kind of the unit or of the standard's unit kind waits for
    # us (each checks for inspections under its own lock), and a standard retired meanwhile stays retired.
    unit = lock_one(Unit, unit.pk)
    checklist = lock_one(Checklist, checklist.pk)
    _require_inspector(actor, unit)
    if not unit.is_active:
        raise ApplicationError(_("This unit is deactivated."), field="unit")
    if not checklist.is_active:
        raise ApplicationError(_("This standard is no longer in use."), field="checklist")
    if checklist.unit_kind != unit.kind:
        raise ApplicationError(
            _("This standard applies to %(kind)s, not to this unit.")
            % {"kind": checklist.get_unit_kind_display()},
            field="checklist",
        )
    if root_id(unit.path) != checklist.center_id:
        raise ApplicationError(_("This standard belongs to another practice center."), field="checklist")
    inspection = Inspection(
        unit=unit,
        checklist=checklist,
        inspected_on=inspected_on,
        note=note,
        inspector=actor,
        inspector_unit=_inspecting_unit(actor, unit),
    )
    model_validate(inspection)
    model_save(inspection)
    items = list(checklist.items.all())
    _check_item_ids(met_item_ids, {item.pk for item in items})
    met = set(met_item_ids)
    InspectionResult.objects.bulk_create(
        [
            InspectionResult(
                inspection=inspection, item=item, item_text=item.text, weight=item.weight, met=item.pk in met
            )
            for item in items
        ]
    )
    _photos_add(inspection, photos)
    return inspection_score_refresh(inspection=inspection)


def _check_item_ids(given, known: set[int]) -> None:
    if set(given) - known:
        raise ApplicationError(_("Some items are not part of this standard."), field="met_item_ids")


def _locked_inspection(actor, inspection_id: int) -> Inspection:
    inspection = lock_one(Inspection.objects.select_related("unit", "inspector_unit"), inspection_id)
    refusal = inspection_refusal(actor=actor, inspection=inspection)
    if refusal is not None:
        raise refusal
    return inspection


def _locked_photo(actor, photo_id: int) -> InspectionPhoto:
    """Inspection first, then its photo: the order deleting an inspection takes them in too."""
    inspection_id = (
        InspectionPhoto.objects.filter(pk=photo_id).values_list("inspection_id", flat=True).first()
    )
    if inspection_id is None:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    inspection = _locked_inspection(actor, inspection_id)
    return lock_one(InspectionPhoto.objects.filter(inspection=inspection), photo_id)


def _intake(image, *, field: str = "image") -> IntakeImage:
    # An IntakeImage is made only by the intake itself (the admin form checks the upload early).
    return image if isinstance(image, IntakeImage) else image_intake(image, field=field)


@transaction.atomic
def inspection_update(*, actor, inspection: Inspection, **fields) -> Inspection:
    """Change the date or note. The unit and standard stay: the results belong to them."""
    inspection = _locked_inspection(actor, inspection.pk)
    for name in ("unit", "checklist"):
        if name in fields and getattr(fields[name], "pk", fields[name]) != getattr(inspection, f"{name}_id"):
            raise ApplicationError(
                _("The unit and standard of a recorded inspection cannot change."), field=name
            )
        fields.pop(name, None)
    return model_update(instance=inspection, fields=INSPECTION_FIELDS, data=fields)[0]


@transaction.atomic
def inspection_delete(*, actor, inspection: Inspection) -> None:
    """Remove an inspection recorded in error, with its results and photos."""
    inspection = _locked_inspection(actor, inspection.pk)
    photos = [(photo.image.storage, photo.image.name) for photo in inspection.photos.all()]
    inspection.delete()
    for storage, name in photos:
        delete_file_on_commit(storage, name)


@transaction.atomic
def inspection_results_set(
    *, actor, inspection: Inspection, met_item_ids, notes: dict[int, str] | None = None
) -> Inspection:
    """Mark which items are met (the others are not), optionally with a note per item, and rescore."""
    inspection = _locked_inspection(actor, inspection.pk)
    results = {result.item_id: result for result in inspection.results.all()}
    met = set(met_item_ids)
    _check_item_ids(met | set(notes or ()), set(results))
    changed = []
    for item_id, result in results.items():
        note = (notes or {}).get(item_id, result.note)
        if result.met != (item_id in met) or result.note != note:
            result.met, result.note = item_id in met, note
            # The note's length only: the row's place (inspection, item) is not changing, and checking
            # its uniqueness would cost a query per row.
            model_validate(result, exclude=("inspection", "item"))
            changed.append(result)
    InspectionResult.objects.bulk_update(changed, ["met", "note"])
    return inspection_score_refresh(inspection=inspection)


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


MAX_PHOTOS_PER_INSPECTION = 30


def _photo_store(inspection: Inspection, image, *, caption: str = "", follow_up=None, field="image"):
    """Store one evidence photo of a locked inspection: checked and cleaned by the one image intake
    (real format, size, no EXIF). A photo kept from an earlier try of a form is taken over and its
    staging copy removed once this commits."""
    if inspection.photos.count() >= MAX_PHOTOS_PER_INSPECTION:
        raise ApplicationError(
            _("An inspection keeps at most %(count)d photos.") % {"count": MAX_PHOTOS_PER_INSPECTION},
            field=field,
        )
    photo = InspectionPhoto(inspection=inspection, caption=caption, follow_up=follow_up)
    model_validate(photo, exclude=["image", "follow_up"])
    staged = image if isinstance(image, StagedUpload) else None
    content = staged_upload_take(staged=staged, field=field) if staged else _intake(image, field=field)
    photo.image.save(content.name, content, save=False)
    model_save(photo)
    return photo


def _photos_add(inspection: Inspection, images, *, follow_up=None) -> None:
    for image in images:
        _photo_store(inspection, image, follow_up=follow_up, field="add_photos")


@transaction.atomic
def photo_add(*, actor, inspection: Inspection, image, caption: str = "") -> InspectionPhoto:
    """Add an evidence photo to an inspection one may change."""
    inspection = _locked_inspection(actor, inspection.pk)
    return _photo_store(inspection, image, caption=caption)


@transaction.atomic
def photos_add(*, actor, inspection: Inspection, images) -> None:
    """Add several evidence photos at once."""
    inspection = _locked_inspection(actor, inspection.pk)
    _photos_add(inspection, images)


@transaction.atomic
def photo_update(*, actor, photo: InspectionPhoto, image=None, caption: str | None = None):
    """Change the caption, or replace the image (the old file goes once the change commits)."""
    photo = _locked_photo(actor, photo.pk)
    if caption is not None:
        photo.caption = caption
        model_validate(photo, exclude=["image"])
    if image is not None:
        content = _intake(image)
        old_name = photo.image.name
        photo.image.save(content.name, content, save=False)
        delete_file_on_commit(photo.image.storage, old_name)
    model_save(photo)
    return photo


@transaction.atomic
def photo_delete(*, actor, photo: InspectionPhoto) -> None:
    photo = _locked_photo(actor, photo.pk)
    storage, name = photo.image.storage, photo.image.name
    photo.delete()
    delete_file_on_commit(storage, name)


# --- Follow-ups (整改) -------------------------------------------------------------------------------

FOLLOW_UP_FIELDS = ("note",)


def follow_up_may_add(*, actor, inspection: Inspection) -> bool:
    return can(actor, Capability.UNITS_CHANGE, inspection.unit)


def follow_up_inspections(*, actor):
    """The inspections `actor` may add a follow-up to: those of the units they run or are above."""
    return Inspection.objects.filter(
        scope_for(actor).q("unit", capability=Capability.UNITS_CHANGE)
    ).select_related("unit", "checklist")


@transaction.atomic
def follow_up_add(*, actor, inspection: Inspection, note: str, photos=()) -> InspectionFollowUp:
    """Add a dated follow-up (整改记录) to an inspection: what the unit did about it, with evidence. The
    inspection itself stays as its inspector recorded it."""
    inspection = lock_one(Inspection.objects.select_related("unit"), inspection.pk)
    require(
        actor,
        Capability.UNITS_CHANGE,
        inspection.unit,
        field="inspection",
        message=_("Only those who run the inspected unit, or are above it, may add a follow-up."),
    )
    follow_up = InspectionFollowUp(inspection=inspection, author=actor, note=note.strip())
    model_validate(follow_up)
    model_save(follow_up)
    _photos_add(inspection, photos, follow_up=follow_up)
    return follow_up


# --- Roles ----------------------------------------------------------------------------------------


def role_validate(*, actor, role: str, unit: Unit) -> Role:
    try:
        role = Role(role)
    except ValueError as error:
        raise ApplicationError(_("There is no such role."), field="role") from error
    kinds = ROLE_UNIT_KINDS[role]
    if unit.kind not in kinds:
        names = "、".join(str(UnitKind(kind).label) for kind in kinds)
        raise ApplicationError(
            _("A %(role)s is granted on a %(kind)s.") % {"role": role.label, "kind": names}, field="unit"
        )
    # A role on your own unit would let an admin mint peers: roles come from above.
    require(
        actor,
        Capability.ROLES_GRANT,
        unit,
        below=True,
        field="unit",
        message=_("You may not grant a role on this unit."),
    )
    return role


def _sync_staff(user) -> None:
    """Whoever holds an admin role may sign in to the admin; whoever keeps none may not."""
    is_admin = RoleAssignment.objects.filter(user=user).admin_roles().exists()
    if not user.is_superuser and user.is_staff != is_admin:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])


@transaction.atomic
def role_grant(*, actor, user, role: str, unit: Unit) -> RoleAssignment:
    """Give `user` a role on `unit`."""
    # The unit locked as stored: a kind change (refused while the unit has roles) cannot slip past.
    unit = lock_one(Unit, unit.pk)
    role = role_validate(actor=actor, role=role, unit=unit)
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, unit=unit, defaults={"granted_by": actor}
    )
    if role in ADMIN_ROLES:
        _sync_staff(user)
    forget_scope(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    """Take a role away."""
    assignment = lock_one(RoleAssignment.objects.select_related("unit", "user"), assignment.pk)
    # Only the scope counts: a row that no longer fits its unit's kind must still be removable.
    require(
        actor,
        Capability.ROLES_GRANT,
        assignment.unit,
        below=True,
        field="unit",
        message=_("You may not revoke a role on this unit."),
    )
    user = assignment.user
    assignment.delete()
    _sync_staff(user)
    forget_scope(user)
