"""Instant mixes: one click on a track, an album or an artist gives a queue that plays at once (nothing is saved).

A mix is a playlist built like any other (:func:`playlists.generation.build.playlist_build`)
from settings this module makes: a track mix starts with the track and
flows on from it (Plexamp's track radio, Jellyfin's instant mix); an
artist mix draws on the artist's sound and lyrics; an album mix on up to
five of the album's tracks, without putting them first.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from playlists import engine
from playlists.errors import IndexNotReadyError, SeedError, UnknownSeedError
from playlists.generation.build import playlist_build
from playlists.generation.result import BuiltPlaylist
from playlists.generation.settings import MAX_SEEDS, PlaylistSettings
from playlists.models import Album, Artist, Track

#: Tracks in an instant mix.
MIX_LENGTH = 25


@dataclass(frozen=True)
class Mix:
    """What a mix is of (for its name) and the playlist built for it."""

    name: str
    built: BuiltPlaylist


def mix_build(*, track_id: int | None = None, artist_id: int | None = None, album_id: int | None = None, length: int = MIX_LENGTH, user: User | AnonymousUser | None = None) -> Mix:
    """An instant mix of exactly one of a track, an artist or an album, in flow order.

    Raises :class:`SeedError` for none or several, :class:`UnknownSeedError` for an unknown one, and
    :class:`IndexNotReadyError` when nothing of it is indexed yet.
    """
    given = [name for name, value in (("track", track_id), ("artist", artist_id), ("album", album_id)) if value is not None]
    if len(given) != 1:
        raise SeedError("an instant mix is of one track, one artist or one album")
    serving = engine.serving_or_raise()
    if track_id is not None:
        track = Track.objects.filter(id=track_id).first()
        if track is None:
            raise UnknownSeedError(f"no track with id {track_id}")
        if track.id not in serving.index:
            raise IndexNotReadyError(f"“{track.title}” is not indexed yet, so it has no mix; run reindex")
        settings = PlaylistSettings(seed_ids=[track.id], length=length, order="flow")
        name = f"Mix of {track.title}"
    elif artist_id is not None:
        artist = Artist.objects.filter(id=artist_id).first()
        if artist is None:
            raise UnknownSeedError(f"no artist with id {artist_id}")
        settings = PlaylistSettings(seed_artist_ids=[artist.id], length=length, order="flow")
        name = f"Mix of {artist.name}"
    elif album_id is not None:
        album = Album.objects.filter(id=album_id).first()
        if album is None:
            raise UnknownSeedError(f"no album with id {album_id}")
        ids = [t for t in album.tracks.filter(excluded=False).order_by("track_number", "title").values_list("id", flat=True) if t in serving.index][:MAX_SEEDS]
        if not ids:
            raise IndexNotReadyError(f"no track of “{album.title}” is indexed yet, so it has no mix; run reindex")
        settings = PlaylistSettings(seed_ids=ids, length=length, order="flow", include_seeds=False)
        name = f"Mix of {album.title}"
    else:
        raise SeedError("an instant mix is of one track, one artist or one album")
    return Mix(name, playlist_build(settings, user=user, serving=serving))
