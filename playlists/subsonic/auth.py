"""Who is calling: ``apiKey`` (a personal API token), or ``u`` with ``t`` + ``s`` (md5 token and salt) or ``p`` (plain or ``enc:`` hex).

``t``/``s`` and ``p`` are checked against the user's Subsonic password
(:mod:`playlists.accounts.subsonic`), never the site's password. Conflicting
mechanisms are error 43 and a bad API key 44, as the apiKeyAuthentication
extension asks; a wrong user or password is 40.
"""
from __future__ import annotations

import binascii

from django.contrib.auth.models import User

from playlists.accounts.subsonic import subsonic_password_check, subsonic_token_check
from playlists.accounts.tokens import api_token_authenticate
from playlists.subsonic.params import ErrorCode, Params, SubsonicError

WRONG_CREDENTIALS = "Wrong username or password (set a Subsonic password on the site's API tokens page, or use an API key)"


def user_authenticate(params: Params) -> User:
    """The active user the request's credentials name; raises :class:`SubsonicError` 10, 40, 43 or 44."""
    if "apiKey" in params:
        if params.names() & {"u", "p", "t", "s"}:
            raise SubsonicError(ErrorCode.CONFLICTING_AUTH, "Multiple conflicting authentication mechanisms provided: send apiKey without u, p, t or s")
        user = api_token_authenticate(params.required("apiKey"))
        if user is None:
            raise SubsonicError(ErrorCode.INVALID_API_KEY, "Invalid API key")
        return user
    username = params.required("u")
    has_token = "t" in params or "s" in params
    if has_token and "p" in params:
        raise SubsonicError(ErrorCode.CONFLICTING_AUTH, "Multiple conflicting authentication mechanisms provided: send either p or t and s")
    if not has_token and "p" not in params:
        raise SubsonicError(ErrorCode.MISSING_PARAMETER, "Required parameter is missing: p, or t and s, or apiKey")
    user = User.objects.filter(username=username, is_active=True).first()
    if has_token:
        token, salt = params.required("t"), params.required("s")
        ok = user is not None and subsonic_token_check(user=user, token=token, salt=salt)
    else:
        ok = user is not None and subsonic_password_check(user=user, password=_password(params.required("p")))
    if not ok or user is None:
        raise SubsonicError(ErrorCode.WRONG_CREDENTIALS, WRONG_CREDENTIALS)
    return user


def _password(raw: str) -> str:
    if not raw.startswith("enc:"):
        return raw
    try:
        return binascii.unhexlify(raw[4:]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SubsonicError(ErrorCode.WRONG_CREDENTIALS, WRONG_CREDENTIALS) from None
