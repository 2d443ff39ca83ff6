"""Search by sound in words: a prompt becomes weights over the taggers' vocabularies, tracks are ranked by their tags.

"calm piano", "fast electronic with drums", "спокойное пианино": the prompt
is split into phrases at connectives ("with", "and", commas; "с", "и", "avec",
"mit", "con"...), each phrase is encoded with the multilingual sentence
encoder the lyrics already use, and compared with every tag of the
catalogue's vocabularies (:data:`ml.audio.tags.MTT_TAGS`,
:data:`ml.audio.tags.MSD_TAGS`), each of which is encoded once as its name
and a short English description (:data:`TAG_DESCRIPTIONS`). A phrase
weights the tags closest to it (a softmax over the cosines of the few best,
so "piano" means piano and "calm" spreads over quiet, soft, mellow). Other
languages work because the encoder maps them next to the English
descriptions.

A track's score for the prompt is the weighted mean, over the weighted tags,
of its tag's log-odds standardised over the catalogue (a tag the tagger says
of every track counts for little; a tag it rarely says counts when it does),
so tracks are ranked by their tag probabilities.

The encoder is passed in (any :class:`ml.embedder.Embedder`: multilingual USE
by default); this module only holds the vocabulary's words and the numbers.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ml.audio.tags import MSD_TAGS, MTT_TAGS, tag_label
from ml.embedder import Embedder, l2_normalise
from ml.errors import MLError

#: A short description of every tag, in English (the encoder carries other languages to it).
TAG_DESCRIPTIONS: dict[str, str] = {
    "mtt:guitar": "guitar", "mtt:classical": "classical music, orchestra", "mtt:slow": "slow tempo, slow music",
    "mtt:techno": "techno, electronic dance beats", "mtt:strings": "string instruments, string ensemble",
    "mtt:drums": "drums, percussion", "mtt:electronic": "electronic music, synthesizers", "mtt:rock": "rock music",
    "mtt:fast": "fast tempo, fast music", "mtt:piano": "piano", "mtt:ambient": "ambient, atmospheric soundscape",
    "mtt:beat": "a strong beat", "mtt:violin": "violin", "mtt:vocal": "vocals, a singing voice", "mtt:synth": "synthesizer",
    "mtt:female": "a female singer", "mtt:indian": "indian music, sitar and tabla", "mtt:opera": "opera singing",
    "mtt:male": "a male singer", "mtt:singing": "singing", "mtt:vocals": "vocals", "mtt:no vocals": "instrumental, no vocals",
    "mtt:harpsichord": "harpsichord, baroque", "mtt:loud": "loud, powerful, intense", "mtt:quiet": "quiet, calm, gentle",
    "mtt:flute": "flute", "mtt:woman": "a woman singing", "mtt:male vocal": "male vocals", "mtt:no vocal": "no singing, instrumental",
    "mtt:pop": "pop music", "mtt:soft": "soft, calm, gentle", "mtt:sitar": "sitar", "mtt:solo": "a solo instrument",
    "mtt:man": "a man singing", "mtt:classic": "classic, classical music", "mtt:choir": "a choir", "mtt:voice": "a voice",
    "mtt:new age": "new age, meditative, relaxing", "mtt:dance": "dance music", "mtt:male voice": "a male voice",
    "mtt:female vocal": "female vocals", "mtt:beats": "beats", "mtt:harp": "harp", "mtt:cello": "cello",
    "mtt:no voice": "no voice, instrumental", "mtt:weird": "weird, strange", "mtt:country": "country music",
    "mtt:metal": "metal, heavy guitars", "mtt:female voice": "a female voice", "mtt:choral": "choral music, choir",
    "msd:rock": "rock music", "msd:pop": "pop music", "msd:alternative": "alternative music", "msd:indie": "indie music",
    "msd:electronic": "electronic music", "msd:female vocalists": "female vocalists", "msd:dance": "dance music",
    "msd:00s": "music of the 2000s", "msd:alternative rock": "alternative rock", "msd:jazz": "jazz",
    "msd:beautiful": "beautiful, lovely", "msd:metal": "metal", "msd:chillout": "chillout, relaxing",
    "msd:male vocalists": "male vocalists", "msd:classic rock": "classic rock", "msd:soul": "soul music",
    "msd:indie rock": "indie rock", "msd:Mellow": "mellow, calm", "msd:electronica": "electronica", "msd:80s": "music of the 1980s",
    "msd:folk": "folk music", "msd:90s": "music of the 1990s", "msd:chill": "chill, relaxed", "msd:instrumental": "instrumental music",
    "msd:punk": "punk rock", "msd:oldies": "oldies, old songs", "msd:blues": "blues", "msd:hard rock": "hard rock",
    "msd:ambient": "ambient music", "msd:acoustic": "acoustic, unplugged", "msd:experimental": "experimental music",
    "msd:female vocalist": "a female vocalist", "msd:guitar": "guitar", "msd:Hip-Hop": "hip hop, rap", "msd:70s": "music of the 1970s",
    "msd:party": "party music", "msd:country": "country music", "msd:easy listening": "easy listening", "msd:sexy": "sexy, sensual",
    "msd:catchy": "catchy", "msd:funk": "funk", "msd:electro": "electro", "msd:heavy metal": "heavy metal",
    "msd:Progressive rock": "progressive rock", "msd:60s": "music of the 1960s", "msd:rnb": "r&b, rhythm and blues",
    "msd:indie pop": "indie pop", "msd:sad": "sad, melancholic", "msd:House": "house music", "msd:happy": "happy, joyful, upbeat",
}  # fmt: skip

#: Words that join the parts of a sound prompt, in the catalogue's languages.
_CONNECTIVES = re.compile(
    r"\s*(?:,|;|\+|&|\band\b|\bwith\b|\bplus\b|\bи\b|\bс\b|\bсо\b|\bet\b|\bavec\b|\bund\b|\bmit\b|\by\b|\bcon\b)\s*",
    re.IGNORECASE,
)
#: Framing that says nothing about the sound ("songs", "music that is", "музыка").
_FRAMING = re.compile(
    r"\b(?:some|songs?|tracks?|music|tunes|sounds?|sounding|that|is|are|like|песни|песня|музыка|музыку|треки|chansons?|musique|canciones|música|lieder|musik)\b",
    re.IGNORECASE,
)
#: Longest prompt accepted, in characters.
MAX_PROMPT_CHARS = 500


class SoundQueryError(MLError):
    """A sound prompt is empty, too long, or the catalogue has no tags to rank by."""


def prompt_phrases(prompt: str) -> list[str]:
    """The parts of a sound prompt: ``"fast electronic with drums"`` -> ``["fast electronic", "drums"]``.

    Framing words ("songs", "music") are dropped; a prompt that is only
    framing is kept whole.
    """
    text = " ".join((prompt or "").split())
    phrases = []
    for part in _CONNECTIVES.split(text):
        core = " ".join(_FRAMING.sub(" ", part).split())
        if core:
            phrases.append(core)
    return phrases or ([text] if text else [])


@dataclass(frozen=True)
class SoundQuery:
    """A prompt's weights over tag keys (summing to 1) and the tags it matched, strongest first."""

    prompt: str
    weights: Mapping[str, float]

    @property
    def matched(self) -> list[str]:
        """Tag names the prompt matched, strongest first, without vocabulary prefixes or repeats."""
        ranked = sorted(self.weights, key=lambda key: -self.weights[key])
        return list(dict.fromkeys(tag_label(key) for key in ranked))


