"""The one error type services raise: the API turns it into a 400, a page into a form message."""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_dict(self) -> dict:
        key = self.field or "non_field_errors"
        return {key: [str(self.message)], **self.extra}
