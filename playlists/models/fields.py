"""Model fields that keep secrets: text encrypted at rest (:mod:`playlists.secrets`, purpose ``"model-field"``).

A database backup or a stolen SQLite file then holds no usable Spotify
token. Stored values are the Fernet tokens of :func:`playlists.secrets.secret_encrypt`
under a ``fernet:`` prefix, so values written before encryption (no prefix)
still read as they are. Rotating ``SECRET_KEY`` with the old key in
``SECRET_KEY_FALLBACKS`` keeps values readable; a value that cannot be
decrypted (the key changed without a fallback) reads as "" and the user
simply connects again.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import models

from playlists.secrets import SecretUnreadableError, secret_decrypt, secret_encrypt

logger = logging.getLogger(__name__)

PREFIX = "fernet:"
_PURPOSE = "model-field"


def text_encrypt(value: str) -> str:
    return PREFIX + secret_encrypt(value, purpose=_PURPOSE)


def text_decrypt(stored: str) -> str:
    """The plaintext of a stored value; values written before encryption (no prefix) pass through."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return secret_decrypt(stored[len(PREFIX):], purpose=_PURPOSE)
    except SecretUnreadableError:
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
