"""Retrieval metrics: artist-filtered precision of label agreement among nearest neighbours."""
from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_KS: tuple[int, ...] = (5, 10)
#: What :func:`neighbour_precision` returns: ``{"p@k": float | None, ..., "n": int}``.
Precision = dict[str, float | None]


def neighbour_precision(similarity: np.ndarray, labels: Sequence[str], groups: Sequence[str], ks: Sequence[int] = DEFAULT_KS) -> Precision:
    """Artist-filtered precision@k from a similarity matrix.

    ``similarity`` is float ``(n, n)``; NaN marks pairs that cannot be
    compared. Returns ``{"p@k": float | None, ..., "n": queries scored at the largest k}``.
    """
    labels_array = np.asarray(labels, dtype=object)
    groups_array = np.asarray(groups, dtype=object)
    n = similarity.shape[0]
    hits: dict[int, list[float]] = {k: [] for k in ks}
    for query in range(n):
        scores = similarity[query].astype(np.float64).copy()
        allowed = ~np.isnan(scores) & (groups_array != groups_array[query])
        allowed[query] = False
        if not allowed.any():
            continue
        candidates = np.flatnonzero(allowed)
        ranked = candidates[np.lexsort((candidates, -scores[candidates]))]
        same = labels_array[ranked] == labels_array[query]
        for k in ks:
            if ranked.size >= k:
                hits[k].append(float(same[:k].mean()))
    result: Precision = {f"p@{k}": (round(float(np.mean(hits[k])), 4) if hits[k] else None) for k in ks}
    result["n"] = len(hits[max(ks)])
    return result
