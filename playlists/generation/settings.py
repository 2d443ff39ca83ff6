"""Every control of a playlist, checked once: a :class:`PlaylistSettings` that exists is valid.

Forms, the JSON API, the command line and a stored playlist all end here:
they turn their input into the fields' types and construct the settings,
which normalise and check every value (raising :class:`SeedError` or
:class:`ControlError` with a message for the user). Generation then trusts
them. ``to_json`` / ``from_json`` round-trip through ``Playlist.settings``
so a playlist can be regenerated.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from ml.errors import MLError
from ml.scoring import balance_weights
from playlists.errors import ControlError, SeedError

MAX_SEEDS = 5
MAX_SEED_ARTISTS = 5
MAX_SEED_GENRES = 5
MAX_LENGTH = 200
MAX_WAYPOINTS = 5
DEFAULT_LENGTH = 20
#: Tracks of a seed artist used as seed rows (the most typical ones would all be similar anyway).
ARTIST_SEED_TRACKS = 10
MAX_SEED_TEXT = 500
ORDERS = ("score", "flow")

#: Spotify-style attributes a track may carry in ``Track.spotify``, with the scale a target distance is measured in.
ATTRIBUTES: dict[str, float] = {
    "acousticness": 1.0,
    "danceability": 1.0,
    "duration_ms": 240_000.0,
    "energy": 1.0,
    "instrumentalness": 1.0,
    "key": 6.0,
    "liveness": 1.0,
    "loudness": 30.0,
    "mode": 1.0,
    "popularity": 100.0,
    "speechiness": 1.0,
    "tempo": 60.0,
    "time_signature": 4.0,
    "valence": 1.0,
}
#: Attributes that only take whole numbers (the OpenAPI description says so).
INTEGER_ATTRIBUTES = frozenset({"duration_ms", "key", "mode", "popularity", "time_signature"})
ATTRIBUTE_BOUNDS = ("min", "max", "target")


def _set(settings: PlaylistSettings, name: str, value: Any) -> None:
    object.__setattr__(settings, name, value)


@dataclass(frozen=True)
class PlaylistSettings:
    """Every control of a playlist, normalised and checked when constructed."""

    seed_ids: list[int] = field(default_factory=list)
    seed_artist_ids: list[int] = field(default_factory=list)
    #: Genre seed names ("rock", "hip-hop"): the genre's most typical indexed tracks stand in for each.
    seed_genres: list[str] = field(default_factory=list)
    seed_text: str = ""
    #: Uploaded files, analysed once: ``{"name", "model_version", "vector": [floats]}``; the files are not kept.
    seed_audio: list[dict[str, Any]] = field(default_factory=list)
    #: Path mode: ``[from, waypoint..., to]`` track ids; empty for the similar mode.
    path: list[int] = field(default_factory=list)
    length: int = DEFAULT_LENGTH
    balance: float = 0.5
    diversity: float = 0.0
    max_per_artist: int | None = None
    exclude_artists: list[str] = field(default_factory=list)
    exclude_albums: list[str] = field(default_factory=list)
    exclude_genres: list[str] = field(default_factory=list)
    exclude_explicit: bool = False
    languages: list[str] = field(default_factory=list)
    #: ``{"tempo": {"min": 100, "max": 130, "target": 120}, ...}``; tracks without the attribute pass unjudged.
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)
    include_seeds: bool = True
    dedupe: bool = True
    order: str = "score"
    taste: float = 0.0

    def __post_init__(self) -> None:
        try:
            _set(self, "seed_ids", list(dict.fromkeys(int(s) for s in self.seed_ids)))
            _set(self, "seed_artist_ids", list(dict.fromkeys(int(s) for s in self.seed_artist_ids)))
            _set(self, "path", [int(s) for s in self.path])
            _set(self, "length", int(self.length))
            _set(self, "balance", float(self.balance))
            _set(self, "diversity", float(self.diversity))
            _set(self, "taste", float(self.taste))
            _set(self, "max_per_artist", None if self.max_per_artist in (None, "", 0) else int(self.max_per_artist))
        except (TypeError, ValueError) as error:
            raise ControlError(f"a playlist setting is not a number: {error}") from None
        _set(self, "seed_genres", list(dict.fromkeys(str(g).strip().lower() for g in self.seed_genres if str(g).strip())))
        if len(self.seed_genres) > MAX_SEED_GENRES:
            raise SeedError(f"choose at most {MAX_SEED_GENRES} seed genres, not {len(self.seed_genres)}")
        _set(self, "seed_text", (self.seed_text or "").strip())
        if len(self.seed_text) > MAX_SEED_TEXT:
            raise ControlError(f"a text prompt has at most {MAX_SEED_TEXT} characters")
        if len(self.seed_ids) > MAX_SEEDS:
            raise SeedError(f"choose at most {MAX_SEEDS} seed tracks, not {len(self.seed_ids)}")
        if len(self.seed_artist_ids) > MAX_SEED_ARTISTS:
            raise SeedError(f"choose at most {MAX_SEED_ARTISTS} seed artists, not {len(self.seed_artist_ids)}")
        if not 1 <= self.length <= MAX_LENGTH:
            raise ControlError(f"a playlist has 1 to {MAX_LENGTH} tracks, not {self.length}")
        try:
            balance_weights(self.balance)
        except MLError as error:
            raise ControlError(str(error)) from None
        for name in ("diversity", "taste"):
            value = getattr(self, name)
            if math.isnan(value) or not 0.0 <= value <= 1.0:
                raise ControlError(f"{name} must be between 0 and 1, got {value}")
        if self.max_per_artist is not None and self.max_per_artist < 1:
            raise ControlError(f"at most K tracks per artist needs K >= 1, got {self.max_per_artist}")
        if self.order not in ORDERS:
            raise ControlError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")
        if self.path:
            if len(self.path) < 2:
                raise SeedError("a path needs a start and an end track")
            if len(self.path) - 2 > MAX_WAYPOINTS:
                raise SeedError(f"a path takes at most {MAX_WAYPOINTS} waypoints")
            if len(set(self.path)) != len(self.path):
                raise SeedError("a path cannot visit the same track twice")
            if self.length < len(self.path):
                raise ControlError(f"a path through {len(self.path)} tracks needs a length of at least {len(self.path)}")
        _set(self, "attributes", _attributes_checked(self.attributes))
        _set(self, "languages", [code.strip().lower() for code in self.languages if code and code.strip()])
        for name in ("exclude_artists", "exclude_albums", "exclude_genres"):
            _set(self, name, [str(value).strip() for value in getattr(self, name) if str(value).strip()])
        if not (self.seed_ids or self.seed_artist_ids or self.seed_genres or self.seed_text or self.seed_audio or self.path):
            raise SeedError("choose at least one seed: a track, an artist, a genre, a text prompt or an audio file")

    @property
    def weights(self) -> dict[str, float]:
        """Per-modality weights of the balance, for every score of this playlist."""
        return balance_weights(self.balance)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlaylistSettings:
        """Settings stored by :meth:`to_json` (a playlist's ``settings``), checked again: they may predate a rule."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ControlError(f"unknown playlist settings: {', '.join(unknown)}")
        return cls(**dict(data))

    def replace(self, **changes: Any) -> PlaylistSettings:
        """A copy with ``changes``, checked like any new settings."""
        return dataclasses.replace(self, **changes)


def _attributes_checked(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    checked: dict[str, dict[str, float]] = {}
    for name, bounds in attributes.items():
        if name not in ATTRIBUTES:
            raise ControlError(f"unknown attribute {name!r}; use one of {', '.join(ATTRIBUTES)}")
        if set(bounds) - set(ATTRIBUTE_BOUNDS):
            raise ControlError(f"{name}: only min, max and target can be set")
        try:
            values = {k: float(v) for k, v in bounds.items() if v is not None and v != ""}
        except (TypeError, ValueError):
            raise ControlError(f"{name}: min, max and target must be numbers") from None
        if any(not math.isfinite(v) for v in values.values()):
            raise ControlError(f"{name}: min, max and target must be finite numbers")
        low, high = values.get("min"), values.get("max")
        if low is not None and high is not None and low > high:
            raise ControlError(f"{name}: min {low:g} is above max {high:g}")
        if values:
            checked[name] = values
    return checked
