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
