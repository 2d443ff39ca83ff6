"""Spotify's Web API as a :class:`~playlists.metadata.sources.MetadataSource`, with its answers cached in the database."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Callable

from django.utils import timezone

from playlists.metadata.matching import SourceTrack, artist_primary
from playlists.metadata.spotify.client import SpotifyApi
from playlists.models import SpotifyCacheEntry


def search_query(*, title: str, artist: str) -> str:
    """A field-filtered query; quotes are dropped because the filters take plain words."""
    title = title.replace('"', " ").strip()
    artist = artist_primary(artist).replace('"', " ").strip() if artist else ""
    return f"track:{title} artist:{artist}" if artist else f"track:{title}"


def track_metadata(item: dict[str, Any]) -> dict[str, Any]:
    """What Crossfade keeps of a Spotify track object; popularity and genres only when present."""
    album = item.get("album") or {}
    images = [i for i in album.get("images") or [] if isinstance(i, dict) and i.get("url")]
    images.sort(key=lambda i: -(i.get("width") or 0))
    kept = {
        "id": item.get("id"),
        "name": item.get("name"),
        "artists": [a.get("name") for a in item.get("artists") or [] if isinstance(a, dict)],
        "album": album.get("name"),
        "album_art": images[0]["url"] if images else None,
        "release_date": album.get("release_date"),
        "external_url": (item.get("external_urls") or {}).get("spotify"),
        "uri": item.get("uri"),
        "isrc": (item.get("external_ids") or {}).get("isrc"),
        "duration_ms": item.get("duration_ms"),
    }
    if item.get("popularity") is not None:
        kept["popularity"] = item["popularity"]
    genres = [g for a in item.get("artists") or [] if isinstance(a, dict) for g in a.get("genres") or []]
    if genres:
        kept["genres"] = genres
    return {k: v for k, v in kept.items() if v is not None}


def source_track(item: dict[str, Any]) -> SourceTrack:
    """A Spotify track object as a :class:`SourceTrack` (``metadata`` is what :func:`track_metadata` keeps)."""
    duration_ms = item.get("duration_ms")
    return SourceTrack(
        source_id=str(item.get("id") or ""),
        title=str(item.get("name", "")),
        artists=tuple(str(a.get("name", "")) for a in item.get("artists") or [] if isinstance(a, dict)),
        duration_s=duration_ms / 1000.0 if isinstance(duration_ms, (int, float)) and not isinstance(duration_ms, bool) else None,
        isrc=str((item.get("external_ids") or {}).get("isrc", "") or ""),
        metadata=track_metadata(item),
    )


class SpotifySource:
    """Looks tracks up through :class:`SpotifyApi`; answers are reused from the database for ``cache_seconds``."""

    name = "spotify"

    def __init__(self, api: SpotifyApi, *, use_cache: bool = True) -> None:
        self.api = api
        self.use_cache = use_cache

    def track_by_id(self, source_id: str) -> SourceTrack | None:
        body = self._cached(f"track:{source_id}", lambda: {"item": self.api.track_get(source_id)})
        return source_track(body["item"]) if body.get("item") else None

    def tracks_by_isrc(self, isrc: str) -> list[SourceTrack]:
        return self._search(f"isrc:{isrc}")

    def tracks_search(self, *, title: str, artist: str) -> list[SourceTrack]:
        return self._search(search_query(title=title, artist=artist))

    def _search(self, query: str) -> list[SourceTrack]:
        key = "search:" + hashlib.sha256(query.encode("utf-8")).hexdigest()
        items = self._cached(key, lambda: {"q": query, "items": self.api.tracks_search(query)})["items"]
        return [source_track(item) for item in items]

    def _cached(self, key: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self.use_cache:
            fresh_after = timezone.now() - timedelta(seconds=self.api.config.cache_seconds)
            entry = SpotifyCacheEntry.objects.filter(key=key, fetched_at__gte=fresh_after).first()
            if entry is not None:
                cached: dict[str, Any] = entry.body
                return cached
        body = fetch()
        SpotifyCacheEntry.objects.update_or_create(key=key, defaults={"body": body})
        return body
