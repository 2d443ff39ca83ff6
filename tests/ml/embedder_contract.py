"""What every :class:`ml.embedder.Embedder` promises. Embedder tests subclass this
and provide ``embedder`` and ``items`` fixtures (class-scoped)."""
from __future__ import annotations

import numpy as np

from ml.embedder import Embedder


class EmbedderContract:
    def test_is_an_embedder(self, embedder):
        assert isinstance(embedder, Embedder)
        assert embedder.dim > 0 and embedder.version and embedder.name

    def test_shape_dtype_and_unit_rows(self, embedder, items):
        vectors = embedder.embed(items)
        assert vectors.shape == (len(items), embedder.dim)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_deterministic_and_order_independent(self, embedder, items):
        forward = embedder.embed(items)
        backward = embedder.embed(list(reversed(items)))[::-1]
        np.testing.assert_allclose(forward, backward, atol=1e-5)

    def test_distinct_inputs_give_distinct_vectors(self, embedder, items):
        vectors = embedder.embed(items)
        similarity = vectors @ vectors.T
        off_diagonal = similarity[~np.eye(len(items), dtype=bool)]
        assert off_diagonal.max() < 0.9999

    def test_empty_batch(self, embedder):
        assert embedder.embed([]).shape == (0, embedder.dim)
