"""Validators of contact details as mainland China writes them."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A mobile number (optionally +86), a landline with its area code and an optional extension, or a
# 400/800 service number: what a county office prints on a station's sign.
_PHONE = re.compile(
    r"^(?:(?:\+?86[- ]?)?1[3-9]\d{9}"
    r"|0\d{2,3}-?[2-9]\d{6,7}(?:-\d{1,6})?"
    r"|[48]00-?\d{3}-?\d{4})$"
)
# Letters of any script, the middle dot of minority names, spaces and a few honorific marks; no digits.
_PERSON = re.compile(r"^[^\W\d_]+(?:[ ·•.'’-][^\W\d_]+)*$")


def validate_phone(value: str) -> None:
    if value and not _PHONE.match(value.strip()):
        raise ValidationError(
            _("Enter a mobile number (13812345678) or a landline with its area code (0599-7821234)."),
            code="invalid_phone",
        )


def validate_person_name(value: str) -> None:
    value = value.strip()
    if value and (len(value) < 2 or not _PERSON.match(value)):
        raise ValidationError(
            _("Enter a person's name (at least two characters, no digits)."), code="invalid_name"
        )


def is_id(value) -> bool:
    """Whether a value from a URL or a query string can be a row's id: digits that fit a bigint (anything
    else is a plain 404 or filters to nothing, never a database error)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18
