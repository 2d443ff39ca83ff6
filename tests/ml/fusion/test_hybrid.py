from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import IndexMismatchError, MLError
from ml.fusion.hybrid import HybridIndex, Standardiser, balance_weights, pair_scores


def _unit(*values: float) -> np.ndarray:
    return l2_normalise(np.asarray([values], dtype=np.float32))[0]


def test_balance_weights_have_exact_meaning():
    assert balance_weights(1.0) == {"audio": 1.0, "lyrics": 0.0}
    assert balance_weights(0.25) == {"audio": 0.25, "lyrics": 0.75}
    for bad in (-0.1, 1.5, float("nan"), "0.5"):
        with pytest.raises(MLError):
            balance_weights(bad)  # type: ignore[arg-type]


def test_pair_score_is_the_weighted_mean_of_shared_modalities():
    seed = {"audio": (np.array([_unit(1, 0)]), np.array([True])), "lyrics": (np.array([_unit(1, 0)]), np.array([True]))}
    candidates = {
        "audio": (np.array([_unit(1, 0), _unit(0, 1), _unit(1, 1)]), np.array([True, True, True])),
        "lyrics": (np.array([_unit(0, 1), _unit(1, 0), _unit(0, 0.0001)]), np.array([True, True, False])),
    }
    scores = pair_scores(seed, candidates, {"audio": 0.75, "lyrics": 0.25})[:, 0]
    assert scores[0] == pytest.approx(0.75 * 1 + 0.25 * 0)
    assert scores[1] == pytest.approx(0.75 * 0 + 0.25 * 1)
    # The third has no lyrics: scored on audio alone, renormalised by the weight present.
    assert scores[2] == pytest.approx(np.cos(np.pi / 4), abs=1e-6)


def test_a_pair_with_no_shared_weighted_modality_has_no_score():
    seed = {"audio": (np.array([_unit(1, 0)]), np.array([True])), "lyrics": (np.zeros((1, 2), np.float32), np.array([False]))}
    candidate = {"audio": (np.array([_unit(1, 0)]), np.array([True])), "lyrics": (np.array([_unit(1, 0)]), np.array([True]))}
    assert np.isnan(pair_scores(seed, candidate, balance_weights(0.0))[0, 0])
    assert pair_scores(seed, candidate, balance_weights(0.5))[0, 0] == pytest.approx(1.0)


def test_standardiser_centres_the_catalogue(rng):
    shared = rng.standard_normal(16) * 5
    vectors = shared + rng.standard_normal((200, 16))
    raw_mean_cosine = float(np.mean(l2_normalise(vectors) @ l2_normalise(vectors).T))
    standardised = Standardiser.fit(vectors).apply(vectors)
    assert raw_mean_cosine > 0.8
    assert abs(float(np.mean(standardised @ standardised.T))) < 0.05
    np.testing.assert_allclose(np.linalg.norm(standardised, axis=1), 1.0, atol=1e-5)


def _catalogue(rng):
    """Two audio clusters and two lyrics clusters that cut across them; track 9 is instrumental."""
    audio_centres = rng.standard_normal((2, 8)) * 3
    lyrics_centres = rng.standard_normal((2, 12)) * 3
    ids = np.arange(10, dtype=np.int64)
    audio = audio_centres[ids % 2] + 0.3 * rng.standard_normal((10, 8))
    lyrics = lyrics_centres[(ids // 5) % 2] + 0.3 * rng.standard_normal((10, 12))
    return HybridIndex.build({"audio": (ids, audio), "lyrics": (ids[:9], lyrics[:9])}, {"audio": "a1", "lyrics": "l1"})


def test_balance_moves_results_between_modalities(rng):
    index = _catalogue(rng)
    audio_only, _ = index.similar([0], k=4, balance=1.0)
    lyrics_only, _ = index.similar([0], k=4, balance=0.0)
    assert all(i % 2 == 0 for i in audio_only)  # same audio cluster: even ids
    assert all(i < 5 for i in lyrics_only)  # same lyrics cluster: ids 0-4


def test_instrumental_competes_on_audio_and_is_left_out_of_lyrics_only(rng):
    index = _catalogue(rng)
    ids, scores = index.similar([1], k=9, balance=0.5)
    assert 9 in ids  # instrumental, same audio cluster as 1
    lyrics_ids, _ = index.similar([1], k=9, balance=0.0)
    assert 9 not in lyrics_ids
    assert len(index) == 10 and index.counts() == {"audio": 10, "lyrics": 9}


def test_similar_excludes_seeds_and_excluded_and_is_sorted(rng):
    index = _catalogue(rng)
    ids, scores = index.similar([0, 2], k=20, balance=0.5, exclude=[4])
    assert not {0, 2, 4} & set(ids)
    assert list(scores) == sorted(scores, reverse=True)
    assert index.similar([12345], k=5, balance=0.5)[0].size == 0


def test_exact_hybrid_ranking_matches_brute_force(rng):
    index = _catalogue(rng)
    ids, scores = index.similar([3], k=9, balance=0.3)
    seed_vectors = index._vectors_of(np.array([3]))
    all_ids = np.array([i for i in range(10) if i != 3])
    brute = pair_scores(seed_vectors, index._vectors_of(all_ids), balance_weights(0.3))[:, 0]
    order = np.argsort(-brute, kind="stable")
    np.testing.assert_allclose(scores, brute[order], atol=1e-6)


def test_save_load_round_trip_and_model_check(rng, tmp_path):
    index = _catalogue(rng)
    index.save(tmp_path / "v1")
    loaded = HybridIndex.load(tmp_path / "v1", expect_models={"audio": "a1"})
    for a, b in zip(index.similar([5], k=5, balance=0.6), loaded.similar([5], k=5, balance=0.6)):
        np.testing.assert_allclose(a, b)
    with pytest.raises(IndexMismatchError, match="run reindex"):
        HybridIndex.load(tmp_path / "v1", expect_models={"audio": "a2"})
