"""Identity documents as China issues them: the resident ID number (GB 11643) with its check digit, the
birth date and gender it carries, the other documents a volunteer may register with, and how each is masked.

Nothing here touches the database; the number itself is kept encrypted (volunteers.crypto).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.errors import ApplicationError
from kernel.masking import mask_id_number  # noqa: F401 - the mask volunteers use, re-exported


class IdType(models.TextChoices):
    RESIDENT = "resident", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO = "hk_macao", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN = "taiwan", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT = re.compile(r"^\d{17}[\dX]$")
# Province codes of the first two digits (GB/T 2260), so "00…" or "99…" is refused early.
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
    "83", "91",
}  # fmt: skip
# Other documents, as printed on them: a passport (Chinese E/G/D/S/P + 8 digits, or a foreign one of 5 to
# 17 letters and digits), the Hong Kong/Macao permit (H/M + 8 digits, or 10 digits of the old form), the
# Taiwan permit (8 digits, or 10 with the issue count), the foreigner's permanent residence card (3 letters
# + 12 digits of the old form, or 9 + 17 digits of the 2023 form).
_OTHER = {
    IdType.PASSPORT: re.compile(r"^(?:[EGDSP][A-Z]?\d{7,8}|[A-Z0-9]{5,17})$"),
    IdType.HK_MACAO: re.compile(r"^(?:[HM]\d{8}(?:\d{2})?|\d{10})$"),
    IdType.TAIWAN: re.compile(r"^\d{8}(?:\d{2})?$"),
    IdType.FOREIGN_PERMANENT: re.compile(r"^(?:[A-Z]{3}\d{12}|9\d{16}[\dX])$"),
}


def normalize_id_number(value: str) -> str:
    """As stored and hashed: no spaces, upper-case (a lower-case x is the same check digit)."""
    return re.sub(r"\s+", "", value or "").upper()


def resident_check_digit(first17: str) -> str:
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: datetime.date
    gender: str


def parse_resident_id(value: str, *, field: str = "id_number") -> ResidentId:
    """The number checked against GB 11643 (form, region, birth date, check digit), with what it carries."""
    number = normalize_id_number(value)
    if not _RESIDENT.match(number):
        raise ApplicationError(
            _("A resident ID number has 18 characters: 17 digits and a digit or X."), field=field
        )
    if number[:2] not in _PROVINCES:
        raise ApplicationError(
            _("This ID number does not start with a valid Chinese region code."), field=field
        )
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900 or birth > datetime.date.today():
        raise ApplicationError(_("The birth date in this ID number is not a real date."), field=field)
    if resident_check_digit(number[:17]) != number[17]:
        raise ApplicationError(
            _("The check digit of this ID number is wrong: check the number for a typing error."), field=field
        )
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return ResidentId(number=number, birth_date=birth, gender=gender)


def validate_id_number(id_type: str, value: str, *, field: str = "id_number") -> str:
    """The normalized number, or a refusal naming what is wrong with it."""
    number = normalize_id_number(value)
    if not number:
        raise ApplicationError(_("Enter the ID number."), field=field)
    if id_type == IdType.RESIDENT:
        return parse_resident_id(number, field=field).number
    pattern = _OTHER.get(id_type)
    if pattern is None:
        raise ApplicationError(_("Choose the type of ID document."), field="id_type")
    if not pattern.match(number):
        raise ApplicationError(
            _("This is not the form of a %(document)s number.") % {"document": IdType(id_type).label},
            field=field,
        )
    return number


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def fake_resident_id(region: str, birth_date: datetime.date, serial: int) -> str:
    """A well-formed number for demo and benchmark data: region 'XX' codes of real provinces with a
    serial that no office issues in this form (the demo's numbers are marked as fake wherever shown)."""
    first17 = f"{region:0<6}"[:6] + birth_date.strftime("%Y%m%d") + f"{serial % 1000:03d}"
    return first17 + resident_check_digit(first17)
