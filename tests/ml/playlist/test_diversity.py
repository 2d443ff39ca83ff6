"""Maximal marginal relevance: closest first at 0, spread out at 1, at most K per group."""
from __future__ import annotations

import numpy as np

from ml.playlist.diversity import mmr_select


def _two_clusters() -> tuple[np.ndarray, np.ndarray]:
    # Four near-copies of one song (very relevant) and four varied ones (a little less relevant).
    relevance = np.array([0.9, 0.89, 0.88, 0.87, 0.6, 0.59, 0.58, 0.57])
    similarity = np.eye(8)
    similarity[:4, :4] = 0.98
    np.fill_diagonal(similarity, 1.0)
    return relevance, similarity


def test_no_diversity_is_closest_first():
    relevance, similarity = _two_clusters()
    assert mmr_select(relevance, similarity, count=4, diversity=0.0) == [0, 1, 2, 3]


def test_diversity_trades_relevance_for_variety():
    relevance, similarity = _two_clusters()
    picks = mmr_select(relevance, similarity, count=4, diversity=0.7)
    assert picks[0] == 0 and len(set(picks) & {1, 2, 3}) == 0


def test_groups_are_capped_and_disallowed_candidates_never_picked():
    relevance, similarity = _two_clusters()
    artists = ["a", "a", "a", "a", "b", "b", "c", "c"]
    picks = mmr_select(relevance, similarity, count=8, diversity=0.0, group_of=artists, group_cap=1, allowed=np.array([1, 1, 1, 1, 1, 1, 0, 0], bool))
    assert picks == [0, 4]
    assert mmr_select(relevance, similarity, count=3, diversity=0.0, group_of=artists, group_cap=2, group_used={"a": 2}) == [4, 5, 6]


def test_nan_similarity_counts_as_nothing_in_common():
    relevance = np.array([1.0, 0.9, 0.8])
    similarity = np.full((3, 3), np.nan)
    assert mmr_select(relevance, similarity, count=3, diversity=0.5) == [0, 1, 2]
