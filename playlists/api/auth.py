"""Who is calling the API: a personal token (``Authorization: Bearer cf_…``), else a signed-in browser session.

Declared once here and given to every endpoint that needs a user, so the
OpenAPI description lists both schemes and every failure is the same 401.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from ninja.security import HttpBearer, SessionAuth

from playlists.accounts.tokens import api_token_authenticate
from playlists.api.errors import ApiError, error_response


class PersonalToken(HttpBearer):
    """A token from the Tokens page. A header that is present but not a valid bearer token is refused outright."""

    def __call__(self, request: HttpRequest) -> User | None:
        header = request.headers.get(self.header, "")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "Only valid bearer authentication supported")
        return self.authenticate(request, secret)

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_authenticate(token)
        if user is None:
            raise ApiError(401, "Invalid access token")
        return user


class SignedIn(SessionAuth):
    """The site's own session (the pages' scripts); unsafe methods need the CSRF token, as forms do."""


class PublicSite:
    """Lets anyone in when the operator made the site public (``CROSSFADE_PUBLIC=1``); nobody otherwise."""

    def __call__(self, request: HttpRequest) -> str | None:
        return "public" if settings.CROSSFADE_PUBLIC else None


#: Every endpoint that acts for a user takes either.
user_auth = [PersonalToken(), SignedIn()]
#: Every other endpoint (the API's default): a user, or anyone on a public site. A private site answers 401.
site_auth: list[Callable[[HttpRequest], Any]] = [PersonalToken(), SignedIn(), PublicSite()]


def site_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI description is behind the same door as the API (401 in the envelope)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.CROSSFADE_PUBLIC or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        try:
            if PersonalToken()(request) is not None:
                return view(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error.status, str(error))
        return error_response(401, "No token provided")

    return guarded


class AuthedRequest(HttpRequest):
    """The request of an endpoint behind :data:`user_auth`: ninja has set ``auth`` to the calling :class:`User`.

    Only endpoints' annotations use it (ninja skips the ``request`` parameter
    when it reads a signature); Django builds the request objects themselves.
    """

    auth: User
