"""Two-dimensional layouts of the hybrid space, for the catalogue map.

t-SNE (van der Maaten & Hinton, 2008) keeps close tracks close, which is
what a listener reads off a map; distances between far clusters mean little.
PCA to at most 50 dimensions first, as is usual, so large catalogues stay
tractable. Tiny catalogues (fewer than 4 tracks) get a PCA layout, since
t-SNE needs its perplexity below the number of points.
"""
from __future__ import annotations

import numpy as np

from ml.errors import MLError


class ProjectionError(MLError):
    """The vectors cannot be laid out (none, or not finite)."""


def project_2d(vectors: np.ndarray, *, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Lay ``vectors`` (float32 ``(n, dim)``) out in the unit square: float32 ``(n, 2)`` in ``[0, 1]``.

    Deterministic for a given ``seed``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] == 0:
        raise ProjectionError("nothing to lay out: the index holds no vectors")
    if not np.all(np.isfinite(vectors)):
        raise ProjectionError("the vectors hold NaN or infinite values; rebuild the index")
    n = vectors.shape[0]
    if n == 1:
        return np.full((1, 2), 0.5, np.float32)
    components = min(50, n, vectors.shape[1])
    reduced = PCA(n_components=components, random_state=seed).fit_transform(vectors) if components >= 2 else np.hstack([vectors[:, :1], np.zeros((n, 1), np.float32)])
    if n < 4:
        layout = reduced[:, :2]
    else:
        layout = TSNE(
            n_components=2,
            perplexity=min(perplexity, (n - 1) / 3.0),
            init="pca",
            random_state=seed,
            max_iter=max(250, min(1000, 250 + n // 10)),
        ).fit_transform(reduced.astype(np.float32))
    low, high = layout.min(axis=0), layout.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    return ((layout - low) / span).astype(np.float32)
