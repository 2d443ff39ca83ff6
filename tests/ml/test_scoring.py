"""The hybrid pair score and the balance's weights."""
from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import MLError
from ml.scoring import balance_weights, pair_scores


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
