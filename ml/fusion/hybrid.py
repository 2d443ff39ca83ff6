"""Hybrid song similarity over the audio and lyrics modalities.

Each modality's vectors are standardised on the catalogue (centred and scaled
per dimension, so the cosine measures how two tracks differ from the typical
track rather than what every track shares) and L2-normalised. The score of a
pair is the weighted sum of the per-modality cosines over the modalities
*both* tracks have, divided by the weights present: an instrumental is scored
on its audio alone and competes on the same scale as a song with lyrics.

``balance`` is the audio share of the weight: 1.0 is audio only, 0.0 lyrics
only, 0.5 both equally.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ml.config import MODALITIES
from ml.embedder import l2_normalise
from ml.errors import IndexMismatchError, MLError
from ml.fusion.index import VectorIndex

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Candidates fetched per seed and modality before the exact re-rank.
MIN_CANDIDATES = 200


def balance_weights(balance: float) -> dict[str, float]:
    """Per-modality weights for an audio share ``balance`` in ``[0, 1]``."""
    if not isinstance(balance, (int, float)) or math.isnan(balance) or not 0.0 <= balance <= 1.0:
        raise MLError(f"balance must be a number between 0 (lyrics only) and 1 (audio only), got {balance!r}")
    return {"audio": float(balance), "lyrics": 1.0 - float(balance)}


@dataclass(frozen=True)
class Standardiser:
    """Per-dimension centring and scaling fitted on a catalogue, then L2 normalisation."""

    mean: np.ndarray  # float32 (dim,)
    scale: np.ndarray  # float32 (dim,)

    @classmethod
    def fit(cls, vectors: np.ndarray, *, shrinkage: float = 0.1) -> "Standardiser":
        """Fit on float32 ``(n, dim)``; with fewer than 3 rows it only normalises."""
        vectors = np.asarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if vectors.shape[0] < 3:
            return cls(np.zeros(dim, np.float32), np.ones(dim, np.float32))
        variance = vectors.var(axis=0)
        # Shrink toward the average variance so near-constant dimensions are not blown up.
        scale = np.sqrt(variance + shrinkage * float(variance.mean()) + 1e-12)
        return cls(vectors.mean(axis=0).astype(np.float32), scale.astype(np.float32))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Standardised, unit-length copy of float32 ``(n, dim)``."""
        return l2_normalise((np.asarray(vectors, dtype=np.float32) - self.mean) / self.scale)


