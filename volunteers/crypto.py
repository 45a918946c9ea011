"""ID numbers at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under keys from the environment,
and found again through a keyed hash (HMAC-SHA256), so the database alone reveals nothing.

`ID_NUMBER_KEYS` lists Fernet keys, newest first: the first encrypts, all decrypt, so a key is rotated by
putting a new one in front and running `manage.py id_numbers_rotate`, which re-encrypts every number under
it; the old key can then be dropped. `ID_NUMBER_HASH_KEY` keys the hash that makes a number unique and
searchable by its exact value; changing it means re-hashing every row (`id_numbers_rotate --rehash OLD`).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "ID_NUMBER_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from error


def _keys() -> tuple[str, ...]:
    return tuple(settings.ID_NUMBER_KEYS)


def encrypt(number: str) -> str:
    return _fernet(_keys()).encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "An ID number cannot be decrypted with ID_NUMBER_KEYS: the key it was encrypted with is missing."
        ) from error


def rotate(token: str) -> str:
    """The same number encrypted under the newest key."""
    return _fernet(_keys()).rotate(token.encode()).decode()


def id_hash(id_type: str, number: str, *, key: str | None = None) -> str:
    """The keyed hash that makes (document type, number) unique and findable by its exact value."""
    secret = (key or settings.ID_NUMBER_HASH_KEY).encode()
    return hmac.new(secret, f"{id_type}:{number}".encode(), hashlib.sha256).hexdigest()
