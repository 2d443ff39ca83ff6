"""Query sets against the hybrid index: the pool's relevance is the mean over the seed rows it can be compared with."""
from __future__ import annotations

import numpy as np

from ml.embedder import l2_normalise
from ml.fusion.hybrid import HybridIndex
from ml.playlist.vectors import mean_modality_scores, relevance, rows, vectors_concat, vectors_of, vectors_single


def _index(rng) -> HybridIndex:
    ids = np.arange(1, 21, dtype=np.int64)
    return HybridIndex.build({"audio": (ids, rng.standard_normal((20, 8)).astype(np.float32)), "lyrics": (ids[:10], rng.standard_normal((10, 6)).astype(np.float32))}, {"audio": "a", "lyrics": "l"})


def test_relevance_averages_over_comparable_seed_rows(rng):
    index = _index(rng)
    seeds = vectors_of(index, [1, 15])  # 15 has no lyrics
    candidates = vectors_of(index, [2, 16])
    lyrics_only = relevance([(seeds, {"lyrics": 1.0})], candidates)
    assert np.isclose(lyrics_only[0], float(candidates["lyrics"][0][0] @ seeds["lyrics"][0][0])) and np.isnan(lyrics_only[1])
    both = relevance([(seeds, {"audio": 0.5, "lyrics": 0.5})], candidates)
    assert np.all(np.isfinite(both))


def test_concat_and_single_rows_keep_each_modalitys_presence(rng):
    index = _index(rng)
    prompt = vectors_single(index, "lyrics", l2_normalise(rng.standard_normal((1, 6)))[0])
    stacked = vectors_concat(index, [vectors_of(index, [1, 2]), prompt])
    assert rows(stacked) == 3 and stacked["audio"][1].tolist() == [True, True, False] and stacked["lyrics"][1].tolist() == [True, True, True]
    means = mean_modality_scores(vectors_of(index, [3, 18]), stacked, "lyrics")
    assert np.isfinite(means[0]) and np.isnan(means[1])
