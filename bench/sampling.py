"""How a whole track is sampled: segments (how many, where) against analysing all of it, on real whole tracks.

    bash ../shared/data/game_soundtracks/build.sh /tmp/game_soundtracks
    python -m bench.sampling --manifest /tmp/game_soundtracks/manifest.csv [--model M] [--work /tmp/crossfade-sampling] [--out sampling.json]

The manifest is the one ``build.sh`` writes (about 70 whole tracks of six
game soundtracks, label = soundtrack, group = the file, so only the query
itself is left out). Prints JSON (and writes it to ``--out``):

* ``plans``: for every sampling plan, same-soundtrack p@5 / p@10 over all
  tracks and p@10 by track length. Plans: ``whole`` (every 3 s patch of the
  track), ``even-<count>-m<margin>`` (``count`` segments evenly spread
  after skipping ``margin`` of the track at each end: intros and fades),
  ``random-<count>`` (seeded), and two that look at the whole track first:
  ``typical-<count>`` (the patches nearest the track's mean) and
  ``novel-<count>`` (farthest-point: each next patch the least like those
  taken). These scores come from one analysis of every track on a grid of
  patches every 1.5 s (each plan takes the grid patch nearest each planned
  offset, at most 0.75 s away), so every plan sees the same audio;
* ``real_path``: the configured plan through the real analysis path
  (``CnnEmbedder.embed``: seeking decode) on the Ogg files and on MP3 copies
  made with ffmpeg (``libmp3lame -q:a 4``): p@10 of both, the cosine between
  each track's two vectors, and every line the decoders wrote to the
  process's stderr while analysing the MP3s (there should be none);
* ``seconds``: wall and CPU seconds per track of the real path for several
  plans on a subset of tracks spread over their lengths (``--timing-tracks``),
  Ogg and MP3, with the load average before and after.

The grid analysis is cached in ``--work`` (re-runs only re-score).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = Path("/tmp/game_soundtracks/manifest.csv")
COUNTS = (1, 2, 3, 4, 6, 8, 12, 16)
MARGINS = (0.0, 0.05, 0.1, 0.15)
LENGTH_BUCKETS = ((0.0, 120.0), (120.0, 240.0), (240.0, 1e9))
TIMING_PLANS = (1, 2, 4, 8, 16, 0)


def _bucket_name(low: float, high: float) -> str:
    return f"{int(low // 60)}-{int(high // 60)} min" if high < 1e8 else f"{int(low // 60)}+ min"


def grid_analyse(embedder: Any, path: str) -> tuple[np.ndarray, list[np.ndarray], float]:
    """Patch start times (s), per-head features ``(patches, feature_dim)`` on a half-patch grid, and the duration (s)."""
    from ml.audio.decode import audio_load
    from ml.audio.features import log_mel

    rate, hop = embedder.front_end.sample_rate, embedder.front_end.hop_length
    samples = audio_load(path, sample_rate=rate)
    spectrogram = log_mel(samples, embedder.front_end).T
    frames = embedder.patch_frames
    starts = np.arange(0, max(1, spectrogram.shape[0] - frames + 1), frames // 2)
    patches = np.stack([spectrogram[s : s + frames] for s in starts]).astype(np.float32)
    features = [embedder.patch_outputs(patches, head.model)[0].astype(np.float16) for head in embedder.heads]
    return starts * hop / rate, features, samples.size / rate


def _vector(features: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    from ml.audio.cnn_embedder import features_pool
    from ml.embedder import l2_normalise

    blocks = [l2_normalise(features_pool(f[rows].astype(np.float32))[None, :])[0] for f in features]
    return l2_normalise(np.concatenate(blocks)[None, :])[0]


def plan_rows(name: str, starts: np.ndarray, features: list[np.ndarray], duration: float, *, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Grid patch indices a plan analyses for one track."""
    from ml.audio.segments import SegmentPlan

    total = len(starts)
    if name == "whole":
        return np.arange(0, total, 2)  # the non-overlapping patches
    kind, _, rest = name.partition("-")
    count = int(rest.split("-")[0])
    if kind == "even":
        margin = float(rest.split("-m")[1])
        spans = SegmentPlan(count=count, seconds=seconds, margin=margin).spans(duration)
        if spans == [(0.0, None)]:
            return np.arange(0, total, 2)
        return np.unique([int(np.argmin(np.abs(starts - offset))) for offset, _ in spans])
    if kind == "random":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(total, size=min(count, total), replace=False))
    joined = np.concatenate([f.astype(np.float32) / (np.linalg.norm(f.astype(np.float32), axis=1, keepdims=True) + 1e-9) for f in features], axis=1)
    centre = joined.mean(axis=0)
    if kind == "typical":
        return np.sort(np.argsort(np.linalg.norm(joined - centre, axis=1))[:count])
    if kind == "novel":
        chosen = [int(np.argmin(np.linalg.norm(joined - centre, axis=1)))]
        while len(chosen) < min(count, total):
            distance = np.min(np.linalg.norm(joined[:, None, :] - joined[chosen][None, :, :], axis=2), axis=1)
            chosen.append(int(np.argmax(distance)))
        return np.sort(np.array(chosen))
    raise ValueError(f"unknown plan {name!r}")


