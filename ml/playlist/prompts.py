"""A text prompt as lyrics, as sound, or both: which part goes where, and the tracks that match it.

Modes:

* ``lyrics``: the prompt is a theme matched against lyrics (``ml.text.search``);
* ``sound``: the prompt describes how the music sounds and is matched
  against the tracks' audio tags (``ml.audio.describe``);
* ``both``: a "songs about ..." clause is the theme and the rest is the sound
  ("sad songs about rain with piano": theme "rain", sound "sad with
  piano"); a prompt without such a clause is matched both ways.

A track's combined score is the mean of its lyrics cosine and its sound
score mapped into the same range (:func:`sound_unit`); when the prompt has a
theme, a track without lyrics scores 0 on it (it cannot be about rain).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ml.audio.describe import SoundQuery, SoundVocabulary, TagTable, sound_query
from ml.embedder import Embedder, l2_normalise
from ml.errors import MLError
from ml.fusion.hybrid import HybridIndex
from ml.text.search import prompt_encode, theme_clause_split

MODES: tuple[str, ...] = ("lyrics", "sound", "both")


class PromptModeError(MLError):
    """A prompt mode is not one of :data:`MODES`, or the mode needs something the catalogue lacks."""


@dataclass(frozen=True)
class PromptParts:
    """What of a prompt is matched against lyrics and what against sound (``""``: nothing)."""

    lyrics: str
    sound: str


def prompt_parts(prompt: str, mode: str) -> PromptParts:
    """Split ``prompt`` for ``mode``; raises :class:`PromptModeError` for an unknown mode."""
    text = " ".join((prompt or "").split())
    if mode == "lyrics":
        return PromptParts(text, "")
    if mode == "sound":
        return PromptParts("", text)
    if mode == "both":
        theme, rest = theme_clause_split(text)
        if not theme:
            return PromptParts(text, text)
        return PromptParts(theme, rest)
    raise PromptModeError(f"unknown prompt mode {mode!r}; use one of {', '.join(MODES)}")


def sound_unit(scores: np.ndarray) -> np.ndarray:
    """Sound scores (standardised tag log-odds, about -3..3) mapped into a cosine's range (-1, 1): ``tanh(z / 2)``."""
    return np.tanh(np.asarray(scores, dtype=np.float64) / 2.0).astype(np.float32)


@dataclass
class PromptMatches:
    """Tracks matching a prompt, best first: ``ids`` int64 ``(m,)``, ``scores`` float32 ``(m,)``,
    each track's lyrics cosine and sound score (NaN where that part does not apply) and matched tags."""

    ids: np.ndarray
    scores: np.ndarray
    lyrics: np.ndarray
    sound: np.ndarray
    matched: list[list[str]] = field(default_factory=list)
    query: SoundQuery | None = None
    parts: PromptParts = PromptParts("", "")


def prompt_search(
    index: HybridIndex,
    prompt: str,
    *,
    mode: str,
    k: int,
    lyrics_encoder: Embedder,
    tags: TagTable | None,
    vocabulary: SoundVocabulary | None,
    exclude: Sequence[int] = (),
    pool: int = 200,
) -> PromptMatches:
    """The ``k`` tracks that best match ``prompt`` in ``mode``.

    ``tags`` is the serving index's tag table and ``vocabulary`` the tags
    encoded by ``lyrics_encoder`` (both needed for the sound part). Each part
    proposes its ``max(pool, 4k)`` best tracks; their union is scored exactly.
    Raises :class:`PromptModeError` when the sound part has no tag table,
    :class:`ml.audio.describe.SoundQueryError` /
    :class:`ml.text.search.ThemeQueryError` for an empty or overlong part and
    :class:`ml.errors.IndexMismatchError` when the lyrics index comes from another encoder.
    """
    from ml.text.search import lyrics_search

    parts = prompt_parts(prompt, mode)
    excluded = [int(i) for i in exclude]
    wide = max(pool, 4 * k)
    proposals: list[np.ndarray] = []
    query = None
    if parts.sound:
        if tags is None or vocabulary is None or not len(tags):
            raise PromptModeError("no track has audio tags yet, so a prompt cannot be matched by sound: run reindex with a tagging audio model")
        query = sound_query(parts.sound, vocabulary, lyrics_encoder, available=tags.keys)
        proposals.append(tags.search(query, k=wide, exclude=excluded)[0])
    lyrics_query = None
    if parts.lyrics and "lyrics" in index.indexes:
        proposals.append(lyrics_search(index, lyrics_encoder, parts.lyrics, k=wide, exclude=excluded)[0])
        lyrics_query = index.standardisers["lyrics"].apply(prompt_encode(lyrics_encoder, parts.lyrics)[None, :])
        lyrics_query = l2_normalise(lyrics_query)[0]
    if not proposals:
        empty = np.zeros(0, np.float32)
        return PromptMatches(np.zeros(0, np.int64), empty, empty, empty, [], query, parts)
    candidates = np.unique(np.concatenate(proposals)).astype(np.int64)
    lyrics_scores = np.full(candidates.size, np.nan, np.float32)
    if lyrics_query is not None:
        vectors, present = index.vectors_of(candidates)["lyrics"]
        lyrics_scores = np.where(present, vectors @ lyrics_query, np.nan).astype(np.float32)
    sound_scores = tags.scores_of(candidates, query) if query is not None and tags is not None else np.full(candidates.size, np.nan, np.float32)
    columns = []
    if lyrics_query is not None:
        # A prompt with a theme: a track without lyrics cannot be about it.
        columns.append(np.nan_to_num(lyrics_scores, nan=0.0) if query is not None else lyrics_scores)
    if query is not None:
        columns.append(sound_unit(sound_scores))
    combined = np.nanmean(np.stack(columns), axis=0) if len(columns) > 1 else columns[0]
    usable = ~np.isnan(combined)
    candidates, combined, lyrics_scores, sound_scores = candidates[usable], combined[usable], lyrics_scores[usable], sound_scores[usable]
    order = np.lexsort((candidates, -combined))[: max(0, k)]
    matched = [tags.matched(int(i), query) if tags is not None and query is not None else [] for i in candidates[order]]
    return PromptMatches(candidates[order], combined[order].astype(np.float32), lyrics_scores[order], sound_scores[order], matched, query, parts)
