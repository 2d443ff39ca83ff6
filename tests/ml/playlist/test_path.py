"""Paths between tracks: step targets along the line between two points, and the strictly rising chain."""
from __future__ import annotations

import itertools

import numpy as np

from ml.playlist.path import monotone_chain, segment_targets, steps_spread


def test_steps_are_spread_evenly_over_segments():
    assert steps_spread(7, 3) == [3, 2, 2] and steps_spread(0, 2) == [0, 0] and sum(steps_spread(11, 4)) == 11


def test_targets_walk_from_the_start_to_the_end_and_stay_unit():
    start, end = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    targets = segment_targets({"audio": (np.stack([start, end]), np.array([True, True]))}, 3)
    points, present = targets["audio"]
    assert points.shape == (3, 2) and present.all()
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-6)
    towards_end = points @ end
    assert np.all(np.diff(towards_end) > 0)


def _best_chain_by_brute_force(closeness, fit, steps, banned):
    best, best_value = [], -np.inf
    for chain in itertools.permutations([i for i in range(len(closeness)) if not banned[i]], steps):
        if all(closeness[a] < closeness[b] for a, b in zip(chain, chain[1:])):
            value = sum(fit[i, j] for j, i in enumerate(chain))
            if value > best_value:
                best, best_value = list(chain), value
    return best, best_value


def test_the_chain_rises_strictly_and_is_the_best_one(rng):
    for _ in range(20):
        closeness = rng.random(7)
        fit = rng.random((7, 3))
        banned = rng.random(7) < 0.2
        chain = monotone_chain(closeness, fit, 3, banned)
        expected, value = _best_chain_by_brute_force(closeness, fit, 3, banned)
        if not expected:
            assert len(chain) < 3
            continue
        assert all(closeness[a] < closeness[b] for a, b in zip(chain, chain[1:])) and not banned[chain].any()
        assert sum(fit[i, j] for j, i in enumerate(chain)) == np.float64(value) or np.isclose(sum(fit[i, j] for j, i in enumerate(chain)), value)


def test_ties_cannot_both_be_on_a_rising_chain():
    closeness = np.array([0.5, 0.5, 0.5])
    assert len(monotone_chain(closeness, np.ones((3, 2)), 2, np.zeros(3, bool))) == 1
