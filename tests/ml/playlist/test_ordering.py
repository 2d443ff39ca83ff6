"""Flow ordering on similarity matrices: exact for small sets, local search beyond."""
from __future__ import annotations

import itertools

import numpy as np

from ml.playlist.ordering import continuity_bonus, flow_order, key_compatible, transitions_total


def test_flow_order_finds_the_best_order_of_a_small_set(rng):
    points = rng.standard_normal((7, 4))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    sim = points @ points.T
    best = max(transitions_total(sim, (0,) + p) for p in itertools.permutations(range(1, 7)))
    assert transitions_total(sim, flow_order(sim, start=0)) >= best - 1e-6


def test_flow_local_search_improves_on_greedy_for_larger_sets(rng):
    points = rng.standard_normal((40, 8))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    sim = points @ points.T
    greedy, left = [0], set(range(1, 40))
    while left:
        nearest = max(left, key=lambda j: sim[greedy[-1], j])
        greedy.append(nearest)
        left.discard(nearest)
    order = flow_order(sim, start=0)
    assert sorted(order) == list(range(40)) and order[0] == 0
    assert transitions_total(sim, order) > transitions_total(sim, greedy)


def test_keys_are_compatible_when_equal_relative_or_a_fifth_apart():
    assert key_compatible(0, 1, 0, 1)  # C major, C major
    assert key_compatible(0, 1, 7, 1) and key_compatible(0, 1, 5, 1)  # a fifth up or down
    assert key_compatible(0, 1, 9, 0)  # C major and its relative A minor
    assert not key_compatible(0, 1, 1, 1) and not key_compatible(0, 1, 0, 0)


def test_continuity_rewards_close_tempos_and_compatible_keys_only_where_known():
    bonus = continuity_bonus([120.0, 122.0, 90.0, None], [(0.0, 1.0), (7.0, 1.0), (1.0, 1.0), (None, None)])
    assert bonus.shape == (4, 4) and np.all(np.diag(bonus) == 0)
    assert bonus[0, 1] > bonus[0, 2] > 0  # near tempo and a fifth apart beats a distant tempo in a clashing key
    assert bonus[0, 2] == bonus[2, 0] and np.all(bonus[3] == 0) and np.all(bonus[:, 3] == 0)


def test_a_fixed_prefix_stays_in_front(rng):
    points = rng.standard_normal((20, 6))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    order = flow_order(points @ points.T, start=0, fixed_prefix=3)
    assert order[:3] == [0, 1, 2] and sorted(order) == list(range(20))
