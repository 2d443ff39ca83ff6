"""The hybrid score of track pairs: per-modality weights from a balance, and exact pair scores.

The score of a pair is

    score(x, y) = sum_m w_m * cos_m(x, y) * [x and y both have m]
                  / sum_m w_m * [x and y both have m]

over the modalities ``m`` both tracks have, so an instrumental is scored on
its audio alone and competes on the same scale as a song with lyrics. A leaf
of the library: the index, learned fusion, evaluation and playlists all use it.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ml.errors import MLError

#: ``{modality: (vectors float32 (n, dim), present bool (n,))}``: rows of one or several tracks per modality.
VectorSet = Mapping[str, tuple[np.ndarray, np.ndarray]]


def balance_weights(balance: float) -> dict[str, float]:
    """Per-modality weights for an audio share ``balance`` in ``[0, 1]``."""
    if isinstance(balance, bool) or not isinstance(balance, (int, float)) or math.isnan(balance) or not 0.0 <= balance <= 1.0:
        raise MLError(f"balance must be a number between 0 (lyrics only) and 1 (audio only), got {balance!r}")
    return {"audio": float(balance), "lyrics": 1.0 - float(balance)}


def pair_scores(
    seed_vectors: VectorSet,
    candidate_vectors: VectorSet,
    weights: Mapping[str, float],
) -> np.ndarray:
    """Exact hybrid scores of every candidate against every seed.

    ``seed_vectors[m]`` is ``(vectors (s, dim_m), present bool (s,))`` and
    ``candidate_vectors[m]`` is ``(vectors (c, dim_m), present bool (c,))``;
    rows that are not present are ignored. Returns float32 ``(c, s)``, NaN
    where the pair shares no modality of positive weight.
    """
    numerator: np.ndarray | None = None
    denominator: np.ndarray | None = None
    for modality, weight in weights.items():
        if weight <= 0 or modality not in seed_vectors or modality not in candidate_vectors:
            continue
        seeds, seeds_present = seed_vectors[modality]
        candidates, candidates_present = candidate_vectors[modality]
        both = candidates_present[:, None] & seeds_present[None, :]
        cosines = np.where(both, candidates @ seeds.T, 0.0)
        numerator = weight * cosines if numerator is None else numerator + weight * cosines
        denominator = weight * both if denominator is None else denominator + weight * both
    if numerator is None or denominator is None:
        count = next(iter(candidate_vectors.values()))[0].shape[0] if candidate_vectors else 0
        seeds_count = next(iter(seed_vectors.values()))[0].shape[0] if seed_vectors else 0
        return np.full((count, seeds_count), np.nan, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan).astype(np.float32)
