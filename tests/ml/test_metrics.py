"""Artist-filtered precision@k of label agreement among nearest neighbours."""
from __future__ import annotations

import numpy as np

from ml.metrics import neighbour_precision


def test_precision_skips_self_and_same_group_and_averages_queries():
    # Track 1 is nearest to 0 but shares its artist, so 0's first counted neighbour is 2.
    similarity = np.array(
        [
            [1.0, 0.9, 0.8, 0.1],
            [0.9, 1.0, 0.2, 0.7],
            [0.8, 0.2, 1.0, 0.3],
            [0.1, 0.7, 0.3, 1.0],
        ]
    )
    labels = ["rock", "rock", "jazz", "jazz"]
    groups = ["a", "a", "b", "c"]
    result = neighbour_precision(similarity, labels, groups, ks=(1, 2))
    # Query 0 -> [2, 3]: 0/1 and 0/2; query 1 -> [3, 2]: 0, 0; query 2 -> [0, 3]: 0, 1/2; query 3 -> [1, 2]: 0, 1/2
    assert result == {"p@1": 0.0, "p@2": 0.25, "n": 4}


def test_nan_pairs_are_not_neighbours():
    similarity = np.array([[1.0, np.nan, 0.5], [np.nan, 1.0, np.nan], [0.5, np.nan, 1.0]])
    result = neighbour_precision(similarity, ["x", "x", "x"], ["a", "b", "c"], ks=(1, 2))
    assert result["p@1"] == 1.0 and result["n"] == 0
