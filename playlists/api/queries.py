"""Building blocks of the API's query schemas: bounded numbers from one table, and no unknown parameters."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema

from playlists.api.errors import PARAMETER_BOUNDS, ApiError


def bounded(name: str, default: Any = None, **extra: Any) -> Any:
    """A ``Field`` for parameter ``name`` with the range :data:`PARAMETER_BOUNDS` gives it."""
    low, high = PARAMETER_BOUNDS[name]
    return Field(default, ge=low, le=high, **extra)


def unknown_parameters_refuse(request: HttpRequest, schema: type[Schema], *, also: tuple[str, ...] = ()) -> None:
    """Spotify answers 400 for a parameter it does not know; so do we, naming it (a typo would otherwise be ignored)."""
    known = set(schema.model_fields) | set(also)
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise ApiError(400, f"Invalid request: unknown parameter {unknown[0]}")
