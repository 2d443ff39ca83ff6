"""JSON, never Django's HTML pages, for every error under ``/api/``: unknown paths, wrong methods, crashes."""
from __future__ import annotations

import logging
from typing import Callable

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from playlists.api.errors import error_for_status

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class ApiErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            return error_for_status(request, response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        # What Django answers with a 4xx is the client's mistake, not a crash (e.g. /api/ itself, which has no page).
        for kind, status in ((Http404, 404), (PermissionDenied, 403), (SuspiciousOperation, 400)):
            if isinstance(exception, kind):
                return error_for_status(request, status)
        logger.exception("API request %s failed", request.path)
        return error_for_status(request, 500)
