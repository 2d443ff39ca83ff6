"""``GET /api/recommendations``: Spotify's closed recommendations endpoint, answered by Crossfade.

Takes Spotify's parameters (``seed_tracks``, ``seed_artists``, ``limit``,
``min_*``/``max_*``/``target_*`` of the audio-feature attributes) plus
Crossfade's own (``seed_text``, ``balance``, ``diversity``,
``max_per_artist``, ``order``, ``taste``), and answers in Spotify's shape
(``seeds``, ``tracks``) with a ``crossfade`` object added to each track and
to the answer. The query schema is built from the same attribute table the
playlist settings check, so the description cannot drift from the code.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from django.conf import settings as django_settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import create_model

from ml.errors import MLError
from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.queries import bounded, unknown_parameters_refuse
from playlists.api.schemas import ERRORS, absolute_url
from playlists.errors import CrossfadeError, IndexNotReadyError
from playlists.generation.build import playlist_build
from playlists.generation.filters import track_attribute, track_explicit
from playlists.generation.settings import ATTRIBUTE_BOUNDS, ATTRIBUTES, INTEGER_ATTRIBUTES, MAX_SEED_TEXT, MAX_SEEDS, PlaylistSettings
from playlists.models import Artist, Track

router = Router(tags=["recommendations"])

IDS_PATTERN = r"^\s*\d+(\s*,\s*\d+)*\s*$"
_MEANINGS = {"min": "hard floor", "max": "hard ceiling", "target": "preferred value"}


class _RecommendationsBase(Schema):
    seed_tracks: str = Field("", pattern=IDS_PATTERN + "|^$", description="Comma-separated Crossfade track ids (up to 5 seeds in total).")
    seed_artists: str = Field("", pattern=IDS_PATTERN + "|^$", description="Comma-separated Crossfade artist ids.")
    seed_genres: str = Field("", description="Spotify's genre seeds; not supported (use seed_text).")
    seed_text: str = Field("", max_length=MAX_SEED_TEXT, description="A theme matched against lyrics (Crossfade).")
    limit: int = bounded("limit", 20)
    market: str = Field("", description="Accepted for compatibility; ignored.")
    balance: float | None = bounded("balance", None, description="Audio share of the similarity: 1 sound only, 0 lyrics only (Crossfade).")
    diversity: float = bounded("diversity", 0.0, description="0 closest, 1 most varied (maximal marginal relevance; Crossfade).")
    max_per_artist: int | None = bounded("max_per_artist", None)
    order: Literal["score", "flow"] = "score"
    taste: float = bounded("taste", 0.0, description="How far the caller's learned taste bends the answer.")

    @staticmethod
    def _ids(text: str) -> list[int]:
        return [int(part) for part in re.findall(r"\d+", text)]

    def attributes(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for name in ATTRIBUTES:
            for bound in ATTRIBUTE_BOUNDS:
                value = getattr(self, f"{bound}_{name}")
                if value is not None:
                    out.setdefault(name, {})[bound] = float(value)
        return out


def _attribute_field(name: str, bound: str) -> tuple[Any, Any]:
    kind = int if name in INTEGER_ATTRIBUTES else float
    description = f"{_MEANINGS[bound]} for {name}, applied to tracks that carry it (Spotify metadata); tracks without it pass unjudged."
    return (kind | None, Field(None, description=description))


RecommendationsQuery = create_model(  # type: ignore[call-overload]
    "RecommendationsQuery",
    __base__=_RecommendationsBase,
    **{f"{bound}_{name}": _attribute_field(name, bound) for name in ATTRIBUTES for bound in ATTRIBUTE_BOUNDS},
)


class SeedOut(Schema):
    id: str
    type: Literal["TRACK", "ARTIST", "TEXT"]
    href: str | None
    name: str | None = None
    initialPoolSize: int
    afterFilteringSize: int
    afterRelinkingSize: int


class ArtistRef(Schema):
    id: str
    name: str
    type: Literal["artist"]
    uri: str


class AlbumRef(Schema):
    id: str | None
    name: str | None
    type: Literal["album"]
    release_date: str


class TrackExtras(Schema):
    score: float | None
    explanation: dict[str, Any]
    genres: list[str]
    language: str | None
    has_lyrics: bool
    spotify_id: str | None
    audio_url: str | None


class SpotifyTrackOut(Schema):
    """Spotify's simplified track object, plus a ``crossfade`` object."""

    id: str
    type: Literal["track"]
    uri: str
    href: str
    name: str
    artists: list[ArtistRef]
    album: AlbumRef
    duration_ms: int | None
    explicit: bool
    popularity: int | None
    track_number: int | None
    is_playable: bool
    external_ids: dict[str, str]
    external_urls: dict[str, str]
    crossfade: TrackExtras


class RecommendationsInfo(Schema):
    messages: list[str]
    balance: float
    diversity: float
    limit: int
    index_version: str


class RecommendationsOut(Schema):
    seeds: list[SeedOut]
    tracks: list[SpotifyTrackOut]
    crossfade: RecommendationsInfo