class SoundVocabulary:
    """The tags a prompt can match, each encoded once as its name and its description.

    ``keys`` are ``"<vocabulary>:<tag>"`` keys (the ones the catalogue's
    tracks carry); ``vectors`` float32 ``(len(keys), 2, dim)`` hold the
    encoded name and description of each. ``encoder_version`` records which
    encoder made them.
    """

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, *, encoder_version: str) -> None:
        if vectors.shape[:2] != (len(keys), 2):
            raise SoundQueryError(f"expected ({len(keys)}, 2, dim) tag vectors, got {vectors.shape}")
        self.keys = tuple(keys)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.encoder_version = encoder_version

    @classmethod
    def build(cls, encoder: Embedder, keys: Sequence[str] | None = None) -> SoundVocabulary:
        """Encode the names and descriptions of ``keys`` (default: every MTT and MSD tag) with ``encoder``."""
        keys = tuple(keys) if keys is not None else tuple(f"mtt:{t}" for t in MTT_TAGS) + tuple(f"msd:{t}" for t in MSD_TAGS)
        texts = [tag_label(key) for key in keys] + [TAG_DESCRIPTIONS.get(key, tag_label(key)) for key in keys]
        encoded = l2_normalise(_encode(encoder, texts))
        return cls(keys, np.stack([encoded[: len(keys)], encoded[len(keys) :]], axis=1), encoder_version=encoder.version)

    def similarities(self, phrase_vectors: np.ndarray) -> np.ndarray:
        """Cosines of phrase vectors ``(p, dim)`` with each tag (the better of name and description): ``(p, n_tags)``."""
        phrases = l2_normalise(np.asarray(phrase_vectors, dtype=np.float32))
        return np.einsum("pd,tkd->ptk", phrases, self.vectors).max(axis=2)


