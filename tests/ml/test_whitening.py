"""Catalogue whitening: standardisation and ZCA fitted on a catalogue."""
from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import MLError
from ml.whitening import Standardiser, Whitener, whitener_fit


def test_standardiser_centres_the_catalogue(rng):
    shared = rng.standard_normal(16) * 5
    vectors = shared + rng.standard_normal((200, 16))
    raw_mean_cosine = float(np.mean(l2_normalise(vectors) @ l2_normalise(vectors).T))
    standardised = Standardiser.fit(vectors).apply(vectors)
    assert raw_mean_cosine > 0.8
    assert abs(float(np.mean(standardised @ standardised.T))) < 0.05
    np.testing.assert_allclose(np.linalg.norm(standardised, axis=1), 1.0, atol=1e-5)


def test_whitener_decorrelates_and_standardiser_only_rescales(rng):
    mixing = rng.standard_normal((12, 12))
    vectors = (rng.standard_normal((2000, 12)) @ mixing + 3.0).astype(np.float32)
    whitener = Whitener.fit(vectors)
    projected = (vectors - whitener.mean) @ whitener.matrix
    # Ledoit-Wolf shrinkage leaves a little correlation on purpose; the mixing is gone.
    assert np.abs(np.corrcoef(projected, rowvar=False) - np.eye(12)).max() < 0.15
    standardised = (vectors - Standardiser.fit(vectors).mean) / Standardiser.fit(vectors).scale
    off_diagonal = np.abs(np.corrcoef(standardised, rowvar=False) - np.eye(12)).max()
    assert off_diagonal > 0.3  # the diagonal map leaves correlations in place
    assert whitener_fit(vectors, kind="none").apply(vectors[:1]) == pytest.approx(l2_normalise(vectors[:1]))
    with pytest.raises(MLError, match="unknown whitening"):
        whitener_fit(vectors, kind="pca-ish")


def test_standardiser_fitted_in_blocks_matches_a_whole_matrix_fit(rng):
    # More rows than one fit block, an uneven last block and a large offset (where a one-pass sum of squares loses digits).
    vectors = (rng.normal(size=(9_001, 24)) * rng.uniform(0.01, 3.0, size=24) + 50.0).astype(np.float32)
    fitted = Standardiser.fit(vectors, shrinkage=0.1)
    variance = vectors.var(axis=0, dtype=np.float64)
    expected_scale = np.sqrt(variance + 0.1 * variance.mean() + 1e-12).astype(np.float32)
    np.testing.assert_allclose(fitted.mean, vectors.mean(axis=0, dtype=np.float64).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(fitted.scale, expected_scale, rtol=1e-5)
