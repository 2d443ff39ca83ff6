"""The one error envelope of the JSON API, Spotify's: ``{"error": {"status": 400, "message": "..."}}``.

Clients written for Spotify's Web API understand it, and every failure under
``/api/`` has it: bad parameters, missing or wrong credentials, unknown
paths, wrong methods and server errors alike.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from django.http import HttpRequest, JsonResponse

#: The ranges the API's numeric parameters accept; the schemas are built from these, and messages say them.
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {
    "limit": (1, 100),
    "balance": (0, 1),
    "diversity": (0, 1),
    "taste": (0, 1),
    "max_per_artist": (1, 100),
}
#: Messages for parameters whose expected shape is not a number.
PARAMETER_SHAPES: dict[str, str] = {
    "seed_tracks": "takes comma-separated ids: Crossfade ids, 22-character Spotify ids or spotify:track: URIs",
    "seed_artists": "takes comma-separated ids: Crossfade ids, 22-character Spotify ids or spotify:artist: URIs",
}


class ApiError(Exception):
    """An answer other than 200, with the message the client sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_response(status: int, message: str) -> JsonResponse:
    response = JsonResponse(
        {"error": {"status": status, "message": message}}, status=status, json_dumps_params={"ensure_ascii": False}, content_type="application/json; charset=utf-8"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="crossfade"'
    return response


def _bounds_text(value: float) -> str:
    return f"{value:g}"


def validation_message(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence for the first problem pydantic found with a request, in the API's words."""
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path", "form")]
        name = location[-1] if location else "the request"
        kind = str(error.get("type", ""))
        if name in PARAMETER_SHAPES and kind.startswith("string_pattern"):
            return f"Invalid request: {name} {PARAMETER_SHAPES[name]}"
        if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") and name in PARAMETER_BOUNDS:
            low, high = PARAMETER_BOUNDS[name]
            return f"Invalid request: {name} must be between {_bounds_text(low)} and {_bounds_text(high)}"
        if kind.startswith("int_"):
            return f"Invalid request: {name} must be an integer"
        if kind.startswith("float_") or kind == "finite_number":
            return f"Invalid request: {name} must be {'a finite number' if kind == 'finite_number' else 'a number'}"
        if kind == "missing":
            return f"Missing required parameter: {name}"
        if kind == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            return f"Invalid request: {name} has at most {limit} characters"
        return f"Invalid request: {name}: {error.get('msg', 'not valid')}"
    return "Invalid request"


def error_for_status(request: HttpRequest, status: int) -> JsonResponse:
    """The envelope for an answer Django made itself (an unknown path, a wrong method, a crash)."""
    messages = {
        400: "Bad request",
        403: "Forbidden",
        404: f"No such API endpoint: {request.path}",
        405: f"{request.method} is not allowed here",
        413: "The request is too large",
        500: "Something went wrong on the server; the operator can see what in the log",
    }
    return error_response(status, messages.get(status, "Request failed"))
