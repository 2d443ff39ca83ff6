"""Two-dimensional layouts of the hybrid space, for the catalogue map, and a score to choose among them.

t-SNE (van der Maaten & Hinton, 2008) keeps close tracks close, which is
what a listener reads off a map; distances between far clusters mean little.
It lays out either vectors (PCA to at most 50 dimensions first, as is
usual) or a precomputed distance matrix (1 - the hybrid score, which
compares two tracks only on the modalities both have, where fused vectors
would count a missing lyrics vector as zeros). Tiny catalogues (fewer than
4 tracks) get a PCA layout, since t-SNE needs its perplexity below the
number of points.

Which perplexity suits a catalogue is measured, not guessed:
:func:`layout_score` is how often a track's nearest neighbours on the map
share its label (a genre), other artists only; :func:`layout_choose` lays
the catalogue out at each of :data:`PERPLEXITIES` and keeps the best.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ml.errors import MLError
from ml.metrics import neighbour_precision

#: Perplexities :func:`layout_choose` tries (those at or above a third of the catalogue are capped there).
PERPLEXITIES: tuple[float, ...] = (5.0, 15.0, 30.0)
#: Neighbours :func:`layout_score` looks at.
SCORE_K = 5
#: t-SNE iterations: enough for it to settle after its early-exaggeration phase (250 of them) on any catalogue size.
ITERATIONS = 1000


class ProjectionError(MLError):
    """The vectors cannot be laid out (none, or not finite)."""


def project_2d(vectors: np.ndarray | None = None, *, distances: np.ndarray | None = None, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Lay out ``vectors`` (float32 ``(n, dim)``) or ``distances`` (float ``(n, n)``, symmetric, zero diagonal) in the unit square.

    Returns float32 ``(n, 2)`` in ``[0, 1]``; deterministic for a given ``seed``.
    The perplexity is capped below a third of the points.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import MDS, TSNE

    if (vectors is None) == (distances is None):
        raise ProjectionError("lay out either vectors or distances")
    data = np.asarray(vectors if vectors is not None else distances, dtype=np.float32)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ProjectionError("nothing to lay out: the index holds no vectors")
    if not np.all(np.isfinite(data)):
        raise ProjectionError("the vectors hold NaN or infinite values; rebuild the index")
    n = data.shape[0]
    if n == 1:
        return np.full((1, 2), 0.5, np.float32)
    if distances is not None:
        if data.shape != (n, n):
            raise ProjectionError(f"a distance matrix is square, not {data.shape}")
        data = np.clip((data + data.T) / 2.0, 0.0, None)
        np.fill_diagonal(data, 0.0)
        if n < 4:
            layout = MDS(n_components=2, metric="precomputed", init="classical_mds", random_state=seed, n_init=1).fit_transform(data.astype(np.float64))
        else:
            layout = TSNE(
                n_components=2, perplexity=min(perplexity, (n - 1) / 3.0), metric="precomputed", init="random", random_state=seed, max_iter=ITERATIONS
            ).fit_transform(data)
    else:
        components = min(50, n, data.shape[1])
        reduced = PCA(n_components=components, random_state=seed).fit_transform(data) if components >= 2 else np.hstack([data[:, :1], np.zeros((n, 1), np.float32)])
        if n < 4:
            layout = reduced[:, :2]
        else:
            layout = TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3.0), init="pca", random_state=seed, max_iter=ITERATIONS).fit_transform(
                reduced.astype(np.float32)
            )
    low, high = layout.min(axis=0), layout.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    return ((layout - low) / span).astype(np.float32)


def layout_score(layout: np.ndarray, labels: Sequence[str], groups: Sequence[str], *, k: int = SCORE_K) -> float | None:
    """How often a track's ``k`` nearest neighbours on ``layout`` (float ``(n, 2)``) share its label, other groups only.

    ``labels`` are genres ("" for none: such tracks neither ask nor answer),
    ``groups`` artists, so an artist's own tracks do not make a map look
    better than it is. None when too few tracks are labelled to tell.
    """
    points = np.asarray(layout, dtype=np.float64)
    squared = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1)
    return similarity_score(-squared, labels, groups, k=k)


def similarity_score(similarity: np.ndarray, labels: Sequence[str], groups: Sequence[str], *, k: int = SCORE_K) -> float | None:
    """:func:`layout_score` for any similarity matrix ``(n, n)`` (the full embedding's, to compare a map against)."""
    labelled = np.asarray([bool(label) for label in labels])
    if labelled.sum() <= k:
        return None
    keep = [int(i) for i in np.flatnonzero(labelled)]
    result = neighbour_precision(np.asarray(similarity)[np.ix_(keep, keep)], [labels[i] for i in keep], [groups[i] for i in keep], ks=(k,))
    value = result[f"p@{k}"]
    return None if value is None else float(value)


def layout_choose(
    distances: np.ndarray, labels: Sequence[str], groups: Sequence[str], *, seed: int = 0, perplexities: Sequence[float] = PERPLEXITIES
) -> tuple[np.ndarray, float, dict[str, float | None]]:
    """The t-SNE layout of ``distances`` whose :func:`layout_score` is best among ``perplexities``.

    Returns ``(layout float32 (n, 2), chosen perplexity, {str(perplexity): score})``;
    perplexities above a third of the catalogue are capped there (and tried once).
    Without enough labels to score, the first perplexity is used.
    """
    n = int(np.asarray(distances).shape[0])
    cap = max(1.0, (n - 1) / 3.0)
    tried = list(dict.fromkeys(round(min(float(p), cap), 2) for p in perplexities))
    best: tuple[np.ndarray, float] | None = None
    best_score = -np.inf
    scores: dict[str, float | None] = {}
    for perplexity in tried:
        layout = project_2d(distances=distances, seed=seed, perplexity=perplexity)
        score = layout_score(layout, labels, groups)
        scores[f"{perplexity:g}"] = None if score is None else round(score, 4)
        if best is None or (score is not None and score > best_score):
            best, best_score = (layout, perplexity), (score if score is not None else -np.inf)
        if score is None:
            break  # nothing to compare on: every perplexity would look the same to the score
    if best is None:
        raise ProjectionError("no perplexity to try")
    return best[0], best[1], scores
