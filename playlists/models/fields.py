"""Model fields that keep secrets: text encrypted at rest with a key derived from the site's SECRET_KEY.

A database backup or a stolen SQLite file then holds no usable Spotify
tokens. Values are Fernet tokens (AES-128-CBC with HMAC-SHA256) under a
``fernet:`` prefix; keys come from ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``
through HKDF, so rotating the secret key keeps old values readable while the
old key is listed as a fallback. A value that cannot be decrypted (the key
changed without a fallback) reads as "" and the user simply connects again.
"""
from __future__ import annotations

import base64
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)

PREFIX = "fernet:"
_INFO = b"crossfade encrypted field v1"


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


def field_cipher() -> MultiFernet:
    """The cipher of the current settings: encrypts with SECRET_KEY, decrypts with it or any fallback."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def text_encrypt(value: str) -> str:
    return PREFIX + field_cipher().encrypt(value.encode("utf-8")).decode("ascii")


def text_decrypt(stored: str) -> str:
    """The plaintext of a stored value; values written before encryption (no prefix) pass through."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return field_cipher().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        logger.warning("an encrypted field could not be decrypted with SECRET_KEY or its fallbacks; it reads as empty")
        return ""


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]  # django-stubs' generic Field parameters
    """A TextField whose value is encrypted in the database and plain text in Python."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else text_decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return text_encrypt(str(value))
