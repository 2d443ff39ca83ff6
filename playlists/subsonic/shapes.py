"""Crossfade's tracks, albums, artists and playlists in the Subsonic shapes (``Child``, ``AlbumID3``, ``ArtistID3``, ``Playlist``).

A :class:`Shaper` belongs to one request: it reads the caller's stars,
ratings and plays for a batch of tracks at once and puts them on the
objects (``starred``, ``userRating``, ``playCount``, ``played``). Paths shown
to players are ``Artist/Album/file``, never the server's folders.
"""
from __future__ import annotations

import mimetypes
from datetime import datetime
from pathlib import PurePath
from typing import Any, Iterable, Sequence

from django.contrib.auth.models import User

from playlists.catalogue.browse import UNKNOWN_ALBUM, UNKNOWN_ARTIST, AlbumKey, AlbumSummary, ArtistSummary
from playlists.catalogue.streaming import AUDIO_TYPES
from playlists.generation.filters import track_explicit
from playlists.models import Artist, Playlist, Track
from playlists.subsonic import ids
from playlists.taste import listening

Payload = dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def content_type(track: Track) -> str:
    suffix = "." + (track.audio_format or PurePath(track.audio_path or "").suffix.lstrip(".")).lower()
    return AUDIO_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"


def album_key_of(track: Track) -> AlbumKey:
    return AlbumKey(track.album_id) if track.album_id is not None else AlbumKey(None, track.artist_id)


def track_cover_id(track: Track) -> str | None:
    """The coverArt id of a track: its own picture, else its album's."""
    if track.cover_id is not None:
        return ids.track_id(track.id)
    if track.album_id is not None and track.album is not None and track.album.cover_id is not None:
        return ids.album_id(AlbumKey(track.album_id))
    return None


