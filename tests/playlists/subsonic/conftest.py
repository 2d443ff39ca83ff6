"""A listener with a Subsonic password and an API key, and a caller that checks every JSON answer against the spec."""
from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.support.opensubsonic import answer_check

PASSWORD = "phone-pass-42"


@pytest.fixture
def listener(db):
    from playlists.accounts.subsonic import subsonic_password_set

    user = get_user_model().objects.create_user("ana", password="a-long-password-1")
    subsonic_password_set(user=user, password=PASSWORD)
    return user


@pytest.fixture
def api_key(listener):
    from playlists.accounts.tokens import api_token_create

    return api_token_create(user=listener, name="phone")[1]


def token_auth(username: str = "ana", password: str = PASSWORD, salt: str = "c19b2d") -> dict[str, str]:
    return {"u": username, "t": hashlib.md5(f"{password}{salt}".encode()).hexdigest(), "s": salt, "v": "1.16.1", "c": "tests"}


class Subsonic:
    """Calls ``/rest/<method>`` with token auth and returns the checked ``subsonic-response``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def raw(self, method: str, *, post: bool = False, auth: dict[str, str] | None = None, **params: Any) -> Any:
        headers = {k: params.pop(k) for k in [k for k in params if k.startswith("HTTP_")]}
        data = {**(token_auth() if auth is None else auth), "f": "json", **params}
        return self.client.post(f"/rest/{method}.view", data, **headers) if post else self.client.get(f"/rest/{method}", data, **headers)

    def __call__(self, method: str, *, ok: bool = True, **params: Any) -> dict[str, Any]:
        response = self.raw(method, **params)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json"), response.content[:300]
        body = response.json()
        checked = answer_check(method, body) if method in _checked() else body["subsonic-response"]
        assert (checked["status"] == "ok") is ok, checked
        return checked


def _checked() -> set[str]:
    from tests.support.opensubsonic import methods

    return set(methods())


@pytest.fixture
def subsonic(client, listener):
    return Subsonic(client)
