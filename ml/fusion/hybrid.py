"""Hybrid song similarity over the audio and lyrics modalities: the index that serves it.

Each modality's vectors are whitened with a map fitted on the catalogue
(:mod:`ml.whitening`) and L2-normalised; a pair's score is the weighted mean
of the cosines of the modalities both tracks have (:mod:`ml.scoring`), so a
pair that shares no modality of positive weight has no score and is never
returned. ``balance`` is the audio share of the weight, per request:
``w_audio = balance``, ``w_lyrics = 1 - balance``. With several seeds a
candidate's score is the mean of its scores against the seeds it can be
compared with.

Search: candidates come from a *fused* index (one vector per track, the
concatenation of its whitened modality vectors, zeros where a modality is
missing; a query ``[w_audio * q_audio, w_lyrics * q_lyrics]`` then scores
``w_audio cos_audio + w_lyrics cos_lyrics`` for any balance), searched once
per group of tracks that share the same modalities (both, audio only, lyrics
only) with that group's query, so a strong single-modality match (an
instrumental, a lyric-only entry) is never lost; the union is re-ranked with
the exact score in one vectorised pass. Small catalogues skip the candidate
step and score every track exactly.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ml.config import MODALITIES
from ml.errors import IndexMismatchError, MLError
from ml.fusion.index import COMPRESSED_MIN, AnnIndex, BackendParams, IdSubset, VectorIndex, backend_params, ids_nearly_dense
from ml.fusion.learned import FusionModel
from ml.fusion.sources import ArraySource, VectorSource, rows_gather
from ml.scoring import balance_weights, pair_scores
from ml.threads import build_threads_now, compute_threads
from ml.whitening import DEFAULT_WHITENING, FIT_SAMPLE, ProjectedWhitener, Whitening, whitener_fit, whitener_read

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: Candidates per seed from each source, at least this many.
MIN_CANDIDATES = 50
#: Candidates per wanted result from the fused index, restricted to tracks
#: with both modalities (and from a modality's index for a one-modality seed).
#: Within one group the candidate order is the exact order up to quantisation,
#: so a small factor suffices; bench.index N=100,000 and 1,000,000 in docs/index.md.
FUSED_CANDIDATES_PER_RESULT = 2
#: Candidates per wanted result from each modality's index, restricted to the
#: tracks that have only that modality (instrumentals, lyric-only entries).
MODALITY_CANDIDATES_PER_RESULT = 1
#: Where candidates are ranked with 8-bit codes, the best ``k`` plus this many are
#: re-scored from exact copies before the final cut (bench.index at 1,000,000, docs/index.md).
EXACT_SHORTLIST_EXTRA = 25
#: A direction (a taste model's weights) is not a track: its best tracks sit at
#: the edge of the catalogue, in lists whose centres need not score highest, so
#: :meth:`HybridIndex.linear_candidates` visits this many times more lists.
LINEAR_SEARCH_EFFORT = 4


def _seed_mean(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the seeds each candidate can be compared with (nanmean without its warnings).

    ``scores`` float32 ``(c, s)``, NaN where unscored; returns ``(mean float32 (c,), usable bool (c,))``
    with ``-inf`` where no seed scores the candidate.
    """
    shared = ~np.isnan(scores)
    usable = shared.any(axis=1)
    totals = np.where(shared, scores, 0.0).sum(axis=1)
    return np.where(usable, totals / np.maximum(shared.sum(axis=1), 1), -np.inf).astype(np.float32), usable


