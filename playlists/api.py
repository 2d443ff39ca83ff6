"""``GET /api/recommendations``: Spotify's closed recommendations endpoint, answered by Crossfade.

Takes Spotify's parameters (``seed_tracks``, ``seed_artists``, ``limit``,
``min_*``/``max_*``/``target_*`` of the audio-feature attributes) plus
Crossfade's own (``seed_text``, ``balance``, ``diversity``,
``max_per_artist``, ``order``, ``taste``), and answers in Spotify's shape
(``seeds``, ``tracks``) with a ``crossfade`` object added to each track and
to the answer. Authentication is a per-user token (``Authorization: Bearer``)
or a signed-in session. Errors look like Spotify's:
``{"error": {"status": 400, "message": "..."}}``. The description is served
at ``/api/openapi.json`` (:mod:`playlists.openapi`).
"""
from __future__ import annotations

import math

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from ml.errors import MLError
from playlists import services
from playlists.errors import CrossfadeError, IndexNotReadyError, SeedError
from playlists.generation import ATTRIBUTES, PlaylistSettings, playlist_build, track_attribute, track_explicit
from playlists.models import Artist, Track

MAX_API_SEEDS = 5
CROSSFADE_PARAMS = ("seed_text", "balance", "diversity", "max_per_artist", "order", "taste", "market")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def api_error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"status": status, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="crossfade"'
    return response


def api_user(request: HttpRequest):
    """The user behind a request: a bearer token, else a signed-in session. Raises :class:`ApiError` (401)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "Only valid bearer authentication supported")
        user = services.api_token_authenticate(secret)
        if user is None:
            raise ApiError(401, "Invalid access token")
        return user
    if request.user.is_authenticated:
        return request.user
    raise ApiError(401, "No token provided")


def _ids(request: HttpRequest, name: str) -> list[int]:
    raw = request.GET.get(name, "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return [int(i) for i in ids]
    except ValueError:
        raise ApiError(400, f"Invalid request: {name} takes comma-separated Crossfade ids") from None


def _number(request: HttpRequest, name: str, *, low: float | None = None, high: float | None = None, integer: bool = False):
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ApiError(400, f"Invalid request: {name} must be {'an integer' if integer else 'a number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(400, f"Invalid request: {name} must be a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ApiError(400, f"Invalid request: {name} must be between {low:g} and {high:g}")
    return value


def recommendations_settings(request: HttpRequest, *, default_balance: float) -> PlaylistSettings:
    """Spotify-style query parameters as :class:`PlaylistSettings`; raises :class:`ApiError` (400) for bad ones."""
    known = {"seed_tracks", "seed_artists", "seed_genres", "limit"} | set(CROSSFADE_PARAMS)
    known |= {f"{bound}_{name}" for name in ATTRIBUTES for bound in ("min", "max", "target")}
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise ApiError(400, f"Invalid request: unknown parameter {unknown[0]}")
    if request.GET.get("seed_genres"):
        raise ApiError(400, "Invalid request: seed_genres is not supported; use seed_tracks, seed_artists or seed_text")
    seed_tracks, seed_artists = _ids(request, "seed_tracks"), _ids(request, "seed_artists")
    seed_text = request.GET.get("seed_text", "").strip()
    if not (seed_tracks or seed_artists or seed_text):
        raise ApiError(400, "Missing required parameter: at least one of seed_tracks, seed_artists or seed_text")
    if len(seed_tracks) + len(seed_artists) > MAX_API_SEEDS:
        raise ApiError(400, f"Invalid request: at most {MAX_API_SEEDS} seeds (seed_tracks and seed_artists together)")
    limit = _number(request, "limit", low=1, high=100, integer=True) or 20
    attributes: dict[str, dict[str, float]] = {}
    for name in ATTRIBUTES:
        for bound in ("min", "max", "target"):
            value = _number(request, f"{bound}_{name}")
            if value is not None:
                attributes.setdefault(name, {})[bound] = value
    order = request.GET.get("order", "score")
    balance = _number(request, "balance", low=0, high=1)
    settings = PlaylistSettings(
        seed_ids=seed_tracks,
        seed_artist_ids=seed_artists,
        seed_text=seed_text,
        length=limit,
        balance=default_balance if balance is None else balance,
        diversity=_number(request, "diversity", low=0, high=1) or 0.0,
        max_per_artist=_number(request, "max_per_artist", low=1, high=100, integer=True),
        attributes=attributes,
        include_seeds=False,
        order=order,
        taste=_number(request, "taste", low=0, high=1) or 0.0,
    )
    try:
        return settings.validate()
    except CrossfadeError as error:
        raise ApiError(400, f"Invalid request: {error}") from None


def track_spotify_json(track: Track, request: HttpRequest, *, score: float | None = None, explanation: dict | None = None) -> dict:
    """A track in the shape of Spotify's simplified track object, plus a ``crossfade`` object."""
    url = request.build_absolute_uri(reverse("playlists:track_detail", args=[track.id]))
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
            "audio_url": request.build_absolute_uri(reverse("playlists:track_audio", args=[track.id])) if track.audio_path else None,
        },
    }


@require_GET
def api_recommendations(request: HttpRequest) -> JsonResponse:
    from django.conf import settings as django_settings

    from playlists import engine

    try:
        user = api_user(request)
        settings = recommendations_settings(request, default_balance=django_settings.CROSSFADE.default_balance)
        try:
            built = playlist_build(settings, user=user)
        except SeedError as error:
            raise ApiError(400, f"Invalid request: {error}") from None
        except IndexNotReadyError as error:
            raise ApiError(503, str(error)) from None
        except (CrossfadeError, MLError) as error:
            raise ApiError(400, f"Invalid request: {error}") from None
    except ApiError as error:
        return api_error(error.status, str(error))
    tracks = Track.objects.select_related("artist", "album").in_bulk([item.track_id for item in built.items])
    pool = len(built.items)
    seeds = [{"id": str(t), "type": "TRACK", "href": request.build_absolute_uri(reverse("playlists:track_detail", args=[t]))} for t in settings.seed_ids]
    seeds += [{"id": str(a), "type": "ARTIST", "href": None} for a in settings.seed_artist_ids]
    if settings.seed_text:
        seeds.append({"id": settings.seed_text, "type": "TEXT", "href": None})
    for seed in seeds:
        seed.update({"initialPoolSize": pool, "afterFilteringSize": pool, "afterRelinkingSize": pool})
    artist_names = dict(Artist.objects.filter(id__in=settings.seed_artist_ids).values_list("id", "name"))
    for seed in seeds:
        if seed["type"] == "ARTIST":
            seed["name"] = artist_names.get(int(seed["id"]))
    body = {
        "seeds": seeds,
        "tracks": [track_spotify_json(tracks[i.track_id], request, score=i.score, explanation=i.explanation) for i in built.items if i.track_id in tracks],
        "crossfade": {
            "messages": built.messages,
            "balance": settings.balance,
            "diversity": settings.diversity,
            "limit": settings.length,
            "index_version": engine.index_store().current_version() or "",
        },
    }
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


@require_GET
def api_openapi(request: HttpRequest) -> JsonResponse:
    from playlists.openapi import openapi_description

    return JsonResponse(openapi_description(server=request.build_absolute_uri("/")), json_dumps_params={"ensure_ascii": False, "indent": 2})
