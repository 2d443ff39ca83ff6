"""Reads of a user's playlists."""
from __future__ import annotations

from functools import cache
from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model, Prefetch, QuerySet

from playlists.models import Album, Artist, Playlist, PlaylistItem, Track


def playlist_list(*, owner: User) -> QuerySet[Playlist]:
    return Playlist.objects.filter(owner=owner).prefetch_related("seeds")


#: What a playlist's page and answers never read of an item's track (large: the lyrics, the Spotify JSON, the tags).
_TRACK_UNREAD = ("lyrics", "spotify", "audio_tags")


def _items() -> QuerySet[PlaylistItem]:
    return PlaylistItem.objects.select_related("track__artist", "track__album__artist").defer(*(f"track__{name}" for name in _TRACK_UNREAD)).order_by("position")


def playlist_get(*, owner: User, playlist_id: int, with_items: bool = True) -> Playlist:
    """One of ``owner``'s playlists (with its items unless ``with_items`` is false); raises ``Playlist.DoesNotExist`` for anyone else's."""
    playlists = Playlist.objects.prefetch_related(Prefetch("items", queryset=_items())) if with_items else Playlist.objects.all()
    return playlists.get(id=playlist_id, owner=owner)


def playlist_items(*, playlist: Playlist) -> list[PlaylistItem]:
    """``playlist``'s items in order, each with its track, the track's artist, album and album artist."""
    return list(_items().filter(playlist=playlist))


@cache
def _stored_sql(vendor: str) -> str:
    """The query of :func:`playlist_items_stored` for a database of ``vendor``, compiled once.

    Compiling a join of five tables and some seventy columns costs the ORM more than running it;
    the statement never changes but for the playlist's id, its one parameter.
    """
    def stored(model: type[Model], prefix: str, unread: tuple[str, ...] = ()) -> list[str]:
        return [prefix + field.name for field in model._meta.concrete_fields if field.name not in unread]

    fields = (
        *stored(PlaylistItem, ""),
        *stored(Track, "track__", _TRACK_UNREAD),
        *stored(Artist, "track__artist__"),
        *stored(Album, "track__album__"),
        *stored(Artist, "track__album__artist__"),
    )
    query = PlaylistItem.objects.filter(playlist_id=0).order_by("position").values_list("track", "track__duration_s", *fields).query
    sql, params = query.sql_with_params()
    if params != (0,):
        raise RuntimeError(f"the stored-items query has parameters {params!r}, expected the playlist's id alone")
    return sql


class StoredItem(NamedTuple):
    """One item of :func:`playlist_items_stored`: its track's id and length, and every stored value the page reads."""

    track_id: int
    duration_s: float | None
    values: tuple[object, ...]


def playlist_items_stored(*, playlist: Playlist) -> list[StoredItem]:
    """Every stored value :func:`playlist_items` reads, per item in order, as the database gives them.

    No model instance is built and no value converted: a page's cache key is a digest of these
    (:func:`playlists.web.fragments.rows_digest`), so a served page whose playlist is unchanged
    costs one plain query here instead of building its rows.
    """
    with connection.cursor() as cursor:
        cursor.execute(_stored_sql(connection.vendor), [playlist.id])
        return [StoredItem(row[0], row[1], tuple(row)) for row in cursor.fetchall()]
