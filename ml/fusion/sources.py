"""Where an index build reads one modality's raw vectors from: in chunks, as often as it needs.

A million tracks with the product's models are 3.2 GB of float32 vectors
(400-d audio, 512-d lyrics); a build that holds them all at once, plus
their whitened copies, does not fit beside a web server. A
:class:`VectorSource` hands them out in chunks instead, in the same order
every time it is read: :meth:`ml.fusion.hybrid.HybridIndex.build_streamed`
reads it twice (a seeded sample to fit the whitening, the codes' range and
the ANN; then every row to whiten and store). :class:`ArraySource` wraps
arrays already in memory; the app's source reads stored embeddings from the
database (``playlists.catalogue.selectors.embedding_sources``).
"""
from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np

from ml.errors import VectorIndexError


class VectorSource(Protocol):
    """``count`` rows of ``dim`` raw vectors, read in chunks (same order on every read)."""

    @property
    def count(self) -> int: ...

    @property
    def dim(self) -> int: ...

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(ids int64 (m,), raw vectors float32 (m, dim))`` for consecutive rows, ``m <= size``."""
        ...


class ArraySource:
    """A :class:`VectorSource` over ``ids`` int64 ``(n,)`` and ``vectors`` ``(n, dim)`` in memory (not copied)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if vectors.ndim != 2 or vectors.shape[0] != ids.size:
            raise VectorIndexError(f"{ids.size} ids for vectors of shape {vectors.shape}")
        self.ids = ids
        self.vectors = vectors

    @property
    def count(self) -> int:
        return int(self.ids.size)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, self.count, max(1, int(size))):
            yield self.ids[start : start + size], np.asarray(self.vectors[start : start + size], dtype=np.float32)


def rows_gather(source: VectorSource, positions: np.ndarray, *, chunk: int) -> np.ndarray:
    """float32 ``(len(positions), dim)``: the rows at sorted ``positions`` (0-based, in reading order), one pass."""
    positions = np.asarray(positions, dtype=np.int64)
    out = np.empty((positions.size, source.dim), np.float32)
    start = 0
    filled = 0
    for _ids, block in source.chunks(chunk):
        stop = start + block.shape[0]
        lo, hi = np.searchsorted(positions, [start, stop])
        if hi > lo:
            out[filled : filled + hi - lo] = block[positions[lo:hi] - start]
            filled += int(hi - lo)
        start = stop
    if start != source.count or filled != positions.size:
        raise VectorIndexError(f"the vector source gave {start} rows, it said {source.count}; the catalogue changed while the index was built")
    return out