def pair_scores(
    seed_vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
    candidate_vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
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


class HybridIndex:
    """One index per modality plus the catalogue standardisers, searched as one.

    ``similar`` gathers candidates from every modality's index, then re-ranks
    them with the exact hybrid score, so a strong match in one modality is
    never lost to the other.
    """

    def __init__(self, indexes: Mapping[str, VectorIndex], standardisers: Mapping[str, Standardiser], model_versions: Mapping[str, str]) -> None:
        unknown = set(indexes) - set(MODALITIES)
        if unknown:
            raise MLError(f"unknown modalities {sorted(unknown)}; expected some of {MODALITIES}")
        self.indexes = dict(indexes)
        self.standardisers = dict(standardisers)
        self.model_versions = dict(model_versions)

    @classmethod
    def build(
        cls,
        vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
        model_versions: Mapping[str, str],
    ) -> "HybridIndex":
        """Fit standardisers and index ``vectors[m] = (ids int64 (n,), raw vectors (n, dim))``."""
        indexes: dict[str, VectorIndex] = {}
        standardisers: dict[str, Standardiser] = {}
        for modality, (ids, raw) in vectors.items():
            raw = np.asarray(raw, dtype=np.float32)
            if raw.ndim != 2 or raw.shape[0] == 0:
                continue
            standardiser = Standardiser.fit(raw)
            index = VectorIndex(raw.shape[1])
            index.add(np.asarray(ids, dtype=np.int64), standardiser.apply(raw))
            indexes[modality] = index
            standardisers[modality] = standardiser
        return cls(indexes, standardisers, {m: v for m, v in model_versions.items() if m in indexes})

    def __len__(self) -> int:
        return len(self.track_ids())

    def __contains__(self, track_id: object) -> bool:
        return any(track_id in index for index in self.indexes.values())

    def track_ids(self) -> np.ndarray:
        """Every track id that has at least one modality, sorted int64."""
        parts = [index.ids() for index in self.indexes.values()]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def counts(self) -> dict[str, int]:
        return {modality: len(index) for modality, index in self.indexes.items()}

    def _vectors_of(self, ids: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for modality, index in self.indexes.items():
            present = np.fromiter((int(i) in index for i in ids), dtype=bool, count=len(ids))
            vectors = np.zeros((len(ids), index.dim), dtype=np.float32)
            if present.any():
                vectors[present] = index.vectors(ids[present])
            out[modality] = (vectors, present)
        return out

    def similar(
        self,
        seed_ids: Sequence[int],
        *,
        k: int,
        balance: float,
        exclude: Sequence[int] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` tracks most similar to the seeds on average, best first.

        Returns ``(ids int64 (m,), scores float32 (m,))`` with ``m <= k``; the
        seeds and ``exclude`` never appear. Tracks sharing no weighted
        modality with any seed are left out rather than given a made-up score.
        """
        weights = balance_weights(balance)
        seeds = np.asarray([int(s) for s in seed_ids if int(s) in self], dtype=np.int64)
        if seeds.size == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        seed_vectors = self._vectors_of(seeds)
        banned = set(int(i) for i in seeds) | set(int(i) for i in exclude)
        candidates = self._candidates(seed_vectors, weights, k + len(banned))
        candidates = np.asarray([c for c in candidates if c not in banned], dtype=np.int64)
        if candidates.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = pair_scores(seed_vectors, self._vectors_of(candidates), weights)
        with np.errstate(invalid="ignore"):
            usable = ~np.all(np.isnan(scores), axis=1)
        mean_scores = np.full(candidates.size, -np.inf, dtype=np.float32)
        if usable.any():
            mean_scores[usable] = np.nanmean(scores[usable], axis=1)
        order = np.lexsort((candidates, -mean_scores))
        order = order[usable[order]][:k]
        return candidates[order], mean_scores[order]

    def _candidates(self, seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float], k: int) -> list[int]:
        wanted = max(MIN_CANDIDATES, 4 * k)
        found: dict[int, None] = {}
        for modality, index in self.indexes.items():
            if weights.get(modality, 0.0) <= 0:
                continue
            vectors, present = seed_vectors[modality]
            if not present.any():
                continue
            ids, _ = index.search(vectors[present], wanted)
            for track_id in ids.reshape(-1):
                found.setdefault(int(track_id), None)
        return list(found)

    def save(self, folder: Path) -> dict:
        """Write every modality into ``folder``; returns the description stored in ``hybrid.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        description = {"format_version": FORMAT_VERSION, "modalities": {}}
        for modality, index in self.indexes.items():
            index.save(folder / modality)
            standardiser = self.standardisers[modality]
            np.savez(folder / modality / "standardiser.npz", mean=standardiser.mean, scale=standardiser.scale)
            description["modalities"][modality] = {
                "dim": index.dim,
                "count": len(index),
                "model_version": self.model_versions.get(modality, ""),
                "backend": index.backend,
            }
        (folder / "hybrid.json").write_text(json.dumps(description, indent=2))
        return description

    @classmethod
    def load(cls, folder: Path, *, expect_models: Mapping[str, str] | None = None) -> "HybridIndex":
        """Read a folder written by :meth:`save`.

        With ``expect_models``, a modality whose stored model version differs
        raises :class:`IndexMismatchError`.
        """
        folder = Path(folder)
        try:
            description = json.loads((folder / "hybrid.json").read_text())
        except (OSError, ValueError) as error:
            raise IndexMismatchError(f"{folder}: not a Crossfade index folder ({error})") from None
        if description.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(f"{folder}: index format {description.get('format_version')} is not {FORMAT_VERSION}; run a full reindex")
        indexes: dict[str, VectorIndex] = {}
        standardisers: dict[str, Standardiser] = {}
        versions: dict[str, str] = {}
        for modality, info in description["modalities"].items():
            if expect_models and modality in expect_models and expect_models[modality] != info["model_version"]:
                raise IndexMismatchError(
                    f"{folder}: the {modality} index was built with {info['model_version']!r}, "
                    f"but {expect_models[modality]!r} is configured; run reindex"
                )
            index = VectorIndex.load(folder / modality)
            if index.dim != info["dim"]:
                raise IndexMismatchError(f"{folder}: {modality} index has dimension {index.dim}, expected {info['dim']}")
            with np.load(folder / modality / "standardiser.npz", allow_pickle=False) as arrays:
                standardisers[modality] = Standardiser(arrays["mean"].astype(np.float32), arrays["scale"].astype(np.float32))
            indexes[modality] = index
            versions[modality] = info["model_version"]
        return cls(indexes, standardisers, versions)
