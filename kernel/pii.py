"""Personal data never reaches the logs or the error reports.

`scrub()` masks anything shaped like a mainland resident ID number (18 characters, or the old 15 digits) or a
mainland mobile number. The kernel's AppConfig.ready() installs a log record factory, so every record of
the process scrubs its message and its exception text whichever handler writes it (the console, a Celery
worker's handlers, pytest's caplog, mail_admins). The exception reporter and its filter, named in
settings.py, do the same for Django's 500 mails and debug pages, and blank the values of fields such as the
SMS code or a password.
"""

from __future__ import annotations

import functools
import logging
import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from .masking import mask_id_number, mask_phone

# Digits may come grouped by single spaces or dashes, as people type them ("138-0013-8000",
# "3507 2119 9005 0312 38").
_SEP = r"[ -]?"
_ID_NUMBER = rf"(?P<id>\d(?:{_SEP}\d){{16}}{_SEP}[\dXx]|\d{{15}})"
_PHONE = rf"(?P<prefix>\+?86[ -]?)?(?P<phone>1{_SEP}[3-9](?:{_SEP}\d){{9}})"
# Neither is part of a longer run of digits: an order number or a timestamp keeps its digits.
_PERSONAL = re.compile(rf"(?<!\d)(?<!\d[ -])(?:{_ID_NUMBER}|{_PHONE})(?![ -]?\d)")
# Both kinds hold eleven digits in a row or grouped; searching for that first is several times cheaper.
_LONG_RUN = re.compile(rf"\d(?:{_SEP}\d){{10}}")
_DIGITS = "0123456789"
_GROUPING = str.maketrans("", "", " -")


def _mask(match: re.Match) -> str:
    if id_number := match["id"]:
        return mask_id_number(id_number.translate(_GROUPING))
    return f"{match['prefix'] or ''}{mask_phone(match['phone'].translate(_GROUPING))}"


def scrub(text: str) -> str:
    """`text` with ID numbers as 3501**********1234 and mobile numbers as 138****5678."""
    # Most log lines hold no digit, or no 11 in a row: ten substring scans, then one short search, in C.
    if len(text) < 11 or not any(digit in text for digit in _DIGITS) or not _LONG_RUN.search(text):
        return text
    return _PERSONAL.sub(_mask, text)


# --- Logs ------------------------------------------------------------------------------------------


class _ScrubbingRecord:
    """Mixed into the log record class: the message and the formatted exception text come out scrubbed.

    Formatters fill `exc_text` from the traceback once and every handler reuses it, so scrubbing it on the way
    in covers them all; `msg` and `args` stay as logged (a handler that reads them raw is not one of ours).
    """

    def getMessage(self) -> str:
        return scrub(super().getMessage())

    @property
    def exc_text(self) -> str | None:
        return self.__dict__.get("exc_text")

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self.__dict__["exc_text"] = scrub(value) if isinstance(value, str) else value


class ScrubbingLogRecord(_ScrubbingRecord, logging.LogRecord):
    """The record of every logger once the kernel is ready."""


@functools.cache
def _scrubbing_class(record_class: type) -> type:
    if issubclass(record_class, _ScrubbingRecord):
        return record_class
    return type(f"Scrubbing{record_class.__name__}", (_ScrubbingRecord, record_class), {})


def install_log_record_factory() -> None:
    """Make every log record of this process scrub personal data (idempotent).

    A factory set earlier by another library keeps making the records; they get the scrubbing methods on top.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "scrubs_personal_data", False):
        return
    if current is logging.LogRecord:
        factory = ScrubbingLogRecord
    else:

        def factory(*args, **kwargs):
            record = current(*args, **kwargs)
            record.__class__ = _scrubbing_class(type(record))
            return record

    def scrubbing_factory(*args, **kwargs):
        record = factory(*args, **kwargs)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return record

    scrubbing_factory.scrubs_personal_data = True
    logging.setLogRecordFactory(scrubbing_factory)


# --- Error reports (the 500 mail to ADMINS, the debug page) ----------------------------------------

# Field and variable names whose values are blanked whatever they hold: an SMS code is six digits, shaped
# like nothing, and a password like anything.
SENSITIVE_NAME = re.compile(r"id_number|phone|mobile|code|password|secret|token", re.IGNORECASE)


class _Scrubbed:
    """A frame variable shown by its scrubbed repr (the report prints variables with pprint)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class PiiExceptionReporterFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER: Django's filter, active with DEBUG on too, blanking personal fields.

    POST parameters and frame variables named like id_number, phone, guardian_phone, code or password are
    replaced by stars; any other value shaped like an ID number or a phone is masked.
    """

    def is_active(self, request) -> bool:
        # Personal data is personal on a developer's debug page too.
        return True

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        cleansed = parameters.copy()
        for name in list(cleansed):
            if SENSITIVE_NAME.search(name):
                cleansed[name] = self.cleansed_substitute
            elif hasattr(cleansed, "setlist"):
                cleansed.setlist(name, [self._scrub_value(value) for value in cleansed.getlist(name)])
            else:
                cleansed[name] = self._scrub_value(cleansed[name])
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            sensitive = SENSITIVE_NAME.search(name)
            variables.append((name, self.cleansed_substitute if sensitive else self._scrub_object(value)))
        return variables

    @staticmethod
    def _scrub_value(value):
        return scrub(value) if isinstance(value, str) else value

    @staticmethod
    def _scrub_object(value):
        if isinstance(value, str):
            return scrub(value)
        try:
            text = repr(value)
        except Exception:  # the report shows what it can; a broken __repr__ must not hide the error
            return value
        scrubbed = scrub(text)
        return value if scrubbed == text else _Scrubbed(scrubbed)


class PiiExceptionReporter(ExceptionReporter):
    """DEFAULT_EXCEPTION_REPORTER: the whole report scrubbed, the exception's message and the URL included."""

    def get_traceback_frames(self):
        frames = super().get_traceback_frames()
        # Frame ids are memory addresses, 15 digits that would pass for an old ID number: number them instead.
        for number, frame in enumerate(frames):
            frame["id"] = number
        return frames

    def get_traceback_html(self) -> str:
        return scrub(super().get_traceback_html())

    def get_traceback_text(self) -> str:
        return scrub(super().get_traceback_text())
