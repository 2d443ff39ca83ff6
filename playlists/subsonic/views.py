"""The one view of ``/rest/<method>``: parse, authenticate, run the registered endpoint, answer in the asked format.

GET and POST (form-encoded, the ``formPost`` extension) alike, with or
without ``.view``. Failures are ``status="failed"`` envelopes with the spec's
codes; an unexpected error is logged and answered with code 0 and no detail.
"""
from __future__ import annotations

import logging
import re

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from playlists.subsonic import annotation, browsing, lyrics, media, playlists, similarity, system  # noqa: F401 - they register their endpoints
from playlists.subsonic.auth import user_authenticate
from playlists.subsonic.endpoints import ENDPOINTS, Call
from playlists.subsonic.params import ErrorCode, Params, SubsonicError
from playlists.subsonic.responses import envelope, render, response_format

logger = logging.getLogger(__name__)
_VERSION = re.compile(r"^(\d+)\.(\d+)")
SERVER_API = (1, 16)


def _version_check(params: Params) -> None:
    match = _VERSION.match(params.text("v"))
    if match is None:
        return
    asked = (int(match.group(1)), int(match.group(2)))
    if asked[0] < SERVER_API[0]:
        raise SubsonicError(ErrorCode.CLIENT_TOO_OLD, "Incompatible Subsonic REST protocol version. Client must upgrade.")
    if asked > SERVER_API:
        raise SubsonicError(ErrorCode.SERVER_TOO_OLD, f"Incompatible Subsonic REST protocol version: this server speaks {SERVER_API[0]}.{SERVER_API[1]}.1")


@csrf_exempt
def subsonic(request: HttpRequest, method: str) -> HttpResponseBase:
    params = Params(request.GET, request.POST if request.method == "POST" else None)
    fmt = response_format(params.text("f", "xml"))
    callback = params.text("callback")
    name = method[: -len(".view")] if method.endswith(".view") else method
    status = 200
    try:
        if request.method not in ("GET", "POST", "HEAD"):
            raise SubsonicError(ErrorCode.GENERIC, f"{request.method} is not allowed: use GET or POST")
        entry = ENDPOINTS.get(name)
        if entry is None:
            status = 404
            raise SubsonicError(ErrorCode.NOT_FOUND, f"Unknown or unsupported method: {name[:60]}")
        if entry.public is not None:
            return render(envelope(entry.public(params)), fmt=fmt, callback=callback)
        user = user_authenticate(params)
        _version_check(params)
        if entry.handler is None:
            raise SubsonicError(ErrorCode.NOT_FOUND, f"Unknown or unsupported method: {name[:60]}")
        result = entry.handler(Call(request, params, user))
        if isinstance(result, HttpResponseBase):
            return result
        return render(envelope(result), fmt=fmt, callback=callback)
    except SubsonicError as error:
        response: HttpResponse = render(envelope(error=error), fmt=fmt, callback=callback)
        response.status_code = status
        return response
    except Exception:
        logger.exception("Subsonic request %s failed", name[:60])
        crash = SubsonicError(ErrorCode.GENERIC, "Something went wrong on the server; the operator can see what in the log")
        return render(envelope(error=crash), fmt=fmt, callback=callback)
