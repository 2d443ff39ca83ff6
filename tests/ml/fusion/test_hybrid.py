from __future__ import annotations

import numpy as np
import pytest

from ml.errors import IndexMismatchError
from ml.fusion.hybrid import HybridIndex
from ml.scoring import balance_weights, pair_scores
from tests.ml.fusion.catalogues import clustered_catalogue


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
    seed_vectors = index.vectors_of(np.array([3]))
    all_ids = np.array([i for i in range(10) if i != 3])
    brute = pair_scores(seed_vectors, index.vectors_of(all_ids), balance_weights(0.3))[:, 0]
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


def _brute(index, seed, balance, k):
    universe = index.track_ids()
    scores = pair_scores(index.vectors_of(np.array([seed])), index.vectors_of(universe), balance_weights(balance))[:, 0]
    scores[universe == seed] = np.nan
    keep = ~np.isnan(scores)
    order = np.lexsort((universe[keep], -scores[keep]))[:k]
    return universe[keep][order], scores[keep][order]


#: The million-track fused codec, scaled down: 4-bit fast-scan PQ, 3x candidates.
FASTSCAN = {"nlist": 16, "nprobe": 4, "codec": "PQfs", "oversample": 3}


#: The million-track configuration scaled down: fast-scan candidates, 8-bit refine codes, a short list re-scored exactly.
FASTSCAN_CODES = {**FASTSCAN, "storage": "sq8"}


@pytest.mark.parametrize(
    "backend, overrides", [("ivf", {"nlist": 16, "nprobe": 4}), ("ivf", FASTSCAN), ("ivf", FASTSCAN_CODES), ("hnsw", None)], ids=["ivf-sq8", "ivf-fastscan", "ivf-fastscan-codes", "hnsw"]
)
def test_approximate_backends_match_exact_hybrid_at_every_balance(rng, backend, overrides):
    vectors = clustered_catalogue(rng)
    index = HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}, backend=backend, overrides=overrides)
    assert index.fused is not None and index.backend == backend
    if overrides:
        assert index.fused.params.codec == overrides["codec"] if "codec" in overrides else index.fused.params.codec == "SQ8"
    assert index.reranks_exactly == ((overrides or {}).get("storage") == "sq8")
    exact = HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}, backend="flat")
    assert exact.fused is None
    recalls = []
    for seed in index.track_ids()[::150]:
        for balance in (0.0, 0.3, 1.0):
            ids, scores = index.similar([int(seed)], k=20, balance=balance)
            truth, truth_scores = _brute(exact, int(seed), balance, 20)
            np.testing.assert_array_equal(exact.similar([int(seed)], k=20, balance=balance)[0], truth)
            # Scores are exact hybrid scores whatever found the candidates.
            exact_copies = index.reranks_exactly
            recomputed = pair_scores(index.vectors_of(np.array([seed]), exact=exact_copies), index.vectors_of(ids, exact=exact_copies), balance_weights(balance))[:, 0]
            np.testing.assert_allclose(scores, recomputed, atol=1e-5)
            if exact_copies:
                np.testing.assert_allclose(scores, pair_scores(exact.vectors_of(np.array([seed])), exact.vectors_of(ids), balance_weights(balance))[:, 0], atol=2e-3)
            # A seed with no vector of the only weighted modality has no neighbours at all.
            recalls.append(len(set(ids) & set(truth)) / len(truth) if len(truth) else float(len(ids) == 0))
    assert np.mean(recalls) >= 0.97


def test_a_lyric_only_seed_finds_lyric_only_matches_through_the_modality_index(rng):
    vectors = clustered_catalogue(rng)
    index = HybridIndex.build(vectors, {}, backend="ivf", overrides={"nlist": 16, "nprobe": 4})
    audio_ids = set(vectors["audio"][0])
    lyric_only = [i for i in vectors["lyrics"][0] if i not in audio_ids]
    ids, _ = index.similar([lyric_only[0]], k=10, balance=0.9)
    truth, _ = _brute(index, lyric_only[0], 0.9, 10)
    assert set(ids) == set(truth)  # scored on lyrics alone: the weight present is renormalised away


def test_query_scores_outside_vectors_like_a_seed(rng):
    vectors = clustered_catalogue(rng, 500)
    index = HybridIndex.build(vectors, {})
    seed = int(vectors["audio"][0][5])
    raw = {m: ids_raw[1][ids_raw[0] == seed] for m, ids_raw in vectors.items() if seed in ids_raw[0]}
    by_query = index.query(raw, k=10, balance=0.4, exclude=[seed])
    by_seed = index.similar([seed], k=10, balance=0.4)
    np.testing.assert_array_equal(by_query[0], by_seed[0])
    np.testing.assert_allclose(by_query[1], by_seed[1], atol=1e-5)
    text_only, _ = index.query({"lyrics": raw["lyrics"][0]}, k=5, balance=0.0) if "lyrics" in raw else (np.zeros(0), None)
    assert set(text_only) <= set(vectors["lyrics"][0])
    with pytest.raises(IndexMismatchError):
        index.query({"audio": np.ones(3, np.float32)}, k=5, balance=0.5)