def plan_names() -> list[str]:
    names = ["whole"]
    names += [f"even-{c}-m{m:g}" for c in COUNTS for m in MARGINS]
    names += [f"random-{c}" for c in (2, 4, 8)]
    names += [f"{kind}-{c}" for kind in ("typical", "novel") for c in (2, 4, 8)]
    return names


def _precision(vectors: np.ndarray, labels: list[str], groups: list[str], durations: np.ndarray) -> dict[str, Any]:
    from ml.evaluate import _standardised
    from ml.metrics import neighbour_precision
    from ml.scoring import pair_scores

    present = np.ones(len(vectors), bool)
    standard = _standardised(vectors, present)
    similarity = pair_scores({"audio": (standard, present)}, {"audio": (standard, present)}, {"audio": 1.0})
    result: dict[str, Any] = dict(neighbour_precision(similarity, labels, groups))
    by_length = {}
    for low, high in LENGTH_BUCKETS:
        inside = np.flatnonzero((durations >= low) & (durations < high))
        if inside.size:
            # Queries of this length; their neighbours come from every track.
            hits = []
            for query in inside:
                order = [i for i in np.argsort(-similarity[query]) if i != query][:10]
                hits.append(float(np.mean([labels[i] == labels[query] for i in order])))
            by_length[_bucket_name(low, high)] = {"p@10": round(float(np.mean(hits)), 4), "n": int(inside.size)}
    result["by_length"] = by_length
    return result


def _fd2_capture_start(folder: Path) -> tuple[int, Path]:
    log = folder / "stderr.log"
    saved = os.dup(2)
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(handle, 2)
    os.close(handle)
    return saved, log


def _fd2_capture_stop(saved: int, log: Path) -> list[str]:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    return [line for line in log.read_text(errors="replace").splitlines() if line.strip()]


