"""The table of Subsonic methods: each endpoint module registers its functions here by method name."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from playlists.subsonic.params import Params
from playlists.subsonic.shapes import Shaper

Payload = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One authenticated request: its parameters, the caller, and the player's name (``c``)."""

    request: HttpRequest
    params: Params
    user: User

    @property
    def client(self) -> str:
        return self.params.text("c")[:100]

    @cached_property
    def shaper(self) -> Shaper:
        return Shaper(self.user)


Handler = Callable[[Call], "Payload | HttpResponseBase"]
PublicHandler = Callable[[Params], Payload]


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Handler | None = None
    public: PublicHandler | None = None


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(*names: str) -> Callable[[Handler], Handler]:
    """Register an authenticated method under each of ``names``."""

    def register(handler: Handler) -> Handler:
        for name in names:
            ENDPOINTS[name] = Endpoint(name, handler=handler)
        return handler

    return register


def public_endpoint(*names: str) -> Callable[[PublicHandler], PublicHandler]:
    """Register a method that answers without credentials (the spec asks it of ``getOpenSubsonicExtensions``)."""

    def register(handler: PublicHandler) -> PublicHandler:
        for name in names:
            ENDPOINTS[name] = Endpoint(name, public=handler)
        return handler

    return register
