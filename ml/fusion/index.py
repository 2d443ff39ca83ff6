"""A small vector index over FAISS: ``add``, ``search``, ``remove``, ``save``, ``load``.

Vectors are L2-normalised by the caller, so inner product is cosine
similarity. Ids are int64 track ids chosen by the caller; results are always
``(ids, scores)`` and FAISS's ``-1`` padding never leaves this module.

One wrapper, several backends. Every backend keeps the float32 vectors
themselves in a :class:`VectorStore` (``vectors.npy`` on disk, memory-mapped
read-only on load, so web workers share one copy through the page cache) and
returns *exact* cosines for the ids it returns:

``flat``
    exact brute force over the stored vectors (faiss ``knn``). Small catalogues.
``ivf``
    a FAISS inverted file with a compressed codec (``IVF<nlist>,SQ8``,
    ``,SQ4``, ``,PQ<m>`` or 4-bit fast-scan ``,PQ<m>x4fs``) proposes ``refine * k`` candidates, which are re-scored exactly
    from the stored float vectors. Supports adding and removing ids in place.
``hnsw``
    a FAISS HNSW graph over 8-bit scalar-quantised vectors proposes the
    candidates, re-scored exactly. HNSW cannot remove nodes, so removed ids are
    kept out by the store (a removed id is never returned) until the next build.

:func:`backend_params` picks the backend and its parameters from the catalogue
size; ``python -m bench.index`` measures them (figures so far in
``docs/index.md``).
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ml.errors import IndexCorruptError, IndexMismatchError, VectorIndexError
from ml.threads import build_threads_now, compute_threads

if TYPE_CHECKING:
    import faiss

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
BACKENDS: tuple[str, ...] = ("flat", "ivf", "hnsw")
_INDEX_FILE = "ann.faiss"
_IDS_FILE = "ids.npy"
_VECTORS_FILE = "vectors.npy"
_META_FILE = "index.json"

#: Up to this many tracks a catalogue is scored exactly (``flat``). Exact
#: scoring reads every vector each query (memory-bound: ~2.3 kB a track), IVF
#: only the visited lists. ``python -m bench.index --n N --backend flat|ivf``
#: on a quiet 2-core machine, p50 ms flat / ivf (IVF recall@50): 1,000 0.44 /
#: 0.89 (0.81), 2,000 0.80 / 1.25 (0.92), 5,000 1.93 / 1.23 (1.0), 10,000
#: 3.0 / 1.10 (1.0), 20,000 7.4 / 1.13 (1.0), 50,000 15.9 / 1.15 (1.0). Below
#: 5,000 IVF's few short lists cost recall; above, flat exceeds the 2 ms budget.
FLAT_MAX = 5_000
#: Above this many vectors the refine vectors are stored compressed: at
#: N = 1,000,000 with the product's models (musicnn 400-d audio, multilingual
#: USE 512-d lyrics) float32 vectors take 3.2 GB and float16 1.6 GB, over the
#: 1.5 GB RAM target; 8-bit scalar codes (``sq8``) take 0.8 GB and move a
#: cosine by ~4e-4 (bench.index, docs/index.md).
FLOAT16_MIN = 300_000
COMPRESSED_MIN = FLOAT16_MIN
STORAGES: tuple[str, ...] = ("float32", "float16", "sq8")
#: Per-dimension range of the 8-bit codes: these quantiles of a sample (values
#: beyond are clipped), so one outlier does not coarsen every code of its dimension.
SQ8_QUANTILES = (0.0001, 0.9999)
_QUANTISER_FILE = "quantiser.npz"
_EXACT_FILE = "exact.npy"
#: A store whose largest id is below this many times its size (+1024) looks
#: ids up in a direct row table rather than by binary search.
DENSE_IDS_FACTOR = 4


def ids_nearly_dense(low: int, high: int, count: int) -> bool:
    """Whether ``count`` ids between ``low`` and ``high`` are dense enough for tables indexed by id."""
    return count > 0 and low >= 0 and high < DENSE_IDS_FACTOR * count + 1024 and count < 2**31


@dataclass(frozen=True)
class BackendParams:
    """Which backend and how it is tuned.

    ``nlist`` inverted lists, ``codec`` the faiss codec string for ``ivf``
    (``"SQ8"``, ``"SQ4"``, ``"PQ<m>"``, ``"PQ<m>x4fs"``, or ``"PQfs"`` for
    fast-scan PQ sized to the index's dimension), ``nprobe`` lists visited per query; ``m``,
    ``ef_construction`` and ``ef_search`` for ``hnsw``; ``refine``: candidates
    fetched per result before the exact re-score (``ivf``/``hnsw``).
    """

    backend: str = "flat"
    nlist: int = 0
    codec: str = ""
    nprobe: int = 0
    m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    refine: int = 8
    train_size: int = 0
    #: How the refine vectors are stored: ``float32`` (exact), ``float16`` (half
    #: the memory; cosines within ~1e-3 of exact) or ``sq8`` (8-bit codes per
    #: dimension, a quarter; cosines within ~1e-3, see :class:`ScalarQuantiser`).
    storage: str = "float32"
    #: k-means iterations of the coarse quantiser (and of the PQ codebooks).
    niter: int = 10
    #: Extra candidates a coarse codec needs: the hybrid search multiplies its
    #: candidates per result by this (4-bit fast-scan PQ ranks less exactly than
    #: scalar quantisation, but scans ~6x faster, so it can afford more).
    oversample: int = 1
    #: Share of ``nprobe`` a hybrid search visits for the single-modality tracks
    #: (instrumentals, lyric-only entries) of a seed with both modalities: their lists
    #: hold few of them, so half the lists cost little recall (bench.index at 1,000,000).
    single_lists: float = 1.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise VectorIndexError(f"unknown index backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.storage not in STORAGES:
            raise VectorIndexError(f"unknown vector storage {self.storage!r}; choose one of {', '.join(STORAGES)}")


def backend_params(count: int, dim: int, *, backend: str = "auto", overrides: Mapping[str, Any] | None = None) -> BackendParams:
    """Backend and parameters for an index of ``count`` vectors of ``dim``.

    ``backend="auto"`` chooses ``flat`` up to :data:`FLAT_MAX` vectors and
    ``ivf`` above. IVF uses about ``sqrt(count)`` lists (316 at 100,000,
    1,000 at 1,000,000) and trains k-means on 64 points a list for 10
    iterations. Up to :data:`FLOAT16_MIN` vectors its codec is 8-bit scalar
    quantisation and it visits 4 lists; above, where the refine vectors are
    stored as 8-bit codes, it is 4-bit fast-scan PQ over 4-d sub-vectors
    (``PQ<dim/4>x4fs``: 1,000,000 x 912-d fused codes take 109 MiB; SIMD
    scans ~6x faster than 4-bit SQ; at 1,000,000 x 400/512-d it ranked the
    same top 50 as 2-d sub-vectors, 0.9999 of a 48-list search, in half the
    codes) visiting 8 lists (half of them for single-modality tracks), with
    2x the hybrid candidates (:attr:`BackendParams.oversample`). Measured with
    ``python -m bench.index`` (figures in ``docs/index.md``).
    """
    if backend == "auto":
        backend = "flat" if count <= FLAT_MAX else "ivf"
    if backend not in BACKENDS:
        raise VectorIndexError(f"unknown index backend {backend!r}; choose auto or one of {', '.join(BACKENDS)}")
    if backend == "flat":
        params = BackendParams("flat")
    elif backend == "ivf":
        nlist = max(1, min(int(IVF_LISTS_PER_SQRT * math.sqrt(max(count, 1))), max(1, count // 39)))
        large = count > COMPRESSED_MIN
        # Above FLOAT16_MIN memory binds: 8-bit PQ codebooks took 530 s to train here
        # (PQ146 over 584 dims at N = 100,000) and 4-bit SQ scans slowly (p50 4.8-6.2 ms
        # at N = 1,000,000); 4-bit fast-scan PQ trains in seconds and scans in SIMD registers.
        params = BackendParams(
            "ivf", nlist=nlist, codec=f"PQ{_pq_m(dim, per=4)}x4fs" if large else "SQ8",
            nprobe=min(nlist, IVF_NPROBE_FASTSCAN if large else IVF_NPROBE), refine=8,
            train_size=min(count, IVF_TRAIN_PER_LIST * nlist), storage="sq8" if large else "float32",
            oversample=IVF_OVERSAMPLE_FASTSCAN if large else 1, single_lists=IVF_SINGLE_LISTS_FASTSCAN if large else 1.0,
        )
    else:
        params = BackendParams("hnsw", m=32, ef_construction=80, ef_search=128, refine=8, storage="sq8" if count > COMPRESSED_MIN else "float32")
    if overrides:
        params = BackendParams(**{**asdict(params), **dict(overrides)})
    return params


#: IVF lists per square root of the catalogue size, lists probed per query,
#: and k-means training points per list (a seeded sample). See docs/index.md
#: for the measurements behind them.
IVF_LISTS_PER_SQRT = 1
IVF_NPROBE = 4
#: Fast-scan PQ above FLOAT16_MIN. At 1,000,000 tracks on a quiet 2-core machine
#: (one saved build, 150 recall seeds, docs/index.md), recall@50 / p50 by lists
#: visited: 4 lists 0.989 / 1.8 ms, 6 lists 0.999 / 1.9 ms, 8 lists 0.9996 / 2.0 ms
#: (2x candidates). Extra candidates did not move recall on the synthetic catalogue
#: (2x to 6x all equal; each step costs ~0.4 ms); 3x is margin for real catalogues,
#: whose neighbours are less clearly separated than the synthetic clusters.
IVF_NPROBE_FASTSCAN = 8
#: 400/512-d at 1,000,000 (one saved build, 300 seeds, against the same index searched
#: with 48 lists and 6x candidates): 3x and 2x candidates both 0.9999 of that top 50, 1x 0.983.
IVF_OVERSAMPLE_FASTSCAN = 2
#: Half the lists for single-modality tracks: 0.9999 of that top 50 (a quarter: 0.9994).
IVF_SINGLE_LISTS_FASTSCAN = 0.5
IVF_TRAIN_PER_LIST = 64


def _pq_m(dim: int, *, per: int = 4) -> int:
    """Sub-quantisers for PQ: about one per ``per`` dimensions, dividing ``dim``."""
    target = max(1, dim // per)
    for m in range(target, 0, -1):
        if dim % m == 0:
            return m
    return 1


@dataclass(frozen=True)
class ScalarQuantiser:
    """8-bit codes per dimension: ``value = low + code * step``, fitted on a sample of unit vectors.

    ``low`` and ``step`` are float32 ``(dim,)``. A code's error is at most
    ``step / 2`` inside the fitted range (the :data:`SQ8_QUANTILES` of the
    sample); whitened unit vectors in 400-512 dimensions then keep cosines
    within ~1e-3 of exact.
    """

    low: np.ndarray
    step: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray, *, sample: int = 100_000, seed: int = 1234) -> "ScalarQuantiser":
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape[0] > sample:
            vectors = vectors[np.sort(np.random.default_rng(seed).choice(vectors.shape[0], sample, replace=False))]
        if vectors.shape[0] == 0:
            raise VectorIndexError("8-bit codes need vectors to fit their range")
        low, high = np.quantile(vectors, SQ8_QUANTILES, axis=0) if vectors.shape[0] >= 64 else (vectors.min(axis=0), vectors.max(axis=0))
        step = np.maximum((high - low) / 255.0, 1e-8)
        return cls(np.asarray(low, np.float32), np.asarray(step, np.float32))

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """uint8 ``(n, dim)`` codes of float32 ``(n, dim)``."""
        codes = np.rint((np.asarray(vectors, dtype=np.float32) - self.low) / self.step)
        return np.clip(codes, 0, 255).astype(np.uint8)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """float32 ``(n, dim)`` values of uint8 codes."""
        return (codes.astype(np.float32) * self.step + self.low).astype(np.float32, copy=False)


class ExactRows:
    """float16 copies of a store's rows for the exact re-rank of a short list: in memory, or read from a file.

    Next to 8-bit codes (``sq8`` storage) that rank candidates, these give
    the final order and scores of the few that make the cut (within ~1e-3 of
    float32). A served index reads them from ``exact.npy`` with ``pread``: a
    query reads ~2 x 75 rows, so the file is not mapped into every worker
    (the page cache keeps its hot part, shared by all processes).
    """

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self.rows_in_memory: np.ndarray | None = np.zeros((0, self.dim), np.float16)
        self._path: Path | None = None
        self._offset = 0
        self._count = 0
        self._fd: int | None = None
        self._spill: Path | None = None  # a temporary file this object owns (a streamed build)

    def __len__(self) -> int:
        return int(self.rows_in_memory.shape[0]) if self.rows_in_memory is not None else self._count

    @classmethod
    def from_file(cls, path: Path, dim: int) -> "ExactRows":
        rows = cls(dim)
        try:
            # Opened as a map only to read the header (shape, dtype, where the data starts); never touched.
            mapped = np.load(path, mmap_mode="r", allow_pickle=False)
            shape, dtype, offset = mapped.shape, mapped.dtype, int(mapped.offset)
            del mapped
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"{path}: cannot read the exact vectors ({error})") from None
        if len(shape) != 2 or shape[1] != dim or np.dtype(dtype) != np.float16:
            raise IndexCorruptError(f"{path}: exact vectors are {shape} {dtype}, expected (n, {dim}) float16")
        rows.rows_in_memory = None
        rows._path, rows._offset, rows._count = Path(path), int(offset), int(shape[0])
        return rows

    def materialise(self) -> np.ndarray:
        """All rows in memory (an index loaded to be updated)."""
        if self.rows_in_memory is None:
            assert self._path is not None
            self.rows_in_memory = np.load(self._path, allow_pickle=False).astype(np.float16)
            self._close()
            self._path = None
        return self.rows_in_memory

    def spill_start(self, count: int, folder: Path) -> None:
        """Write ``count`` rows to a temporary ``.npy`` in ``folder`` as they come (:meth:`spill`), never holding them."""
        import tempfile

        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(prefix=".exact-", suffix=".npy", dir=folder, delete=False)
        np.lib.format.write_array_header_1_0(handle, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False, "shape": (int(count), self.dim)})
        self._spill_handle = handle
        self._spill = Path(handle.name)
        self._offset = handle.tell()
        self._count = int(count)
        self.rows_in_memory = None
        self._path = self._spill
        import weakref

        weakref.finalize(self, _remove_quietly, self._spill)

    def spill(self, vectors: np.ndarray) -> None:
        self._spill_handle.write(np.ascontiguousarray(vectors, dtype=np.float16).tobytes())

    def spill_done(self) -> None:
        self._spill_handle.close()

    def append(self, vectors: np.ndarray) -> None:
        current = self.materialise()
        self.rows_in_memory = np.concatenate([current, np.asarray(vectors, dtype=np.float16)])

    def keep(self, mask: np.ndarray) -> None:
        self.rows_in_memory = self.materialise()[mask]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """float32 ``(len(rows), dim)`` of the rows (all valid)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if self.rows_in_memory is not None:
            return self.rows_in_memory[rows].astype(np.float32)
        if self._fd is None:
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDONLY)
        width = self.dim * 2
        out = np.empty((rows.size, self.dim), np.float16)
        fd, offset = self._fd, self._offset
        buffer = memoryview(out.data).cast("B")
        # One read per row straight into the result (no bytes object per row); rows in file order.
        order = np.argsort(rows, kind="stable")
        for position, row in zip(order.tolist(), rows[order].tolist()):
            os.preadv(fd, [buffer[position * width : (position + 1) * width]], offset + row * width)
        return out.astype(np.float32)

    def save(self, path: Path) -> None:
        """Write ``path`` (``exact.npy``); a spilled build's file is moved there and read from there on."""
        if self.rows_in_memory is not None:
            np.save(path, np.ascontiguousarray(self.rows_in_memory, dtype=np.float16))
            return
        assert self._path is not None
        if self._spill is not None and self._path == self._spill:
            self._close()
            shutil.move(str(self._spill), str(path))
            self._spill = None
            self._path = Path(path)
        elif Path(path) != self._path:
            shutil.copyfile(self._path, path)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self._close()
        except OSError:
            pass


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class VectorStore:
    """Ids and their vectors (float32, float16 or 8-bit codes), looked up by id without Python loops.

    ``vectors`` is the stored array ``(n, dim)`` (a read-only memory map after
    :meth:`load`): float32, float16, or uint8 codes with ``quantiser`` for
    ``sq8``; :meth:`gather` and :meth:`block` always give float32. ``ids``
    int64 ``(n,)``. Lookups go through a row table indexed by id (nearly
    dense ids) or ids sorted once, never a Python dict.
    """

    def __init__(self, dim: int, *, dtype: str = "float32") -> None:
        if dtype not in STORAGES:
            raise VectorIndexError(f"unknown vector storage {dtype!r}; choose one of {', '.join(STORAGES)}")
        self.dim = int(dim)
        self.storage = dtype
        self.dtype = np.dtype(np.uint8) if dtype == "sq8" else np.dtype(dtype)
        self.ids = np.zeros(0, np.int64)
        self.vectors = np.zeros((0, self.dim), self.dtype)
        self.quantiser: ScalarQuantiser | None = None
        #: ``sq8``: float16 copies for the exact re-rank of a short list.
        self.exact: ExactRows | None = ExactRows(self.dim) if dtype == "sq8" else None
        self._filled = 0
        #: id -> row: a table indexed by id (nearly dense ids) or sorted ids and their rows.
        self._row_of: np.ndarray | None = None
        self._sorted_ids = self._sorted_rows = np.zeros(0, np.int64)
        #: True when ``vectors`` is a read-only view of the file (shared page cache).
        self.memory_mapped = False

    def _encode(self, vectors: np.ndarray) -> np.ndarray:
        """Float32 ``(n, dim)`` as stored (codes for ``sq8``; the first vectors fit the quantiser)."""
        if self.storage != "sq8":
            return np.asarray(vectors, dtype=self.dtype)
        if self.quantiser is None:
            self.quantiser = ScalarQuantiser.fit(vectors)
        return self.quantiser.encode(vectors)

    def _decode(self, stored: np.ndarray) -> np.ndarray:
        if self.storage == "sq8":
            assert self.quantiser is not None  # set with the first vectors
            return self.quantiser.decode(stored)
        return np.asarray(stored, dtype=np.float32)

    def reserve(self, count: int, *, quantiser_sample: np.ndarray | None = None, spill_dir: Path | None = None) -> None:
        """Make room for ``count`` rows filled later with :meth:`fill` (a streamed build: no concatenation).

        ``quantiser_sample`` (float32 ``(m, dim)``) fits the ``sq8`` codes'
        range before any row arrives; their float16 exact copies go to a
        temporary file in ``spill_dir`` (default: the system's), not to memory.
        """
        if len(self):
            raise VectorIndexError("reserve() is for an empty store")
        self.ids = np.full(int(count), -1, np.int64)
        self.vectors = np.zeros((int(count), self.dim), self.dtype)
        if self.storage == "sq8":
            if quantiser_sample is not None:
                self.quantiser = ScalarQuantiser.fit(quantiser_sample)
            import tempfile

            self.exact = ExactRows(self.dim)
            self.exact.spill_start(count, Path(spill_dir or tempfile.gettempdir()))
        self._filled = 0

    def fill(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        r"""Write the next rows of a :meth:`reserve`\ d store; the row tables are built by :meth:`fill_done`."""
        start = self._filled
        stop = start + int(ids.size)
        if stop > self.ids.size:
            raise VectorIndexError(f"fill() past the reserved {self.ids.size} rows")
        self.ids[start:stop] = ids
        self.vectors[start:stop] = self._encode(vectors)
        if self.exact is not None:
            self.exact.spill(vectors)
        self._filled = stop

    def fill_done(self) -> None:
        if self._filled != self.ids.size:
            raise VectorIndexError(f"{self._filled} of {self.ids.size} reserved rows were filled")
        if self.exact is not None:
            self.exact.spill_done()
        self.memory_mapped = False
        self._reindex()

    def __len__(self) -> int:
        return int(self.ids.size)

    def _reindex(self) -> None:
        # Track ids are database keys, nearly dense: a row table indexed by id
        # answers a lookup with one memory access where a binary search over a
        # million ids takes ~20 cache misses (the re-rank looks up ~800 ids a query).
        # 4 bytes per possible id (4 MB at a million, instead of 16 MB of sorted
        # ids and rows); sparse ids keep the binary search.
        self._row_of = None
        self._sorted_ids = self._sorted_rows = np.zeros(0, np.int64)
        if self.ids.size == 0:
            return
        low, high = int(self.ids.min()), int(self.ids.max())
        if ids_nearly_dense(low, high, self.ids.size):
            row_of = np.full(high + 1, -1, np.int32)
            row_of[self.ids] = np.arange(self.ids.size, dtype=np.int32)
            self._row_of = row_of
            return
        order = np.argsort(self.ids, kind="stable")
        self._sorted_ids = self.ids[order]
        self._sorted_rows = order.astype(np.int64)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id, int64 ``(len(ids),)``, ``-1`` where absent."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self._row_of is not None:
            inside = (ids >= 0) & (ids < self._row_of.size)
            return np.where(inside, self._row_of[np.where(inside, ids, 0)], -1).astype(np.int64)
        if self._sorted_ids.size == 0:
            return np.full(ids.size, -1, np.int64)
        position = np.searchsorted(self._sorted_ids, ids)
        position = np.minimum(position, self._sorted_ids.size - 1)
        found = self._sorted_ids[position] == ids
        return np.where(found, self._sorted_rows[position], -1)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """bool ``(len(ids),)``."""
        return self.rows(ids) >= 0

    def id_mask(self, size: int) -> np.ndarray:
        """bool ``(size,)``, True at every stored id (ids must be below ``size``)."""
        mask = np.zeros(size, dtype=bool)
        mask[self.ids] = True
        return mask

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Append (ids must not be present; the caller removes replaced ids first)."""
        self.ids = np.concatenate([self.ids, ids])
        stored = self._encode(vectors)
        self.vectors = np.concatenate([np.asarray(self.vectors), stored]) if len(self.vectors) else np.array(stored, dtype=self.dtype)
        if self.exact is not None:
            self.exact.append(vectors)
        self.memory_mapped = False
        self._reindex()

    def remove(self, ids: np.ndarray) -> np.ndarray:
        """Drop ``ids``; returns the ids that were present."""
        rows = self.rows(ids)
        rows = rows[rows >= 0]
        if rows.size:
            keep = np.ones(len(self), dtype=bool)
            keep[rows] = False
            gone = self.ids[rows]
            self.ids = self.ids[keep]
            self.vectors = np.asarray(self.vectors)[keep]
            if self.exact is not None:
                self.exact.keep(keep)
            self.memory_mapped = False
            self._reindex()
            return gone
        return np.zeros(0, np.int64)

    def save(self, folder: Path) -> None:
        np.save(folder / _IDS_FILE, np.ascontiguousarray(self.ids))
        np.save(folder / _VECTORS_FILE, np.ascontiguousarray(self.vectors, dtype=self.dtype))
        if self.quantiser is not None:
            np.savez(folder / _QUANTISER_FILE, low=self.quantiser.low, step=self.quantiser.step)
        if self.exact is not None:
            self.exact.save(folder / _EXACT_FILE)

    def gather_exact(self, rows: np.ndarray) -> np.ndarray:
        """float32 ``(len(rows), dim)``: the rows at full precision where the store keeps an exact copy, else :meth:`gather`."""
        if self.exact is None:
            return self.gather(rows)
        return self.exact.gather(rows)

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """float32 ``(len(rows), dim)`` copies of the stored rows (``rows`` all valid)."""
        return self._decode(self.vectors[rows])

    def inner(self, rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """float32 ``(len(rows), q)``: the stored rows (``rows`` all valid) against float32 ``queries`` ``(q, dim)``.

        8-bit codes are scored without decoding them:
        ``(low + code * step) . query = code . (step * query) + low . query``.
        """
        queries = np.asarray(queries, dtype=np.float32)
        if self.storage == "sq8":
            assert self.quantiser is not None
            codes = self.vectors[rows]
            scaled = np.ascontiguousarray((queries * self.quantiser.step).T)
            return (codes.astype(np.float32) @ scaled + queries @ self.quantiser.low).astype(np.float32, copy=False)
        return (self.gather(rows) @ queries.T).astype(np.float32, copy=False)

    def block(self, start: int, stop: int) -> np.ndarray:
        """float32 ``(stop - start, dim)`` of rows ``start:stop`` (exact scans convert a block at a time)."""
        return self._decode(self.vectors[start:stop])

    def codes_of(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` (float32 ``(n, dim)``) as this store would keep them (codes, float16 or float32)."""
        if self.storage == "sq8" and self.quantiser is not None:
            return self.quantiser.encode(vectors)
        return np.asarray(vectors, dtype=self.dtype)

    @classmethod
    def load(cls, folder: Path, *, dim: int, mmap: bool = True, dtype: str = "float32") -> "VectorStore":
        store = cls(dim, dtype=dtype)
        try:
            store.ids = np.load(folder / _IDS_FILE, allow_pickle=False)
            vectors = np.load(folder / _VECTORS_FILE, allow_pickle=False, mmap_mode="r" if mmap else None)
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"{folder}: cannot read the stored vectors ({error})") from None
        if vectors.ndim != 2 or vectors.shape != (store.ids.size, dim) or vectors.dtype != store.dtype:
            raise IndexCorruptError(f"{folder}: stored vectors are {vectors.shape} {vectors.dtype}, expected ({store.ids.size}, {dim}) {store.dtype}")
        if store.storage == "sq8":
            try:
                with np.load(folder / _QUANTISER_FILE, allow_pickle=False) as arrays:
                    store.quantiser = ScalarQuantiser(arrays["low"].astype(np.float32), arrays["step"].astype(np.float32))
            except (OSError, ValueError, KeyError) as error:
                raise IndexCorruptError(f"{folder}: cannot read the 8-bit codes' quantiser ({error})") from None
            store.exact = ExactRows.from_file(folder / _EXACT_FILE, dim)
            if len(store.exact) != store.ids.size:
                raise IndexCorruptError(f"{folder}: {len(store.exact)} exact vectors for {store.ids.size} ids")
            if not mmap:
                store.exact.materialise()
        # A plain ndarray over the mapping: the memmap subclass slows every fancy-index gather.
        store.memory_mapped = isinstance(vectors, np.memmap)
        store.vectors = np.asarray(vectors)
        store._reindex()
        return store


