"""Personal API tokens: made once, shown once, stored only hashed, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from playlists.errors import ControlError
from playlists.models import ApiToken

#: Every token starts with this, so a leaked one is recognisable in logs and scanners.
TOKEN_PREFIX = "cf_"
#: "Last used" is kept to the minute: a write per API call would queue every request behind the database's writer.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the row and the secret, which is shown once and stored only hashed."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100], prefix=secret[:10], key_hash=_token_hash(secret))
    return token, secret


def api_token_revoke(*, user: User, token_id: int) -> None:
    if not ApiToken.objects.filter(user=user, id=token_id).update(revoked=True):
        raise ControlError(f"no token {token_id} of yours")


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_token_authenticate(secret: str) -> User | None:
    """The user owning the live token ``secret``, or None; records when it was last used."""
    # One row by a unique hash: unordered (the default newest-first order only costs the query its sort).
    token = ApiToken.objects.select_related("user").filter(key_hash=_token_hash(secret.strip()), revoked=False).order_by().first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), id=token.id).update(last_used_at=now)
    return token.user


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked=False)
