"""ID documents: the GB 11643 check, what a resident number carries, the other documents, masking, keys."""

import datetime
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from kernel.errors import ApplicationError
from volunteers import crypto
from volunteers.identity import (
    IdType,
    fake_resident_id,
    mask_id_number,
    parse_resident_id,
    resident_check_digit,
    validate_id_number,
)
from volunteers.models import Volunteer
from volunteers.tests.factories import make_volunteer


def test_known_numbers_pass_with_their_birth_date_and_gender():
    person = parse_resident_id("11010519491231002x")  # the standard's own example, lower-case x
    assert person.number == "11010519491231002X"
    assert person.birth_date == datetime.date(1949, 12, 31)
    assert person.gender == "female"
    assert parse_resident_id("350721199005031238").gender == "male"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("350721199005031239", "The check digit of this ID number is wrong"),
        ("35072119900503123", "A resident ID number has 18 characters"),
        ("35072119900503123A", "A resident ID number has 18 characters"),
        ("990721199005031238", "This ID number does not start with a valid Chinese region code."),
        ("350721199002301238", "The birth date in this ID number is not a real date."),
        ("350721289005031238", "The birth date in this ID number is not a real date."),
    ],
)
def test_bad_resident_numbers_are_refused_naming_the_fault(number, message):
    if "check digit" in message:
        assert resident_check_digit(number[:17]) != number[17]
    with translation.override("en"):
        with pytest.raises(ApplicationError) as refusal:
            parse_resident_id(number)
        assert str(refusal.value.message).startswith(message)
    assert refusal.value.field == "id_number"


@pytest.mark.parametrize(
    ("id_type", "good", "bad"),
    [
        (IdType.PASSPORT, "E12345678", "E12-34"),
        (IdType.HK_MACAO, "H12345678", "H1234567X"),
        (IdType.TAIWAN, "12345678", "1234567"),
        (IdType.FOREIGN_PERMANENT, "USA350000000001", "US350000000001"),
    ],
)
def test_other_documents_have_their_own_format(id_type, good, bad):
    assert validate_id_number(id_type, f" {good.lower()} ") == good
    with pytest.raises(ApplicationError) as refusal:
        validate_id_number(id_type, bad)
    assert refusal.value.field == "id_number"


def test_masks_keep_four_and_four():
    assert mask_id_number("350721199005031238") == "3507**********1238"
    assert mask_id_number("E12345678") == "E123*5678"
    assert mask_id_number("1234") == "****"


def test_fake_numbers_are_well_formed():
    number = fake_resident_id("350721", datetime.date(2000, 1, 31), 7)
    assert parse_resident_id(number).birth_date == datetime.date(2000, 1, 31)


def test_rotation_re_encrypts_under_the_new_key_and_rehashes(tree, settings):
    volunteer = make_volunteer(tree.a1)
    number = crypto.decrypt(volunteer.id_number_encrypted)
    old_hash_key = settings.ID_NUMBER_HASH_KEY
    new_key = Fernet.generate_key().decode()
    settings.ID_NUMBER_KEYS = [new_key, *settings.ID_NUMBER_KEYS]
    settings.ID_NUMBER_HASH_KEY = "a-new-hash-key-for-this-test"
    call_command("id_numbers_rotate", rehash_from=old_hash_key, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_hash FROM volunteers_volunteer")
        token, stored_hash = cursor.fetchone()
    assert Fernet(new_key.encode()).decrypt(token.encode()).decode() == number
    assert stored_hash == crypto.id_hash(volunteer.id_type, number)
    # The old key can now go: the new one alone reads every number.
    settings.ID_NUMBER_KEYS = [new_key]
    assert crypto.decrypt(Volunteer.objects.get().id_number_encrypted) == number
