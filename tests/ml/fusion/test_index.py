from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import IndexCorruptError, IndexMismatchError, VectorIndexError
from ml.fusion.index import VectorIndex, backend_params


class VectorIndexContract:
    """What every index backend promises; backends subclass with a ``make`` fixture."""

    dim = 24
    #: Share of the exact top-k an approximate backend must find (1.0: exact).
    min_recall = 1.0
    #: How close returned scores are to exact cosines (float16 storage rounds).
    score_atol = 1e-5

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
        position = {int(i): row for row, i in enumerate(ids)}
        hits = 0
        for row in range(20):
            order = np.argsort(-exact[row])[:10]
            hits += len(set(found_ids[row]) & set(ids[order]))
            # Whatever is returned carries its exact cosine, best first.
            np.testing.assert_allclose(found_scores[row], exact[row][[position[int(i)] for i in found_ids[row]]], atol=self.score_atol)
            assert list(found_scores[row]) == sorted(found_scores[row], reverse=True)
        assert hits / 200 >= self.min_recall

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

    def test_removed_ids_never_come_back(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids, vectors)
        index.remove(ids[::2])
        found_ids, _ = index.search(vectors[::2], 20)
        assert not set(found_ids.reshape(-1)) & set(ids[::2])
        candidate_ids, _ = index.candidates(vectors[::2], 50)
        assert not set(candidate_ids.reshape(-1)) & set(ids[::2])
        assert not index.contains(ids[::2]).any() and index.contains(ids[1::2]).all()

    def test_memory_mapped_load_searches_alike_and_can_be_updated_in_ram(self, make, data, tmp_path):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids[:200], vectors[:200])
        index.save(tmp_path / "idx")
        mapped = type(index).load(tmp_path / "idx")
        assert mapped.store.memory_mapped and not mapped.store.vectors.flags.writeable
        for a, b in zip(index.search(vectors[:5], 8), mapped.search(vectors[:5], 8)):
            np.testing.assert_array_equal(a, b)
        in_ram = type(index).load(tmp_path / "idx", mmap=False)
        in_ram.add(ids[200:], vectors[200:])
        in_ram.remove(ids[:10])
        assert len(in_ram) == 290
        assert in_ram.search(vectors[250:251], 1)[0][0, 0] == ids[250]

    def test_add_replaces_an_existing_id(self, make, data):
        ids, vectors = data
        index = make(self.dim)
        index.add(ids[:3], vectors[:3])
        index.add(ids[:1], vectors[3:4])
        assert len(index) == 3
        np.testing.assert_allclose(index.vectors(ids[:1]), vectors[3:4], atol=max(1e-6, self.score_atol))

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


class TestIvfIndex(VectorIndexContract):
    """IVF with 8-bit scalar quantisation, exact refine (every list probed: uniform random data has no clusters to exploit)."""

    min_recall = 0.95

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(300, dim, backend="ivf", overrides={"nlist": 8, "nprobe": 8}))


class TestIvfPqIndex(VectorIndexContract):
    """IVF with product quantisation (the 1M configuration, scaled down), exact refine."""

    min_recall = 0.9

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(300, dim, backend="ivf", overrides={"nlist": 4, "nprobe": 4, "codec": "PQ6x4", "refine": 10}))


class TestIvfFloat16Index(VectorIndexContract):
    """IVF with 4-bit scalar codes, refine vectors stored as float16 (the previous 1M configuration)."""

    min_recall = 0.9
    score_atol = 2e-3
    codec = "SQ4"

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(300, dim, backend="ivf", overrides={"nlist": 4, "nprobe": 4, "codec": self.codec, "refine": 10, "storage": "float16"}))


class TestIvfFastScanIndex(TestIvfFloat16Index):
    """The 1M configuration scaled down: 4-bit fast-scan PQ (removed entries are tombstones), float16 refine vectors."""

    codec = "PQfs"


class TestFlatFloat16Index(VectorIndexContract):
    """A modality of a million-track hybrid index: float16 vectors, exact scan in blocks."""

    score_atol = 2e-3

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(0, dim, backend="flat", overrides={"storage": "float16"}))


