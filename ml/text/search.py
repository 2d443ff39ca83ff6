"""Search by theme: a text prompt ("songs about leaving home", "песни о море")
against the lyrics vectors of the serving index.

The prompt is encoded with the same lyrics encoder as the catalogue (its query
side where it has one), standardised with the catalogue's lyrics
standardiser, and looked up in the lyrics index. With a multilingual encoder a
prompt in one language finds lyrics in another.

Framing words ("songs about", "песни о", "chansons sur"...) are dropped first:
they say nothing about the theme, and they pull a short prompt toward every
lyric that mentions songs.
"""
from __future__ import annotations

import re
from typing import Mapping, Protocol, Sequence

import numpy as np

from ml.embedder import Embedder
from ml.errors import IndexMismatchError, MLError
from ml.whitening import Whitening

#: Longest prompt accepted, in characters; a theme is a phrase, not a document.
MAX_PROMPT_CHARS = 500

#: Prompts that mean nothing. What they score against a track is that track's noise floor:
#: what any prompt gets there by chance (short lyrics, common words, the encoder's own bias).
NULL_PROMPTS = (
    "qzxv", "bnmlkj poiuy", "wxq trvb", "ghjkl zxcv", "fnord blat", "ooo aaa", "lorem ipsum", "blah blah",
    "hmm", "xyzzy plugh", "jjj kkk lll", "qwpo zmxn", "vbvbvb", "tralala", "dfg hjk", "pqrs",
)
#: How far above its noise floor a track must score to count as matching a theme. On the demo
#: catalogue (use-multilingual) every nonsense prompt ("asdfghjkl", "qwerty uiop", "zzzz",
#: "xkcd blorf") stays below 0.02 on every track, while real themes clear it on 2 to 7 of the 32
#: tracks with lyrics ("leaving home" 4, "песни о море" 4, "city lights at night" 7); docs/site.md.
THEME_MARGIN = 0.02

_FRAME = re.compile(
    r"^\s*(?:(?:some|any|the|a|des|les|de|unas?|algunas?|einige)\s+)?"
    r"(?:songs?|tracks?|music|lyrics|tunes|песни|песня|песен|музыка|треки|chansons?|morceaux|musique|canciones|canción|temas|música|lieder|lied|songs)"
    r"\s+(?:(?:that\s+are\s+)?about|on|of|regarding|о|об|обо|про|sur|à\s+propos\s+d[eu']|sobre|de|acerca\s+de|über|von)\s+",
    re.IGNORECASE,
)


class ThemeQueryError(MLError):
    """A theme prompt is empty or too long."""


class LyricsIndex(Protocol):
    """What a theme search needs of the serving index; :class:`ml.fusion.hybrid.HybridIndex` is one.

    ``indexes`` and ``model_versions`` are keyed by modality (``"lyrics"``);
    ``query`` takes raw (not yet standardised) vectors by modality.
    """

    @property
    def indexes(self) -> Mapping[str, object]: ...

    @property
    def model_versions(self) -> Mapping[str, str]: ...

    @property
    def standardisers(self) -> Mapping[str, Whitening]: ...

    def vectors_of(self, ids: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...

    def query(self, vectors_by_modality: Mapping[str, np.ndarray], *, k: int, balance: float, exclude: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]: ...


def theme_prompt_core(prompt: str) -> str:
    """``prompt`` without framing words: "songs about leaving home" -> "leaving home".

    A prompt that is only framing ("songs about") is kept whole.
    """
    text = " ".join(prompt.split())
    core = _FRAME.sub("", text, count=1).strip()
    return core or text


def prompt_encode(embedder: Embedder, prompt: str) -> np.ndarray:
    """The lyrics-space vector of a theme prompt, float32 ``(dim,)``, before catalogue standardisation.

    Framing words are dropped and the encoder's query side (``embed_queries``,
    as :class:`ml.text.chunking.ChunkedEncoder` has) is used where it has
    one. Raises :class:`ThemeQueryError` for an empty or overlong prompt.
    """
    text = " ".join((prompt or "").split())
    if not text:
        raise ThemeQueryError("type a theme to search for, e.g. “songs about leaving home”")
    if len(text) > MAX_PROMPT_CHARS:
        raise ThemeQueryError(f"a theme is at most {MAX_PROMPT_CHARS} characters, not {len(text)}")
    encode = getattr(embedder, "embed_queries", None) or embedder.embed
    return np.asarray(encode([theme_prompt_core(text)])[0], dtype=np.float32)


def lyrics_search(
    index: LyricsIndex, embedder: Embedder, prompt: str, *, k: int, exclude: Sequence[int] = (), query_raw: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Tracks whose lyrics best match ``prompt``, best first.

    ``index`` is a :class:`ml.fusion.hybrid.HybridIndex` (its ``indexes``,
    ``standardisers`` and ``model_versions``); ``embedder`` the configured
    lyrics encoder. Returns ``(ids int64 (m,), scores float32 (m,))``, ``m <= k``,
    without the ids in ``exclude``; empty when no lyrics are indexed.
    Raises :class:`ThemeQueryError` for an empty or overlong prompt and
    :class:`IndexMismatchError` when the index's lyrics come from another encoder.
    ``query_raw``: the prompt's vector when the caller has it already (:func:`prompt_encode`).
    """
    if query_raw is None:
        query_raw = prompt_encode(embedder, prompt)
    if k <= 0 or "lyrics" not in index.indexes:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    indexed_version = index.model_versions.get("lyrics")
    if indexed_version != embedder.version:
        raise IndexMismatchError(
            f"the index's lyrics were embedded with {indexed_version!r} but the configured encoder is "
            f"{embedder.version!r}; run `manage.py reindex` to re-embed them"
        )
    # Lyrics only (balance 0): the index's candidate search among tracks with
    # lyrics, scored with the exact lyrics cosine; a million-track catalogue
    # is searched, not scanned.
    return index.query({"lyrics": query_raw}, k=k, balance=0.0, exclude=[int(i) for i in exclude])


def theme_margins(index: LyricsIndex, query_raw: np.ndarray, null_raw: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """How far each track of ``ids`` scores above its noise floor for a prompt: float64 ``(n,)``.

    ``query_raw`` is the prompt's raw vector ``(dim,)`` (:func:`prompt_encode`),
    ``null_raw`` the raw vectors of :data:`NULL_PROMPTS` ``(m, dim)``. A track's
    floor is the best cosine any nonsense prompt gets on it, in the same
    standardised space the search scores in; a margin above
    :data:`THEME_MARGIN` means the prompt says something the lyrics say.
    Tracks without lyrics get -inf.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0 or "lyrics" not in index.indexes:
        return np.full(ids.size, -np.inf)
    vectors, present = index.vectors_of(ids)["lyrics"]
    standardiser = index.standardisers["lyrics"]

    def unit(raw: np.ndarray) -> np.ndarray:
        rows = standardiser.apply(np.atleast_2d(np.asarray(raw, dtype=np.float32))).astype(np.float64)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)

    tracks = vectors.astype(np.float64)
    tracks = tracks / np.maximum(np.linalg.norm(tracks, axis=1, keepdims=True), 1e-12)
    score = tracks @ unit(query_raw)[0]
    floor = (tracks @ unit(null_raw).T).max(axis=1) if len(null_raw) else np.zeros(ids.size)
    margins: np.ndarray = np.where(present, score - floor, -np.inf)
    return margins
