"""Helpers for the services of every app."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models

from .errors import ApplicationError


def model_validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run the model's own checks (lengths, choices, validators, unique fields, constraints) and raise
    them as an ApplicationError, so a service refuses bad input before the database does."""
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except DjangoValidationError as error:
        raise ApplicationError.from_validation_error(error) from error


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
    allowed = set(fields)
    unexpected = set(data) - allowed
    if unexpected:
        raise TypeError(f"cannot update {', '.join(sorted(unexpected))} of {type(instance).__name__}")
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
    instance.save(update_fields=update_fields)
    return instance, changed
