"""Reads of a user's playlists."""
from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import connections, router
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


class _Block(NamedTuple):
    """One model's columns in a stored-items row: where they are, and the fields they fill."""

    model: type[Model]
    columns: slice
    attnames: tuple[str, ...]


class _StoredQuery(NamedTuple):
    sql: str
    #: (column, converters, expression): what the ORM would apply to each value it reads.
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]
    blocks: tuple[_Block, ...]


@cache
def _stored_query(alias: str) -> _StoredQuery:
    """The query of :func:`playlist_items_stored` on database ``alias``, compiled once.

    Compiling a join of five tables and some seventy columns costs the ORM more than running
    it; the statement never changes but for the playlist's id, its one parameter. The value
    converters (dates, JSON) are the compiler's own, kept beside it.
    """
    blocks: list[_Block] = []
    lookups: list[str] = []
    for model, prefix, unread in (
        (PlaylistItem, "", ()),
        (Track, "track__", _TRACK_UNREAD),
        (Artist, "track__artist__", ()),
        (Album, "track__album__", ()),
        (Artist, "track__album__artist__", ()),
    ):
        fields = [field for field in model._meta.concrete_fields if field.name not in unread]
        blocks.append(_Block(model, slice(len(lookups), len(lookups) + len(fields)), tuple(field.attname for field in fields)))
        lookups += [prefix + field.name for field in fields]
    compiler = PlaylistItem.objects.filter(playlist_id=0).order_by("position").values_list(*lookups).query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if tuple(params) != (0,):
        raise RuntimeError(f"the stored-items query has parameters {params!r}, expected the playlist's id alone")
    converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
    return _StoredQuery(sql, tuple((position, tuple(convs), expression) for position, (convs, expression) in converters.items()), tuple(blocks))


class StoredItems(NamedTuple):
    """What :func:`playlist_items_stored` read: every value of every item's rows, as the database gave them."""

    alias: str
    query: _StoredQuery
    rows: list[tuple[object, ...]]

    def track_ids(self) -> list[int]:
        start = self.query.blocks[1].columns.start
        return [int(row[start]) for row in self.rows]

    def total_seconds(self) -> float:
        track = self.query.blocks[1]
        position = track.columns.start + track.attnames.index("duration_s")
        return float(sum(row[position] or 0 for row in self.rows))

    def items(self) -> list[PlaylistItem]:
        """The rows as model instances (item, its track, the track's artist, album and album artist), as the ORM builds them."""
        connection = connections[self.alias]
        built = []
        for values in map(list, self.rows):
            for position, convs, expression in self.query.converters:
                value = values[position]
                for converter in convs:
                    value = converter(value, expression, connection)
                values[position] = value
            item, track, artist, album, album_artist = (
                None if values[block.columns.start] is None else block.model.from_db(self.alias, list(block.attnames), values[block.columns])
                for block in self.query.blocks
            )
            assert isinstance(item, PlaylistItem) and isinstance(track, Track)
            if album is not None:
                Album.artist.field.set_cached_value(album, album_artist)
            Track.artist.field.set_cached_value(track, artist)
            Track.album.field.set_cached_value(track, album)
            PlaylistItem.track.field.set_cached_value(item, track)
            built.append(item)
        return built


def playlist_items_stored(*, playlist: Playlist) -> StoredItems:
    """``playlist``'s items in order, read once, their values as the database gives them (no model instance built, no value converted).

    A page's cache key is a digest of ``rows`` (:func:`playlists.web.fragments.rows_digest`);
    the instances (:meth:`StoredItems.items`) are built from the same rows only when the page
    is rendered, so a served page whose playlist is unchanged costs one plain query, and a
    rendered one shows exactly what its key was made from.
    """
    alias = router.db_for_read(PlaylistItem)
    query = _stored_query(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(query.sql, [playlist.id])
        return StoredItems(alias, query, [tuple(row) for row in cursor.fetchall()])
