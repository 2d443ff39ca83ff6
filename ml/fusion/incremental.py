"""Bring a stored hybrid index up to date with the catalogue without rebuilding it.

A reindex first tries :func:`index_update_try`: it loads the serving version
into memory, works out per modality which tracks were added, removed or
re-embedded, and applies only that. It declines (and the caller does a full
build) when the models, modalities, format or the backend the catalogue size
calls for have changed, or when more than ``max_change`` of the catalogue
changed: the whiteners were fitted on the old catalogue, and past that point
they are refitted by a full build.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ml.errors import VectorIndexError
from ml.fusion.hybrid import HybridIndex, modality_params
from ml.fusion.index import backend_params

logger = logging.getLogger(__name__)

#: Share of the catalogue that may change before the whiteners are refitted by a full build.
MAX_CHANGE = 0.2
#: Catalogues up to this many tracks are updated in place; larger ones are rebuilt from
#: streamed vectors (an update holds every vector and the whole index in memory at once).
INCREMENTAL_MAX = 300_000


def index_difference(index: HybridIndex, vectors: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """What turns ``index`` into ``vectors[m] = (ids (n,), raw (n, dim))``.

    Returns ``(add, remove)``: ``add[m] = (ids, raw)`` new or re-embedded,
    ``remove[m] = ids`` gone from modality ``m``. A re-embedded track is
    found by whitening its raw vector with the stored whitener and comparing
    it with the stored one.
    """
    add: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    remove: dict[str, np.ndarray] = {}
    for modality, stored in index.indexes.items():
        ids, raw = vectors.get(modality, (np.zeros(0, np.int64), np.zeros((0, stored.dim), np.float32)))
        ids = np.asarray(ids, dtype=np.int64)
        raw = np.asarray(raw, dtype=np.float32)
        remove[modality] = np.setdiff1d(stored.store.ids, ids)
        rows = stored.store.rows(ids)
        known = rows >= 0
        changed = np.zeros(ids.size, dtype=bool)
        if known.any():
            whitened = index.standardisers[modality].apply(raw[known])
            if stored.store.storage == "sq8":
                # The same input gives the same codes, up to one step where it sits on a boundary.
                codes = stored.store.codes_of(whitened).astype(np.int16)
                changed[known] = np.abs(codes - np.asarray(stored.store.vectors[rows[known]], dtype=np.int16)).max(axis=1) > 1
            else:
                # float16 storage rounds to ~5e-4; a re-embedded track moves far more than that.
                tolerance = 1e-5 if stored.store.storage == "float32" else 2e-3
                changed[known] = np.abs(whitened - stored.store.gather(rows[known])).max(axis=1) > tolerance
        fresh = ~known | changed
        add[modality] = (ids[fresh], raw[fresh])
    return add, remove


def index_update_try(
    folder: Path,
    vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
    versions: Mapping[str, str],
    *,
    max_change: float = MAX_CHANGE,
    backend: str = "auto",
    overrides: Mapping[str, Any] | None = None,
) -> tuple[HybridIndex | None, str]:
    """The index in ``folder`` updated to ``vectors``, or ``(None, reason)`` when a full build is due.

    ``backend`` and ``overrides`` are what a full build would be given
    (:meth:`HybridIndex.build`): when they now call for another backend,
    codec or storage, a full build is due. Entries a candidate index keeps
    for removed or replaced tracks (HNSW nodes, fast-scan codes) count as
    changes, so they are dropped by a full build before they pile up. The
    returned index is in memory (not memory-mapped) and not saved.
    """
    try:
        index = HybridIndex.load(folder, expect_models=versions, mmap=False)
    except VectorIndexError as error:
        return None, f"full build: {error}"
    if set(index.indexes) != {m for m, (ids, _) in vectors.items() if len(ids)}:
        return None, "full build: the set of modalities changed"
    total = len(set().union(*(np.asarray(ids).tolist() for ids, _ in vectors.values())))
    for modality, stored in index.indexes.items():
        wanted = modality_params(len(vectors[modality][0]), stored.dim, backend=backend, overrides=overrides)
        if (wanted.backend, wanted.storage) != (stored.backend, stored.params.storage):
            return None, f"full build: {modality} now calls for the {wanted.backend} backend ({wanted.storage}), not {stored.backend} ({stored.params.storage})"
    wanted_fused = backend_params(total, index.fused_dim, backend=backend, overrides=overrides)
    if wanted_fused.backend != index.backend:
        return None, f"full build: the catalogue now calls for the {wanted_fused.backend} backend, not {index.backend}"
    if index.fused is not None and wanted_fused.codec != index.fused.params.codec:
        return None, f"full build: the catalogue now calls for {wanted_fused.codec or wanted_fused.backend} candidate codes, not {index.fused.params.codec}"
    add, remove = index_difference(index, vectors)
    changes = sum(len(ids) for ids, _ in add.values()) + sum(len(ids) for ids in remove.values())
    stale = max(0, len(index.fused) - len(index)) if index.fused is not None else 0
    if changes + stale > max_change * max(total, 1):
        kept = f" plus {stale} stale candidate entries" if stale else ""
        return None, f"full build: {changes} changes{kept} in a catalogue of {total} (more than {max_change:.0%})"
    result = index.update(add=add, remove=remove)
    logger.info("index updated in place: %s", result)
    return index, "updated in place: " + (", ".join(f"{k} {v}" for k, v in sorted(result.items())) or "nothing")