class TestFlatSq8Index(VectorIndexContract):
    """A modality of a million-track hybrid index: 8-bit codes scanned in blocks, results re-scored from float16 copies."""

    min_recall = 0.95
    score_atol = 2e-3

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(0, dim, backend="flat", overrides={"storage": "sq8"}))


class TestIvfSq8Index(TestFlatSq8Index):
    """IVF candidates over 8-bit refine codes, results re-scored from float16 copies."""

    min_recall = 0.9

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(300, dim, backend="ivf", overrides={"nlist": 4, "nprobe": 4, "codec": "PQfs", "refine": 10, "storage": "sq8"}))


def test_sq8_storage_is_a_quarter_of_float32_and_reads_exact_rows_from_disk(rng, tmp_path):
    vectors = l2_normalise(rng.standard_normal((500, 64)))
    index = VectorIndex(64, params=backend_params(0, 64, backend="flat", overrides={"storage": "sq8"}))
    index.add(np.arange(500), vectors)
    index.save(tmp_path / "i")
    assert (tmp_path / "i" / "vectors.npy").stat().st_size < 500 * 64 + 1000  # one byte a dimension
    loaded = VectorIndex.load(tmp_path / "i")
    assert loaded.params.storage == "sq8" and loaded.store.memory_mapped and loaded.store.exact.rows_in_memory is None
    # Codes are within half a step of the value inside the fitted range; exact copies within float16 rounding.
    quantiser = loaded.store.quantiser
    inside = (vectors >= quantiser.low) & (vectors <= quantiser.low + 255 * quantiser.step)
    assert inside.mean() > 0.99
    error = np.abs(loaded.store.gather(np.arange(500)) - vectors)
    assert (error[inside] <= np.broadcast_to(quantiser.step, vectors.shape)[inside] / 2 + 1e-6).all()
    np.testing.assert_allclose(loaded.store.gather_exact(np.array([7, 3, 499])), vectors[[7, 3, 499]], atol=1e-3)
    # Loaded to be updated: everything in memory, removal and addition keep codes and copies aligned.
    editable = VectorIndex.load(tmp_path / "i", mmap=False)
    editable.remove(np.arange(0, 500, 2))
    editable.add(np.array([1000]), vectors[:1])
    np.testing.assert_allclose(editable.store.gather_exact(editable.store.rows(np.array([1, 1000]))), vectors[[1, 0]], atol=1e-3)


def test_a_streamed_build_matches_adding_at_once(rng, tmp_path):
    vectors = l2_normalise(rng.standard_normal((3000, 32)))
    ids = np.arange(3000, dtype=np.int64) * 2 + 5
    for storage in ("float32", "sq8"):
        params = backend_params(3000, 32, backend="ivf", overrides={"nlist": 16, "nprobe": 16, "storage": storage})
        at_once = VectorIndex(32, params=params)
        at_once.add(ids, vectors)
        streamed = VectorIndex(32, params=params)
        streamed.fill_start(3000, train=vectors, quantiser_sample=vectors, spill_dir=tmp_path)
        for start in range(0, 3000, 700):
            streamed.fill(ids[start : start + 700], vectors[start : start + 700])
        streamed.fill_done()
        queries = vectors[:20]
        np.testing.assert_array_equal(at_once.search(queries, 10)[0], streamed.search(queries, 10)[0])
    with pytest.raises(VectorIndexError, match="3 of 5 reserved rows"):
        broken = VectorIndex(32)
        broken.fill_start(5)
        broken.fill(ids[:3], vectors[:3])
        broken.fill_done()


def test_float16_storage_round_trips_and_halves_the_file(rng, tmp_path):
    vectors = l2_normalise(rng.standard_normal((200, 16)))
    index = VectorIndex(16, params=backend_params(0, 16, backend="flat", overrides={"storage": "float16"}))
    index.add(np.arange(200), vectors)
    index.save(tmp_path / "i")
    assert (tmp_path / "i" / "vectors.npy").stat().st_size < 200 * 16 * 3
    loaded = VectorIndex.load(tmp_path / "i")
    assert loaded.params.storage == "float16" and loaded.store.memory_mapped
    np.testing.assert_allclose(loaded.vectors(np.arange(5)), vectors[:5], atol=1e-3)
    with pytest.raises(VectorIndexError, match="unknown vector storage"):
        backend_params(0, 4, overrides={"storage": "int3"})


