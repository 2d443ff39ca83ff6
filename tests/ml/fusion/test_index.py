from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import IndexCorruptError, IndexMismatchError, VectorIndexError
from ml.fusion.index import VectorIndex


class VectorIndexContract:
    """What every index backend promises; backends subclass with a ``make`` fixture."""

    dim = 24

    @pytest.fixture
    def data(self, rng):
        vectors = l2_normalise(rng.standard_normal((300, self.dim)))
        ids = rng.choice(10_000, size=300, replace=False).astype(np.int64)
        return ids, vectors

    def test_matches_brute_force(self, make, data, rng):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids, vectors)
        queries = l2_normalise(rng.standard_normal((20, self.dim)))
        found_ids, found_scores = index.search(queries, 10)
        exact = queries @ vectors.T
        for row in range(20):
            order = np.argsort(-exact[row])[:10]
            assert set(found_ids[row]) == set(ids[order])
            np.testing.assert_allclose(found_scores[row], exact[row][order], atol=1e-5)

    def test_k_larger_than_the_index_never_pads_with_minus_one(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids[:5], vectors[:5])
        found_ids, found_scores = index.search(vectors[:2], 50)
        assert found_ids.shape == (2, 5) and found_scores.shape == (2, 5)
        assert (found_ids >= 0).all()

    def test_empty_index_searches_to_nothing(self, make):
        found_ids, _ = make(self.dim).search(np.ones((1, self.dim), np.float32), 5)
        assert found_ids.shape == (1, 0)

    def test_remove_and_re_add(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids, vectors)
        assert index.remove(ids[:10]) == 10
        assert len(index) == 290 and ids[0] not in index and ids[20] in index
        found_ids, _ = index.search(vectors[:10], 5)
        assert not set(found_ids.reshape(-1)) & set(ids[:10])
        index.add(ids[:1], vectors[:1])
        assert index.search(vectors[:1], 1)[0][0, 0] == ids[0]

    def test_add_replaces_an_existing_id(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids[:3], vectors[:3])
        index.add(ids[:1], vectors[3:4])
        assert len(index) == 3
        np.testing.assert_allclose(index.vectors(ids[:1]), vectors[3:4], atol=1e-6)

    def test_save_load_round_trip(self, make, data, tmp_path):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids, vectors)
        index.save(tmp_path / "idx")
        loaded = type(index).load(tmp_path / "idx")
        assert len(loaded) == len(index) and ids[7] in loaded
        for a, b in zip(index.search(vectors[:5], 8), loaded.search(vectors[:5], 8)):
            np.testing.assert_array_equal(a, b)

    def test_bad_input_is_rejected(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        with pytest.raises(IndexMismatchError):
            index.add(ids[:2], vectors[:2, :10])
        with pytest.raises(VectorIndexError):
            index.add(ids[:3], vectors[:2])
        with pytest.raises(VectorIndexError):
            index.add(np.array([1, 1]), vectors[:2])
        with pytest.raises(VectorIndexError):
            index.add(ids[:1], np.full((1, self.dim), np.nan, np.float32))
        with pytest.raises(IndexMismatchError):
            index.search(np.ones((1, self.dim + 1), np.float32), 3)


class TestFlatIndex(VectorIndexContract):
    @pytest.fixture
    def make(self):
        return VectorIndex


def test_loading_a_damaged_folder_raises(tmp_path, rng):
    index = VectorIndex(4)
    index.add(np.arange(3), l2_normalise(rng.standard_normal((3, 4))))
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "idx")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "nothing-here")
