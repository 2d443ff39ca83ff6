"""Track and artist references as Spotify clients send them: Crossfade ids, 22-character Spotify ids and URIs.

``12`` and ``crossfade:track:12`` are Crossfade ids; ``4uLU6hMCjMI75M1A2tKUQC``
and ``spotify:track:4uLU6hMCjMI75M1A2tKUQC`` Spotify's, found through the
Spotify id a track or artist carries (from ``enrich_spotify`` or a Kaggle
import). Parsed here once; the lookups are catalogue reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from django.urls import register_converter

from playlists.api.errors import ApiError
from playlists.models import Artist, Track

Kind = Literal["track", "artist"]
SPOTIFY_ID = "[0-9A-Za-z]{22}"
#: One reference of either form (the path converter and the seed patterns use it).
REFERENCE = rf"(?:\d{{1,18}}|{SPOTIFY_ID}|spotify:(?:track|artist):{SPOTIFY_ID}|crossfade:(?:track|artist):\d{{1,18}})"
REFERENCES_PATTERN = rf"^\s*{REFERENCE}(\s*,\s*{REFERENCE})*\s*$|^$"
_URI = re.compile(r"^(spotify|crossfade):(track|artist):(.+)$")


@dataclass(frozen=True)
class Reference:
    text: str
    crossfade_id: int | None = None
    spotify_id: str | None = None


def reference_parse(text: str, kind: Kind) -> Reference:
    """One reference to a ``kind``; raises :class:`ApiError` 400 for anything else."""
    value = text.strip()
    uri = _URI.match(value)
    if uri:
        scheme, named, rest = uri.groups()
        if named != kind:
            raise ApiError(400, f"Invalid request: {value[:80]} is not a {kind}")
        value = rest if scheme == "spotify" else rest
        if scheme == "crossfade":
            if not value.isdigit():
                raise ApiError(400, f"Invalid {kind} id: {text[:80]}")
            return Reference(text, crossfade_id=int(value))
    if value.isdigit() and len(value) <= 18:
        return Reference(text, crossfade_id=int(value))
    if re.fullmatch(SPOTIFY_ID, value):
        return Reference(text, spotify_id=value)
    raise ApiError(400, f"Invalid {kind} id: {text[:80]}")


def references_parse(text: str, kind: Kind) -> list[Reference]:
    return [reference_parse(part, kind) for part in text.split(",") if part.strip()]


def _resolve(references: list[Reference], model: type[Track] | type[Artist]) -> dict[Reference, int]:
    spotify_ids = [r.spotify_id for r in references if r.spotify_id]
    by_spotify: dict[str, int] = {}
    for spotify_id, row_id in model.objects.filter(spotify_id__in=spotify_ids).order_by("id").values_list("spotify_id", "id"):
        by_spotify.setdefault(spotify_id, row_id)
    crossfade = set(model.objects.filter(id__in=[r.crossfade_id for r in references if r.crossfade_id is not None]).values_list("id", flat=True))
    out: dict[Reference, int] = {}
    for reference in references:
        if reference.crossfade_id is not None and reference.crossfade_id in crossfade:
            out[reference] = reference.crossfade_id
        elif reference.spotify_id and reference.spotify_id in by_spotify:
            out[reference] = by_spotify[reference.spotify_id]
    return out


def track_ids_resolve(references: list[Reference]) -> dict[Reference, int]:
    """The Crossfade track id of each reference the catalogue knows (unknown ones are absent)."""
    return _resolve(references, Track)


def artist_ids_resolve(references: list[Reference]) -> dict[Reference, int]:
    return _resolve(references, Artist)


class ReferenceConverter:
    """``{ref:name}`` in an API path: a Crossfade id or a Spotify id (never a word such as ``search``)."""

    regex = rf"\d{{1,18}}|{SPOTIFY_ID}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(ReferenceConverter, "ref")
