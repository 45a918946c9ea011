"""The one error type services raise: the API turns it into a 400, a page into a form message."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError


class ApplicationError(Exception):
    def __init__(self, message, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_dict(self) -> dict:
        key = self.field or "non_field_errors"
        return {key: [str(self.message)], **self.extra}

    def field_errors(self) -> list[tuple[str | None, str]]:
        """(field or None, message) pairs, for a form to show each where it belongs."""
        pairs = [(self.field, str(self.message))]
        for key, messages in self.extra.items():
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                pairs.append((None if key == "non_field_errors" else key, str(message)))
        return pairs

    @classmethod
    def from_validation_error(cls, error: DjangoValidationError) -> ApplicationError:
        """A model's own validation (lengths, choices, constraints) as our error, every field kept."""
        if not hasattr(error, "error_dict"):
            return cls(
                error.messages[0],
                extra={"non_field_errors": error.messages[1:]} if len(error.messages) > 1 else None,
            )
        items = [
            ("non_field_errors" if key == NON_FIELD_ERRORS else key, messages)
            for key, messages in error.message_dict.items()
        ]
        (first_field, first_messages), rest = items[0], items[1:]
        extra = {key: list(messages) for key, messages in rest}
        if len(first_messages) > 1:
            extra.setdefault(first_field, []).extend(first_messages[1:])
        field = None if first_field == "non_field_errors" else first_field
        return cls(first_messages[0], field=field, extra=extra)