def sound_query(
    prompt: str,
    vocabulary: SoundVocabulary,
    encoder: Embedder,
    *,
    available: Sequence[str] | None = None,
    top: int = 4,
    margin: float = 0.12,
    temperature: float = 0.04,
    word_threshold: float = 0.7,
) -> SoundQuery:
    """The weights a prompt puts on the tags.

    The prompt is split into phrases (:func:`prompt_phrases`); every phrase,
    and every word of a longer phrase that is itself close to some tag
    (cosine at least ``word_threshold``: "calm" in "calm piano", not "hip"
    in "hip hop"), is a *unit*. A unit keeps its ``top`` closest tags within
    ``margin`` of its best cosine, weighted by a softmax of the cosines at
    ``temperature``; the units of a phrase share its weight and phrases count
    equally. ``available`` restricts the tags to those the catalogue has (a
    catalogue tagged by one tagger has one vocabulary). Raises
    :class:`SoundQueryError` for an empty or overlong prompt, or when no tag
    is available.
    """
    text = " ".join((prompt or "").split())
    if not text:
        raise SoundQueryError("describe a sound to search for, e.g. “calm piano” or “fast electronic with drums”")
    if len(text) > MAX_PROMPT_CHARS:
        raise SoundQueryError(f"a sound prompt is at most {MAX_PROMPT_CHARS} characters, not {len(text)}")
    usable = np.ones(len(vocabulary.keys), dtype=bool)
    if available is not None:
        allowed = set(available)
        usable = np.array([key in allowed for key in vocabulary.keys])
    if not usable.any():
        raise SoundQueryError("the catalogue has no audio tags yet: run reindex with a tagging audio model")
    phrases = prompt_phrases(text)
    words = [phrase.split() if len(phrase.split()) > 1 else [] for phrase in phrases]
    flat_words = [word for group in words for word in group]
    similarity = vocabulary.similarities(_encode(encoder, phrases + flat_words))
    similarity[:, ~usable] = -np.inf
    phrase_rows, word_rows = similarity[: len(phrases)], similarity[len(phrases) :]
    weights: dict[str, float] = {}
    cursor = 0
    for phrase_row, group in zip(phrase_rows, words):
        units = [phrase_row] + [row for row in word_rows[cursor : cursor + len(group)] if row.max() >= word_threshold]
        cursor += len(group)
        for row in units:
            best = np.argsort(-row)[:top]
            best = best[row[best] >= row[best[0]] - margin]
            share = np.exp((row[best] - row[best[0]]) / temperature)
            share = share / share.sum() / len(units) / len(phrases)
            for index, value in zip(best, share):
                key = vocabulary.keys[int(index)]
                weights[key] = weights.get(key, 0.0) + float(value)
    return SoundQuery(prompt=text, weights={k: round(v, 4) for k, v in sorted(weights.items(), key=lambda item: -item[1])})


def _encode(encoder: Embedder, texts: Sequence[str]) -> np.ndarray:
    # Queries go through the encoder's query side where it has one (E5's "query:").
    encode = getattr(encoder, "embed_queries", None) or encoder.embed
    return np.asarray(encode(list(texts)), dtype=np.float32)


