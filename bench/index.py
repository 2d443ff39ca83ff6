"""Hybrid index at catalogue scale: build, size, single-seed latency, recall against brute force.

    python -m bench.index --n 1000000 [--backend auto] [--queries 1000] [--seed 0] [--load 3] [--load-build]

Builds a synthetic clustered catalogue of N tracks at the dimensions of the
configured models (``bench.shapes.product_dims``: musicnn-mtt 400-d audio,
multilingual USE 512-d lyrics by default; ~20 % instrumentals without lyrics
and ~3 % lyric-only entries), seeded. Tracks belong to one of ``N/200``
styles nested in 64 genres; a style fixes an audio centre and (loosely,
through the genre) a lyrics topic; every vector also carries a component
shared by the whole catalogue and per-dimension scales that decay like real
embedding spectra, so the whitening has something to remove.

It then measures:

- ``build_s``: :meth:`HybridIndex.build` (whitening fit, every index), and
  the FAISS/OpenMP threads it used (``build_threads``: chosen from the free
  cores unless ``--threads`` says);
- ``disk_mb``: the saved index folder;
- ``rss_mb``: resident memory the loaded (memory-mapped) index adds to a
  fresh process after the latency run, file pages included; ``rss_anon_mb``
  is the private part (the rest is page cache shared by every worker), and
  ``load_anon_mb`` the private memory right after loading;
- ``p50_ms`` / ``p99_ms``: one seed -> re-ranked top 50 through
  :meth:`HybridIndex.similar`, the call the site makes, on one thread;
  ``cpu_p50_ms`` the same in CPU time of the serving thread (waiting for
  other threads or for a core does not count there);
- ``recall_at_50``: overlap of that top 50 with the exact brute-force hybrid
  top 50 (every track's float32 whitened vectors scored with
  :func:`pair_scores`), averaged over ``--recall-queries`` seeds.

``--load N`` runs the latency loop beside N busy processes (``bench.load``:
they stop by themselves), ``--load-build`` the build too. Prints JSON with the
load average before and after. Timings on a shared machine are upper bounds.
"""
from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import busy_load, load_average  # noqa: E402
from bench.shapes import product_dims  # noqa: E402

Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: Tracks generated per step of the seeded generator (the random stream depends on it, so it is fixed).
GENERATION_CHUNK = 100_000


