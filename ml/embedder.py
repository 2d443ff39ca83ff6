"""The one seam between embedders and the rest of ml: the :class:`Embedder` protocol."""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns items (audio paths, lyrics texts) into vectors.

    ``embed`` returns a float32 array of shape ``(len(items), dim)`` whose rows
    are L2-normalised. ``version`` names the model and every setting that
    changes its output, so a stored vector can be recognised as stale.
    """

    name: str
    version: str
    dim: int

    def embed(self, items: Sequence[str]) -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray, *, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``vectors`` (shape ``(n, dim)``) scaled to unit length, as float32.

    An all-zero row stays zero rather than turning into NaN.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, eps)).astype(np.float32, copy=False)
