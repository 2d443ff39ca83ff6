"""Catalogue whitening: maps fitted on a catalogue's vectors so cosines measure how tracks differ from the typical one.

Each modality's raw embedder vectors are whitened with a map fitted on the
catalogue (:class:`Standardiser`: per-dimension centring and scaling, or
:class:`Whitener`: full-covariance ZCA whitening with Ledoit-Wolf shrinkage;
:class:`Normaliser` keeps the embedder's own geometry), then L2-normalised.
:class:`ProjectedWhitener` adds a learned fusion projection on top.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol

import numpy as np

from ml.embedder import l2_normalise
from ml.errors import MLError

WHITENINGS: tuple[str, ...] = ("standardise", "whiten", "none")
#: Per-dimension standardisation is the default by the numbers
#: (``python -m ml.evaluate``, docs/index.md): on the demo catalogue with
#: musicnn + multilingual USE, p@5 audio 0.958 vs 0.475 (ZCA) vs 0.950 (none),
#: hybrid 0.79 vs 0.42 vs 0.73; on the 10-track JamendoLyrics set the options
#: differ by one or two hits.
DEFAULT_WHITENING = "standardise"
#: Whiteners are fitted on at most this many rows (a seeded sample).
FIT_SAMPLE = 200_000


class Whitening(Protocol):
    """What the index needs of a whitening: its kind, ``apply`` to raw vectors, and its arrays to save."""

    @property
    def kind(self) -> str: ...

    def apply(self, vectors: np.ndarray) -> np.ndarray: ...

    def arrays(self) -> dict[str, np.ndarray]: ...


#: Rows per block when fitting: float64 temporaries stay ~16 MB at 512 dimensions, whatever the sample size.
_FIT_BLOCK_ROWS = 4096


def _blocked_moments(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension float64 mean and (population) variance of float32 ``(n, dim)``, two passes over row blocks.

    Same figures as ``vectors.mean/var(axis=0, dtype=np.float64)`` up to rounding, without the
    ``(n, dim)`` float64 temporaries those make (0.8 GB for a 200,000 x 512 fit sample).
    """
    n = vectors.shape[0]
    total = np.zeros(vectors.shape[1], np.float64)
    for start in range(0, n, _FIT_BLOCK_ROWS):
        total += vectors[start:start + _FIT_BLOCK_ROWS].sum(axis=0, dtype=np.float64)
    mean = total / n
    squares = np.zeros_like(total)
    for start in range(0, n, _FIT_BLOCK_ROWS):
        centred = vectors[start:start + _FIT_BLOCK_ROWS].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    return mean, squares / n


@dataclass(frozen=True)
class Standardiser:
    """Per-dimension centring and scaling fitted on a catalogue, then L2 normalisation."""

    mean: np.ndarray  # float32 (dim,)
    scale: np.ndarray  # float32 (dim,)
    kind = "standardise"

    @classmethod
    def fit(cls, vectors: np.ndarray, *, shrinkage: float = 0.1) -> "Standardiser":
        """Fit on float32 ``(n, dim)``; with fewer than 3 rows it only normalises."""
        vectors = np.asarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if vectors.shape[0] < 3:
            return cls(np.zeros(dim, np.float32), np.ones(dim, np.float32))
        mean, variance = _blocked_moments(vectors)
        # Shrink toward the average variance so near-constant dimensions are not blown up.
        scale = np.sqrt(variance + shrinkage * float(variance.mean()) + 1e-12)
        return cls(mean.astype(np.float32), scale.astype(np.float32))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Standardised, unit-length copy of float32 ``(n, dim)``."""
        return l2_normalise((np.asarray(vectors, dtype=np.float32) - self.mean) / self.scale)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale}


@dataclass(frozen=True)
class Whitener:
    """Full-covariance (ZCA) whitening fitted on a catalogue, then L2 normalisation.

    ``l2((x - mean) @ matrix)`` with ``matrix = U diag(1/sqrt(lambda)) U^T`` of
    the Ledoit-Wolf-shrunk covariance (the shrinkage is estimated from the
    data, so a 40-track catalogue in 384 dimensions stays well conditioned).
    PCA whitening differs from ZCA only by the rotation ``U``, which no cosine
    can see, so this one class covers both.
    """

    mean: np.ndarray  # float32 (dim,)
    matrix: np.ndarray  # float32 (dim, dim)
    kind = "whiten"

    @classmethod
    def fit(cls, vectors: np.ndarray) -> "Whitener":
        """Fit on float32 ``(n, dim)``; with fewer than 3 rows it only normalises."""
        from sklearn.covariance import ledoit_wolf

        vectors = np.asarray(vectors, dtype=np.float64)
        dim = vectors.shape[1]
        if vectors.shape[0] < 3:
            return cls(np.zeros(dim, np.float32), np.eye(dim, dtype=np.float32))
        mean = vectors.mean(axis=0)
        covariance, _ = ledoit_wolf(vectors - mean, assume_centered=True)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues = np.maximum(eigenvalues, 1e-12 * max(float(eigenvalues.max()), 1e-30))
        matrix = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T
        return cls(mean.astype(np.float32), matrix.astype(np.float32))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Whitened, unit-length copy of float32 ``(n, dim)``."""
        return l2_normalise((np.asarray(vectors, dtype=np.float32) - self.mean) @ self.matrix)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "matrix": self.matrix}


