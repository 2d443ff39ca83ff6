"""Personal API tokens in the JSON API: list them, make one (its secret is answered once), revoke one."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema

from playlists.accounts import tokens
from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.schemas import ERRORS
from playlists.errors import CrossfadeError
from playlists.models import ApiToken

router = Router(tags=["tokens"], auth=user_auth)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenIn(Schema):
    name: str = Field("", max_length=100)


class NewTokenOut(TokenOut):
    secret: str = Field(description="The token itself: shown this once, stored only hashed.")


def _token(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "created_at": token.created_at, "last_used_at": token.last_used_at}


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, url_name="tokens")
def token_list(request: AuthedRequest) -> list[dict[str, Any]]:
    """The caller's live tokens."""
    return [_token(t) for t in tokens.api_tokens_of(user=request.auth)]


@router.post("/tokens", response={201: NewTokenOut, **ERRORS}, url_name="token_create")
def token_create(request: AuthedRequest, body: TokenIn) -> tuple[int, dict[str, Any]]:
    token, secret = tokens.api_token_create(user=request.auth, name=body.name)
    return 201, {**_token(token), "secret": secret}


@router.delete("/tokens/{int:token_id}", response={204: None, **ERRORS}, url_name="token_revoke")
def token_revoke(request: AuthedRequest, token_id: int) -> tuple[int, None]:
    try:
        tokens.api_token_revoke(user=request.auth, token_id=token_id)
    except CrossfadeError as error:
        raise ApiError(404, str(error)) from None
    return 204, None