def recommendations_settings(query: _RecommendationsBase) -> PlaylistSettings:
    """The query as playlist settings; raises :class:`ApiError` (400) for seeds and values generation cannot take."""
    if query.seed_genres:
        raise ApiError(400, "Invalid request: seed_genres is not supported; use seed_tracks, seed_artists or seed_text")
    seed_tracks, seed_artists = query._ids(query.seed_tracks), query._ids(query.seed_artists)
    seed_text = query.seed_text.strip()
    if not (seed_tracks or seed_artists or seed_text):
        raise ApiError(400, "Missing required parameter: at least one of seed_tracks, seed_artists or seed_text")
    if len(seed_tracks) + len(seed_artists) > MAX_SEEDS:
        raise ApiError(400, f"Invalid request: at most {MAX_SEEDS} seeds (seed_tracks and seed_artists together)")
    try:
        return PlaylistSettings(
            seed_ids=seed_tracks,
            seed_artist_ids=seed_artists,
            seed_text=seed_text,
            length=query.limit,
            balance=django_settings.CROSSFADE.default_balance if query.balance is None else query.balance,
            diversity=query.diversity,
            max_per_artist=query.max_per_artist,
            attributes=query.attributes(),
            include_seeds=False,
            order=query.order,
            taste=query.taste,
        )
    except CrossfadeError as error:
        raise ApiError(400, f"Invalid request: {error}") from None


def track_spotify_json(track: Track, request: HttpRequest, *, score: float | None = None, explanation: dict[str, Any] | None = None) -> dict[str, Any]:
    """A track in the shape of Spotify's simplified track object, plus a ``crossfade`` object."""
    url = absolute_url(request, "playlists:track_detail", track.id)
    artist = track.artist
    album = track.album
    external_ids = {"isrc": track.isrc} if track.isrc else {}
    external_urls = {"crossfade": url}
    if track.spotify_id:
        external_urls["spotify"] = f"https://open.spotify.com/track/{track.spotify_id}"
    popularity = track_attribute(track, "popularity")
    return {
        "id": str(track.id),
        "type": "track",
        "uri": f"crossfade:track:{track.id}",
        "href": url,
        "name": track.title,
        "artists": [{"id": str(artist.id), "name": artist.name, "type": "artist", "uri": f"crossfade:artist:{artist.id}"}] if artist else [],
        "album": {
            "id": str(album.id) if album else None,
            "name": album.title if album else None,
            "type": "album",
            "release_date": str(album.year or track.year or "") if album else str(track.year or ""),
        },
        "duration_ms": int(track.duration_s * 1000) if track.duration_s else None,
        "explicit": track_explicit(track),
        "popularity": int(popularity) if popularity is not None else None,
        "track_number": track.track_number,
        "is_playable": bool(track.audio_path),
        "external_ids": external_ids,
        "external_urls": external_urls,
        "crossfade": {
            "score": None if score is None else round(float(score), 6),
            "explanation": explanation or {},
            "genres": track.genres,
            "language": track.language or None,
            "has_lyrics": bool(track.lyrics),
            "spotify_id": track.spotify_id or None,
            "audio_url": absolute_url(request, "playlists:track_audio", track.id) if track.audio_path else None,
        },
    }


@router.get("/recommendations", auth=user_auth, response={200: RecommendationsOut, **ERRORS}, url_name="recommendations")
def recommendations(request: AuthedRequest, query: Query[RecommendationsQuery]) -> dict[str, Any]:  # type: ignore[valid-type]
    """Tracks recommended from seeds, in the shape of Spotify's Get Recommendations."""
    unknown_parameters_refuse(request, RecommendationsQuery)
    settings = recommendations_settings(query)
    try:
        built = playlist_build(settings, user=request.auth)
    except IndexNotReadyError as error:
        raise ApiError(503, str(error)) from None
    except (CrossfadeError, MLError) as error:
        raise ApiError(400, f"Invalid request: {error}") from None
    missing = [item.track_id for item in built.items if item.track_id not in built.tracks]
    tracks = {**built.tracks, **(Track.objects.select_related("artist", "album").in_bulk(missing) if missing else {})}
    pool = len(built.items)
    seeds: list[dict[str, Any]] = [
        {"id": str(t), "type": "TRACK", "href": absolute_url(request, "playlists:track_detail", t)} for t in settings.seed_ids
    ]
    artist_names = dict(Artist.objects.filter(id__in=settings.seed_artist_ids).values_list("id", "name"))
    seeds += [{"id": str(a), "type": "ARTIST", "href": None, "name": artist_names.get(a)} for a in settings.seed_artist_ids]
    if settings.seed_text:
        seeds.append({"id": settings.seed_text, "type": "TEXT", "href": None})
    for seed in seeds:
        seed.update({"initialPoolSize": pool, "afterFilteringSize": pool, "afterRelinkingSize": pool})
    return {
        "seeds": seeds,
        "tracks": [track_spotify_json(tracks[i.track_id], request, score=i.score, explanation=i.explanation) for i in built.items if i.track_id in tracks],
        "crossfade": {
            "messages": built.messages,
            "balance": settings.balance,
            "diversity": settings.diversity,
            "limit": settings.length,
            "index_version": built.index_version,
        },
    }
