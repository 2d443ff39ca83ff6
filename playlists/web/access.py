"""Who may see the site: a personal library is private, so every page needs a login unless the operator opts in.

:class:`SiteLoginRequiredMiddleware` is Django's ``LoginRequiredMiddleware``
(views marked ``login_not_required``, the login page among them, stay open)
switched off by ``CROSSFADE_PUBLIC``. Static files never reach it (WhiteNoise
answers them first). The JSON API is left to its own authentication
(:mod:`playlists.api.auth`), which answers 401 in the API's error envelope
instead of redirecting a program to a login form; so is the Subsonic API
(:mod:`playlists.subsonic`), which answers its own error codes to players.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

#: Where the JSON API and the Subsonic API are mounted (config/urls.py); each authenticates by itself.
SELF_AUTHENTICATED_PREFIXES = ("/api/", "/rest/")


def media_login_required(view: View) -> View:
    """Marks a view whose answer is media (audio, a picture) for an element of a page: without a login it gets
    401, not a redirect to an HTML login form that a player or an image tag could do nothing with."""
    view.media_needs_login = True  # type: ignore[attr-defined]
    return view


class SiteLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponseBase], view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if settings.CROSSFADE_PUBLIC or request.path.startswith(SELF_AUTHENTICATED_PREFIXES):
            return None
        if getattr(view_func, "media_needs_login", False) and not request.user.is_authenticated:
            return HttpResponse("Log in to listen or look.", status=401, content_type="text/plain; charset=utf-8")
        response: HttpResponseBase | None = super().process_view(request, view_func, view_args, view_kwargs)
        return response