class TagTable:
    """The catalogue's tag probabilities as one matrix, and the standardised log-odds every search ranks by.

    ``ids`` int64 ``(n,)``, ``keys`` ``(k,)`` tag keys, ``probabilities``
    float32 ``(n, k)``. Saved beside an index version as ``audio_tags.npz``
    (:meth:`save`, :meth:`load`), so a search reads the tags of the very
    index it serves.
    """

    FILE = "audio_tags.npz"

    def __init__(self, ids: np.ndarray, keys: Sequence[str], probabilities: np.ndarray) -> None:
        self.ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        self.keys = tuple(keys)
        self.probabilities = np.asarray(probabilities, dtype=np.float32).reshape(self.ids.size, len(self.keys))
        clipped = np.clip(self.probabilities.astype(np.float64), 1e-4, 1 - 1e-4)
        log_odds = np.log(clipped / (1 - clipped))
        spread = log_odds.std(axis=0) if self.ids.size > 1 else np.ones(len(self.keys))
        self._standardised = ((log_odds - log_odds.mean(axis=0)) / np.maximum(spread, 1e-6)).astype(np.float32)
        self._column = {key: i for i, key in enumerate(self.keys)}

    @classmethod
    def from_tags(cls, tags: Mapping[int, Mapping[str, float]]) -> TagTable:
        """From ``{track id: {tag key: probability}}``; a key some tracks lack counts as 0 for them."""
        keys = sorted({key for values in tags.values() for key in values})
        ids = np.array(sorted(tags), dtype=np.int64)
        matrix = np.zeros((ids.size, len(keys)), dtype=np.float32)
        column = {key: i for i, key in enumerate(keys)}
        for row, track_id in enumerate(ids):
            for key, value in tags[int(track_id)].items():
                matrix[row, column[key]] = float(value)
        return cls(ids, keys, matrix)

    def __len__(self) -> int:
        return int(self.ids.size)

    def scores(self, query: SoundQuery) -> np.ndarray:
        """Every track's score for ``query``: the weighted mean of its standardised tag log-odds, float32 ``(n,)``."""
        columns = [(self._column[key], weight) for key, weight in query.weights.items() if key in self._column]
        if not columns:
            return np.zeros(self.ids.size, dtype=np.float32)
        index = np.array([c for c, _ in columns])
        weights = np.array([w for _, w in columns], dtype=np.float32)
        return (self._standardised[:, index] @ weights / weights.sum()).astype(np.float32)

    def scores_of(self, ids: np.ndarray, query: SoundQuery) -> np.ndarray:
        """Scores of the tracks ``ids`` (int64 ``(m,)``) for ``query``: float32 ``(m,)``, NaN for an untagged id."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        order = np.argsort(self.ids)
        positions = np.searchsorted(self.ids, ids, sorter=order)
        positions = np.minimum(positions, max(self.ids.size - 1, 0))
        rows = order[positions] if self.ids.size else np.zeros(ids.size, np.int64)
        found = self.ids[rows] == ids if self.ids.size else np.zeros(ids.size, bool)
        out = np.full(ids.size, np.nan, dtype=np.float32)
        if found.any():
            out[found] = self.scores(query)[rows[found]]
        return out

    def search(self, query: SoundQuery, *, k: int, exclude: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best tracks for ``query``, best first: ``(ids int64 (m,), scores float32 (m,))`` without ``exclude``."""
        scores = self.scores(query)
        keep = ~np.isin(self.ids, np.asarray(list(exclude), dtype=np.int64)) if len(exclude) else np.ones(self.ids.size, bool)
        candidates = np.flatnonzero(keep)
        order = candidates[np.lexsort((self.ids[candidates], -scores[candidates]))][: max(0, k)]
        return self.ids[order], scores[order]

    def matched(self, track_id: int, query: SoundQuery, *, top: int = 3) -> list[str]:
        """The query's tags this track has more than most tracks (standardised log-odds above 0.5), strongest first."""
        rows = np.flatnonzero(self.ids == int(track_id))
        if not rows.size:
            return []
        values = [(key, float(self._standardised[rows[0], self._column[key]]) * weight) for key, weight in query.weights.items() if key in self._column]
        strong = [key for key, value in sorted(values, key=lambda item: -item[1]) if value > 0 and self._standardised[rows[0], self._column[key]] > 0.5]
        return list(dict.fromkeys(tag_label(key) for key in strong))[:top]

    def save(self, folder: Path) -> Path:
        path = Path(folder) / self.FILE
        np.savez(path, ids=self.ids, probabilities=self.probabilities.astype(np.float16), keys=np.array(json.dumps(list(self.keys))))
        return path

    @classmethod
    def load(cls, folder: Path) -> TagTable | None:
        """The table saved in ``folder``, or None when the index version has none (built before tags, or an untagged model)."""
        path = Path(folder) / cls.FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as stored:
            return cls(stored["ids"], json.loads(str(stored["keys"])), stored["probabilities"].astype(np.float32))
