"""Reads of a user's playlists."""
from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet

from playlists.models import Playlist, PlaylistItem


def playlist_list(*, owner: User) -> QuerySet[Playlist]:
    return Playlist.objects.filter(owner=owner).prefetch_related("seeds")


def playlist_get(*, owner: User, playlist_id: int) -> Playlist:
    """One of ``owner``'s playlists with its items; raises ``Playlist.DoesNotExist`` for anyone else's."""
    items = PlaylistItem.objects.select_related("track__artist", "track__album__artist").defer("track__lyrics", "track__spotify", "track__audio_tags").order_by("position")
    return Playlist.objects.prefetch_related(Prefetch("items", queryset=items)).get(id=playlist_id, owner=owner)
