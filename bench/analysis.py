"""End-to-end audio analysis speed: decode, features, CNN, pooling, for one track and for a batch.

    python -m bench.analysis [--model musicnn-mtt] [--segments 4] [--repeats 5] [--batch 200] [--workers N]

Synthesises music-like 30 s and 4-minute files (mp3, ogg, flac) in a
temporary folder and prints JSON:

* ``median_s``: ``{"<seconds>s_<format>": median seconds per track}``, one
  fresh process (``--threads`` torch threads), the model loaded once and
  warmed up on another file first;
* ``batch_tracks_per_s``: ``--batch`` four-minute mp3 files analysed by
  ``--workers`` processes (default: every core), one torch thread each, model
  loading excluded (it happens once per worker before the clock starts);
* ``median_cpu_s``: the same runs in CPU seconds of that process (less
  sensitive to other load on a shared machine than wall time);
* ``peak_rss_mb``: the largest resident set of an analysing process (the
  single-track one or any batch worker; file synthesis is not counted).

The batch files are copies of a few distinct synthesised tracks (encoding
200 four-minute mp3s would take longer than analysing them); each copy is
its own file, decoded from disk like any other.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMATS = ("mp3", "ogg", "flac")
LENGTHS = (30, 240)
RATE = 44100
_worker_embedder = None


def music_synthesise(seconds: float, *, seed: int, rate: int = RATE) -> np.ndarray:
    """A stereo music-like signal (bass, chords, noise-burst drums): float32 ``(n, 2)``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float32) / rate
    beat = 60.0 / rng.uniform(80, 150)
    phase = (t % beat) / beat
    root = rng.uniform(55, 110)
    bass = 0.25 * np.sin(2 * np.pi * root * t) * np.exp(-3 * phase)
    chord_index = (t // (4 * beat)).astype(np.int64) % 4
    shifts = 2 ** (rng.integers(0, 12, size=4) / 12)
    chords = sum(0.06 * np.sin(2 * np.pi * root * 4 * shifts[chord_index] * ratio * t) for ratio in (1.0, 1.26, 1.5))
    drums = 0.2 * rng.standard_normal(n).astype(np.float32) * np.exp(-25 * ((t % (beat / 2)) / beat))
    left = bass + chords + drums
    right = bass + 0.8 * chords + 0.9 * drums
    return np.clip(np.stack([left, right], axis=1), -1, 1).astype(np.float32)


def _write(path: Path, samples: np.ndarray) -> Path:
    import soundfile

    # Written in blocks: libsndfile's Vorbis and MP3 encoders crash on one huge write.
    with soundfile.SoundFile(str(path), "w", samplerate=RATE, channels=samples.shape[1]) as handle:
        for start in range(0, len(samples), 16384):
            handle.write(samples[start : start + 16384])
    return path


def _embedder_build(model: str, segments: int):
    from ml.config import AudioConfig
    from ml.registry import audio_embedder_build

    return audio_embedder_build(AudioConfig(model=model, segments=segments))


def _worker_init(model: str, segments: int, threads: int | None = 1) -> None:
    global _worker_embedder
    import torch

    if threads:
        torch.set_num_threads(threads)
    _worker_embedder = _embedder_build(model, segments)


def _worker_embed(path: str) -> float:
    _worker_embedder.embed([path])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_ready(_: int) -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _single_process_run(files: dict[str, str], warmup: str, repeats: int) -> dict:
    """Medians of wall and CPU seconds per track in this (worker) process, after one warm-up."""
    import torch

    started = time.perf_counter()
    _worker_embedder.embed([warmup])
    warm_s = time.perf_counter() - started
    median_s, median_cpu_s = {}, {}
    for key, path in files.items():
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            _worker_embedder.embed([path])
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        median_s[key] = round(statistics.median(walls), 4)
        median_cpu_s[key] = round(statistics.median(cpus), 4)
    return {
        "median_s": median_s,
        "median_cpu_s": median_cpu_s,
        "warmup_s": round(warm_s, 2),
        "version": _worker_embedder.version,
        "torch_threads": torch.get_num_threads(),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="musicnn-mtt")
    parser.add_argument("--segments", type=int, default=4, help="segments analysed per track (0: whole track)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per single-track case")
    parser.add_argument("--batch", type=int, default=200, help="four-minute files in the batch run (0 skips it)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the single-process runs (default: torch's)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    context = multiprocessing.get_context("spawn")
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-analysis-"))
    try:
        files = {
            f"{seconds}s_{fmt}": str(_write(workdir / f"track_{seconds}s.{fmt}", music_synthesise(seconds, seed=seconds)))
            for seconds in LENGTHS
            for fmt in FORMATS
        }
        warmup = str(_write(workdir / "warmup.flac", music_synthesise(20, seed=1)))
        # The single-track runs happen in a fresh process too, so its memory is the analysis's alone.
        with context.Pool(1, initializer=_worker_init, initargs=(args.model, args.segments, args.threads)) as pool:
            single = pool.apply(_single_process_run, (files, warmup, args.repeats))
        batch: dict[str, float | int] = {}
        worker_rss = 0.0
        if args.batch > 0:
            sources = [_write(workdir / f"batch_source_{i}.mp3", music_synthesise(240, seed=100 + i)) for i in range(4)]
            paths = []
            for i in range(args.batch):
                target = workdir / f"batch_{i:03d}.mp3"
                shutil.copyfile(sources[i % len(sources)], target)
                paths.append(str(target))
            with context.Pool(args.workers, initializer=_worker_init, initargs=(args.model, args.segments, 1)) as pool:
                worker_rss = max(pool.map(_worker_ready, range(args.workers)))  # every worker has loaded the model
                wall = time.perf_counter()
                rss = pool.map(_worker_embed, paths, chunksize=1)
                elapsed = time.perf_counter() - wall
            worker_rss = max(worker_rss, *rss)
            batch = {"tracks": args.batch, "workers": args.workers, "seconds": round(elapsed, 2), "distinct_sources": len(sources)}
        report = {
            "model": args.model,
            "version": single["version"],
            "torch_threads_single": single["torch_threads"],
            "cpu_count": os.cpu_count(),
            "median_s": single["median_s"],
            "median_cpu_s": single["median_cpu_s"],
            "batch_tracks_per_s": round(args.batch / batch["seconds"], 2) if batch else None,
            "batch": batch,
            "peak_rss_mb": round(max(single["rss_mb"], worker_rss), 1),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
