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
        "url": request.build_absolute_uri(reverse("playlists:track_detail", args=[track.id])),
    }
    if score is not None:
        data["score"] = round(float(score), 6)
    return data
