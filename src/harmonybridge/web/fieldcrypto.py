"""Encryption at rest for names, contacts and free-text notes (Fernet, rotatable keys).

Keys come from ``settings.HB_FIELD_KEYS`` (newest first). Values are encrypted with
the newest key and decrypted with any listed key, so rotation is: add the new key
first, run ``harmonybridge manage rotate_field_keys``, remove the old key.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "HB_FIELD_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def current_fernet() -> MultiFernet:
    return _fernet(tuple(settings.HB_FIELD_KEYS))


def encrypt(text: str) -> str:
    return PREFIX + current_fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ImproperlyConfigured(
            "an encrypted field holds a value without the fernet: prefix"
        )
    try:
        return (
            current_fernet()
            .decrypt(stored[len(PREFIX) :].encode("ascii"))
            .decode("utf-8")
        )
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "an encrypted field cannot be read with any key in HB_FIELD_KEYS"
        ) from exc


def rotate(stored: str) -> str:
    """Re-encrypt a stored value with the newest key."""
    token = stored[len(PREFIX) :].encode("ascii")
    return PREFIX + current_fernet().rotate(token).decode("ascii")


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; empty strings stay empty (nothing to hide).

    Encrypted values cannot be searched or ordered in the database; filter in Python.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