def _whiten(whitener: Whitening, raw: np.ndarray, chunk: int) -> np.ndarray:
    """Whitened float32 copy of ``raw`` ``(n, dim_in)``, a chunk at a time."""
    if raw.shape[0] == 0:
        return np.zeros((0, int(whitener.apply(np.zeros((1, raw.shape[1]), np.float32)).shape[1])), np.float32)
    parts = [whitener.apply(raw[start : start + chunk]) for start in range(0, raw.shape[0], chunk)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def modality_params(count: int, dim: int, *, backend: str = "auto", overrides: Mapping[str, Any] | None = None) -> BackendParams:
    """Backend of one modality's :class:`VectorIndex` inside a hybrid index.

    As :func:`backend_params`, except that above :data:`COMPRESSED_MIN` tracks
    (where memory binds) a modality keeps only its 8-bit refine vectors
    (``flat``): the hybrid search takes every candidate from the fused index,
    so a per-modality ANN would only cost RAM and build time. Its own
    ``search`` then scans exactly (slow at a million tracks; the site uses
    :meth:`HybridIndex.similar` / :meth:`HybridIndex.query`).
    """
    params = backend_params(count, dim, backend=backend, overrides=overrides)
    if count > COMPRESSED_MIN and backend == "auto":
        return BackendParams("flat", storage=str((overrides or {}).get("storage", "sq8")))
    return params


class HybridIndex:
    """One index per modality, a fused candidate index, and the catalogue whiteners, searched as one.

    ``indexes[m]`` is the :class:`VectorIndex` of modality ``m`` (whitened,
    unit vectors, exact scores from :meth:`VectorIndex.search`);
    ``standardisers[m].apply(raw)`` whitens raw embedder vectors of ``m`` the
    way the catalogue was (use it before searching ``indexes[m]`` with a text
    or an uploaded file). ``fused`` is None for small (exact) catalogues.
    """

    def __init__(
        self,
        indexes: Mapping[str, VectorIndex],
        standardisers: Mapping[str, Whitening],
        model_versions: Mapping[str, str],
        *,
        fused: AnnIndex | None = None,
    ) -> None:
        unknown = set(indexes) - set(MODALITIES)
        if unknown:
            raise MLError(f"unknown modalities {sorted(unknown)}; expected some of {MODALITIES}")
        self.indexes = {m: indexes[m] for m in MODALITIES if m in indexes}
        self.standardisers = dict(standardisers)
        self.model_versions = dict(model_versions)
        self.fused = fused
        self._prepare()

    def _prepare(self) -> None:
        """Compute what every search reads (the track list, each modality's rows in it, the modality
        groups) once, when the index is built, loaded or updated: a serving index is then only read,
        never filled in lazily by concurrent requests."""
        self._universe = self._track_ids_compute()
        # Rows of each modality in the track list: only exact (small) catalogues score every track.
        self._positions = {} if self.fused is not None else {m: np.searchsorted(self._universe, index.store.ids) for m, index in self.indexes.items() if len(index)}
        self._subsets = self._groups_compute()

    # -- building ------------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
        model_versions: Mapping[str, str],
        *,
        backend: str = "auto",
        whitening: str = DEFAULT_WHITENING,
        overrides: Mapping[str, Any] | None = None,
        chunk: int = 100_000,
        fusion: FusionModel | None = None,
        threads: int | None = None,
        spill_dir: Path | None = None,
    ) -> "HybridIndex":
        """Fit whiteners and index ``vectors[m] = (ids int64 (n,), raw vectors (n, dim))``.

        ``backend`` (``auto``, ``flat``, ``ivf``, ``hnsw``) applies to every
        modality and to the fused index; ``auto`` picks by catalogue size.
        ``fusion`` (a :class:`ml.fusion.learned.FusionModel`) adds its learned
        projection after each modality's whitening: the index then lives in
        the learned space (``standardisers[m]`` maps raw vectors into it).
        The same build as :meth:`build_streamed` over arrays in memory.
        """
        sources: dict[str, VectorSource] = {}
        for modality, (ids, raw) in vectors.items():
            raw = np.asarray(raw)
            if raw.ndim == 2 and raw.shape[0] > 0:
                sources[modality] = ArraySource(ids, raw)
        return cls.build_streamed(sources, model_versions, backend=backend, whitening=whitening, overrides=overrides, chunk=chunk, fusion=fusion, threads=threads, spill_dir=spill_dir)

    @classmethod
    def build_streamed(
        cls,
        sources: Mapping[str, VectorSource],
        model_versions: Mapping[str, str],
        *,
        backend: str = "auto",
        whitening: str = DEFAULT_WHITENING,
        overrides: Mapping[str, Any] | None = None,
        chunk: int = 100_000,
        fusion: FusionModel | None = None,
        threads: int | None = None,
        spill_dir: Path | None = None,
    ) -> "HybridIndex":
        """The index of each modality's :class:`~ml.fusion.sources.VectorSource`, read in chunks of ``chunk`` rows.

        Each source is read twice: once for a seeded sample (the whitening is
        fitted on :data:`~ml.whitening.FIT_SAMPLE` rows, the ANN on its
        training rows, 8-bit codes on the whitened sample's range), once to
        whiten and store every row. Memory is the stored index plus the
        samples and one chunk, never every raw vector. ``threads`` is the
        FAISS/BLAS threads of the build; None chooses the free cores before
        each step (:func:`ml.threads.build_threads_now`). Above
        :data:`~ml.fusion.index.COMPRESSED_MIN` tracks the exact float16 copies
        are written to a temporary file in ``spill_dir`` as they come (moved
        into the index folder by :meth:`save`).
        """
        indexes: dict[str, VectorIndex] = {}
        standardisers: dict[str, Whitening] = {}
        for modality in MODALITIES:
            source = sources.get(modality)
            if source is None or source.count == 0:
                continue
            count = source.count
            fit_rows = np.arange(count) if count <= FIT_SAMPLE else np.sort(np.random.default_rng(0).choice(count, FIT_SAMPLE, replace=False))
            params = modality_params(count, source.dim, backend=backend, overrides=overrides)
            train_rows = np.zeros(0, np.int64)
            if params.backend != "flat" and params.train_size and count > params.train_size:
                train_rows = np.sort(np.random.default_rng(1234).choice(count, params.train_size, replace=False))
            elif params.backend != "flat":
                train_rows = np.arange(count)
            wanted = np.union1d(fit_rows, train_rows)
            sample = rows_gather(source, wanted, chunk=chunk)
            # Without ANN training rows the sample is the fit sample: no second copy (410 MB of lyrics at 1M).
            fit_sample = sample if wanted.size == fit_rows.size else sample[np.searchsorted(wanted, fit_rows)]
            with compute_threads(threads if threads else build_threads_now()):
                whitener: Whitening = whitener_fit(fit_sample, kind=whitening)
            if fusion is not None and modality in fusion.projections:
                if fusion.projections[modality].shape[0] != source.dim:
                    raise IndexMismatchError(
                        f"fusion model {fusion.version} projects {modality} vectors of dimension "
                        f"{fusion.projections[modality].shape[0]}, the catalogue has {source.dim}; retrain it (manage.py train_fusion)"
                    )
                whitener = ProjectedWhitener(whitener, fusion.projections[modality], fusion.version)
            dim = int(whitener.apply(fit_sample[:1]).shape[1])
            if dim != source.dim:
                params = modality_params(count, dim, backend=backend, overrides=overrides)
            index = VectorIndex(dim, params=params)
            whitened_fit = _whiten(whitener, fit_sample, chunk)
            train = _whiten(whitener, sample[np.searchsorted(wanted, train_rows)], chunk) if train_rows.size else None
            del sample, fit_sample
            index.fill_start(count, train=train, quantiser_sample=whitened_fit, threads=threads, spill_dir=spill_dir)
            del whitened_fit, train
            for ids, raw in source.chunks(chunk):
                with compute_threads(threads if threads else build_threads_now()):
                    index.fill(np.asarray(ids, dtype=np.int64), whitener.apply(raw))
            index.fill_done()
            indexes[modality] = index
            standardisers[modality] = whitener
        hybrid = cls(indexes, standardisers, {m: v for m, v in model_versions.items() if m in indexes})
        hybrid._fused_build(backend=backend, overrides=overrides, chunk=chunk, threads=threads)
        return hybrid

    def _fused_build(self, *, backend: str, overrides: Mapping[str, Any] | None, chunk: int, threads: int | None = None) -> None:
        universe = self.track_ids()
        params = backend_params(universe.size, self.fused_dim, backend=backend, overrides=overrides)
        if params.backend == "flat" or not self.indexes:
            self.fused = None
            return
        fused = AnnIndex(self.fused_dim, params)
        sample = universe
        if params.train_size and universe.size > params.train_size:
            sample = np.sort(np.random.default_rng(1234).choice(universe, params.train_size, replace=False))
        # Threads are chosen before each step: a build that started on idle cores backs off when other work arrives.
        with compute_threads(threads if threads else build_threads_now()):
            fused.train(self.fused_vectors(sample))
        for start in range(0, universe.size, chunk):
            part = universe[start : start + chunk]
            with compute_threads(threads if threads else build_threads_now()):
                fused.add(part, self.fused_vectors(part))
        self.fused = fused
        self._positions = {}

    @property
    def fusion_version(self) -> str:
        """Version of the learned fusion model the index was built with; "" for the weighted baseline."""
        return next((str(getattr(w, "fusion_version", "")) for w in self.standardisers.values() if getattr(w, "fusion_version", "")), "")

    @property
    def fused_dim(self) -> int:
        return sum(index.dim for index in self.indexes.values())

    def fused_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Fused rows of ``ids``: whitened modality vectors side by side, zeros where missing; float32 ``(n, fused_dim)``."""
        parts = [vectors for vectors, _ in self.vectors_of(np.asarray(ids, dtype=np.int64)).values()]
        return np.ascontiguousarray(np.concatenate(parts, axis=1)) if parts else np.zeros((len(ids), 0), np.float32)

    # -- incremental updates -------------------------------------------------
    def update(
        self,
        *,
        add: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        remove: Mapping[str, np.ndarray] | Sequence[int] | np.ndarray = (),
    ) -> dict[str, int]:
        """Add or replace tracks and remove others without a rebuild.

        ``add[m] = (ids int64 (n,), raw vectors (n, dim_m))`` are whitened with
        the catalogue's fitted whiteners; ``remove`` ids leave every modality
        (or, as a mapping ``{m: ids}``, only modality ``m``) and the fused index
        is brought in line for every track touched. A modality the index does not have yet cannot be
        added incrementally (:class:`IndexMismatchError`: rebuild). Returns
        counts of what changed per modality.
        """
        if isinstance(remove, Mapping):
            per_modality = {m: np.unique(np.asarray(ids, dtype=np.int64).reshape(-1)) for m, ids in remove.items()}
        else:
            everywhere = np.unique(np.asarray(remove, dtype=np.int64).reshape(-1))
            per_modality = {m: everywhere for m in self.indexes}
        changed: dict[str, int] = {}
        touched = [np.zeros(0, np.int64), *per_modality.values()]
        for modality, index in self.indexes.items():
            count = index.remove(per_modality.get(modality, np.zeros(0, np.int64)))
            if count:
                changed[f"{modality}_removed"] = count
        for modality, (ids, raw) in (add or {}).items():
            ids = np.asarray(ids, dtype=np.int64).reshape(-1)
            if ids.size == 0:
                continue
            if modality not in self.indexes:
                raise IndexMismatchError(f"the index has no {modality} modality yet; run a full reindex to add it")
            self.indexes[modality].add(ids, self.standardisers[modality].apply(raw))
            changed[f"{modality}_added"] = int(ids.size)
            touched.append(ids)
        self._prepare()
        if self.fused is not None:
            affected = np.unique(np.concatenate(touched))
            self.fused.remove(affected)
            # HNSW graphs and fast-scan lists keep removed entries (removes_in_place):
            # the id subsets every search is restricted to leave them out, and
            # the exact re-rank finds no vectors for them, so they never return.
            present = affected[self._present_anywhere(affected)]
            if present.size:
                self.fused.add(present, self.fused_vectors(present))
        return changed

    def _present_anywhere(self, ids: np.ndarray) -> np.ndarray:
        present = np.zeros(ids.size, dtype=bool)
        for index in self.indexes.values():
            present |= index.contains(ids)
        return present

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.track_ids().size)

    def __contains__(self, track_id: object) -> bool:
        return any(track_id in index for index in self.indexes.values())

    def track_ids(self) -> np.ndarray:
        """Every track id that has at least one modality, sorted int64."""
        return self._universe

    def _track_ids_compute(self) -> np.ndarray:
        parts = [index.store.ids for index in self.indexes.values() if len(index)]
        if not parts:
            return np.zeros(0, np.int64)
        if ids_nearly_dense(min(int(p.min()) for p in parts), max(int(p.max()) for p in parts), max(p.size for p in parts)):
            # A mask over the id range instead of sorting every id.
            size = max(int(p.max()) for p in parts) + 1
            present = np.logical_or.reduce([index.store.id_mask(size) for index in self.indexes.values() if len(index)])
            return np.flatnonzero(present).astype(np.int64)
        return np.unique(np.concatenate(parts))

    def counts(self) -> dict[str, int]:
        return {modality: len(index) for modality, index in self.indexes.items()}

    @property
    def backend(self) -> str:
        """``flat`` when every track is scored exactly, else the candidate backend."""
        return self.fused.params.backend if self.fused is not None else "flat"

    def vectors_of(self, ids: np.ndarray, *, exact: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per modality ``(whitened vectors (n, dim), present bool (n,))`` for ``ids``; zeros where absent.

        ``exact`` reads the full-precision copies where a modality ranks with
        8-bit codes (a few rows: seeds, a short list), else the stored rows.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for modality, index in self.indexes.items():
            rows = index.store.rows(ids)
            present = rows >= 0
            vectors = np.zeros((ids.size, index.dim), dtype=np.float32)
            if present.any():
                vectors[present] = index.store.gather_exact(rows[present]) if exact else index.store.gather(rows[present])
            out[modality] = (vectors, present)
        return out

    @property
    def reranks_exactly(self) -> bool:
        """Whether candidates are ranked with 8-bit codes and a short list is re-scored from exact copies."""
        return self.fused is not None and any(index.store.exact is not None for index in self.indexes.values())

    def neighbours(self, seed_vectors: Mapping[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float], k: int) -> np.ndarray:
        """Every query row's ``k`` best tracks by the exact hybrid score, as one sorted id set (int64).

        ``seed_vectors[m] = (whitened vectors (q, dim_m), present bool (q,))``
        (modalities left out count as missing); ``weights`` per modality. The
        pool a playlist is built from: candidates from the fused index (every
        track for an exact catalogue), re-ranked exactly per row.
        """
        queries = next((v.shape[0] for v, _ in seed_vectors.values()), 0)
        full = {
            m: seed_vectors[m] if m in seed_vectors else (np.zeros((queries, index.dim), np.float32), np.zeros(queries, dtype=bool))
            for m, index in self.indexes.items()
        }
        if queries == 0 or k <= 0:
            return np.zeros(0, np.int64)
        if self.fused is None:
            universe, scores = self.track_ids(), self._scores_all(full, weights)
        else:
            universe = self._candidates(full, weights, int(k))
            scores = pair_scores(full, self.vectors_of(universe), weights) if universe.size else np.zeros((0, queries), np.float32)
        if universe.size == 0:
            return np.zeros(0, np.int64)
        scores = np.where(np.isnan(scores), -np.inf, scores)
        take = min(int(k), universe.size)
        top = np.argpartition(-scores, take - 1, axis=0)[:take]  # (take, q)
        picked = top[np.isfinite(np.take_along_axis(scores, top, axis=0))]
        return np.unique(universe[picked])

    def linear_candidates(self, directions: Mapping[str, np.ndarray], k: int) -> np.ndarray:
        """Candidates for the tracks with the largest ``sum_m directions[m] . x_m``: sorted unique int64 ids.

        ``directions[m]`` float32 ``(dim_m,)`` over the stored (whitened, unit)
        vectors, e.g. a linear classifier's weights; a modality a track lacks
        adds nothing. Terms that depend only on which modalities a track has
        (a classifier's missing-modality flags, its bias) are constant within
        each group of tracks (both, audio only, lyrics only), so the group's
        fused inner-product top ``k`` holds its best tracks; callers score the
        candidates exactly. An exact catalogue returns every track.
        """
        if self.fused is None:
            return self.track_ids()
        groups = self._groups()
        wanted = max(1, int(self.fused.params.oversample)) * max(MIN_CANDIDATES, int(k))
        zeros = {m: np.zeros(index.dim, np.float32) for m, index in self.indexes.items()}
        direction = {m: np.asarray(directions.get(m, zeros[m]), dtype=np.float32).reshape(-1) for m in self.indexes}
        if len(self.indexes) == 2:
            plan = [("both", tuple(MODALITIES)), ("only_audio", ("audio",)), ("only_lyrics", ("lyrics",))]
        else:
            plan = [(f"has_{m}", (m,)) for m in self.indexes]
        found = [np.zeros(0, np.int64)]
        for group, present in plan:
            if len(groups[group]) == 0:
                continue
            query = np.concatenate([direction[m] if m in present else zeros[m] for m in self.indexes])[None, :]
            ids, _ = self.fused.search(np.ascontiguousarray(query, dtype=np.float32), wanted, only=groups[group], effort=LINEAR_SEARCH_EFFORT)
            found.append(ids.reshape(-1))
        merged = np.unique(np.concatenate(found))
        return merged[merged >= 0]

    def similar(
        self,
        seed_ids: Sequence[int],
        *,
        k: int,
        balance: float,
        exclude: Sequence[int] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` tracks most similar to the seeds on average, best first.

        Returns ``(ids int64 (m,), scores float32 (m,))`` with ``m <= k``; the
        seeds and ``exclude`` never appear. Tracks sharing no weighted
        modality with any seed are left out rather than given a made-up score.
        """
        weights = balance_weights(balance)
        seeds = np.unique(np.asarray([int(s) for s in seed_ids], dtype=np.int64))
        seeds = seeds[self._present_anywhere(seeds)] if seeds.size else seeds
        if seeds.size == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        banned = np.union1d(seeds, np.asarray(list(exclude), dtype=np.int64))
        return self._rank(self.vectors_of(seeds, exact=True), weights, k=int(k), banned=banned)

    def query(
        self,
        vectors_by_modality: Mapping[str, np.ndarray],
        *,
        k: int,
        balance: float,
        exclude: Sequence[int] = (),
        whitened: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` catalogue tracks most similar to vectors that are not in the catalogue.

        ``vectors_by_modality[m]`` is float32 ``(dim_m,)`` or ``(q, dim_m)``
        straight from the configured embedder of ``m`` (an uploaded file, a
        text as lyrics); they are whitened with the catalogue's whiteners
        unless ``whitened``. With ``q`` rows the scores are averaged like
        several seeds; modalities left out count as missing. Returns
        ``(ids int64 (m,), scores float32 (m,))`` best first.
        """
        weights = balance_weights(balance)
        if k <= 0 or not vectors_by_modality:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = {m: np.atleast_2d(np.asarray(v, dtype=np.float32)) for m, v in vectors_by_modality.items()}
        count = {r.shape[0] for r in rows.values()}
        if len(count) != 1:
            raise MLError(f"query modalities have different row counts: {sorted(count)}")
        queries = count.pop()
        seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for modality, index in self.indexes.items():
            if modality in rows:
                # Raw vectors have the embedder's dimension; with learned fusion the index's is smaller.
                expected = index.dim if whitened else int(getattr(self.standardisers[modality], "input_dim", index.dim))
                if rows[modality].shape[1] != expected:
                    raise IndexMismatchError(f"{modality} query has dimension {rows[modality].shape[1]}, the index expects {expected}")
                vectors = rows[modality] if whitened else self.standardisers[modality].apply(rows[modality])
                seed_vectors[modality] = (vectors, np.ones(queries, dtype=bool))
            else:
                seed_vectors[modality] = (np.zeros((queries, index.dim), np.float32), np.zeros(queries, dtype=bool))
        unknown = set(rows) - set(self.indexes)
        if unknown:
            logger.debug("query modalities %s are not in the index; ignored", sorted(unknown))
        return self._rank(seed_vectors, weights, k=int(k), banned=np.asarray(list(exclude), dtype=np.int64))

    def _rank(self, seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float], *, k: int, banned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.fused is None:
            # Small catalogue: score every track exactly, straight from the stored matrices.
            candidates, scores = self.track_ids(), self._scores_all(seed_vectors, weights)
        else:
            candidates = self._candidates(seed_vectors, weights, k + int(banned.size))
            scores = pair_scores(seed_vectors, self.vectors_of(candidates), weights)
        if banned.size:
            keep = ~np.isin(candidates, banned)
            candidates, scores = candidates[keep], scores[keep]
        if candidates.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        mean_scores, usable = _seed_mean(scores)
        order = np.lexsort((candidates, -mean_scores))
        if self.reranks_exactly:
            # 8-bit codes rank within ~4e-4 of the exact score, while neighbours 50 and 51 of a
            # million-track catalogue are ~2e-4 apart: the short list around the cut is
            # re-scored from the exact copies (a few rows read from disk).
            short = candidates[order[usable[order]][: k + EXACT_SHORTLIST_EXTRA]]
            exact_scores, exact_usable = _seed_mean(pair_scores(seed_vectors, self.vectors_of(short, exact=True), weights))
            final = np.lexsort((short, -exact_scores))
            final = final[exact_usable[final]][:k]
            return short[final], exact_scores[final]
        order = order[usable[order]][:k]
        return candidates[order], mean_scores[order]

    def _scores_all(self, seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float]) -> np.ndarray:
        """Exact hybrid scores of every track (in :meth:`track_ids` order) against the seeds: float32 ``(n, s)``, NaN where unscored."""
        universe = self.track_ids()
        seeds_count = next(iter(seed_vectors.values()))[0].shape[0] if seed_vectors else 0
        numerator = np.zeros((universe.size, seeds_count), np.float32)
        denominator = np.zeros((universe.size, seeds_count), np.float32)
        for modality, index in self.indexes.items():
            weight = weights.get(modality, 0.0)
            seeds, present = seed_vectors[modality]
            if weight <= 0 or not present.any() or len(index) == 0:
                continue
            rows = self._positions[modality]
            cosines = index.store.block(0, len(index)) @ seeds.T
            numerator[rows] += weight * np.where(present[None, :], cosines, 0.0)
            denominator[rows] += weight * present[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / denominator, np.nan).astype(np.float32)

    def _groups(self) -> dict[str, IdSubset]:
        """Tracks by the modalities they have, as id subsets.

        ``both``; ``only_<m>``: tracks with modality ``m`` alone; ``has_<m>``: every track with ``m``.
        """
        return self._subsets

    def _groups_compute(self) -> dict[str, IdSubset]:
        # Boolean masks over the id range: no sorted set operations over a
        # million ids, and no large temporaries a web worker would keep.
        universe = self._universe
        size = int(universe[-1]) + 1 if universe.size else 1
        masks = {m: index.store.id_mask(size) for m, index in self.indexes.items()}
        subsets = {f"has_{m}": IdSubset.from_mask(mask) for m, mask in masks.items()}
        if len(masks) == 2:
            audio, lyrics = (masks[m] for m in MODALITIES)
            subsets.update(
                both=IdSubset.from_mask(audio & lyrics),
                only_audio=IdSubset.from_mask(audio & ~lyrics),
                only_lyrics=IdSubset.from_mask(lyrics & ~audio),
            )
        return subsets

    def _candidates(self, seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float], k: int) -> np.ndarray:
        """Sorted unique candidate ids (int64) for the seeds, all from the fused index.

        The exact score's denominator depends only on which modalities a
        track shares with the seed, so within each group of tracks (both
        modalities, audio only, lyrics only) an inner product with the fused
        vectors ranks in the exact order (up to quantisation). A seed with
        both modalities takes the top of ``[w_a q_a, w_l q_l]`` among tracks
        with both, and the top of ``[q_a, 0]`` / ``[0, q_l]`` among tracks
        with only audio / only lyrics; a seed with one modality the top of
        ``[q_a, 0]`` among every track that has it. So each search needs
        little more than ``k`` candidates, and no per-modality ANN is needed.
        """
        fused = self.fused
        if fused is None:
            return self.track_ids()
        active = [m for m in self.indexes if weights.get(m, 0.0) > 0 and seed_vectors[m][1].any()]
        groups = self._groups()
        oversample = max(1, int(fused.params.oversample))
        wanted_both = oversample * max(MIN_CANDIDATES, int(FUSED_CANDIDATES_PER_RESULT * k))
        wanted_single = oversample * max(MIN_CANDIDATES, int(MODALITY_CANDIDATES_PER_RESULT * k))
        found: list[np.ndarray] = [np.zeros(0, np.int64)]

        def search(blocks: Mapping[str, np.ndarray], rows: np.ndarray, wanted: int, only: IdSubset) -> None:
            if not rows.any() or len(only) == 0:
                return
            query = np.concatenate(
                [blocks[m][rows] if m in blocks else np.zeros((int(rows.sum()), index.dim), np.float32) for m, index in self.indexes.items()], axis=1
            )
            ids, _ = fused.search(np.ascontiguousarray(query, dtype=np.float32), wanted, only=only)
            found.append(ids.reshape(-1))

        both_present = np.all([seed_vectors[m][1] for m in active], axis=0) if len(active) == 2 else np.zeros(0, bool)
        if len(active) == 2:
            search({m: weights[m] * seed_vectors[m][0] for m in active}, both_present, wanted_both, groups["both"])
        for modality in active:
            vectors, has = seed_vectors[modality]
            if len(active) == 2:
                search({modality: vectors}, has & both_present, wanted_single, groups[f"only_{modality}"])
                has = has & ~both_present
            # A seed with only this modality is compared with every track on it alone.
            search({modality: vectors}, has, wanted_both, groups[f"has_{modality}"])
        merged = np.unique(np.concatenate(found))
        return merged[merged >= 0]

    # -- files ---------------------------------------------------------------
    def save(self, folder: Path) -> dict[str, Any]:
        """Write every modality into ``folder``; returns the description stored in ``hybrid.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        description: dict[str, Any] = {"format_version": FORMAT_VERSION, "modalities": {}, "backend": self.backend}
        for modality, index in self.indexes.items():
            index.save(folder / modality)
            whitener = self.standardisers[modality]
            np.savez(folder / modality / "standardiser.npz", allow_pickle=True, **whitener.arrays())
            description["modalities"][modality] = {
                "dim": index.dim,
                "count": len(index),
                "model_version": self.model_versions.get(modality, ""),
                "backend": index.backend,
                "whitening": whitener.kind,
            }
        if self.fusion_version:
            description["fusion"] = self.fusion_version
        if self.fused is not None:
            (folder / "fused").mkdir(exist_ok=True)
            self.fused.save(folder / "fused" / "ann.faiss")
            description["fused"] = {"dim": self.fused_dim, "count": len(self.fused), "params": asdict(self.fused.params)}
        (folder / "hybrid.json").write_text(json.dumps(description, indent=2))
        return description

    @classmethod
    def load(cls, folder: Path, *, expect_models: Mapping[str, str] | None = None, mmap: bool = True) -> "HybridIndex":
        """Read a folder written by :meth:`save` (memory-mapped unless ``mmap=False``).

        With ``expect_models``, a modality whose stored model version differs
        raises :class:`IndexMismatchError`. Load with ``mmap=False`` to
        :meth:`update` the index.
        """
        folder = Path(folder)
        try:
            description = json.loads((folder / "hybrid.json").read_text())
        except (OSError, ValueError) as error:
            raise IndexMismatchError(f"{folder}: not a Crossfade index folder ({error})") from None
        if description.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(f"{folder}: index format {description.get('format_version')} is not {FORMAT_VERSION}; run a full reindex")
        indexes: dict[str, VectorIndex] = {}
        standardisers: dict[str, Whitening] = {}
        versions: dict[str, str] = {}
        for modality, info in description["modalities"].items():
            if expect_models and modality in expect_models and expect_models[modality] != info["model_version"]:
                raise IndexMismatchError(
                    f"{folder}: the {modality} index was built with {info['model_version']!r}, "
                    f"but {expect_models[modality]!r} is configured; run reindex"
                )
            index = VectorIndex.load(folder / modality, mmap=mmap)
            if index.dim != info["dim"]:
                raise IndexMismatchError(f"{folder}: {modality} index has dimension {index.dim}, expected {info['dim']}")
            standardisers[modality] = whitener_read(folder / modality / "standardiser.npz")
            indexes[modality] = index
            versions[modality] = info["model_version"]
        fused = None
        if "fused" in description:
            info = description["fused"]
            fused = AnnIndex.load(folder / "fused" / "ann.faiss", dim=info["dim"], params=BackendParams(**info["params"]), mmap=mmap)
        return cls(indexes, standardisers, versions, fused=fused)


__all__ = ["FORMAT_VERSION", "HybridIndex", "modality_params"]