@dataclass(frozen=True)
class Normaliser:
    """No whitening: L2 normalisation only (the embedders' own geometry)."""

    dim: int
    kind = "none"

    @classmethod
    def fit(cls, vectors: np.ndarray) -> "Normaliser":
        return cls(int(np.asarray(vectors).shape[1]))

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        return l2_normalise(np.asarray(vectors, dtype=np.float32))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"dim": np.asarray(self.dim)}


def whitener_fit(vectors: np.ndarray, *, kind: str = DEFAULT_WHITENING, seed: int = 0) -> Standardiser | Whitener | Normaliser:
    """The catalogue whitening of ``kind`` fitted on float32 ``(n, dim)`` (a seeded sample above FIT_SAMPLE rows)."""
    if kind not in WHITENINGS:
        raise MLError(f"unknown whitening {kind!r}; choose one of {', '.join(WHITENINGS)}")
    vectors = np.asarray(vectors)
    if vectors.shape[0] > FIT_SAMPLE:
        vectors = vectors[np.sort(np.random.default_rng(seed).choice(vectors.shape[0], FIT_SAMPLE, replace=False))]
    if kind == "standardise":
        return Standardiser.fit(vectors)
    if kind == "whiten":
        return Whitener.fit(vectors)
    return Normaliser.fit(vectors)


def whitener_read(path: Path) -> Whitening:
    """The whitening saved by ``np.savez(path, **whitening.arrays())``, learned projection included."""
    with np.load(path, allow_pickle=False) as arrays:
        if "projection" in arrays:
            base_arrays = {key: arrays[key] for key in arrays.files if key not in ("projection", "fusion_version")}
            return ProjectedWhitener(whitener_from(base_arrays), arrays["projection"].astype(np.float32), str(arrays["fusion_version"]))
        return whitener_from({key: arrays[key] for key in arrays.files})


def whitener_from(arrays: Mapping[str, np.ndarray]) -> Standardiser | Whitener | Normaliser:
    """The plain whitening whose :meth:`arrays` are ``arrays``."""
    if "matrix" in arrays:
        return Whitener(arrays["mean"].astype(np.float32), arrays["matrix"].astype(np.float32))
    if "scale" in arrays:
        return Standardiser(arrays["mean"].astype(np.float32), arrays["scale"].astype(np.float32))
    return Normaliser(int(arrays["dim"]))


@dataclass(frozen=True)
class ProjectedWhitener:
    """A catalogue whitener followed by a learned fusion projection: ``l2(l2(whiten(x)) @ P)``.

    Drop-in for the whiteners above: ``apply`` maps raw
    embedder vectors ``(n, dim_m)`` into the index space ``(n, d)``.
    """

    base: Whitening
    projection: np.ndarray  # float32 (dim_m, d)
    fusion_version: str = ""

    @property
    def kind(self) -> str:
        return f"{self.base.kind}+fusion"

    @property
    def dim(self) -> int:
        return int(self.projection.shape[1])

    @property
    def input_dim(self) -> int:
        """Dimension of the raw embedder vectors it takes."""
        return int(self.projection.shape[0])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        return l2_normalise(self.base.apply(vectors) @ self.projection)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.base.arrays(), "projection": self.projection, "fusion_version": np.asarray(self.fusion_version)}