@pytest.mark.parametrize("backend", ["flat", "ivf", "hnsw"])
def test_candidates_restricted_to_a_subset(rng, backend):
    from ml.fusion.index import IdSubset

    vectors = l2_normalise(rng.standard_normal((300, 12)))
    ids = np.arange(300, dtype=np.int64) * 3 + 1
    index = VectorIndex(12, params=backend_params(300, 12, backend=backend, overrides={"nlist": 4, "nprobe": 4} if backend == "ivf" else None))
    index.add(ids, vectors)
    subset = IdSubset(ids[::5])
    found, _ = index.candidates(vectors[:3], 20, only=subset)
    found = found[found >= 0]
    assert found.size and np.isin(found, ids[::5]).all()
    assert subset.contains(np.array([ids[5], ids[6], -1, 10**9])).tolist() == [True, False, False, False]


class TestHnswIndex(VectorIndexContract):
    min_recall = 0.95

    @pytest.fixture
    def make(self):
        return lambda dim: VectorIndex(dim, params=backend_params(300, dim, backend="hnsw", overrides={"m": 8, "ef_search": 32}))


def test_ivf_probing_few_lists_still_finds_clustered_neighbours(rng):
    """Real embeddings are clustered; there IVF visiting 4 of 32 lists keeps recall high."""
    centres = l2_normalise(rng.standard_normal((32, 48)))
    labels = rng.integers(0, 32, 3000)
    vectors = l2_normalise(centres[labels] + 0.15 * rng.standard_normal((3000, 48)))
    ids = np.arange(3000, dtype=np.int64) * 7
    index = VectorIndex(48, params=backend_params(3000, 48, backend="ivf", overrides={"nlist": 32, "nprobe": 4}))
    index.add(ids, vectors)
    queries = vectors[:50]
    found, _ = index.search(queries, 10)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    recall = np.mean([len(set(found[r]) & set(ids[exact[r]])) / 10 for r in range(50)])
    assert recall >= 0.95


def test_the_backend_follows_the_catalogue_size():
    assert backend_params(5_000, 584).backend == "flat"
    large = backend_params(1_000_000, 584)
    assert large.backend == "ivf" and large.codec == "PQ146x4fs" and large.nlist == 1000 and large.storage == "sq8"
    assert large.nprobe == 8 and large.oversample == 2 and large.single_lists == 0.5
    assert backend_params(100_000, 584).single_lists == 1.0
    assert backend_params(1_000_000, 583).codec == "PQ53x4fs"  # sub-quantisers divide the dimension
    assert backend_params(100_000, 584).codec == "SQ8"
    assert backend_params(100, 584, backend="hnsw").backend == "hnsw"
    with pytest.raises(VectorIndexError, match="unknown index backend"):
        backend_params(100, 8, backend="annoy")


def test_loading_a_damaged_folder_raises(tmp_path, rng):
    index = VectorIndex(4)
    index.add(np.arange(3), l2_normalise(rng.standard_normal((3, 4))))
    index.save(tmp_path / "idx")
    (tmp_path / "idx" / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "idx")
    ivf = VectorIndex(4, params=backend_params(3, 4, backend="ivf"))
    ivf.add(np.arange(3), l2_normalise(rng.standard_normal((3, 4))))
    ivf.save(tmp_path / "ivf")
    (tmp_path / "ivf" / "ann.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "ivf")
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "nothing-here")


@pytest.mark.parametrize("spacing", [1, 3, 1000], ids=["dense", "gaps", "sparse"])
def test_store_finds_rows_by_id_whether_ids_are_dense_or_sparse(rng, spacing):
    from ml.fusion.index import VectorStore

    store = VectorStore(4)
    ids = rng.permutation(np.arange(1, 501, dtype=np.int64) * spacing)
    store.add(ids, rng.standard_normal((500, 4)))
    assert (store._row_of is not None) == (spacing < 1000)  # a row table only where ids are nearly dense
    probe = np.concatenate([ids[[7, 0, 499]], [-1, 0, ids.max() + 1, 10**12]])
    assert store.rows(probe).tolist() == [7, 0, 499, -1, -1, -1, -1]
    store.remove(ids[:2])
    assert store.rows(ids[[0, 1, 2]]).tolist() == [-1, -1, 0]


