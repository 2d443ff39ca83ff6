"""The JSON API: one NinjaAPI with a router per feature, one auth, one error envelope, a generated OpenAPI document.

Mounted at ``/api/``; the description is ``/api/openapi.json``. Every
failure has Spotify's error shape (:mod:`playlists.api.errors`); answers
Django makes itself under ``/api/`` (unknown paths, server errors) get it
from :class:`playlists.api.middleware.ApiErrorsMiddleware`.
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from playlists.api import catalogue_map, jobs, mix, recommendations, spotify, themes, tokens, tracks
from playlists.api.auth import site_auth, site_login_required
from playlists.api.errors import ApiError, error_response, validation_message

logger = logging.getLogger(__name__)


class ReadableJSON(JSONRenderer):
    """Titles in any script as themselves ("Море", not "\\u041c\\u043e\\u0440\\u0435")."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ReadableJSON(),
    title="Crossfade API",
    version="1.0.0",
    description="Spotify's closed recommendations endpoint and Crossfade's own similarity, theme search and tasks, answered from your library by the hybrid (sound + lyrics) model.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    # The interactive docs page loads its scripts from a CDN, which a private server may not reach.
    docs_url=None,
    docs_decorator=site_login_required,
    # Private by default: a user (token or session) unless the site is public; endpoints acting for a user say user_auth.
    auth=site_auth,
)
# The genre seeds and /tracks/search are declared before the routes with ids, which never match their words anyway.
for router in (recommendations.router, tracks.router, mix.router, spotify.router, themes.router, jobs.router, catalogue_map.router, tokens.router):
    api.add_router("/", router)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return error_response(error.status, str(error))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return error_response(400, validation_message(error.errors))


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return error_response(401, "No token provided")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return error_response(error.status_code, str(error))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("API request %s failed", request.path)
    return error_response(500, "Something went wrong on the server; the operator can see what in the log")