def mp3_copies(rows: list[Any], folder: Path) -> dict[str, Path]:
    """MP3 copies of the tracks (ffmpeg, libmp3lame VBR quality 4); {} when ffmpeg is absent."""
    if shutil.which("ffmpeg") is None:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for row in rows:
        target = folder / f"{row.track_id}.mp3"
        if not target.is_file():
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(row.audio_path), "-codec:a", "libmp3lame", "-q:a", "4", str(target)], check=True)
        out[row.track_id] = target
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from ml.config import AudioConfig
    from ml.evaluate import manifest_read
    from ml.registry import audio_embedder_build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--model", default=AudioConfig().model)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "crossfade-sampling")
    parser.add_argument("--timing-tracks", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"skipped: no manifest at {args.manifest}; build the whole tracks with ../shared/data/game_soundtracks/build.sh OUTDIR", file=sys.stderr)
        return {}
    import torch

    rows = [r for r in manifest_read(args.manifest) if r.audio_path]
    labels, groups = [r.label for r in rows], [r.group for r in rows]
    config = AudioConfig(model=args.model)
    embedder: Any = audio_embedder_build(config)
    if not hasattr(embedder, "heads"):
        raise SystemExit(f"{args.model} is not a CNN embedder; the sampling study needs one")
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    cache = args.work / f"grid-{embedder.name}.npz"
    grid: dict[str, Any] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            grid = {key: stored[key] for key in stored.files}
    started = time.perf_counter()
    for row in rows:
        if f"{row.track_id}/starts" in grid:
            continue
        starts, features, duration = grid_analyse(embedder, str(row.audio_path))
        grid[f"{row.track_id}/starts"] = starts
        grid[f"{row.track_id}/duration"] = np.array(duration)
        for index, block in enumerate(features):
            grid[f"{row.track_id}/head{index}"] = block
        np.savez(cache, **grid)
    grid_s = time.perf_counter() - started
    durations = np.array([float(grid[f"{r.track_id}/duration"]) for r in rows])
    plans: dict[str, Any] = {}
    for name in plan_names():
        vectors, patch_counts = [], []
        for row in rows:
            starts = grid[f"{row.track_id}/starts"]
            features = [grid[f"{row.track_id}/head{i}"] for i in range(len(embedder.heads))]
            picked = plan_rows(name, starts, features, float(grid[f"{row.track_id}/duration"]))
            vectors.append(_vector(features, picked))
            patch_counts.append(len(picked))
        plans[name] = {**_precision(np.stack(vectors), labels, groups, durations), "mean_patches": round(float(np.mean(patch_counts)), 1)}

    # The configured plan through the real path, Ogg and MP3 copies.
    copies = mp3_copies(rows, args.work / "mp3")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    real: dict[str, Any] = {"plan": embedder.plan.describe()}
    ogg_vectors = embedder.embed([str(r.audio_path) for r in rows])
    real["ogg"] = _precision(ogg_vectors, labels, groups, durations)
    if copies:
        saved, log = _fd2_capture_start(args.work)
        try:
            mp3_vectors = embedder.embed([str(copies[r.track_id]) for r in rows])
        finally:
            noise = _fd2_capture_stop(saved, log)
        real["mp3"] = _precision(mp3_vectors, labels, groups, durations)
        cosines = np.sum(ogg_vectors * mp3_vectors, axis=1)
        real["ogg_mp3_cosine"] = {"min": round(float(cosines.min()), 4), "median": round(float(np.median(cosines)), 4)}
        real["mp3_decoder_stderr_lines"] = len(noise)
        real["mp3_decoder_stderr_sample"] = noise[:5]

    # Seconds per track by plan, on tracks spread over the lengths.
    order = np.argsort(durations)
    subset = [rows[i] for i in order[np.linspace(0, len(rows) - 1, min(args.timing_tracks, len(rows))).astype(int)]]
    seconds: dict[str, Any] = {"tracks": len(subset), "track_seconds": [round(float(durations[rows.index(r)]), 1) for r in subset]}
    for count in TIMING_PLANS:
        timed = audio_embedder_build(AudioConfig(model=args.model, segments=count))
        timed.embed([str(subset[0].audio_path)])  # warm up
        for fmt in ("ogg", "mp3"):
            if fmt == "mp3" and not copies:
                continue
            walls, cpus, per_minute = [], [], []
            for row in subset:
                path = str(row.audio_path) if fmt == "ogg" else str(copies[row.track_id])
                for _ in range(args.repeats):
                    wall, cpu = time.perf_counter(), time.process_time()
                    timed.embed([path])
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                per_minute.append(statistics.median(walls[-args.repeats :]) / (durations[rows.index(row)] / 60))
            seconds[f"{timed.plan.describe()}_{fmt}"] = {
                "median_s": round(statistics.median(walls), 3),
                "median_cpu_s": round(statistics.median(cpus), 3),
                "max_s": round(max(walls), 3),
                "median_s_per_audio_minute": round(statistics.median(per_minute), 3),
            }
    report = {
        "manifest": str(args.manifest),
        "model": embedder.name,
        "version": embedder.version,
        "tracks": len(rows),
        "labels": len(set(labels)),
        "track_seconds": {"min": round(float(durations.min()), 1), "median": round(float(np.median(durations)), 1), "max": round(float(durations.max()), 1)},
        "grid_analysis_s": round(grid_s, 1),
        "plans": plans,
        "real_path": real,
        "seconds": seconds,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()