@pytest.mark.parametrize("backend", ["flat", "ivf", "ivf-fastscan"])
def test_update_adds_replaces_and_removes_without_rebuild(rng, backend, tmp_path):
    vectors = clustered_catalogue(rng, 2000)
    overrides = {"ivf": {"nlist": 16, "nprobe": 16}, "ivf-fastscan": {**FASTSCAN, "nprobe": 16}}.get(backend)
    backend = backend.partition("-")[0]
    index = HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}, backend=backend, overrides=overrides)
    index.save(tmp_path / "v1")
    loaded = HybridIndex.load(tmp_path / "v1", mmap=False)
    doomed = vectors["audio"][0][:50]
    newcomer_raw = vectors["audio"][1][100:101] + 0.01
    loaded.update(add={"audio": (np.array([10**7]), newcomer_raw)}, remove=doomed)
    assert 10**7 in loaded and not any(int(d) in loaded for d in doomed)
    for seed in vectors["audio"][0][60:70]:
        ids, _ = loaded.similar([int(seed)], k=100, balance=0.5)
        assert not set(ids) & set(doomed)
    ids, _ = loaded.similar([int(vectors["audio"][0][100])], k=5, balance=1.0)
    assert 10**7 in ids  # near-duplicate of the seed's audio
    loaded.save(tmp_path / "v2")
    again = HybridIndex.load(tmp_path / "v2")
    assert len(again) == len(loaded) and not any(int(d) in again for d in doomed)


def test_ivf_round_trip_through_files(rng, tmp_path):
    index = HybridIndex.build(clustered_catalogue(rng, 2000), {"audio": "a1", "lyrics": "l1"}, backend="ivf", overrides={"nlist": 16, "nprobe": 8})
    index.save(tmp_path / "v1")
    loaded = HybridIndex.load(tmp_path / "v1", expect_models={"lyrics": "l1"})
    assert loaded.backend == "ivf" and loaded.indexes["audio"].store.memory_mapped
    seed = int(index.track_ids()[3])
    for a, b in zip(index.similar([seed], k=15, balance=0.6), loaded.similar([seed], k=15, balance=0.6)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("backend, overrides", [("flat", None), ("ivf", {"nlist": 16, "nprobe": 4}), ("ivf", FASTSCAN)], ids=["flat", "ivf-sq8", "ivf-fastscan"])
def test_neighbours_are_each_query_rows_exact_top_k(rng, backend, overrides):
    """The playlist pool: per query row (a seed, a text, a point on a path) its k best tracks, unioned."""
    vectors = clustered_catalogue(rng)
    index = HybridIndex.build(vectors, {}, backend=backend, overrides=overrides)
    exact = HybridIndex.build(vectors, {}, backend="flat")
    seeds = index.track_ids()[[3, 400, 1700]]
    weights = balance_weights(0.4)
    queries = index.vectors_of(seeds)
    queries["lyrics"][1][2] = False  # the third row compares on audio only
    pool = index.neighbours(queries, weights, 25)
    universe = exact.track_ids()
    scores = pair_scores(queries, exact.vectors_of(universe), weights)
    truth = set()
    for column in range(3):
        order = np.argsort(-np.nan_to_num(scores[:, column], nan=-np.inf), kind="stable")[:25]
        truth |= set(universe[order].tolist())
    found = len(truth & set(pool.tolist())) / len(truth)
    assert found == 1.0 if backend == "flat" else found >= 0.97
    assert np.all(np.diff(pool) > 0) and len(pool) <= 75
    # A one-modality query set (a text prompt) leaves the other modality out entirely.
    text = {"lyrics": (queries["lyrics"][0][:1], np.ones(1, bool))}
    lyric_pool = index.neighbours(text, {"lyrics": 1.0}, 10)
    assert len(lyric_pool) == 10 and np.isin(lyric_pool, vectors["lyrics"][0]).all()


def test_a_served_mid_size_index_maps_its_fused_lists_without_prefetch(rng, tmp_path):
    """5,000 to 300,000 tracks: the fused SQ8 lists are memory-mapped (OnDiskInvertedLists) and searched without prefetch threads."""
    vectors = clustered_catalogue(rng)
    HybridIndex.build(vectors, {}, backend="ivf", overrides={"nlist": 16, "nprobe": 4}).save(tmp_path / "v")
    served = HybridIndex.load(tmp_path / "v")
    assert served.fused.lists_memory_mapped and served.fused.prefetch_threads == 0
    assert all(index._ann.prefetch_threads == 0 for index in served.indexes.values() if index._ann is not None)


def test_candidate_scores_from_stored_codes_equal_pair_scores_of_their_vectors(rng):
    vectors = clustered_catalogue(rng, n=1200)
    index = HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}, backend="ivf", overrides=FASTSCAN_CODES)
    assert index.reranks_exactly
    universe = index.track_ids()
    seeds = index.vectors_of(universe[[0, 7, 500]], exact=True)
    candidates = universe[::4]
    for balance in (0.0, 0.3, 1.0):
        weights = balance_weights(balance)
        expected = pair_scores(seeds, index.vectors_of(candidates), weights)
        got = index._stored_scores(seeds, candidates, weights)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(expected), atol=1e-5)
