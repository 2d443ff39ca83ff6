"""A small vector index over FAISS: ``add``, ``search``, ``remove``, ``save``, ``load``.

Vectors are L2-normalised by the caller, so inner product is cosine
similarity. Ids are int64 track ids chosen by the caller; results are always
``(ids, scores)`` and FAISS's ``-1`` padding never leaves this module.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ml.errors import IndexCorruptError, IndexMismatchError, VectorIndexError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_INDEX_FILE = "vectors.faiss"
_META_FILE = "index.json"


class VectorIndex:
    """Exact inner-product index (FAISS ``IndexFlatIP`` behind an id map)."""

    backend = "flat"

    def __init__(self, dim: int) -> None:
        import faiss

        if dim <= 0:
            raise VectorIndexError(f"an index needs a positive dimension, got {dim}")
        self.dim = int(dim)
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._ids: set[int] = set()

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, track_id: object) -> bool:
        return isinstance(track_id, (int, np.integer)) and int(track_id) in self._ids

    def ids(self) -> np.ndarray:
        """All ids in the index, int64 ``(len(self),)``, in insertion order."""
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) ``vectors`` float32 ``(n, dim)`` under int64 ``ids`` ``(n,)``."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatchError(f"vectors of shape {vectors.shape} do not fit an index of dimension {self.dim}")
        if vectors.shape[0] != ids.shape[0]:
            raise VectorIndexError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if len(np.unique(ids)) != len(ids):
            raise VectorIndexError("the same id appears twice in one add()")
        if not np.all(np.isfinite(vectors)):
            raise VectorIndexError("vectors contain NaN or infinity")
        existing = [int(i) for i in ids if int(i) in self._ids]
        if existing:
            self.remove(np.asarray(existing, dtype=np.int64))
        self._index.add_with_ids(vectors, ids)
        self._ids.update(int(i) for i in ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove ``ids`` (unknown ids are ignored); returns how many were removed."""
        import faiss

        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            return 0
        removed = int(self._index.remove_ids(faiss.IDSelectorArray(ids.size, faiss.swig_ptr(ids))))
        self._ids.difference_update(int(i) for i in ids)
        return removed

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest ids of each query row.

        ``queries`` is float32 ``(q, dim)``. Returns ``ids`` int64 and
        ``scores`` float32, both ``(q, min(k, len(self)))``, best first.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.shape[1] != self.dim:
            raise IndexMismatchError(f"queries of dimension {queries.shape[1]} against an index of dimension {self.dim}")
        k = min(int(k), len(self))
        if k <= 0:
            return np.zeros((queries.shape[0], 0), np.int64), np.zeros((queries.shape[0], 0), np.float32)
        scores, ids = self._index.search(queries, k)
        # FAISS pads missing results with -1 at the end of a row; keep only the
        # columns that every row filled.
        filled = int((ids >= 0).all(axis=0).sum())
        ids, scores = ids[:, :filled], scores[:, :filled]
        return ids.astype(np.int64), scores.astype(np.float32)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of ``ids`` (all must be present): float32 ``(n, dim)``."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.empty((ids.size, self.dim), dtype=np.float32)
        for row, track_id in enumerate(ids):
            if int(track_id) not in self._ids:
                raise VectorIndexError(f"id {int(track_id)} is not in the index")
            out[row] = self._index.reconstruct(int(track_id))
        return out

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (created if missing)."""
        import faiss

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / _INDEX_FILE))
        (folder / _META_FILE).write_text(
            json.dumps({"format_version": FORMAT_VERSION, "backend": self.backend, "dim": self.dim, "count": len(self)})
        )

    @classmethod
    def load(cls, folder: Path) -> "VectorIndex":
        """Read an index written by :meth:`save`; raises on a missing, foreign or damaged folder."""
        import faiss

        folder = Path(folder)
        try:
            meta = json.loads((folder / _META_FILE).read_text())
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"{folder}: no readable {_META_FILE} ({error})") from None
        if meta.get("format_version") != FORMAT_VERSION or meta.get("backend") != cls.backend:
            raise IndexMismatchError(
                f"{folder}: index format {meta.get('format_version')}/{meta.get('backend')} is not "
                f"{FORMAT_VERSION}/{cls.backend}; rebuild it with a full reindex"
            )
        try:
            raw = faiss.read_index(str(folder / _INDEX_FILE))
        except RuntimeError as error:
            raise IndexCorruptError(f"{folder}: cannot read {_INDEX_FILE} ({str(error).splitlines()[0]})") from None
        if raw.d != meta["dim"] or raw.ntotal != meta["count"]:
            raise IndexCorruptError(f"{folder}: index holds {raw.ntotal}x{raw.d}, meta says {meta['count']}x{meta['dim']}")
        index = cls.__new__(cls)
        index.dim = int(raw.d)
        index._index = faiss.downcast_index(raw) if not isinstance(raw, faiss.IndexIDMap2) else raw
        index._ids = set(int(i) for i in faiss.vector_to_array(index._index.id_map))
        return index
