"""Encryption at rest of stored calendar credentials (CalDAV passwords).

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived with HKDF-SHA256 from
``CALENDAR_SECRET_KEY``, or from ``SECRET_KEY`` when that is empty. Stored values carry
the prefix ``fernet:``; a value without it is a password stored in plain text before
encryption existed (the migration encrypts those) and is returned as it is."""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"


@functools.cache
def _fernet(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"delegate calendar passwords"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _current() -> Fernet:
    return _fernet(settings.CALENDAR_SECRET_KEY or settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    """The stored form of ``plain`` (empty stays empty)."""
    if not plain:
        return ""
    return PREFIX + _current().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain password of a stored value. Raises ``ValueError`` if it was encrypted
    under another key (the key changed: the password must be entered again)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _current().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        raise ValueError("The stored calendar password cannot be decrypted") from None


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)
