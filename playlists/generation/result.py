"""What generation hands back: the items of a playlist, messages for the user, a name, and the index version that made it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playlists.models import Track


@dataclass
class BuiltItem:
    track_id: int
    score: float | None
    is_seed: bool
    explanation: dict[str, Any]


@dataclass
class BuiltPlaylist:
    items: list[BuiltItem]
    messages: list[str]
    name: str
    index_version: str = ""
    #: The items' tracks as generation fetched them (artist and album joined), so callers need not fetch them again.
    tracks: dict[int, Track] = field(default_factory=dict)