def _set_threads() -> None:
    # One query is a few hundred microseconds of work: OpenMP threads only add
    # hand-off latency (and spin on a shared machine), so searches run on the
    # calling thread; web servers scale with processes.
    import faiss

    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)


class IdSubset:
    """A set of int64 ids as a bitmap FAISS can test while it scans (``IDSelectorBitmap``).

    ``ids`` int64 ``(n,)``, non-negative. Costs ``max(ids) / 8`` bytes (125 kB
    for ids up to a million).
    """

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and ids.min() < 0:
            raise VectorIndexError("an id subset holds non-negative ids only")
        member = np.zeros(int(ids.max()) + 1 if ids.size else 1, dtype=bool)
        member[ids] = True
        self._init(member)

    @classmethod
    def from_mask(cls, member: np.ndarray) -> "IdSubset":
        """The ids ``i`` where ``member[i]`` (bool ``(max_id + 1,)``), without listing them."""
        subset = cls.__new__(cls)
        subset._init(np.ascontiguousarray(member, dtype=bool))
        return subset

    def _init(self, member: np.ndarray) -> None:
        import faiss

        self.size = int(np.count_nonzero(member))
        self.member = member
        self._bitmap = np.packbits(member, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(self._bitmap.size, faiss.swig_ptr(self._bitmap))

    def __len__(self) -> int:
        return self.size

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """bool, same shape as ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < self.member.size)
        return inside & self.member[np.where(inside, ids, 0)]


@dataclass(frozen=True)
class SearchJob:
    """One search of :meth:`AnnIndex.search_many`: float32 ``queries`` ``(rows, dim)``, the ``k`` best of each,
    only ids in ``only`` (None: every id), visiting ``lists`` inverted lists (0: the index's ``nprobe``)."""

    queries: np.ndarray
    k: int
    only: "IdSubset | None" = None
    lists: int = 0
    #: The queries' inner products with the coarse centroids, float32 ``(rows, nlist)``, when the caller has
    #: them (:meth:`AnnIndex.coarse_scores`: several queries built from the same blocks share one product).
    coarse: np.ndarray | None = None


def _centroids_of(ivf: faiss.IndexIVF) -> np.ndarray | None:
    """The coarse centroids of an IVF index with a flat inner-product quantiser, transposed: float32 ``(dim, nlist)``; else None."""
    import faiss

    quantizer = faiss.downcast_index(ivf.quantizer)
    if not isinstance(quantizer, faiss.IndexFlat) or quantizer.metric_type != faiss.METRIC_INNER_PRODUCT or quantizer.ntotal != ivf.nlist:
        return None
    return np.ascontiguousarray(quantizer.reconstruct_n(0, int(ivf.nlist)).T, dtype=np.float32)


def _inverted_lists(ivf: faiss.IndexIVF) -> faiss.InvertedLists | None:
    """The IVF index's inverted lists as their concrete class (``OnDiskInvertedLists`` when memory-mapped)."""
    import faiss

    lists = ivf.invlists
    return None if lists is None else faiss.downcast_InvertedLists(lists)


def _hnsw_graph(index: faiss.Index) -> faiss.HNSW:
    """The HNSW graph of an ``hnsw`` backend's index: an ``IndexIDMap`` over an ``IndexHNSWSQ``."""
    import faiss

    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if not isinstance(inner, faiss.IndexHNSW):
        raise IndexCorruptError(f"an hnsw index holds an HNSW graph in an id map, not a {type(inner).__name__}")
    return inner.hnsw


class AnnIndex:
    """Candidate generator: a FAISS ``ivf`` or ``hnsw`` structure keyed by track id.

    Scores it returns are approximate (compressed codes); callers re-score.
    """

    def __init__(self, dim: int, params: BackendParams) -> None:
        if params.backend not in ("ivf", "hnsw"):
            raise VectorIndexError(f"AnnIndex has no {params.backend!r} backend")
        self.dim = int(dim)
        self.params = params
        # ``ivf``: the index_factory index; ``hnsw``: an IndexIDMap over an IndexHNSWSQ.
        self._index: faiss.Index | None = None
        #: ``ivf``: the coarse centroids transposed, float32 ``(dim, nlist)`` (:meth:`coarse_scores`).
        self._centroids: np.ndarray | None = None

    @property
    def trained(self) -> bool:
        return self._index is not None

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    def train(self, vectors: np.ndarray, *, seed: int = 1234) -> None:
        """Fit the coarse quantiser and codec on float32 ``(n, dim)`` (a sample is enough)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.params.backend == "ivf":
            nlist = max(1, min(self.params.nlist, vectors.shape[0]))
            codec = self.params.codec
            if codec == "PQfs":  # shorthand (overrides, tests): 4-bit fast-scan PQ over 2-d sub-vectors of this index
                codec = f"PQ{_pq_m(self.dim, per=2)}x4fs"
            if codec.endswith("fs") and vectors.shape[0] < 16:
                # 4-bit codebooks need 16 training points; a tiny first batch gets scalar codes.
                logger.info("fast-scan PQ needs 16 training vectors, got %d: using SQ8", vectors.shape[0])
                codec = "SQ8"
            if codec.startswith("PQ") and not codec.endswith("fs"):
                base, _, bits = codec.partition("x")
                bits_wanted = int(bits or 8)
                if vectors.shape[0] < 2**bits_wanted:
                    # A PQ codebook needs 2**bits training points; a tiny first batch gets fewer bits.
                    codec = f"{base}x{max(1, int(math.log2(max(vectors.shape[0], 2))))}"
            index = faiss.index_factory(self.dim, f"IVF{nlist},{codec}", faiss.METRIC_INNER_PRODUCT)
            ivf = faiss.extract_index_ivf(index)
            ivf.cp.seed = seed
            # 10 k-means iterations on <= 32 points a list: the lists only route
            # queries, the exact refine fixes the scores; more iterations cost
            # build minutes for no measured recall.
            ivf.cp.max_points_per_centroid = max(IVF_TRAIN_PER_LIST, 1)
            ivf.cp.niter = self.params.niter
            coded = faiss.downcast_index(ivf)
            if codec.startswith("PQ") and isinstance(coded, (faiss.IndexIVFPQ, faiss.IndexIVFPQFastScan)):
                # PQ codebooks: the same sample, the same few iterations (faiss default 25).
                coded.pq.cp.niter = self.params.niter
            if self.params.train_size and vectors.shape[0] > self.params.train_size:
                pick = np.random.default_rng(seed).choice(vectors.shape[0], self.params.train_size, replace=False)
                vectors = vectors[np.sort(pick)]
            index.train(vectors)
            ivf.nprobe = max(1, min(self.params.nprobe, nlist))
            self._index = index
            self._centroids = _centroids_of(ivf)
        else:
            # faiss's stubs ask for a ScalarQuantizer; the constructor takes its quantizer type.
            inner = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.params.m, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
            inner.hnsw.efConstruction = self.params.ef_construction
            inner.hnsw.efSearch = self.params.ef_search
            inner.train(vectors)
            self._index = faiss.IndexIDMap(inner)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            raise VectorIndexError("train the index before adding vectors")
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))

    @property
    def removes_in_place(self) -> bool:
        """Whether :meth:`remove` drops entries; else removed ids stay as tombstones callers filter out.

        HNSW cannot drop graph nodes. Fast-scan IVF lists pack codes in blocks
        of 32, and faiss 1.15's ``remove_ids`` on them moves ids but not codes:
        the entries it swaps into the freed slots then carry other vectors'
        codes (a removed and re-added vector was no longer found), so they are
        never removed in place either.
        """
        import faiss

        if self.params.backend != "ivf":
            return False
        return self._index is None or not isinstance(faiss.downcast_index(faiss.extract_index_ivf(self._index)), faiss.IndexIVFFastScan)

    def remove(self, ids: np.ndarray) -> None:
        """Remove in place where the structure allows (see :attr:`removes_in_place`); otherwise callers filter."""
        import faiss

        if self._index is None or not self.removes_in_place or len(ids) == 0:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._index.remove_ids(faiss.IDSelectorBatch(ids.size, faiss.swig_ptr(ids)))

    def search(self, queries: np.ndarray, k: int, *, only: "IdSubset | None" = None, effort: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Approximate ``(ids int64 (q, k), scores float32 (q, k))``; ``-1`` pads (callers filter).

        With ``only``, ids outside the subset are skipped while scanning (a FAISS
        ``IDSelector``). ``effort`` multiplies the lists visited (IVF) or the
        search breadth (HNSW) for this call.
        """
        _set_threads()
        if self._index is None or len(self) == 0:
            return np.full((queries.shape[0], 0), -1, np.int64), np.zeros((queries.shape[0], 0), np.float32)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if only is None and effort <= 1:
            scores, ids = self._index.search(queries, int(k))
        else:
            scores, ids = self._index.search(queries, int(k), params=self._search_params(self._index, only, max(1, int(effort))))
        return ids, scores

    def search_many(self, jobs: Sequence[SearchJob]) -> list[np.ndarray]:
        """Candidate ids of several searches at once: for each job, int64 ``(rows, job.k)``, ``-1`` padded.

        Each :class:`SearchJob` has its own queries, ``k``, id subset and lists
        to visit. For ``ivf`` a job's lists come from its coarse scores (given,
        or :meth:`coarse_scores` of its queries), then FAISS scans only those
        lists (``search_preassigned``); ``hnsw`` searches job by job.
        """
        import faiss

        _set_threads()
        empty = [np.full((job.queries.shape[0], 0), -1, np.int64) for job in jobs]
        if self._index is None or len(self) == 0 or not jobs:
            return empty
        if self.params.backend != "ivf" or self._centroids is None:
            return [self.search(job.queries, job.k, only=job.only)[0] for job in jobs]
        ivf = faiss.extract_index_ivf(self._index)
        nlist = int(ivf.nlist)
        results: list[np.ndarray] = []
        for job in jobs:
            queries = np.ascontiguousarray(job.queries, dtype=np.float32)
            rows = queries.shape[0]
            scores = job.coarse if job.coarse is not None else self.coarse_scores(queries)
            nprobe = max(1, min(nlist, int(job.lists or ivf.nprobe)))
            assign = np.argpartition(-scores, nprobe - 1, axis=1)[:, :nprobe] if nprobe < nlist else np.broadcast_to(np.arange(nlist), (rows, nlist))
            assign = np.ascontiguousarray(assign, dtype=np.int64)
            centroid_scores = np.ascontiguousarray(np.take_along_axis(scores, assign, axis=1), dtype=np.float32)
            params = faiss.SearchParametersIVF()
            params.nprobe = nprobe
            if job.only is not None:
                params.sel = job.only.selector
            k = int(job.k)
            distances = np.empty((rows, k), np.float32)
            labels = np.empty((rows, k), np.int64)
            # The SWIG call itself: faiss's Python wrapper of search_preassigned refuses search parameters.
            ivf.search_preassigned_c(  # type: ignore[attr-defined]
                rows, faiss.swig_ptr(queries), k, faiss.swig_ptr(assign), faiss.swig_ptr(centroid_scores),
                faiss.swig_ptr(distances), faiss.swig_ptr(labels), False, params,
            )
            results.append(labels)
        return results

    @property
    def routes_by_centroids(self) -> bool:
        """Whether :meth:`coarse_scores` can score queries against the coarse centroids (``ivf`` with a flat quantiser)."""
        return self._centroids is not None

    def coarse_scores(self, block: np.ndarray, start: int = 0) -> np.ndarray:
        """Inner products with every coarse centroid of queries that are ``block`` (float32 ``(rows, width)``)
        in dimensions ``start:start + width`` and zero elsewhere: float32 ``(rows, nlist)`` (``ivf`` only).

        Reading the centroids is most of the cost (3.6 MB at 1,000 lists of 912-d), so
        queries made of the same blocks (a seed's modalities, weighted) share these products.
        """
        if self._centroids is None:
            raise VectorIndexError("coarse scores need an IVF index with a flat coarse quantiser")
        block = np.asarray(block, dtype=np.float32)
        return np.asarray(block @ self._centroids[start : start + block.shape[1]], dtype=np.float32)

    def _search_params(self, index: faiss.Index, only: "IdSubset | None", effort: int = 1) -> faiss.SearchParameters:
        import faiss

        params: faiss.SearchParameters
        if self.params.backend == "ivf":
            ivf = faiss.extract_index_ivf(index)
            params = ivf_params = faiss.SearchParametersIVF()
            ivf_params.nprobe = min(int(ivf.nlist), int(ivf.nprobe) * effort)
        else:
            # faiss's stubs lack SearchParametersHNSW; faiss has it.
            params = hnsw_params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            hnsw_params.efSearch = int(_hnsw_graph(index).efSearch) * effort
        if only is not None:
            params.sel = only.selector
        return params

    def set_search(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Change the search effort of a built index (benchmarks, settings)."""
        import faiss

        if self._index is None:
            return
        if nprobe is not None and self.params.backend == "ivf":
            faiss.extract_index_ivf(self._index).nprobe = int(nprobe)
        if ef_search is not None and self.params.backend == "hnsw":
            _hnsw_graph(self._index).efSearch = int(ef_search)

    def save(self, path: Path) -> None:
        import faiss

        if self._index is not None:
            faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, dim: int, params: BackendParams, mmap: bool = True) -> "AnnIndex":
        """Read an index; IVF inverted lists are memory-mapped (``IO_FLAG_MMAP``) so workers share them."""
        import faiss

        ann = cls(dim, params)
        if not path.exists():
            return ann
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap and params.backend == "ivf" else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as error:
            raise IndexCorruptError(f"{path}: cannot read the index ({str(error).splitlines()[0]})") from None
        if index.d != dim:
            raise IndexCorruptError(f"{path}: index has dimension {index.d}, expected {dim}")
        if params.backend == "ivf":
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = max(1, params.nprobe)
            lists = _inverted_lists(ivf)
            if isinstance(lists, faiss.OnDiskInvertedLists):
                # Memory-mapped lists start 32 prefetch threads on every search by default, and the
                # next search waits for them: on a busy 2-core machine that wait was most of a query
                # (100,000 tracks beside three busy loops: p50 11.9 ms, 1.76 ms without prefetch).
                # The pages are in the page cache or one fault away; prefetching buys nothing here.
                lists.prefetch_nthread = 0
            ann._centroids = _centroids_of(ivf)
        else:
            _hnsw_graph(index).efSearch = params.ef_search
        ann._index = index
        return ann

    @property
    def prefetch_threads(self) -> int:
        """Threads FAISS starts to prefetch memory-mapped inverted lists on each search (0: none; no mapped lists: 0)."""
        import faiss

        if self._index is None or self.params.backend != "ivf":
            return 0
        lists = _inverted_lists(faiss.extract_index_ivf(self._index))
        return int(lists.prefetch_nthread) if isinstance(lists, faiss.OnDiskInvertedLists) else 0

    @property
    def lists_memory_mapped(self) -> bool:
        """Whether the inverted lists are read from a memory-mapped file (``OnDiskInvertedLists``)."""
        import faiss

        if self._index is None or self.params.backend != "ivf":
            return False
        return isinstance(_inverted_lists(faiss.extract_index_ivf(self._index)), faiss.OnDiskInvertedLists)


class VectorIndex:
    """Inner-product index with exact scores; ``backend`` picks how candidates are found.

    ``VectorIndex(dim)`` is the exact ``flat`` index; use
    :meth:`for_catalogue` to let the catalogue size choose.
    """

    def __init__(self, dim: int, *, backend: str = "flat", params: BackendParams | None = None) -> None:
        if dim <= 0:
            raise VectorIndexError(f"an index needs a positive dimension, got {dim}")
        self.dim = int(dim)
        self.params = params or backend_params(0, self.dim, backend=backend)
        self._store = VectorStore(self.dim, dtype=self.params.storage)
        self._ann = AnnIndex(self.dim, self.params) if self.params.backend != "flat" else None
        # Ids removed from an HNSW graph that cannot drop them: filtered from its candidates.
        self._removed = np.zeros(0, np.int64)

    @classmethod
    def for_catalogue(cls, dim: int, count: int, *, backend: str = "auto", overrides: Mapping[str, Any] | None = None) -> "VectorIndex":
        """An empty index whose backend suits ``count`` vectors (see :func:`backend_params`)."""
        return cls(dim, params=backend_params(count, dim, backend=backend, overrides=overrides))

    @property
    def backend(self) -> str:
        return self.params.backend

    @property
    def store(self) -> VectorStore:
        """The stored float32 vectors (read-only use)."""
        return self._store

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, track_id: object) -> bool:
        return isinstance(track_id, (int, np.integer)) and bool(self._store.contains(np.array([int(track_id)]))[0])

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """bool ``(len(ids),)``: which ids are in the index."""
        return self._store.contains(ids)

    def ids(self) -> np.ndarray:
        """All ids in the index, int64 ``(len(self),)``, in insertion order."""
        return self._store.ids.copy()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) ``vectors`` float32 ``(n, dim)`` under int64 ``ids`` ``(n,)``."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatchError(f"vectors of shape {vectors.shape} do not fit an index of dimension {self.dim}")
        if vectors.shape[0] != ids.shape[0]:
            raise VectorIndexError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if len(np.unique(ids)) != len(ids):
            raise VectorIndexError("the same id appears twice in one add()")
        if not np.all(np.isfinite(vectors)):
            raise VectorIndexError("vectors contain NaN or infinity")
        if ids.size == 0:
            return
        self.remove(ids[self._store.contains(ids)])
        if self._ann is not None:
            if not self._ann.trained:
                self._ann.train(vectors)
            self._ann.add(ids, vectors)
            # A re-added id is live again in an HNSW graph that still holds its old node.
            self._removed = np.setdiff1d(self._removed, ids)
        self._store.add(ids, vectors)

    def fill_start(
        self, count: int, *, train: np.ndarray | None = None, quantiser_sample: np.ndarray | None = None, threads: int | None = None, spill_dir: Path | None = None
    ) -> None:
        """Start a streamed build of ``count`` vectors: :meth:`fill` chunks, then :meth:`fill_done`.

        ``train`` (float32 ``(m, dim)``, a sample of what will be filled) trains
        the ANN backends; ``quantiser_sample`` fits the range of ``sq8`` codes.
        Unlike repeated :meth:`add` calls nothing is copied as the index grows.
        """
        if len(self):
            raise VectorIndexError("a streamed build starts from an empty index")
        self._store.reserve(count, quantiser_sample=quantiser_sample, spill_dir=spill_dir)
        if self._ann is not None:
            if train is None or train.shape[0] == 0:
                raise VectorIndexError(f"the {self.backend} backend needs training vectors before it is filled")
            with compute_threads(threads if threads else build_threads_now()):
                self._ann.train(np.ascontiguousarray(train, dtype=np.float32))

    def fill(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """The next ``vectors`` float32 ``(n, dim)`` of a streamed build, under int64 ``ids`` ``(n,)``."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatchError(f"vectors of shape {vectors.shape} do not fit an index of dimension {self.dim}")
        if vectors.shape[0] != ids.shape[0]:
            raise VectorIndexError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if not np.all(np.isfinite(vectors)):
            raise VectorIndexError("vectors contain NaN or infinity")
        self._store.fill(ids, vectors)
        if self._ann is not None:
            self._ann.add(ids, vectors)

    def fill_done(self) -> None:
        """End a streamed build: every reserved row filled, ids unique."""
        self._store.fill_done()
        if np.unique(self._store.ids).size != len(self._store):
            raise VectorIndexError("the same id appears twice in one build")

    def remove(self, ids: np.ndarray) -> int:
        """Remove ``ids`` (unknown ids are ignored); returns how many were removed."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            return 0
        gone = self._store.remove(ids)
        if gone.size and self._ann is not None:
            if self._ann.removes_in_place:
                self._ann.remove(gone)
            else:
                self._removed = np.union1d(self._removed, gone)
        return int(gone.size)

    def candidates(self, queries: np.ndarray, k: int, *, only: IdSubset | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Approximate nearest ids of each query, ``(ids (q, k'), approx scores)``; ``-1`` marks no result.

        Only ids that are in the index (and in ``only``, when given) come
        out. For ``flat`` these are exact.
        """
        queries = self._check_queries(queries)
        k = min(int(k), len(self) if only is None else len(only))
        if k <= 0:
            return np.full((queries.shape[0], 0), -1, np.int64), np.zeros((queries.shape[0], 0), np.float32)
        if self._ann is None:
            if only is None:
                return self._exact(queries, k)
            return self._exact_subset(queries, k, only)
        ids, scores = self._ann.search(queries, k + self._removed.size, only=only)
        if self._removed.size:
            ids = np.where(np.isin(ids, self._removed), -1, ids)
        return ids, scores

    def _exact(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        _set_threads()
        if self._store.storage == "float32":
            scores, rows = faiss.knn(queries, np.ascontiguousarray(self._store.vectors), k, metric=faiss.METRIC_INNER_PRODUCT)
        else:
            # Compressed storage: converted a block at a time (no full float32 copy).
            scores = np.full((queries.shape[0], 0), -np.inf, np.float32)
            rows = np.zeros((queries.shape[0], 0), np.int64)
            for start in range(0, len(self._store), 65_536):
                block = self._store.block(start, start + 65_536)
                s_block, r_block = faiss.knn(queries, block, min(k, block.shape[0]), metric=faiss.METRIC_INNER_PRODUCT)
                scores = np.concatenate([scores, s_block], axis=1)
                rows = np.concatenate([rows, r_block + start], axis=1)
                keep = np.argsort(-scores, axis=1, kind="stable")[:, :k]
                scores, rows = np.take_along_axis(scores, keep, axis=1), np.take_along_axis(rows, keep, axis=1)
        ids = np.where(rows >= 0, self._store.ids[np.maximum(rows, 0)], -1)
        return ids, scores

    def _exact_subset(self, queries: np.ndarray, k: int, only: IdSubset) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(only.contains(self._store.ids))
        if rows.size == 0:
            return np.full((queries.shape[0], 0), -1, np.int64), np.zeros((queries.shape[0], 0), np.float32)
        k = min(k, rows.size)
        scores = queries @ self._store.gather(rows).T
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return self._store.ids[rows[top]], np.take_along_axis(scores, top, axis=1).astype(np.float32)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest ids of each query row, with exact cosines.

        ``queries`` is float32 ``(q, dim)``. Returns ``ids`` int64 and
        ``scores`` float32, both ``(q, min(k, len(self)))``, best first. An
        approximate backend may find fewer than ``k`` for some row: the
        result keeps only the columns every row filled, never ``-1``.
        """
        queries = self._check_queries(queries)
        k = min(int(k), len(self))
        if k <= 0:
            return np.zeros((queries.shape[0], 0), np.int64), np.zeros((queries.shape[0], 0), np.float32)
        if self._ann is None or k * max(1, self.params.refine) >= len(self):
            # Exact over the stored vectors when the candidates would be most of the index anyway.
            ids, scores = self._exact(queries, k)
        else:
            candidate_ids, _ = self.candidates(queries, k * max(1, self.params.refine))
            ids, scores = self._refine(queries, candidate_ids, k)
        filled = int((ids >= 0).all(axis=0).sum())
        ids, scores = ids[:, :filled].astype(np.int64), scores[:, :filled].astype(np.float32)
        if self._store.exact is not None and ids.size:
            # 8-bit codes found them; their scores and order come from the exact copies.
            exact = self._store.gather_exact(self._store.rows(ids.reshape(-1))).reshape(*ids.shape, self.dim)
            scores = np.einsum("qcd,qd->qc", exact, queries).astype(np.float32)
            order = np.argsort(-scores, axis=1, kind="stable")
            ids, scores = np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)
        return ids, scores

    def _refine(self, queries: np.ndarray, candidate_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._store.rows(candidate_ids.reshape(-1)).reshape(candidate_ids.shape)
        valid = (candidate_ids >= 0) & (rows >= 0)
        if candidate_ids.shape[1] > 1:
            # An HNSW graph can hold a replaced id twice; keep one of each.
            order = np.argsort(candidate_ids, axis=1, kind="stable")
            ordered = np.take_along_axis(candidate_ids, order, axis=1)
            repeated = np.zeros_like(valid)
            repeated[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
            duplicate = np.zeros_like(valid)
            np.put_along_axis(duplicate, order, repeated, axis=1)
            valid &= ~duplicate
        gathered = self._store.gather(np.maximum(rows, 0).reshape(-1)).reshape(*rows.shape, self.dim) if rows.size else np.zeros((*rows.shape, self.dim), np.float32)
        scores = np.einsum("qcd,qd->qc", gathered, queries)
        scores = np.where(valid, scores, -np.inf).astype(np.float32)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_scores = np.take_along_axis(scores, order, axis=1)
        top_ids = np.where(np.isfinite(top_scores), np.take_along_axis(candidate_ids, order, axis=1), -1)
        return top_ids, np.where(np.isfinite(top_scores), top_scores, 0.0).astype(np.float32)

    def _check_queries(self, queries: np.ndarray) -> np.ndarray:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries[None, :]
        if queries.shape[1] != self.dim:
            raise IndexMismatchError(f"queries of dimension {queries.shape[1]} against an index of dimension {self.dim}")
        return queries

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of ``ids`` (all must be present; the exact copies of 8-bit codes): float32 ``(n, dim)``."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = self._store.rows(ids)
        if (rows < 0).any():
            raise VectorIndexError(f"id {int(ids[np.argmax(rows < 0)])} is not in the index")
        return self._store.gather_exact(rows)

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (created if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._store.save(folder)
        if self._ann is not None:
            self._ann.save(folder / _INDEX_FILE)
        np.save(folder / "removed.npy", self._removed)
        (folder / _META_FILE).write_text(
            json.dumps({"format_version": FORMAT_VERSION, "backend": self.backend, "dim": self.dim, "count": len(self), "params": asdict(self.params)})
        )

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> "VectorIndex":
        """Read an index written by :meth:`save`; raises on a missing, foreign or damaged folder.

        With ``mmap`` (the default) the stored vectors and IVF lists are
        memory-mapped read-only: loading is instant and processes share pages.
        """
        folder = Path(folder)
        try:
            meta = json.loads((folder / _META_FILE).read_text())
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"{folder}: no readable {_META_FILE} ({error})") from None
        if meta.get("format_version") != FORMAT_VERSION or meta.get("backend") not in BACKENDS:
            raise IndexMismatchError(
                f"{folder}: index format {meta.get('format_version')}/{meta.get('backend')} is not "
                f"{FORMAT_VERSION}; rebuild it with a full reindex"
            )
        try:
            params = BackendParams(**meta["params"])
            dim = int(meta["dim"])
        except (KeyError, TypeError, ValueError) as error:
            raise IndexCorruptError(f"{folder}: {_META_FILE} is incomplete ({error})") from None
        index = cls(dim, params=params)
        index._store = VectorStore.load(folder, dim=dim, mmap=mmap, dtype=params.storage)
        if len(index._store) != meta["count"]:
            raise IndexCorruptError(f"{folder}: holds {len(index._store)} vectors, meta says {meta['count']}")
        if params.backend != "flat":
            index._ann = AnnIndex.load(folder / _INDEX_FILE, dim=dim, params=params, mmap=mmap)
            try:
                index._removed = np.load(folder / "removed.npy", allow_pickle=False)
            except (OSError, ValueError):
                index._removed = np.zeros(0, np.int64)
            if index._ann.removes_in_place and len(index._ann) != len(index._store):
                raise IndexCorruptError(f"{folder}: the IVF lists hold {len(index._ann)} ids, the store {len(index._store)}")
        return index
