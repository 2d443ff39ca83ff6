"""Per-user taste: a classifier over the hybrid embeddings learned from likes and dislikes.

Features of a track are its standardised audio vector and its standardised
lyrics vector side by side (zeros plus a "missing" flag for an instrumental),
the same vectors the index searches. A logistic regression per user,
class-balanced, is cross-validated (stratified k-fold, k up to 5) so the user
sees how well it can tell their likes apart before trusting it.
Spotify fields are never features (they are metadata, not training data).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

from ml.errors import MLError
from ml.fusion.hybrid import HybridIndex
from ml.playlist.vectors import vectors_of

logger = logging.getLogger(__name__)

MIN_LIKES = 5
MIN_DISLIKES = 5


class TasteNotReadyError(MLError):
    """Too few likes or dislikes to learn a taste from."""


class LinearClassifier(Protocol):
    """A fitted linear binary classifier, as scikit-learn's ``LogisticRegression``.

    ``coef_`` is ``(1, n_features)``; ``predict_proba`` maps features ``(n, n_features)``
    to ``(n, 2)`` probabilities of (dislike, like).
    """

    coef_: np.ndarray

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


def taste_features(index: HybridIndex, ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """float32 ``(n, sum of modality dims + number of modalities)``: vectors side by side plus missing flags."""
    vector_set = vectors_of(index, ids)
    parts = []
    for modality in sorted(vector_set):
        vectors, present = vector_set[modality]
        parts.append(vectors * present[:, None])
        parts.append((~present).astype(np.float32)[:, None])
    return np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((len(ids), 0), np.float32)


@dataclass
class TasteModel:
    """A fitted per-user classifier and its cross-validated accuracy."""

    classifier: LinearClassifier
    index: HybridIndex
    likes: int
    dislikes: int
    cv_accuracy: float
    cv_folds: int
    rated_ids: frozenset[int] = field(default_factory=frozenset)

    def like_probability(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """P(like) of each track id, float64 ``(n,)``; 0.5 for ids the index does not hold."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.full(ids.size, 0.5)
        known = np.zeros(ids.size, dtype=bool)
        for modality_index in self.index.indexes.values():
            known |= modality_index.contains(ids)
        if known.any():
            out[known] = self.classifier.predict_proba(taste_features(self.index, ids[known]))[:, 1]
        return out


    def directions(self) -> dict[str, np.ndarray]:
        """Per modality the classifier's weights over that modality's vector (features in :func:`taste_features` order)."""
        coefficients = np.asarray(self.classifier.coef_, dtype=np.float32).reshape(-1)
        out: dict[str, np.ndarray] = {}
        start = 0
        for modality in sorted(self.index.indexes):
            dim = self.index.indexes[modality].dim
            out[modality] = coefficients[start : start + dim]
            start += dim + 1  # the vector, then its missing flag
        return out

    def best(self, limit: int, *, exclude: Iterable[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The ``limit`` tracks most likely liked, best first (ties by id): ``(ids int64, P(like) float64)``.

        The logit is linear in the stored vectors, so the index finds the
        candidates (:meth:`HybridIndex.linear_candidates`) and only they are
        scored: a million-track catalogue is searched, not scored in full.
        """
        banned = np.asarray(sorted({int(i) for i in exclude}), dtype=np.int64)
        candidates = self.index.linear_candidates(self.directions(), limit + banned.size)
        candidates = candidates[~np.isin(candidates, banned)]
        if candidates.size == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        probabilities = self.like_probability(candidates)
        order = np.lexsort((candidates, -probabilities))[:limit]
        return candidates[order], probabilities[order]


def taste_status(likes: int, dislikes: int) -> str:
    """What is still missing before a taste can be learned, or "" when there is enough."""
    missing = []
    if likes < MIN_LIKES:
        missing.append(f"{MIN_LIKES - likes} more like{'s' if MIN_LIKES - likes > 1 else ''}")
    if dislikes < MIN_DISLIKES:
        missing.append(f"{MIN_DISLIKES - dislikes} more dislike{'s' if MIN_DISLIKES - dislikes > 1 else ''}")
    if not missing:
        return ""
    return (
        f"Your taste is learned from at least {MIN_LIKES} likes and {MIN_DISLIKES} dislikes: "
        f"you have {likes} and {dislikes}; rate {' and '.join(missing)}."
    )


def taste_fit(index: HybridIndex, ratings: Sequence[tuple[int, int]], *, seed: int = 0) -> TasteModel:
    """Fit on ``ratings`` = ``[(track_id, +1 like / -1 dislike), ...]`` (tracks missing from the index are skipped).

    Raises :class:`TasteNotReadyError` with fewer than 5 indexed likes or dislikes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    usable = [(int(t), int(v)) for t, v in ratings if int(t) in index]
    labels = np.asarray([1 if v > 0 else 0 for _, v in usable], dtype=np.int64)
    likes, dislikes = int(labels.sum()), int((labels == 0).sum())
    message = taste_status(likes, dislikes)
    if message:
        raise TasteNotReadyError(message)
    features = taste_features(index, [t for t, _ in usable])
    folds = int(min(5, likes, dislikes))

    def classifier_new() -> Any:  # scikit-learn has no type stubs
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    accuracy = float(np.mean(cross_val_score(classifier_new(), features, labels, cv=splitter, scoring="accuracy")))
    classifier: LinearClassifier = classifier_new().fit(features, labels)
    return TasteModel(classifier, index, likes, dislikes, round(accuracy, 4), folds, frozenset(t for t, _ in usable))
