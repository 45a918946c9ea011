"""Helpers for the services of every app."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .locks import lock_objects


def model_validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run the model's own checks (lengths, choices, validators, unique fields, constraints) and raise
    them as an ApplicationError, so a service refuses bad input before the database does."""
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except DjangoValidationError as error:
        raise ApplicationError.from_validation_error(error) from error


def model_save(instance: models.Model, **save_kwargs) -> None:
    """Save after `model_validate`. Two writers can both pass the unique checks and race to the database;
    the loser's IntegrityError becomes the same field refusal the checks give once the winner is visible."""
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError as error:
        model_validate(instance)
        raise ApplicationError(
            _("This was changed by someone else meanwhile; reload it and try again.")
        ) from error


def only_fields(data: dict, allowed: Iterable[str], what: str) -> None:
    """A key outside `allowed` is a programming error (a caller writing what the service does not let
    it: an id, a path, a timestamp), not bad input."""
    unexpected = set(data) - set(allowed)
    if unexpected:
        raise TypeError(f"cannot set {', '.join(sorted(unexpected))} of {what}")


def lock_one(queryset_or_model, pk):
    """Lock one row for the rest of the transaction and return it as stored now."""
    rows = lock_objects(queryset_or_model, [pk])
    if not rows:
        raise ApplicationError(_("This record no longer exists; reload the page."))
    return rows[0]


def _differs(instance: models.Model, field: models.Field, value) -> bool:
    if field.is_relation and field.many_to_one:
        new_id = value.pk if isinstance(value, models.Model) else value
        return getattr(instance, field.attname) != new_id
    return getattr(instance, field.attname) != value


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: dict, validate: bool = True
) -> tuple[models.Model, list[str]]:
    """Apply `data` to the `fields` a service allows, validate, and save only what changed.

    Returns the instance and the names of the fields that changed. A key of `data` outside `fields` is
    a programming error (a caller trying to write what the service does not let it), not bad input.
    """
    only_fields(data, fields, type(instance).__name__)
    meta = instance._meta
    changed = []
    for name, value in data.items():
        field = meta.get_field(name)
        if _differs(instance, field, value):
            setattr(instance, name, value)
            changed.append(name)
    if not changed:
        return instance, []
    if validate:
        model_validate(instance)
    update_fields = list(changed)
    if any(f.name == "updated_at" for f in meta.concrete_fields):
        update_fields.append("updated_at")  # auto_now is only written when named
    model_save(instance, update_fields=update_fields)
    return instance, changed