def test_memory_mapped_ivf_lists_are_searched_without_prefetch_threads(rng, tmp_path):
    """FAISS starts prefetch threads on every search of memory-mapped lists (32 by default); a loaded index starts none."""
    import faiss

    vectors = l2_normalise(rng.standard_normal((3000, 32)))
    index = VectorIndex(32, params=backend_params(3000, 32, backend="ivf", overrides={"nlist": 16}))
    index.add(np.arange(3000), vectors)
    index.save(tmp_path / "i")
    raw = faiss.read_index(str(tmp_path / "i" / "ann.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    assert faiss.downcast_InvertedLists(faiss.extract_index_ivf(raw).invlists).prefetch_nthread > 0  # what FAISS would do
    served = VectorIndex.load(tmp_path / "i")
    assert served._ann.lists_memory_mapped and served._ann.prefetch_threads == 0
    assert served.search(vectors[:3], 5)[0][:, 0].tolist() == [0, 1, 2]
    in_ram = VectorIndex.load(tmp_path / "i", mmap=False)
    assert not in_ram._ann.lists_memory_mapped and in_ram._ann.prefetch_threads == 0


@pytest.mark.parametrize("codec", ["SQ8", "PQfs"], ids=["ivf-sq8", "ivf-fastscan"])
def test_search_many_finds_what_one_search_at_a_time_finds(rng, codec):
    """Lists chosen from shared coarse products (given or computed) scan exactly as a plain search does."""
    from ml.fusion.index import AnnIndex, BackendParams, IdSubset, SearchJob

    clusters = rng.standard_normal((20, 16))
    vectors = l2_normalise(clusters[rng.integers(0, 20, 2000)] + 0.3 * rng.standard_normal((2000, 16))).astype(np.float32)
    ids = np.arange(2000, dtype=np.int64) * 2 + 5
    ann = AnnIndex(16, BackendParams("ivf", nlist=20, codec=codec, nprobe=4))
    ann.train(vectors)
    ann.add(ids, vectors)
    assert ann.routes_by_centroids
    subset = IdSubset(ids[::3])
    queries = vectors[:3]
    # A query that is its first 6 dimensions, zero elsewhere: its coarse scores from that block alone.
    block_query = np.concatenate([queries[:, :6], np.zeros((3, 10), np.float32)], axis=1)
    jobs = [
        SearchJob(queries, 30),
        SearchJob(queries, 30, only=subset),
        SearchJob(queries, 30, lists=2),
        SearchJob(block_query, 30, coarse=ann.coarse_scores(queries[:, :6], 0)),
    ]
    found = ann.search_many(jobs)
    np.testing.assert_array_equal(found[0], ann.search(queries, 30)[0])
    np.testing.assert_array_equal(found[1], ann.search(queries, 30, only=subset)[0])
    assert np.isin(found[1][found[1] >= 0], ids[::3]).all()
    np.testing.assert_array_equal(found[3], ann.search(block_query, 30)[0])
    # A job's own number of lists: what the index finds visiting that many.
    ann.set_search(nprobe=2)
    np.testing.assert_array_equal(found[2], ann.search(queries, 30)[0])


def test_sq8_codes_score_in_place_as_their_decoded_vectors(rng):
    index = VectorIndex(32, params=backend_params(0, 32, backend="flat", overrides={"storage": "sq8"}))
    vectors = l2_normalise(rng.standard_normal((400, 32))).astype(np.float32)
    index.add(np.arange(400, dtype=np.int64), vectors)
    queries = l2_normalise(rng.standard_normal((3, 32))).astype(np.float32)
    rows = np.array([5, 399, 0, 17])
    np.testing.assert_allclose(index.store.inner(rows, queries), index.store.gather(rows) @ queries.T, atol=1e-5)
    # And within the codes' rounding of the exact cosines.
    np.testing.assert_allclose(index.store.inner(rows, queries), vectors[rows] @ queries.T, atol=2e-2)