def _rss() -> dict[str, float]:
    values: dict[str, float] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def synthetic_chunks(n: int, *, dims: dict[str, int], seed: int = 0) -> Iterator[Chunk]:
    """The seeded synthetic catalogue, one id range at a time: ``(audio ids, audio (m_a, d_a), lyrics ids, lyrics (m_l, d_l))``.

    Ids run from 1 to ``n`` in order; the same arguments give the same vectors.
    """
    audio_dim, lyrics_dim = int(dims["audio"]), int(dims["lyrics"])
    rng = np.random.default_rng(seed)
    genres = 64
    styles = max(genres, n // 200)
    audio_shared = rng.standard_normal(audio_dim) * 2.0
    lyrics_shared = rng.standard_normal(lyrics_dim) * 2.0
    audio_spectrum = (np.arange(1, audio_dim + 1) ** -0.5).astype(np.float32) * 4
    lyrics_spectrum = (np.arange(1, lyrics_dim + 1) ** -0.5).astype(np.float32) * 4
    genre_audio = rng.standard_normal((genres, audio_dim)).astype(np.float32)
    genre_lyrics = rng.standard_normal((genres, lyrics_dim)).astype(np.float32)
    style_genre = rng.integers(0, genres, styles)
    style_audio = (genre_audio[style_genre] + 0.8 * rng.standard_normal((styles, audio_dim))).astype(np.float32)
    topics = rng.standard_normal((styles, lyrics_dim)).astype(np.float32)
    style_lyrics = (0.7 * genre_lyrics[style_genre] + 0.8 * topics).astype(np.float32)
    for start in range(0, n, GENERATION_CHUNK):
        count = min(GENERATION_CHUNK, n - start)
        ids = np.arange(start, start + count, dtype=np.int64) + 1
        style = rng.integers(0, styles, count)
        has_lyrics = rng.random(count) >= 0.20
        has_audio = ~(has_lyrics & (rng.random(count) < 0.03))
        # Each modality's noise is drawn whole (the random stream), then turned into vectors in place a
        # block of rows at a time: the same values as one expression over the chunk, without its
        # float64 temporaries (~1 GB at 100,000 rows of 400 + 512 dims).
        audio = _vectors_in_place(rng.standard_normal((count, audio_dim), dtype=np.float32), 0.9, style_audio, style, audio_spectrum, audio_shared)
        lyrics = _vectors_in_place(rng.standard_normal((count, lyrics_dim), dtype=np.float32), 1.0, style_lyrics, style, lyrics_spectrum, lyrics_shared)
        audio, lyrics = _rows_kept_in_place(audio, has_audio), _rows_kept_in_place(lyrics, has_lyrics)
        yield ids[has_audio], audio, ids[has_lyrics], lyrics
        del audio, lyrics


def _rows_kept_in_place(matrix: np.ndarray, keep: np.ndarray, *, block: int = 8192) -> np.ndarray:
    """``matrix[keep]`` without a second copy: the kept rows moved up in place, a view of the first ones returned."""
    written = 0
    for start in range(0, matrix.shape[0], block):
        rows = matrix[start : start + block][keep[start : start + block]]
        matrix[written : written + rows.shape[0]] = rows
        written += rows.shape[0]
    return matrix[:written]


def _vectors_in_place(noise: np.ndarray, scale: float, centres: np.ndarray, style: np.ndarray, spectrum: np.ndarray, shared: np.ndarray, *, block: int = 8192) -> np.ndarray:
    """``noise`` float32 ``(n, d)`` overwritten with ``(shared + (centres[style] + scale * noise) * spectrum)`` as float32; returns it."""
    for start in range(0, noise.shape[0], block):
        rows = slice(start, start + block)
        noise[rows] = (shared + (centres[style[rows]] + scale * noise[rows]) * spectrum).astype(np.float32)
    return noise


def catalogue_synthesise(n: int, *, dims: dict[str, int] | None = None, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"audio": (ids, float32 (n_a, d_a)), "lyrics": (ids, float32 (n_l, d_l))}`` in memory, seeded."""
    dims = dims or product_dims()
    parts: dict[str, list[np.ndarray]] = {"audio_ids": [], "audio": [], "lyrics_ids": [], "lyrics": []}
    for audio_ids, audio, lyrics_ids, lyrics in synthetic_chunks(n, dims=dims, seed=seed):
        parts["audio_ids"].append(audio_ids)
        parts["audio"].append(audio)
        parts["lyrics_ids"].append(lyrics_ids)
        parts["lyrics"].append(lyrics)
    return {m: (np.concatenate(parts[f"{m}_ids"]), np.concatenate(parts[m])) for m in ("audio", "lyrics")}


class SyntheticSource:
    """One modality of the synthetic catalogue as a :class:`ml.fusion.sources.VectorSource`, generated chunk by chunk."""

    def __init__(self, n: int, modality: str, *, dims: dict[str, int], seed: int = 0) -> None:
        self.n, self.modality, self.dims, self.seed = n, modality, dims, seed
        self._count = sum(int(ids.size) for ids in self._ids())

    def _ids(self) -> Iterator[np.ndarray]:
        for audio_ids, _, lyrics_ids, _ in synthetic_chunks(self.n, dims=self.dims, seed=self.seed):
            yield audio_ids if self.modality == "audio" else lyrics_ids

    @property
    def count(self) -> int:
        return self._count

    @property
    def dim(self) -> int:
        return int(self.dims[self.modality])

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for audio_ids, audio, lyrics_ids, lyrics in synthetic_chunks(self.n, dims=self.dims, seed=self.seed):
            ids, vectors = (audio_ids, audio) if self.modality == "audio" else (lyrics_ids, lyrics)
            # Nothing of this chunk is held while the next one is generated (a chunk is ~370 MB at the product's dims).
            del audio_ids, audio, lyrics_ids, lyrics
            for start in range(0, ids.size, size):
                yield ids[start : start + size], vectors[start : start + size]
            del ids, vectors


def brute_force_top(
    index: Any, seeds: np.ndarray, *, k: int, balance: float, parts: Callable[[], Iterator[tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]]],
) -> list[np.ndarray]:
    """Exact hybrid top ``k`` of each seed over every track (seed excluded): one int64 array per seed.

    ``parts()`` yields ``(track ids (m,), {modality: (whitened float32 (m, d), present bool (m,))})``
    over the whole catalogue; it is read twice (the seeds' vectors, then the scores).
    """
    from ml.scoring import balance_weights, pair_scores

    weights = balance_weights(balance)
    seeds = np.asarray(seeds, dtype=np.int64)
    seed_vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ids, vectors in parts():
        hit = np.isin(ids, seeds)
        if not hit.any():
            continue
        rows = np.searchsorted(seeds, ids[hit]) if np.all(np.diff(seeds) > 0) else None
        for modality, (matrix, present) in vectors.items():
            if modality not in seed_vectors:
                seed_vectors[modality] = (np.zeros((seeds.size, matrix.shape[1]), np.float32), np.zeros(seeds.size, bool))
            order = rows if rows is not None else np.array([int(np.flatnonzero(seeds == i)[0]) for i in ids[hit]])
            seed_vectors[modality][0][order] = matrix[hit]
            seed_vectors[modality][1][order] = present[hit]
    best_ids = np.zeros((seeds.size, 0), np.int64)
    best_scores = np.zeros((seeds.size, 0), np.float32)
    for ids, vectors in parts():
        scores = pair_scores(seed_vectors, vectors, weights).T  # (s, c)
        scores = np.where(np.isnan(scores) | (ids[None, :] == seeds[:, None]), -np.inf, scores)
        all_ids = np.concatenate([best_ids, np.broadcast_to(ids, (seeds.size, ids.size))], axis=1)
        all_scores = np.concatenate([best_scores, scores], axis=1)
        top = np.argpartition(-all_scores, min(k, all_scores.shape[1] - 1), axis=1)[:, :k]
        best_ids = np.take_along_axis(all_ids, top, axis=1)
        best_scores = np.take_along_axis(all_scores, top, axis=1)
    return [row[np.isfinite(s)] for row, s in zip(best_ids, best_scores)]


def exact_parts(index: Any, n: int, *, dims: dict[str, int], seed: int) -> Callable[[], Iterator[tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]]]:
    """The synthetic catalogue regenerated chunk by chunk and whitened in float32 with the served whiteners: the exact truth."""

    def parts() -> Iterator[tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]]:
        for audio_ids, audio, lyrics_ids, lyrics in synthetic_chunks(n, dims=dims, seed=seed):
            ids = np.union1d(audio_ids, lyrics_ids)
            out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for modality, (modality_ids, raw) in {"audio": (audio_ids, audio), "lyrics": (lyrics_ids, lyrics)}.items():
                whitened = index.standardisers[modality].apply(raw)
                present = np.isin(ids, modality_ids)
                matrix = np.zeros((ids.size, whitened.shape[1]), np.float32)
                matrix[present] = whitened
                out[modality] = (matrix, present)
            yield ids, out

    return parts


def _serve(folder: str, queries: int, k: int, balance: float, seed: int) -> dict[str, Any]:
    """Load the saved index in this (fresh) process and time single-seed queries (the caller starts any busy load: pool processes cannot have children)."""
    from threadpoolctl import threadpool_limits

    from ml.fusion.hybrid import HybridIndex

    before = _rss()
    started = time.perf_counter()
    served = HybridIndex.load(Path(folder), expect_models={"audio": "synthetic-audio"})
    load_s = time.perf_counter() - started
    after_load = _rss()
    rng = np.random.default_rng(seed + 1)
    seeds = rng.choice(served.track_ids(), size=queries + 20, replace=False)
    latencies: list[float] = []
    cpu: list[float] = []
    results: dict[int, np.ndarray] = {}
    prefetch = {"fused": served.fused.prefetch_threads if served.fused is not None else 0}
    with threadpool_limits(1):
        average_before = load_average()
        for position, track in enumerate(seeds):
            started, started_cpu = time.perf_counter(), time.thread_time()
            ids, _ = served.similar([int(track)], k=k, balance=balance)
            elapsed, elapsed_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
            if position >= 20:  # the first queries fault in the mapped files
                latencies.append(elapsed)
                cpu.append(elapsed_cpu)
                results[int(track)] = ids
        average_after = load_average()
    return {
        "load_s": load_s, "latencies": latencies, "cpu": cpu, "results": results, "before": before, "after": _rss(), "after_load": after_load,
        "prefetch_threads": prefetch, "serve_load_average": [average_before, average_after],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.index", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="tracks in the synthetic catalogue")
    parser.add_argument("--backend", default="auto", help="auto, flat, ivf or hnsw")
    parser.add_argument("--nprobe", type=int, default=None, help="override the IVF lists probed per query")
    parser.add_argument("--queries", type=int, default=1000, help="single-seed queries timed")
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--balance", type=float, default=0.5)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--audio-dim", type=int, default=0, help="audio dimension (default: the configured model's)")
    parser.add_argument("--lyrics-dim", type=int, default=0, help="lyrics dimension (default: the configured model's)")
    parser.add_argument("--threads", type=int, default=0, help="FAISS/BLAS build threads (default: the free cores, ml.threads.build_threads)")
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the latency loop (bench.load)")
    parser.add_argument("--load-build", action="store_true", help="keep the busy processes running during the build too")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="override a BackendParams field (nlist, nprobe, codec, niter, storage, refine, train_size ...)")
    parser.add_argument("--keep", type=Path, default=None, help="save the index here instead of a temporary folder")
    parser.add_argument("--reuse", type=Path, default=None, help="serve an index saved earlier with --keep (same --n and --seed) instead of building")
    args = parser.parse_args(argv)

    from ml.fusion.hybrid import HybridIndex
    from ml.threads import build_threads_now

    dims = product_dims()
    dims = {"audio": args.audio_dim or dims["audio"], "lyrics": args.lyrics_dim or dims["lyrics"]}
    overrides: dict[str, Any] = {"nprobe": args.nprobe} if args.nprobe else {}
    for item in args.param:
        key, _, value = item.partition("=")
        overrides[key] = int(value) if value.lstrip("-").isdigit() else value
    report: dict[str, Any] = {"n": args.n, "dims": dims, "load_average_before": load_average(), "cpu_count": os.cpu_count()}
    build: dict[str, Any] = {}
    if args.reuse is None:
        vectors = catalogue_synthesise(args.n, dims=dims, seed=args.seed)
        counts = {m: int(ids.size) for m, (ids, _) in vectors.items()}
        with busy_load(args.load if args.load_build else 0, seconds=1800):
            threads = args.threads or build_threads_now()
            build["build_load_average"] = load_average()
            started = time.perf_counter()
            index = HybridIndex.build(vectors, {"audio": "synthetic-audio", "lyrics": "synthetic-lyrics"}, backend=args.backend, overrides=overrides or None, threads=args.threads or None)
            build["build_s"] = round(time.perf_counter() - started, 2)
            build["build_threads_at_start"] = threads
        folder = args.keep or Path(tempfile.mkdtemp(prefix="crossfade-bench-index-"))
        index.save(folder)
        build["backend"] = index.backend
        build["params"] = {m: dict(vars(i.params)) for m, i in index.indexes.items()}
        if index.fused is not None:
            build["params"]["fused"] = dict(vars(index.fused.params))
        build["counts"] = counts
        del index, vectors
        gc.collect()
    else:
        folder = args.reuse
    disk_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    parts_mb = {str(p.relative_to(folder)): round(p.stat().st_size / 2**20, 1) for p in sorted(folder.rglob("*")) if p.is_file() and p.stat().st_size > 2**20}

    # Served from a fresh process, as a web worker would: memory the build
    # freed but kept would otherwise hide what loading the index costs.
    with busy_load(args.load, seconds=600), multiprocessing.get_context("spawn").Pool(1) as pool:
        served_run = pool.apply(_serve, (str(folder), args.queries, args.k, args.balance, args.seed))
    results = served_run["results"]
    served = HybridIndex.load(folder)
    recall_seeds = np.sort(np.asarray(list(results)[: args.recall_queries], dtype=np.int64))
    truth = brute_force_top(served, recall_seeds, k=args.k, balance=args.balance, parts=exact_parts(served, args.n, dims=dims, seed=args.seed))
    recalls = [len(set(results[int(s)]) & set(t)) / max(1, min(args.k, len(t))) for s, t in zip(recall_seeds, truth)]
    latencies_ms = np.asarray(served_run["latencies"]) * 1000
    cpu_ms = np.asarray(served_run["cpu"]) * 1000
    before, after, after_load = served_run["before"], served_run["after"], served_run["after_load"]
    report.update(build)
    report.update(
        {
            "backend": served.backend,
            "load_s": round(served_run["load_s"], 3),
            "disk_mb": round(disk_mb, 1),
            "files_mb": parts_mb,
            "rss_mb": round(after["VmRSS"] - before["VmRSS"], 1),
            "rss_anon_mb": round(after["RssAnon"] - before["RssAnon"], 1),
            "rss_file_mb": round(after["RssFile"] - before["RssFile"], 1),
            "load_anon_mb": round(after_load["RssAnon"] - before["RssAnon"], 1),
            "p50_ms": round(float(np.percentile(latencies_ms, 50)), 3),
            "p99_ms": round(float(np.percentile(latencies_ms, 99)), 3),
            "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 3),
            "recall_at_50": round(float(np.mean(recalls)), 4),
            "queries": int(latencies_ms.size),
            "recall_queries": len(recalls),
            "balance": args.balance,
            "busy_processes": args.load,
            "busy_during_build": bool(args.load and args.load_build),
            "prefetch_threads": served_run["prefetch_threads"],
            "serve_load_average": served_run["serve_load_average"],
            "load_average_after": load_average(),
        }
    )
    if args.keep is None and args.reuse is None:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
