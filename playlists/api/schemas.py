"""Shapes the API answers with, shared by its endpoints (the OpenAPI description is generated from them)."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Schema

from playlists.models import Track


class ErrorBody(Schema):
    status: int
    message: str


class ErrorOut(Schema):
    """Spotify's error shape, for every failure."""

    error: ErrorBody


#: The error answers an endpoint may give, for ``response=``.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 503: ErrorOut}


class TrackOut(Schema):
    id: int
    title: str
    artist: str | None
    album: str | None
    duration_ms: int | None
    genres: list[str]
    language: str | None
    has_lyrics: bool
    url: str


class ScoredTrackOut(TrackOut):
    score: float


#: An id no track has, reversed in place of the real one: each route is reversed once per request, not once per track.
_PLACEHOLDER = 9_876_543_210


def absolute_url(request: HttpRequest, name: str, object_id: int) -> str:
    """The absolute URL of route ``name`` for ``object_id`` (one int argument), as ``build_absolute_uri(reverse(...))``.

    An answer lists up to a hundred tracks with two links each, and reversing
    costs more than the rest of a track's JSON, so the route is reversed once
    per request and the id put in.
    """
    templates: dict[str, str] = request.__dict__.setdefault("_absolute_url_templates", {})
    template = templates.get(name)
    if template is None:
        template = templates[name] = request.build_absolute_uri(reverse(name, args=[_PLACEHOLDER]))
    return template.replace(str(_PLACEHOLDER), str(int(object_id)))


def track_out(track: Track, request: HttpRequest, *, score: float | None = None) -> dict[str, Any]:
    """A catalogue track as :class:`TrackOut` (with ``score`` as :class:`ScoredTrackOut`)."""
    data: dict[str, Any] = {
        "id": track.id,
        "title": track.title,
        "artist": track.artist.name if track.artist else None,
        "album": track.album.title if track.album else None,
        "duration_ms": int(track.duration_s * 1000) if track.duration_s else None,
        "genres": track.genres,
        "language": track.language or None,
        "has_lyrics": bool(track.lyrics),
        "url": absolute_url(request, "playlists:track_detail", track.id),
    }
    if score is not None:
        data["score"] = round(float(score), 6)
    return data
