"""'For you' on a large catalogue: the taste model's best tracks come from the index search, not a full scan."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from ml.fusion.hybrid import HybridIndex
from ml.playlist.taste import TasteModel, taste_features
from tests.ml.fusion.catalogues import clustered_catalogue


def _model(index: HybridIndex, rng) -> TasteModel:
    """A listener whose likes follow one hidden direction in both modalities."""
    ids = index.track_ids()
    rated = rng.choice(ids, 300, replace=False)
    features = taste_features(index, rated)
    hidden = rng.standard_normal(features.shape[1])
    labels = (features @ hidden > np.median(features @ hidden)).astype(int)
    classifier = LogisticRegression(max_iter=2000).fit(features, labels)
    return TasteModel(classifier, index, int(labels.sum()), int((1 - labels).sum()), 1.0, 5, frozenset(int(i) for i in rated))


@pytest.mark.parametrize("overrides", [{"nlist": 64, "nprobe": 4}, {"nlist": 64, "nprobe": 4, "codec": "PQfs", "oversample": 3}], ids=["ivf-sq8", "ivf-fastscan"])
def test_best_tracks_through_the_index_match_scoring_every_track(rng, overrides):
    vectors = clustered_catalogue(rng)
    exact = HybridIndex.build(vectors, {})
    large = HybridIndex.build(vectors, {}, backend="ivf", overrides=overrides)
    assert exact.fused is None and large.fused is not None
    model = _model(exact, rng)
    served = TasteModel(model.classifier, large, model.likes, model.dislikes, 1.0, 5, model.rated_ids)
    exclude = sorted(model.rated_ids)
    ids, probabilities = served.best(50, exclude=exclude)
    # The truth: every unrated track scored by the classifier.
    universe = exact.track_ids()
    universe = universe[~np.isin(universe, exclude)]
    every = model.like_probability(universe)
    truth = universe[np.lexsort((universe, -every))][:50]
    # A random direction is a hard case for IVF (its best tracks are at the catalogue's edge);
    # visiting 4x the lists (16 of 64) finds nearly all of them.
    assert len(set(ids.tolist()) & set(truth.tolist())) >= 47 and not set(ids.tolist()) & set(exclude)
    assert np.all(np.diff(probabilities) <= 0)
    np.testing.assert_allclose(probabilities, model.like_probability(ids), atol=1e-6)  # exact probabilities
    # On an exact catalogue every track is scored: the same list as the truth.
    exact_ids, _ = model.best(50, exclude=exclude)
    assert exact_ids.tolist() == truth.tolist()


def test_recent_plays_weigh_more_and_repeats_add_up_to_a_cap():
    from ml.playlist.taste import PLAY_HALF_LIFE_DAYS, PLAY_WEIGHT, play_weights

    weights = play_weights([1, 2, 3, 3, 3, 3, 3], [0.0, PLAY_HALF_LIFE_DAYS, 0.0, 0.0, 0.0, 0.0, -5.0])
    assert weights[1] == pytest.approx(PLAY_WEIGHT) and weights[2] == pytest.approx(PLAY_WEIGHT / 2)
    assert weights[3] == 1.0  # five plays of now would be 2.5; capped at a like's weight
    with pytest.raises(Exception, match="ages"):
        play_weights([1, 2], [0.0])


def test_plays_teach_the_taste_model_and_recent_ones_more(rng):
    from ml.errors import MLError  # noqa: F401 - TasteNotReadyError is one
    from ml.playlist.taste import TasteNotReadyError, taste_fit

    vectors = clustered_catalogue(rng)
    index = HybridIndex.build(vectors, {})
    ids = index.track_ids()
    features = taste_features(index, ids)
    direction = rng.standard_normal(features.shape[1])
    side = features @ direction
    liked, disliked = ids[np.argsort(-side)[:40]], ids[np.argsort(side)[:40]]
    dislikes = [(int(t), -1) for t in disliked[:8]]
    with pytest.raises(TasteNotReadyError):
        taste_fit(index, dislikes)
    # No likes at all: plays of tracks on the liked side are enough to learn it.
    model = taste_fit(index, dislikes, plays={int(t): 1.0 for t in liked[:8]})
    assert model.played == 8 and model.likes == 8
    assert model.like_probability(liked[20:]).mean() > model.like_probability(disliked[20:]).mean() + 0.2
    # A rated track counts as its rating, not as a play.
    rated_and_played = taste_fit(index, dislikes, plays={int(disliked[0]): 1.0, **{int(t): 1.0 for t in liked[:8]}})
    assert rated_and_played.played == 8


def test_typicality_ranks_the_rows_nearest_the_centroid_first():
    from ml.playlist.vectors import typicality

    base = np.asarray([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [-0.2, 1.0]], np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    vector_set = {"audio": (base, np.ones(4, bool))}
    ranking = typicality(vector_set, {"audio": 1.0})
    assert int(np.argmax(ranking)) in (1, 2) and int(np.argmin(ranking)) == 3
