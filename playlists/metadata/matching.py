"""The one matching core for every metadata source: normalised names, match keys and match scores.

Tags, Spotify and Kaggle files spell the same recording differently
("Beyoncé – Halo (Remastered)", "feat." credits, "- Live" suffixes); these
functions fold the differences away so a source's record can be matched to a
catalogue track, and so near-identical tracks collapse in a playlist.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Iterable

_BRACKETS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_DASH_SUFFIX = re.compile(r"\s+-\s+.*$")
_VERSION_SUFFIX = re.compile(r"\s+-\s+.*(remaster|version|edit|mix|live|mono|stereo|deluxe).*$", re.I)
_FEAT = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s+.*$", re.I)
_NON_WORD = re.compile(r"[^\w]+")
_CREDIT_SEPARATORS = re.compile(r"\s*(?:;|,|&|\bfeat\.?|\bft\.?|\bfeaturing\b|\bx\b)\s*", re.IGNORECASE)


def _accents_off(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def text_normalise(text: str) -> str:
    """Lower-case, accents off, punctuation off: ``"Beyoncé – Halo (Remastered)"`` → ``"beyonce halo"``.

    Drops bracketed parts, `` - Remastered``-style suffixes and ``feat.`` credits,
    which differ between a file's tags and a source's titles.
    """
    text = _FEAT.sub("", _DASH_SUFFIX.sub("", _BRACKETS.sub("", _accents_off(text))))
    return " ".join(_NON_WORD.sub(" ", text).split())


def artist_primary(name: str) -> str:
    """The first credited artist of ``"A, B"``, ``"A & B"``, ``"A feat. B"`` or ``"A;B"``."""
    return _CREDIT_SEPARATORS.split(name, maxsplit=1)[0].strip()


def match_key(artist: str, title: str) -> tuple[str, str]:
    """What a source record and a catalogue track must share to be matched by name."""
    return text_normalise(artist_primary(artist)), text_normalise(title)


def normalised_key(artist: str, title: str) -> str:
    """``artist|title`` folded so that remasters, live/mono/radio versions and featured artists collapse.

    Stricter than :func:`match_key` about suffixes: only a `` - …`` that names
    a version goes, so "Song - Part 2" stays apart from "Song".
    """

    def fold(text: str) -> str:
        text = _FEAT.sub("", _VERSION_SUFFIX.sub("", _BRACKETS.sub("", _accents_off(text))))
        text = re.sub(r"^the\s+", "", text.strip())
        return re.sub(r"[\W_]+", " ", text).strip()

    return f"{fold(artist)}|{fold(title)}"


@dataclass(frozen=True)
class SourceTrack:
    """One track as a metadata source describes it: enough to match it, and what to keep of it."""

    source_id: str
    title: str
    artists: tuple[str, ...] = ()
    duration_s: float | None = None
    isrc: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Match:
    track: SourceTrack
    score: float


def match_score(candidate: SourceTrack, *, title: str, artist: str, duration_s: float | None) -> float:
    """How well a source's track fits a catalogue track, 0..1.

    Title similarity weighs 0.6, artist 0.3 (best of the credited artists),
    duration 0.1 (full within 3 s, none beyond 30 s; neutral when unknown).
    """
    ours_title = text_normalise(title)
    theirs_title = text_normalise(candidate.title)
    title_score = SequenceMatcher(None, ours_title, theirs_title).ratio() if ours_title and theirs_title else 0.0
    ours_artist = text_normalise(artist_primary(artist)) if artist else ""
    names = [text_normalise(name) for name in candidate.artists]
    artist_score = max((SequenceMatcher(None, ours_artist, n).ratio() for n in names if n), default=0.0) if ours_artist else 0.5
    if duration_s and candidate.duration_s is not None:
        gap = abs(candidate.duration_s - duration_s)
        duration_score = 1.0 if gap <= 3 else max(0.0, 1.0 - (gap - 3) / 27)
    else:
        duration_score = 0.5
    return round(0.6 * title_score + 0.3 * artist_score + 0.1 * duration_score, 4)


def match_best(candidates: Iterable[SourceTrack], *, title: str, artist: str, duration_s: float | None) -> Match | None:
    scored = [Match(c, match_score(c, title=title, artist=artist, duration_s=duration_s)) for c in candidates]
    return max(scored, key=lambda m: m.score, default=None)
