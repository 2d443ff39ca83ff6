"""The catalogue in Spotify's Web API shapes, so Spotify clients (spotipy and the like) work against Crossfade unchanged.

``GET /api/tracks/{id}``, ``GET /api/tracks?ids=``, ``GET /api/artists/{id}``,
``GET /api/search?q=&type=track,artist`` and
``GET /api/recommendations/available-genre-seeds``, answered with Spotify's
track, artist, paging and error objects. Ids may be Crossfade's or
Spotify's (:mod:`playlists.api.references`); answers carry Crossfade ids
(every track has one) with the Spotify id, where known, in
``external_urls.spotify`` and ``crossfade.spotify_id``. Like Spotify's, every
endpoint needs a token.
"""
from __future__ import annotations

from typing import Any, Literal

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from playlists.api import references
from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.queries import unknown_parameters_refuse
from playlists.api.schemas import ERRORS, absolute_url
from playlists.catalogue.browse import genre_slugs
from playlists.generation.filters import track_attribute, track_explicit
from playlists.models import Album, Artist, Track

router = Router(tags=["spotify catalogue"], auth=user_auth)
MAX_IDS = 50
SEARCH_TYPES = ("track", "artist")


class ExternalUrls(Schema):
    spotify: str | None = None
    crossfade: str | None = None


class Image(Schema):
    url: str
    height: int | None
    width: int | None


class ArtistRef(Schema):
    id: str
    name: str
    type: Literal["artist"]
    uri: str
    href: str | None = None
    external_urls: ExternalUrls | None = None


class AlbumRef(Schema):
    id: str | None
    name: str | None
    type: Literal["album"]
    album_type: Literal["album", "single", "compilation"] = "album"
    total_tracks: int | None = None
    available_markets: list[str] = []
    release_date: str
    release_date_precision: Literal["year", "month", "day"] = "year"
    href: str | None = None
    uri: str | None = None
    images: list[Image] = []
    artists: list[ArtistRef] = []
    external_urls: ExternalUrls | None = None


class TrackExtras(Schema):
    score: float | None
    explanation: dict[str, Any]
    genres: list[str]
    language: str | None
    has_lyrics: bool
    spotify_id: str | None
    audio_url: str | None


class SpotifyTrackOut(Schema):
    """Spotify's track object, plus a ``crossfade`` object."""

    id: str
    type: Literal["track"]
    uri: str
    href: str
    name: str
    artists: list[ArtistRef]
    album: AlbumRef
    available_markets: list[str] = []
    disc_number: int = 1
    duration_ms: int | None
    explicit: bool
    popularity: int | None
    preview_url: str | None = None
    track_number: int | None
    is_local: bool = False
    is_playable: bool
    external_ids: dict[str, str]
    external_urls: dict[str, str]
    crossfade: TrackExtras


class Followers(Schema):
    href: str | None
    total: int


class ArtistOut(Schema):
    """Spotify's artist object."""

    id: str
    type: Literal["artist"]
    uri: str
    href: str
    name: str
    genres: list[str]
    images: list[Image]
    popularity: int
    followers: Followers
    external_urls: ExternalUrls


def _cover_images(request: HttpRequest, album: Album | None, track: Track | None = None) -> list[dict[str, Any]]:
    if album is not None and album.cover_id is not None:
        url = absolute_url(request, "playlists:album_cover", album.id)
    elif track is not None and track.cover_id is not None:
        url = absolute_url(request, "playlists:track_cover", track.id)
    else:
        return []
    return [{"url": f"{url}?size={size}", "height": size, "width": size} for size in (640, 300, 64)]


def _artist_ref(artist: Artist, request: HttpRequest) -> dict[str, Any]:
    return {
        "id": str(artist.id),
        "name": artist.name,
        "type": "artist",
        "uri": f"crossfade:artist:{artist.id}",
        "href": absolute_url(request, "api:artist", artist.id),
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.spotify_id}"} if artist.spotify_id else {},
    }


