"""Per-user taste: a classifier over the hybrid embeddings learned from likes, dislikes and plays.

Likes (a player's stars are likes) and dislikes weigh 1 each; a track the
listener played but never rated is a positive example whose weight grows
with its plays and fades with their age (:func:`play_weights`: recent plays
weigh more). Features of a track are its standardised audio vector and its standardised
lyrics vector side by side (zeros plus a "missing" flag for an instrumental),
the same vectors the index searches. A logistic regression per user,
class-balanced, is cross-validated (stratified k-fold, k up to 5) so the user
sees how well it can tell their likes apart before trusting it.
Spotify fields are never features (they are metadata, not training data).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol, Sequence

import numpy as np

from ml.errors import MLError
from ml.fusion.hybrid import HybridIndex
from ml.playlist.vectors import vectors_of

logger = logging.getLogger(__name__)

MIN_LIKES = 5
MIN_DISLIKES = 5
#: A play's weight halves every this many days.
PLAY_HALF_LIFE_DAYS = 30.0
#: The weight of one play made just now; a like weighs 1.
PLAY_WEIGHT = 0.5
#: However often a track was played, it weighs at most this (as much as a like).
PLAY_WEIGHT_CAP = 1.0


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
    #: Played-but-unrated tracks that counted as positive examples.
    played: int = 0

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


def play_weights(
    track_ids: Sequence[int] | np.ndarray,
    ages_days: Sequence[float] | np.ndarray,
    *,
    half_life_days: float = PLAY_HALF_LIFE_DAYS,
    per_play: float = PLAY_WEIGHT,
    cap: float = PLAY_WEIGHT_CAP,
) -> dict[int, float]:
    """Per track, the summed weight of its plays: ``per_play * 0.5 ** (age / half_life)`` each, capped at ``cap``.

    ``track_ids`` and ``ages_days`` are ``(n,)``, one entry per play (a track
    played five times appears five times); a negative age counts as now.
    """
    ids = np.asarray(track_ids, dtype=np.int64).reshape(-1)
    ages = np.maximum(np.asarray(ages_days, dtype=np.float64).reshape(-1), 0.0)
    if ids.shape != ages.shape:
        raise MLError(f"{ids.size} plays but {ages.size} ages")
    if half_life_days <= 0 or per_play <= 0 or cap <= 0:
        raise MLError("play weights need a positive half-life, weight and cap")
    weights = per_play * np.power(0.5, ages / half_life_days)
    totals: dict[int, float] = {}
    for track_id, weight in zip(ids.tolist(), weights.tolist()):
        totals[track_id] = totals.get(track_id, 0.0) + weight
    return {track_id: min(cap, total) for track_id, total in totals.items()}


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
        f"Your taste is learned from at least {MIN_LIKES} likes and {MIN_DISLIKES} dislikes (a track played in a player counts as a like): "
        f"you have {likes} and {dislikes}; rate {' and '.join(missing)}."
    )


def taste_fit(index: HybridIndex, ratings: Sequence[tuple[int, int]], *, plays: Mapping[int, float] | None = None, seed: int = 0) -> TasteModel:
    """Fit on ``ratings`` = ``[(track_id, +1 like / -1 dislike), ...]`` and ``plays`` = ``{track_id: weight}``.

    A played track that is also rated counts as its rating only; tracks
    missing from the index are skipped. Raises :class:`TasteNotReadyError`
    with fewer than 5 indexed positives (likes and played tracks) or dislikes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    usable = [(int(t), 1 if int(v) > 0 else 0, 1.0) for t, v in ratings if int(v) != 0 and int(t) in index]
    rated = {t for t, _, _ in usable}
    played = [(int(t), 1, float(w)) for t, w in (plays or {}).items() if int(t) not in rated and int(t) in index and w > 0]
    examples = usable + played
    labels = np.asarray([label for _, label, _ in examples], dtype=np.int64)
    weights = np.asarray([weight for _, _, weight in examples], dtype=np.float64)
    likes, dislikes = int(labels.sum()), int((labels == 0).sum())
    message = taste_status(likes, dislikes)
    if message:
        raise TasteNotReadyError(message)
    features = taste_features(index, [t for t, _, _ in examples])
    folds = int(min(5, likes, dislikes))

    def classifier_new() -> Any:  # scikit-learn has no type stubs
        return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    for train, test in splitter.split(features, labels):
        fold = classifier_new().fit(features[train], labels[train], sample_weight=weights[train])
        scores.append(float(np.mean(fold.predict(features[test]) == labels[test])))
    accuracy = float(np.mean(scores))
    classifier: LinearClassifier = classifier_new().fit(features, labels, sample_weight=weights)
    return TasteModel(classifier, index, likes, dislikes, round(accuracy, 4), folds, frozenset(t for t, _, _ in examples), played=len(played))
