"""The small protocol a metadata source implements, and the one matching policy every source shares.

A source (Spotify's Web API, a Kaggle file) answers three questions about
a catalogue track: do you know this id, which of your tracks carry this
ISRC, which match this title and artist. :func:`source_track_find` asks them
in that order, the way beets' metadata source plugins are asked for a track
by id before candidates are searched.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from playlists.metadata.matching import SourceTrack, match_best


class MetadataSource(Protocol):
    """Where track metadata comes from. ``name`` says so in what is stored."""

    name: str

    def track_by_id(self, source_id: str) -> SourceTrack | None: ...

    def tracks_by_isrc(self, isrc: str) -> list[SourceTrack]: ...

    def tracks_search(self, *, title: str, artist: str) -> list[SourceTrack]: ...


@dataclass(frozen=True)
class SourceMatch:
    """What a lookup found: ``track`` is None when nothing matched well enough; ``method`` is id, isrc or search."""

    track: SourceTrack | None
    method: str
    score: float | None


def source_track_find(
    source: MetadataSource, *, source_id: str, isrc: str, title: str, artist: str, duration_s: float | None, threshold: float
) -> SourceMatch:
    """The source's track for a catalogue track: by the id it already has, else by ISRC, else by title and artist.

    The same ISRC is the same recording whatever the titles say, so an ISRC
    match needs no threshold; a search match needs ``threshold``.
    """
    if source_id:
        found = source.track_by_id(source_id)
        if found is not None:
            return SourceMatch(found, "id", 1.0)
    if isrc:
        wanted = isrc.strip().upper()
        best = match_best((t for t in source.tracks_by_isrc(wanted) if t.isrc.upper() == wanted), title=title, artist=artist, duration_s=duration_s)
        if best is not None:
            return SourceMatch(best.track, "isrc", best.score)
    best = match_best(source.tracks_search(title=title, artist=artist), title=title, artist=artist, duration_s=duration_s)
    if best is not None and best.score >= threshold:
        return SourceMatch(best.track, "search", best.score)
    return SourceMatch(None, "search", best.score if best else None)
