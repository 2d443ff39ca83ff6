"""Secrets Crossfade must read back (a Subsonic password, a Spotify token), encrypted at rest.

Fernet (AES-128-CBC with an HMAC-SHA256, from the ``cryptography`` package)
with a key derived from ``SECRET_KEY`` and a purpose label, so a leaked
database alone reveals nothing and a key made for one purpose opens nothing
else. Values encrypted under a key in ``SECRET_KEY_FALLBACKS`` still decrypt,
so rotating ``SECRET_KEY`` (with the old one as a fallback) keeps them
readable; :func:`secret_needs_rotation` says when to encrypt one again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from playlists.errors import CrossfadeError


class SecretUnreadableError(CrossfadeError):
    """A stored secret does not decrypt with SECRET_KEY or its fallbacks (the key changed without a fallback)."""


def _fernet(secret_key: str, purpose: str) -> Fernet:
    # HMAC-SHA256 keyed by SECRET_KEY over the purpose: 32 bytes, Fernet's key length.
    digest = hmac.new(secret_key.encode("utf-8"), f"crossfade.secrets:{purpose}".encode("utf-8"), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key, purpose) for key in keys])


def secret_encrypt(plain: str, *, purpose: str) -> str:
    """``plain`` encrypted for ``purpose`` ("subsonic-password", "spotify-token", ...): an ASCII token to store."""
    return _keys(purpose).encrypt(plain.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str, *, purpose: str) -> str:
    """The plain text of a token made by :func:`secret_encrypt` for the same ``purpose``; raises :class:`SecretUnreadableError`."""
    try:
        return _keys(purpose).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        raise SecretUnreadableError("a stored secret cannot be decrypted: SECRET_KEY changed without the old key in SECRET_KEY_FALLBACKS; set it again") from None


def secret_needs_rotation(token: str, *, purpose: str) -> bool:
    """True when ``token`` was encrypted under a fallback key and should be encrypted again under the current one."""
    try:
        _fernet(settings.SECRET_KEY, purpose).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return True
    return False