def track_spotify_json(track: Track, request: HttpRequest, *, score: float | None = None, explanation: dict[str, Any] | None = None) -> dict[str, Any]:
    """A catalogue track as Spotify's track object, plus a ``crossfade`` object."""
    url = absolute_url(request, "playlists:track_detail", track.id)
    artist, album = track.artist, track.album
    external_ids = {"isrc": track.isrc} if track.isrc else {}
    external_urls = {"crossfade": url}
    if track.spotify_id:
        external_urls["spotify"] = f"https://open.spotify.com/track/{track.spotify_id}"
    popularity = track_attribute(track, "popularity")
    artists = [_artist_ref(artist, request)] if artist else []
    album_artist = album.artist if album is not None and album.artist is not None else artist
    return {
        "id": str(track.id),
        "type": "track",
        "uri": f"crossfade:track:{track.id}",
        "href": absolute_url(request, "api:track", track.id),
        "name": track.title,
        "artists": artists,
        "album": {
            "id": str(album.id) if album else None,
            "name": album.title if album else None,
            "type": "album",
            "album_type": "album",
            "release_date": str(album.year or track.year or "") if album else str(track.year or ""),
            "release_date_precision": "year",
            "available_markets": [],
            "images": _cover_images(request, album, track),
            "artists": [_artist_ref(album_artist, request)] if album_artist else [],
        },
        "available_markets": [],
        "disc_number": 1,
        "duration_ms": int(track.duration_s * 1000) if track.duration_s else None,
        "explicit": track_explicit(track),
        "popularity": int(popularity) if popularity is not None else None,
        "preview_url": None,
        "track_number": track.track_number,
        "is_local": False,
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


def artist_spotify_json(artist: Artist, request: HttpRequest, *, tracks: int = 0) -> dict[str, Any]:
    genres: list[str] = []
    for value in Track.objects.filter(artist=artist).exclude(genre="").values_list("genre", flat=True).distinct()[:50]:
        genres.extend(g.strip() for g in value.split(";") if g.strip() and g.strip() not in genres)
    album = Album.objects.filter(artist=artist, cover__isnull=False).order_by("year", "title").first()
    return {
        "id": str(artist.id),
        "type": "artist",
        "uri": f"crossfade:artist:{artist.id}",
        "href": absolute_url(request, "api:artist", artist.id),
        "name": artist.name,
        "genres": genres,
        "images": _cover_images(request, album),
        # Spotify's popularity is its own; Crossfade has none to give.
        "popularity": 0,
        "followers": {"href": None, "total": 0},
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.spotify_id}"} if artist.spotify_id else {},
    }


def _tracks(ids: list[int]) -> dict[int, Track]:
    return Track.objects.select_related("artist", "album__artist").in_bulk(ids)


class GenreSeedsOut(Schema):
    genres: list[str]


@router.get("/recommendations/available-genre-seeds", response={200: GenreSeedsOut, **ERRORS}, url_name="genre_seeds")
def genre_seeds(request: AuthedRequest) -> dict[str, Any]:
    """The genres of the catalogue as genre seeds for ``/api/recommendations`` (lower case, hyphenated)."""
    return {"genres": genre_slugs()}


@router.get("/tracks/{ref:track_id}", response={200: SpotifyTrackOut, **ERRORS}, url_name="track")
def track_get(request: AuthedRequest, track_id: str) -> dict[str, Any]:
    """One track by its Crossfade or Spotify id, in Spotify's track shape."""
    reference = references.reference_parse(track_id, "track")
    found = references.track_ids_resolve([reference])
    if reference not in found:
        raise ApiError(404, f"Non existing id: {track_id}")
    return track_spotify_json(_tracks([found[reference]])[found[reference]], request)


class TracksQuery(Schema):
    ids: str = Field(..., max_length=4000, description="Up to 50 comma-separated Crossfade or Spotify track ids (or URIs).")
    market: str = Field("", description="Accepted for compatibility; ignored.")


class TracksOut(Schema):
    tracks: list[SpotifyTrackOut | None]


def _tracks_many(request: AuthedRequest, query: TracksQuery) -> dict[str, Any]:
    unknown_parameters_refuse(request, TracksQuery)
    wanted = references.references_parse(query.ids, "track")
    if not wanted:
        raise ApiError(400, "Missing required parameter: ids")
    if len(wanted) > MAX_IDS:
        raise ApiError(400, f"Invalid request: at most {MAX_IDS} ids")
    found = references.track_ids_resolve(wanted)
    tracks = _tracks(list(found.values()))
    return {"tracks": [track_spotify_json(tracks[found[r]], request) if r in found and found[r] in tracks else None for r in wanted]}


