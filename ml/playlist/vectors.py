"""Hybrid scoring of arbitrary query vectors against the catalogue index.

``HybridIndex.similar`` only takes catalogue tracks as seeds. Playlists also
start from an uploaded file or a text prompt, walk between points of the
space and compare candidates with each other, so this module works on
*query sets*: per modality, standardised unit vectors ``(q, dim)`` and a
``present`` mask ``(q,)``, the shape :func:`ml.scoring.pair_scores`
takes. Searching and fetching go through the index
(:meth:`HybridIndex.neighbours`, :meth:`HybridIndex.vectors_of`).
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np

from ml.fusion.hybrid import HybridIndex
from ml.scoring import pair_scores

#: ``{modality: (vectors float32 (q, dim), present bool (q,))}``
VectorSet = dict[str, tuple[np.ndarray, np.ndarray]]
#: Seed rows and the modality weights they are scored with (catalogue seeds: the balance; a prompt: lyrics only).
SeedGroup = tuple[VectorSet, Mapping[str, float]]


def vectors_of(index: HybridIndex, ids: Sequence[int] | np.ndarray) -> VectorSet:
    """Stored (standardised, unit) vectors of catalogue ``ids`` in every modality of ``index``."""
    return index.vectors_of(np.asarray(ids, dtype=np.int64).reshape(-1))


def vectors_empty(index: HybridIndex) -> VectorSet:
    return {m: (np.zeros((0, i.dim), np.float32), np.zeros(0, bool)) for m, i in index.indexes.items()}


def vectors_concat(index: HybridIndex, parts: Sequence[VectorSet]) -> VectorSet:
    """Rows of several query sets stacked in order."""
    out = vectors_empty(index)
    for part in parts:
        for modality in out:
            vectors, present = out[modality]
            if modality in part:
                more, more_present = part[modality]
            else:
                rows = next(iter(part.values()))[0].shape[0] if part else 0
                more, more_present = np.zeros((rows, vectors.shape[1]), np.float32), np.zeros(rows, bool)
            out[modality] = (np.concatenate([vectors, more]), np.concatenate([present, more_present]))
    return out


def vectors_single(index: HybridIndex, modality: str, raw: np.ndarray) -> VectorSet:
    """A one-row query set from a raw embedder vector ``(dim,)`` of one modality (standardised here)."""
    out = {m: (np.zeros((1, i.dim), np.float32), np.zeros(1, bool)) for m, i in index.indexes.items()}
    if modality in index.indexes:
        out[modality] = (index.standardisers[modality].apply(np.asarray(raw, np.float32).reshape(1, -1)), np.ones(1, bool))
    return out


def rows(vector_set: VectorSet) -> int:
    return next(iter(vector_set.values()))[0].shape[0] if vector_set else 0


def candidates_search(index: HybridIndex, queries: VectorSet, weights: Mapping[str, float], k: int) -> np.ndarray:
    """Union of the ``k`` best catalogue ids of every present query row by the exact hybrid score: int64 ``(n,)``.

    Through the index's candidate search (:meth:`HybridIndex.neighbours`), so
    a million-track catalogue is searched in milliseconds, not scanned.
    """
    active = {m: w for m, w in weights.items() if w > 0 and m in queries and queries[m][1].any()}
    if not active:
        return np.zeros(0, np.int64)
    return index.neighbours(queries, weights, k)


def scores_matrix(left: VectorSet, right: VectorSet, weights: Mapping[str, float]) -> np.ndarray:
    """Hybrid scores of every ``left`` row against every ``right`` row: float32 ``(l, r)``, NaN where no shared modality."""
    return pair_scores(right, left, weights)


def modality_scores(left: VectorSet, right: VectorSet, modality: str) -> np.ndarray:
    """Cosines in one modality only: float32 ``(l, r)``, NaN where either side lacks it."""
    return pair_scores(right, left, {modality: 1.0})


def relevance(groups: Sequence[SeedGroup], candidates: VectorSet) -> np.ndarray:
    """Mean score of each candidate over every seed row (rows it cannot be compared with ignored): float64 ``(c,)``, NaN if none."""
    columns = [scores_matrix(candidates, group, weights) for group, weights in groups]
    matrix = np.concatenate(columns, axis=1) if columns else np.zeros((rows(candidates), 0), np.float32)
    if not matrix.shape[1]:
        return np.full(rows(candidates), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN rows: no shared modality
        return np.nanmean(matrix, axis=1).astype(np.float64)


def mean_modality_scores(left: VectorSet, right: VectorSet, modality: str) -> np.ndarray:
    """Mean cosine in one modality of each ``left`` row over the ``right`` rows it can be compared with: ``(l,)``, NaN if none."""
    cosines = modality_scores(left, right, modality)
    if not cosines.shape[1]:
        return np.full(cosines.shape[0], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmean(cosines, axis=1)


def typicality(vector_set: VectorSet, weights: Mapping[str, float]) -> np.ndarray:
    """How typical each row is of the set: its hybrid score against the set's centroid, float64 ``(n,)`` (NaN without a shared modality).

    The centroid of a modality is the mean of the rows that have it, made
    unit length again; the most typical rows of an artist or a genre are
    the ones that sound (and read) most like the rest of it.
    """
    centroid: VectorSet = {}
    for modality, (vectors, present) in vector_set.items():
        if present.any():
            mean = vectors[present].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            centroid[modality] = ((mean / norm if norm > 0 else mean).reshape(1, -1).astype(np.float32), np.ones(1, bool))
        else:
            centroid[modality] = (np.zeros((1, vectors.shape[1]), np.float32), np.zeros(1, bool))
    return scores_matrix(vector_set, centroid, weights)[:, 0].astype(np.float64)
