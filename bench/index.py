"""Hybrid index at catalogue scale: build, size, single-seed latency, recall against brute force.

    python -m bench.index --n 1000000 [--backend auto] [--queries 1000] [--seed 0]

Builds a synthetic clustered catalogue of N tracks with both modalities at
the real dimensions (audio 200-d, lyrics 384-d; ~20 % instrumentals without
lyrics and ~3 % lyric-only entries), seeded. Tracks belong to one of
``N/200`` styles nested in 64 genres; a style fixes an audio centre and
(loosely, through the genre) a lyrics topic; every vector also carries a
component shared by the whole catalogue and per-dimension scales that decay
like real embedding spectra, so the whitening has something to remove.

It then measures:

- ``build_s``: :meth:`HybridIndex.build` (whitening fit, every index).
- ``disk_mb``: the saved index folder.
- ``rss_mb``: resident memory the loaded (memory-mapped) index adds to a
  fresh process after the latency run, file pages included; ``rss_anon_mb``
  is the private part (the rest is page cache shared by every worker), and
  ``load_anon_mb`` the private memory right after loading.
- ``p50_ms`` / ``p99_ms``: one seed -> re-ranked top 50 through
  :meth:`HybridIndex.similar`, the call the site makes, on one thread.
- ``recall_at_50``: overlap of that top 50 with the exact brute-force hybrid
  top 50 (every track scored with :func:`pair_scores`), averaged over
  ``--recall-queries`` seeds.

Prints JSON. Timings on a shared machine are upper bounds.
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

import numpy as np

AUDIO_DIM = 200
LYRICS_DIM = 384


def _rss() -> dict[str, float]:
    values: dict[str, float] = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def catalogue_synthesise(n: int, *, seed: int = 0, chunk: int = 100_000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"audio": (ids, float32 (n_a, 200)), "lyrics": (ids, float32 (n_l, 384))}``, seeded."""
    rng = np.random.default_rng(seed)
    genres = 64
    styles = max(genres, n // 200)
    audio_shared = rng.standard_normal(AUDIO_DIM) * 2.0
    lyrics_shared = rng.standard_normal(LYRICS_DIM) * 2.0
    audio_spectrum = (np.arange(1, AUDIO_DIM + 1) ** -0.5).astype(np.float32) * 4
    lyrics_spectrum = (np.arange(1, LYRICS_DIM + 1) ** -0.5).astype(np.float32) * 4
    genre_audio = rng.standard_normal((genres, AUDIO_DIM)).astype(np.float32)
    genre_lyrics = rng.standard_normal((genres, LYRICS_DIM)).astype(np.float32)
    style_genre = rng.integers(0, genres, styles)
    style_audio = (genre_audio[style_genre] + 0.8 * rng.standard_normal((styles, AUDIO_DIM))).astype(np.float32)
    topics = rng.standard_normal((styles, LYRICS_DIM)).astype(np.float32)
    style_lyrics = (0.7 * genre_lyrics[style_genre] + 0.8 * topics).astype(np.float32)
    audio_parts, lyrics_parts, audio_ids, lyrics_ids = [], [], [], []
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        ids = np.arange(start, start + count, dtype=np.int64) + 1
        style = rng.integers(0, styles, count)
        has_lyrics = rng.random(count) >= 0.20
        has_audio = ~(has_lyrics & (rng.random(count) < 0.03))
        audio = (audio_shared + (style_audio[style] + 0.9 * rng.standard_normal((count, AUDIO_DIM), dtype=np.float32)) * audio_spectrum).astype(np.float32)
        lyrics = (lyrics_shared + (style_lyrics[style] + 1.0 * rng.standard_normal((count, LYRICS_DIM), dtype=np.float32)) * lyrics_spectrum).astype(np.float32)
        audio_parts.append(audio[has_audio])
        audio_ids.append(ids[has_audio])
        lyrics_parts.append(lyrics[has_lyrics])
        lyrics_ids.append(ids[has_lyrics])
    return {
        "audio": (np.concatenate(audio_ids), np.concatenate(audio_parts)),
        "lyrics": (np.concatenate(lyrics_ids), np.concatenate(lyrics_parts)),
    }


def exact_vectors(index, vectors: dict[str, tuple[np.ndarray, np.ndarray]]):
    """``vectors_of(ids)`` over float32 whitened vectors (the served whiteners applied to the raw ones).

    The truth of the recall measurement: exact even when the index stores float16.
    """
    whitened = {}
    for modality, (ids, raw) in vectors.items():
        order = np.argsort(ids)
        whitened[modality] = (ids[order], index.standardisers[modality].apply(raw[order]))

    def vectors_of(ids: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for modality, (sorted_ids, matrix) in whitened.items():
            position = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
            present = sorted_ids[position] == ids
            out[modality] = (np.where(present[:, None], matrix[position], 0.0).astype(np.float32), present)
        return out

    return vectors_of


def brute_force_top(index, seeds: np.ndarray, *, k: int, balance: float, chunk: int = 50_000, vectors_of=None) -> list[np.ndarray]:
    """Exact hybrid top ``k`` of each seed over every track (seed excluded): one int64 array per seed."""
    from ml.scoring import balance_weights, pair_scores

    weights = balance_weights(balance)
    vectors_of = vectors_of or index.vectors_of
    seed_vectors = vectors_of(seeds)
    universe = index.track_ids()
    best_ids = np.zeros((seeds.size, 0), np.int64)
    best_scores = np.zeros((seeds.size, 0), np.float32)
    for start in range(0, universe.size, chunk):
        part = universe[start : start + chunk]
        scores = pair_scores(seed_vectors, vectors_of(part), weights).T  # (s, c)
        scores = np.where(np.isnan(scores) | (part[None, :] == seeds[:, None]), -np.inf, scores)
        ids = np.concatenate([best_ids, np.broadcast_to(part, (seeds.size, part.size))], axis=1)
        scores = np.concatenate([best_scores, scores], axis=1)
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_ids = np.take_along_axis(ids, top, axis=1)
        best_scores = np.take_along_axis(scores, top, axis=1)
    return [row[np.isfinite(s)] for row, s in zip(best_ids, best_scores)]


def _serve(folder: str, queries: int, k: int, balance: float, seed: int):
    """Load the saved index in this (fresh) process and time single-seed queries.

    Returns ``(load_s, latencies_s, {seed: top ids}, rss before load, after the run, right after load)``.
    """
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
    results: dict[int, np.ndarray] = {}
    with threadpool_limits(1):
        for position, track in enumerate(seeds):
            started = time.perf_counter()
            ids, _ = served.similar([int(track)], k=k, balance=balance)
            elapsed = time.perf_counter() - started
            if position >= 20:  # the first queries fault in the mapped files
                latencies.append(elapsed)
                results[int(track)] = ids
    return load_s, latencies, results, before, _rss(), after_load


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.index", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="tracks in the synthetic catalogue")
    parser.add_argument("--backend", default="auto", help="auto, flat, ivf or hnsw")
    parser.add_argument("--nprobe", type=int, default=None, help="override the IVF lists probed per query")
    parser.add_argument("--queries", type=int, default=1000, help="single-seed queries timed")
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--balance", type=float, default=0.5)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="override a BackendParams field (nlist, nprobe, codec, niter, storage, refine, train_size ...)")
    parser.add_argument("--keep", type=Path, default=None, help="save the index here instead of a temporary folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    from ml.fusion.hybrid import HybridIndex

    overrides: dict = {"nprobe": args.nprobe} if args.nprobe else {}
    for item in args.param:
        key, _, value = item.partition("=")
        overrides[key] = int(value) if value.lstrip("-").isdigit() else value
    overrides = overrides or None
    vectors = catalogue_synthesise(args.n, seed=args.seed)
    counts = {m: int(ids.size) for m, (ids, _) in vectors.items()}
    started = time.perf_counter()
    index = HybridIndex.build(vectors, {"audio": "synthetic-audio", "lyrics": "synthetic-lyrics"}, backend=args.backend, overrides=overrides)
    build_s = time.perf_counter() - started
    folder = args.keep or Path(tempfile.mkdtemp(prefix="crossfade-bench-index-"))
    index.save(folder)
    disk_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    parts_mb = {
        str(p.relative_to(folder)): round(p.stat().st_size / 2**20, 1) for p in sorted(folder.rglob("*")) if p.is_file() and p.stat().st_size > 2**20
    }
    backend = index.backend
    params = {m: {k: v for k, v in vars(i.params).items()} for m, i in index.indexes.items()}
    if index.fused is not None:
        params["fused"] = dict(vars(index.fused.params))
    del index, vectors
    gc.collect()

    # Served from a fresh process, as a web worker would: memory the build
    # freed but kept would otherwise hide what loading the index costs.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        served_run = pool.apply(_serve, (str(folder), args.queries, args.k, args.balance, args.seed))
    load_s, latencies, results, before, after, after_load = served_run
    served = HybridIndex.load(folder)

    recall_seeds = np.asarray(list(results)[: args.recall_queries], dtype=np.int64)
    # The same seeded catalogue again, whitened in float32: the exact truth.
    truth = brute_force_top(served, recall_seeds, k=args.k, balance=args.balance, vectors_of=exact_vectors(served, catalogue_synthesise(args.n, seed=args.seed)))
    recalls = [len(set(results[int(s)]) & set(t)) / max(1, min(args.k, len(t))) for s, t in zip(recall_seeds, truth)]
    latencies_ms = np.asarray(latencies) * 1000
    report = {
        "n": args.n,
        "backend": backend,
        "counts": counts,
        "build_s": round(build_s, 2),
        "load_s": round(load_s, 3),
        "disk_mb": round(disk_mb, 1),
        "files_mb": parts_mb,
        "params": params,
        "rss_mb": round(after["VmRSS"] - before["VmRSS"], 1),
        "rss_anon_mb": round(after["RssAnon"] - before["RssAnon"], 1),
        "rss_file_mb": round(after["RssFile"] - before["RssFile"], 1),
        "load_anon_mb": round(after_load["RssAnon"] - before["RssAnon"], 1),
        "p50_ms": round(float(np.percentile(latencies_ms, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies_ms, 99)), 3),
        "recall_at_50": round(float(np.mean(recalls)), 4),
        "queries": len(latencies),
        "recall_queries": len(recalls),
        "balance": args.balance,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
