"""Validators of volunteer data."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> None:
    """A mainland mobile number of 11 digits: the volunteer's login and where codes are sent."""
    if value and not _MOBILE.match(value):
        raise ValidationError(
            _("Enter a mainland mobile number of 11 digits, e.g. 13812345678."), code="invalid_mobile"
        )


def normalize_mobile(value: str) -> str:
    """As typed, without spaces, dashes or the +86 prefix."""
    value = re.sub(r"[\s-]", "", value or "")
    return value[3:] if value.startswith("+86") else value