@router.get("/tracks", response={200: TracksOut, **ERRORS}, url_name="tracks")
def tracks_get(request: AuthedRequest, query: Query[TracksQuery]) -> dict[str, Any]:
    """Several tracks by id, in order; ``null`` for an id the catalogue does not have (as Spotify answers)."""
    return _tracks_many(request, query)


@router.get("/tracks/", response={200: TracksOut, **ERRORS}, url_name="tracks_slash", include_in_schema=False)
def tracks_get_slash(request: AuthedRequest, query: Query[TracksQuery]) -> dict[str, Any]:
    # spotipy asks for "tracks/?ids=..."; Django does not treat the two paths as one.
    return _tracks_many(request, query)


@router.get("/artists/{ref:artist_id}", response={200: ArtistOut, **ERRORS}, url_name="artist")
def artist_get(request: AuthedRequest, artist_id: str) -> dict[str, Any]:
    """One artist by its Crossfade or Spotify id, in Spotify's artist shape."""
    reference = references.reference_parse(artist_id, "artist")
    found = references.artist_ids_resolve([reference])
    if reference not in found:
        raise ApiError(404, f"Non existing id: {artist_id}")
    return artist_spotify_json(Artist.objects.get(id=found[reference]), request)


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=200, description="Words of the title, artist or album (track:, artist: and album: filters are read as plain words).")
    type: str = Field(..., max_length=100, description="Comma-separated: track, artist.")
    limit: int = Field(20, ge=1, le=50)
    offset: int = Field(0, ge=0, le=1000)
    market: str = Field("", description="Accepted for compatibility; ignored.")
    include_external: str = Field("", description="Accepted for compatibility; ignored.")


class TrackPage(Schema):
    href: str
    limit: int
    next: str | None
    offset: int
    previous: str | None
    total: int
    items: list[SpotifyTrackOut]


class ArtistPage(Schema):
    href: str
    limit: int
    next: str | None
    offset: int
    previous: str | None
    total: int
    items: list[ArtistOut]


class SearchOut(Schema):
    tracks: TrackPage | None = None
    artists: ArtistPage | None = None


def _page(request: HttpRequest, query: SearchQuery, kind: str, total: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    base = request.build_absolute_uri(reverse("api:search"))

    def link(offset: int) -> str:
        from urllib.parse import urlencode

        return f"{base}?{urlencode({'q': query.q, 'type': kind, 'limit': query.limit, 'offset': offset})}"

    return {
        "href": link(query.offset),
        "limit": query.limit,
        "offset": query.offset,
        "total": total,
        "next": link(query.offset + query.limit) if query.offset + query.limit < total else None,
        "previous": link(max(0, query.offset - query.limit)) if query.offset > 0 else None,
        "items": items,
    }


def _words(q: str) -> list[str]:
    # Spotify's field filters (track:, artist:, album:, year:) become plain words here.
    return [word.split(":", 1)[1] if ":" in word else word for word in q.replace('"', " ").split() if word.split(":", 1)[-1]]


@router.get("/search", response={200: SearchOut, **ERRORS}, url_name="search")
def search(request: AuthedRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    """Tracks and artists of the catalogue whose words contain every word of ``q``, in Spotify's paging objects."""
    unknown_parameters_refuse(request, SearchQuery)
    kinds = [k.strip() for k in query.type.split(",") if k.strip()]
    bad = [k for k in kinds if k not in SEARCH_TYPES]
    if not kinds or bad:
        raise ApiError(400, f"Invalid request: type takes {', '.join(SEARCH_TYPES)} (not {', '.join(bad) or 'nothing'})")
    words = _words(query.q)
    out: dict[str, Any] = {}
    if "track" in kinds:
        tracks = Track.objects.select_related("artist", "album__artist").order_by("artist__name", "album__title", "track_number", "id")
        for word in words:
            tracks = tracks.filter(Q(title__icontains=word) | Q(artist__name__icontains=word) | Q(album__title__icontains=word))
        total = tracks.count()
        page = list(tracks[query.offset : query.offset + query.limit])
        out["tracks"] = _page(request, query, "track", total, [track_spotify_json(t, request) for t in page])
    if "artist" in kinds:
        artists = Artist.objects.annotate(n=Count("tracks")).filter(n__gt=0).order_by("name")
        for word in words:
            artists = artists.filter(name__icontains=word)
        total = artists.count()
        page_artists = list(artists[query.offset : query.offset + query.limit])
        out["artists"] = _page(request, query, "artist", total, [artist_spotify_json(a, request) for a in page_artists])
    return out