class Shaper:
    """Subsonic objects for one caller."""

    def __init__(self, user: User) -> None:
        self.user = user

    def songs(self, tracks: Sequence[Track]) -> list[Payload]:
        states = listening.track_states(user=self.user, track_ids=[t.id for t in tracks])
        return [self.song(t, states.get(t.id)) for t in tracks]

    def song(self, track: Track, state: listening.TrackState | None = None) -> Payload:
        state = state or listening.TrackState()
        artist = track.artist.name if track.artist else UNKNOWN_ARTIST
        album = track.album.title if track.album and track.album.title else UNKNOWN_ALBUM
        key = album_key_of(track)
        duration = int(round(track.duration_s or 0))
        size = track.file_size or 0
        suffix = (track.audio_format or PurePath(track.audio_path or "").suffix.lstrip(".")).lower()
        artists = [{"id": ids.artist_id(track.artist_id), "name": artist}] if track.artist_id is not None else []
        album_artist = track.album.artist if track.album and track.album.artist_id else None
        explicit = track_explicit(track)
        return {
            "id": ids.track_id(track.id),
            "parent": ids.album_id(key),
            "isDir": False,
            "title": track.title,
            "album": album,
            "artist": artist,
            "track": track.track_number,
            "year": track.year,
            "genre": track.genres[0] if track.genres else None,
            "coverArt": track_cover_id(track),
            "size": size,
            "contentType": content_type(track),
            "suffix": suffix,
            "duration": duration,
            "bitRate": int(round(size * 8 / 1000 / track.duration_s)) if size and track.duration_s else None,
            "path": f"{artist}/{album}/{PurePath(track.audio_path or track.title).name}",
            "isVideo": False,
            "playCount": state.play_count,
            "played": _iso(state.last_played),
            "userRating": state.stars,
            "starred": _iso(state.starred_at),
            "created": _iso(track.created_at),
            "albumId": ids.album_id(key),
            "artistId": ids.artist_id(track.artist_id) if track.artist_id is not None else None,
            "type": "music",
            "mediaType": "song",
            "isrc": [track.isrc] if track.isrc else [],
            "genres": [{"name": g} for g in track.genres],
            "artists": artists,
            "displayArtist": artist,
            "albumArtists": [{"id": ids.artist_id(album_artist.id), "name": album_artist.name}] if album_artist else artists,
            "displayAlbumArtist": album_artist.name if album_artist else artist,
            "explicitStatus": "explicit" if explicit else "",
        }

    def albums(self, summaries: Sequence[AlbumSummary]) -> list[Payload]:
        stars = listening.album_stars(user=self.user, album_ids=[s.key.album_id for s in summaries if s.key.album_id is not None])
        return [self.album(s, stars.get(s.key.album_id) if s.key.album_id is not None else None) for s in summaries]

    def album(self, summary: AlbumSummary, starred: datetime | None = None, songs: list[Payload] | None = None) -> Payload:
        artists = [{"id": ids.artist_id(summary.artist_id), "name": summary.artist_name}] if summary.artist_id is not None else []
        data: Payload = {
            "id": ids.album_id(summary.key),
            "name": summary.title,
            "artist": summary.artist_name,
            "artistId": ids.artist_id(summary.artist_id) if summary.artist_id is not None else None,
            "coverArt": ids.album_id(summary.key) if summary.cover_id is not None else None,
            "songCount": summary.song_count,
            "duration": int(round(summary.duration_s)),
            "created": _iso(summary.created),
            "starred": _iso(starred),
            "year": summary.year,
            "genre": summary.genre or None,
            "genres": [{"name": summary.genre}] if summary.genre else [],
            "artists": artists,
            "displayArtist": summary.artist_name,
            "isCompilation": False,
        }
        if songs is not None:
            data["song"] = songs
        return data

    def album_directory(self, summary: AlbumSummary, starred: datetime | None = None) -> Payload:
        """An album as a folder ``Child`` (``isDir``), for folder-based browsing (``getMusicDirectory``, ``getAlbumList``)."""
        return {
            "id": ids.album_id(summary.key),
            "parent": ids.artist_id(summary.artist_id) if summary.artist_id is not None else None,
            "isDir": True,
            "title": summary.title,
            "name": summary.title,
            "album": summary.title,
            "artist": summary.artist_name,
            "year": summary.year,
            "genre": summary.genre or None,
            "coverArt": ids.album_id(summary.key) if summary.cover_id is not None else None,
            "duration": int(round(summary.duration_s)),
            "created": _iso(summary.created),
            "starred": _iso(starred),
            "songCount": summary.song_count,
        }

    def artists(self, summaries: Iterable[ArtistSummary]) -> list[Payload]:
        summaries = list(summaries)
        stars = listening.artist_stars(user=self.user, artist_ids=[s.id for s in summaries])
        return [self.artist(s, stars.get(s.id)) for s in summaries]

    def artist(self, summary: ArtistSummary, starred: datetime | None = None) -> Payload:
        return {
            "id": ids.artist_id(summary.id),
            "name": summary.name,
            "coverArt": ids.artist_id(summary.id) if summary.cover_id is not None else None,
            "albumCount": summary.album_count,
            "starred": _iso(starred),
        }

    def artist_plain(self, artist: Artist) -> Payload:
        return {"id": ids.artist_id(artist.id), "name": artist.name}

    def playlist(self, playlist: Playlist, *, entries: list[Payload] | None = None, song_count: int, duration_s: float, has_cover: bool = False) -> Payload:
        data: Payload = {
            "id": ids.playlist_id(playlist.id),
            "name": playlist.name,
            "comment": playlist.comment or None,
            "owner": playlist.owner.get_username(),
            "public": False,
            "songCount": song_count,
            "duration": int(round(duration_s)),
            "created": _iso(playlist.created_at),
            "changed": _iso(playlist.updated_at or playlist.created_at),
            "coverArt": ids.playlist_id(playlist.id) if has_cover else None,
            "readonly": False,
        }
        if entries is not None:
            data["entry"] = entries
        return data
