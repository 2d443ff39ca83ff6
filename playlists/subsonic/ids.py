"""Subsonic ids: opaque strings that say what they name, so one ``id`` parameter can take a song, an album or an artist.

``tr-12`` a track, ``al-3`` an album, ``al-u7`` artist 7's tracks without an
album, ``ar-7`` an artist, ``pl-4`` a playlist. Cover art ids are the id of
what the picture is of. A malformed id names nothing (error 70).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from playlists.catalogue.browse import AlbumKey
from playlists.subsonic.params import SubsonicError, not_found

Kind = Literal["track", "album", "artist", "playlist"]
_PATTERN = re.compile(r"^(tr|al|ar|pl)-(u?)(\d{1,18})$")
_KINDS: dict[str, Kind] = {"tr": "track", "al": "album", "ar": "artist", "pl": "playlist"}


@dataclass(frozen=True)
class ItemId:
    kind: Kind
    number: int
    #: For an album: the number is an artist's, and the album is their tracks without one.
    unknown_album: bool = False

    @property
    def album_key(self) -> AlbumKey:
        return AlbumKey(None, self.number) if self.unknown_album else AlbumKey(self.number)


def track_id(track: int) -> str:
    return f"tr-{track}"


def album_id(key: AlbumKey) -> str:
    return f"al-{key.album_id}" if key.album_id is not None else f"al-u{key.artist_id or 0}"


def artist_id(artist: int) -> str:
    return f"ar-{artist}"


def playlist_id(playlist: int) -> str:
    return f"pl-{playlist}"


def item_parse(text: str) -> ItemId:
    """Any id this server handed out; raises :class:`SubsonicError` 70 for anything else."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise not_found(f"{text[:40]!r}")
    prefix, unknown, number = match.groups()
    if unknown and prefix != "al":
        raise not_found(f"{text[:40]!r}")
    return ItemId(_KINDS[prefix], int(number), bool(unknown))


def of_kind(text: str, *kinds: Kind) -> ItemId:
    """An id that must name one of ``kinds``."""
    item = item_parse(text)
    if item.kind not in kinds:
        raise not_found(f"{' or '.join(kinds)} {text[:40]!r}")
    return item


def track_number(text: str) -> int:
    return of_kind(text, "track").number


def ids_error(text: str) -> SubsonicError:
    return not_found(f"{text[:40]!r}")
