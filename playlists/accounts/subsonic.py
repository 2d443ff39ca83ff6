"""Passwords for Subsonic players: separate from the site's password, encrypted at rest, set and checked here.

Subsonic clients authenticate with ``u`` + ``t`` + ``s`` (``t = md5(password + salt)``)
or ``u`` + ``p``; both need the password itself, which Django's password store
(rightly) cannot give back. So each user may set a Subsonic password of their
own on the tokens page; it is kept encrypted (:mod:`playlists.secrets`)
and never shown again. The site's password is never accepted by the Subsonic API.
Players that support the ``apiKey`` extension use a personal API token instead.
"""
from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth.models import User

from playlists.errors import ControlError
from playlists.models import SubsonicPassword
from playlists.secrets import SecretUnreadableError, secret_decrypt, secret_encrypt, secret_needs_rotation

PURPOSE = "subsonic-password"
MIN_LENGTH = 8
MAX_LENGTH = 128


def subsonic_password_set(*, user: User, password: str) -> SubsonicPassword:
    """Set ``user``'s Subsonic password (8 to 128 characters, not their site password)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ControlError(f"a Subsonic password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if password != password.strip():
        raise ControlError("a Subsonic password cannot start or end with spaces")
    if user.check_password(password):
        raise ControlError("use a different password from your site password: players send it with every request")
    row, _ = SubsonicPassword.objects.update_or_create(user=user, defaults={"secret": secret_encrypt(password, purpose=PURPOSE)})
    return row


def subsonic_password_clear(*, user: User) -> None:
    SubsonicPassword.objects.filter(user=user).delete()


def subsonic_password_exists(*, user: User) -> bool:
    return SubsonicPassword.objects.filter(user=user).exists()


def _stored_password(user: User) -> str | None:
    row = SubsonicPassword.objects.filter(user=user).first()
    if row is None:
        return None
    try:
        plain = secret_decrypt(row.secret, purpose=PURPOSE)
    except SecretUnreadableError:
        return None
    if secret_needs_rotation(row.secret, purpose=PURPOSE):
        SubsonicPassword.objects.filter(id=row.id).update(secret=secret_encrypt(plain, purpose=PURPOSE))
    return plain


def subsonic_token_check(*, user: User, token: str, salt: str) -> bool:
    """Does ``token`` equal md5(Subsonic password + ``salt``)? (constant-time)"""
    password = _stored_password(user)
    if password is None:
        return False
    expected = hashlib.md5((password + salt).encode("utf-8")).hexdigest()
    return hmac.compare_digest(expected, token.strip().lower())


def subsonic_password_check(*, user: User, password: str) -> bool:
    """Is ``password`` the user's Subsonic password? (constant-time)"""
    stored = _stored_password(user)
    return stored is not None and hmac.compare_digest(stored.encode("utf-8"), password.encode("utf-8"))
