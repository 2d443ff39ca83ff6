"""Chunking and pooling shared by every lyrics encoder.

Every encoder reads a limited number of tokens at once (a transformer's
``max_seq_length``, or a window that keeps a bag-of-n-grams encoder from
averaging a whole song into mush). Lyrics are split on line boundaries into
chunks that fit, each chunk is encoded, and the track vector is the
token-weighted mean of the chunk vectors, L2-normalised. A line too long for
one chunk is cut between words.

:class:`ChunkedEncoder` holds that logic once; a backend supplies only
``_count_tokens`` and ``_encode_chunks``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ml.embedder import l2_normalise
from ml.errors import EmbedderError

#: What joins two lines inside a chunk; it costs about one token.
LINE_JOINT = " / "


def text_chunks(text: str, count_tokens: Callable[[str], int], limit: int) -> list[tuple[str, int]]:
    """``text`` split on line boundaries into ``(chunk, n_tokens)`` pieces of at most ``limit`` tokens.

    ``count_tokens(s)`` counts the tokens of ``s`` without the model's special
    tokens. Blank lines are skipped; an empty text gives ``[]``.
    """
    if limit < 1:
        raise EmbedderError(f"a chunk must hold at least one token, not {limit}")
    pieces: list[tuple[str, int]] = []
    current: list[str] = []
    current_tokens = 0
    for line in (part.strip() for part in text.split("\n")):
        if not line:
            continue
        for segment, count in _line_segments(line, count_tokens, limit):
            if current and current_tokens + count > limit:
                pieces.append((LINE_JOINT.join(current), current_tokens))
                current, current_tokens = [], 0
            current.append(segment)
            current_tokens += count
    if current:
        pieces.append((LINE_JOINT.join(current), current_tokens))
    return pieces


def _line_segments(line: str, count_tokens: Callable[[str], int], limit: int) -> list[tuple[str, int]]:
    # The joint costs about one token; count it with the line.
    count = count_tokens(line) + 1
    if count <= limit:
        return [(line, count)]
    words = line.split()
    segments: list[tuple[str, int]] = []
    step = max(1, len(words) * limit // count)
    start = 0
    while start < len(words):
        # Shrink the step where this stretch of words tokenises longer than average.
        size = min(step, len(words) - start)
        while True:
            segment = " ".join(words[start : start + size])
            tokens = count_tokens(segment) + 1
            if tokens <= limit or size == 1:
                break
            size = max(1, size * limit // tokens)
        segments.append((segment, min(limit, tokens)))
        start += size
    return segments


def chunk_vectors_pool(owners: np.ndarray, vectors: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """Token-weighted mean of chunk vectors per owner, L2-normalised.

    ``owners`` int ``(m,)`` gives each chunk's row in ``[0, count)``;
    ``vectors`` float ``(m, dim)``; ``weights`` float ``(m,)``. Returns
    float32 ``(count, dim)``.
    """
    pooled = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(pooled, np.asarray(owners, dtype=np.int64), np.asarray(vectors, dtype=np.float32) * np.asarray(weights, dtype=np.float32)[:, None])
    return l2_normalise(pooled)


class ChunkedEncoder:
    """Base of the lyrics encoders: chunk, encode chunks, pool.

    Subclasses set ``name``, ``version``, ``dim``, ``chunk_tokens`` and
    implement ``_count_tokens(text) -> int`` and ``_encode_chunks(texts,
    query=False) -> float32 (len(texts), dim)`` with unit rows.
    """

    name: str
    version: str
    dim: int
    chunk_tokens: int

    def _count_tokens(self, text: str) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_chunks(self, texts: list[str], *, query: bool = False) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self, text: str) -> list[tuple[str, int]]:
        """``text`` split on line boundaries into ``(chunk, n_tokens)`` pieces that each fit the model."""
        return text_chunks(text, self._count_tokens, self.chunk_tokens)

    def embed(self, items: Sequence[str]) -> np.ndarray:
        """Lyrics texts to float32 ``(len(items), dim)`` unit rows."""
        return self._embed(items, query=False)

    def embed_queries(self, items: Sequence[str]) -> np.ndarray:
        """Short search prompts to float32 ``(len(items), dim)`` unit rows, comparable with :meth:`embed`.

        Encoders trained with separate query and passage prefixes (E5) use the
        query side here; the others encode prompts like lyrics.
        """
        return self._embed(items, query=True)

    def _embed(self, items: Sequence[str], *, query: bool) -> np.ndarray:
        if len(items) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        owners: list[int] = []
        texts: list[str] = []
        weights: list[int] = []
        for row, text in enumerate(items):
            pieces = self.chunks(text) or [(text.strip() or " ", 1)]
            for chunk, count in pieces:
                owners.append(row)
                texts.append(chunk)
                weights.append(count)
        vectors = self._encode_chunks(texts, query=query)
        return chunk_vectors_pool(np.asarray(owners), vectors, np.asarray(weights, dtype=np.float32), len(items))
