"""Filters and attribute targets: which candidates a playlist's settings allow, and how far targets bend relevance."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from playlists.generation.settings import ATTRIBUTES, PlaylistSettings
from playlists.models import Track

#: How much a target_* attribute can lower a relevance (at a full scale away).
TARGET_WEIGHT = 0.5


def track_attribute(track: Track, name: str) -> float | None:
    """A Spotify-style attribute of ``track``: from ``Track.spotify``, a model field of that name, or (duration) the file."""
    value = (track.spotify or {}).get(name) if isinstance(track.spotify, dict) else None
    if value is None:
        value = (track.spotify or {}).get("audio_features", {}).get(name) if isinstance(track.spotify, dict) else None
    if value is None and name not in ("key", "mode"):
        value = getattr(track, name, None) if name not in ("duration_ms",) else None
    if value is None and name == "duration_ms" and track.duration_s:
        value = track.duration_s * 1000.0
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def track_explicit(track: Track) -> bool:
    value = (track.spotify or {}).get("explicit") if isinstance(track.spotify, dict) else None
    if value is None:
        value = getattr(track, "explicit", None)
    return bool(value)


@dataclass
class CandidateFilter:
    """The filters of a playlist's settings, counting why candidates were left out (for the message when too few pass)."""

    settings: PlaylistSettings
    counts: Counter[str] = field(default_factory=Counter)

    def passes(self, track: Track) -> bool:
        s = self.settings
        if track.excluded:
            return self._no("excluded by the catalogue")
        artist = track.artist.name.casefold() if track.artist else ""
        if artist and artist in {a.casefold() for a in s.exclude_artists}:
            return self._no("excluded artists")
        if track.album and track.album.title.casefold() in {a.casefold() for a in s.exclude_albums}:
            return self._no("excluded albums")
        if s.exclude_genres and {g.casefold() for g in track.genres} & {g.casefold() for g in s.exclude_genres}:
            return self._no("excluded genres")
        if s.exclude_explicit and track_explicit(track):
            return self._no("explicit")
        # An instrumental has no words to be in the wrong language, so it passes a language filter.
        if s.languages and track.lyrics and (track.language or "").lower() not in s.languages:
            return self._no("another language")
        for name, bounds in s.attributes.items():
            value = track_attribute(track, name)
            if value is None:
                if "min" in bounds or "max" in bounds:
                    self.counts[f"no {name} (kept unjudged)"] += 1
                continue
            if ("min" in bounds and value < bounds["min"]) or ("max" in bounds and value > bounds["max"]):
                return self._no(f"{name} out of range")
        return True

    def _no(self, reason: str) -> bool:
        self.counts[reason] += 1
        return False


def target_penalty(track: Track, settings: PlaylistSettings) -> float:
    """How much the ``target_*`` attributes lower ``track``'s relevance (0 when it has none of them)."""
    penalty = 0.0
    for name, bounds in settings.attributes.items():
        if "target" not in bounds:
            continue
        value = track_attribute(track, name)
        if value is None:
            continue
        distance = abs(value - bounds["target"])
        if name == "key":
            distance = min(distance, 12 - distance)
        penalty += TARGET_WEIGHT * min(1.0, distance / ATTRIBUTES[name])
    return penalty


#: Where attribute values come from, for the note when no track has one.
ATTRIBUTE_SOURCE = "Spotify metadata: manage.py import_kaggle or enrich_spotify"


def attribute_notes(settings: PlaylistSettings, tracks: list[Track]) -> list[str]:
    """What the ``min``/``max``/``target`` controls could not do among ``tracks`` (the candidates), in words.

    A control on an attribute no candidate has filters and bends nothing; one
    that only some have judges those and keeps the rest unjudged. Both are
    said, so a control never silently does nothing.
    """
    notes: list[str] = []
    for name, bounds in settings.attributes.items():
        having = sum(1 for t in tracks if track_attribute(t, name) is not None)
        controls = " and ".join(f"{bound} {name}" for bound in ("min", "max", "target") if bound in bounds)
        if not tracks:
            continue
        if having == 0:
            notes.append(f"{controls} changed nothing: none of the {len(tracks)} candidate tracks has a {name} value (it comes from {ATTRIBUTE_SOURCE})")
        elif having < len(tracks):
            notes.append(f"{controls} judged only the {having} of {len(tracks)} candidate tracks that have a {name} value; the others were kept unjudged")
    return notes
