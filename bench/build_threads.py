"""Build threads by measurement: FAISS training and adding, and audio analysis, on 1 thread and on every core, quiet and beside a busy load.

    python -m bench.build_threads [--n 400000] [--load 3] [--no-audio]

For each thread count (1 and all cores) and each condition (quiet, and
beside ``--load`` busy processes from ``bench.load``) it times, in this process:

- ``train_s``: training the fused candidate index the catalogue size calls
  for (IVF k-means and, above 300,000 tracks, the 4-bit PQ codebooks) on its
  seeded sample of ``--n`` synthetic fused vectors at the configured models'
  dimensions (audio + lyrics side by side);
- ``add_s``: adding 200,000 of them (encoding against the codebooks);
- ``musicnn_s_per_track`` (unless ``--no-audio``): the configured audio
  embedder on four synthesised 30-second mp3 files, per track.

``rule`` shows what :func:`ml.threads.build_threads` picks for each load, so
the choice it makes can be checked against the times. Prints JSON with the
load average before and after each run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import busy_load, load_average  # noqa: E402
from bench.shapes import product_dims  # noqa: E402


def _fused_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors, float32 ``(n, dim)`` (whitened-catalogue-like)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(64, n // 200), dim)).astype(np.float32)
    vectors = centres[rng.integers(0, centres.shape[0], n)] + 1.2 * rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _faiss_run(vectors: np.ndarray, threads: int) -> dict[str, float]:
    from ml.fusion.index import AnnIndex, backend_params
    from ml.threads import compute_threads

    params = backend_params(vectors.shape[0], vectors.shape[1])
    sample = vectors[np.sort(np.random.default_rng(1234).choice(vectors.shape[0], min(vectors.shape[0], params.train_size), replace=False))]
    ann = AnnIndex(vectors.shape[1], params)
    with compute_threads(threads):
        started = time.perf_counter()
        ann.train(sample)
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        ann.add(np.arange(200_000, dtype=np.int64), vectors[:200_000])
        add_s = time.perf_counter() - started
    return {"train_s": round(train_s, 2), "add_s": round(add_s, 2), "codec": params.codec, "nlist": params.nlist}


def _audio_files(folder: Path) -> list[str]:
    import soundfile

    from bench.analysis import RATE, music_synthesise

    paths = []
    for number in range(4):
        path = folder / f"track{number}.wav"
        soundfile.write(str(path), music_synthesise(30, seed=number), RATE)
        paths.append(str(path))
    return paths


def _audio_run(embedder: Any, files: list[str], threads: int) -> float:
    from ml.threads import compute_threads

    with compute_threads(threads):
        embedder.embed(files[:1])
        started = time.perf_counter()
        embedder.embed(files)
        return round((time.perf_counter() - started) / len(files), 3)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.build_threads", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400_000, help="catalogue size whose fused index is trained (above 300,000: fast-scan PQ)")
    parser.add_argument("--load", type=int, default=3, help="busy processes of the loaded condition")
    parser.add_argument("--no-audio", action="store_true", help="skip the audio embedder runs")
    args = parser.parse_args(argv)

    from ml.threads import build_threads, cores_available

    dims = product_dims()
    cores = cores_available()
    vectors = _fused_vectors(max(args.n, 200_000), dims["audio"] + dims["lyrics"])
    embedder = files = None
    folder = Path(tempfile.mkdtemp(prefix="crossfade-bench-threads-"))
    if not args.no_audio:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        from django.conf import settings

        from ml.registry import audio_embedder_build

        embedder = audio_embedder_build(settings.CROSSFADE.audio)
        files = _audio_files(folder)
    runs: list[dict[str, Any]] = []
    for condition, busy in (("quiet", 0), ("loaded", args.load)):
        for threads in sorted({1, cores}):
            before = load_average()
            with busy_load(busy, seconds=900):
                during = load_average()
                run: dict[str, Any] = {"condition": condition, "busy_processes": busy, "threads": threads, **_faiss_run(vectors, threads)}
                if embedder is not None and files is not None:
                    run["musicnn_s_per_track"] = _audio_run(embedder, files, threads)
            run.update(load_average_before=before, load_average_during=during, load_average_after=load_average())
            runs.append(run)
            print(json.dumps(run), file=sys.stderr)
    for path in folder.glob("*"):
        path.unlink()
    folder.rmdir()
    report = {
        "n": args.n,
        "fused_dim": dims["audio"] + dims["lyrics"],
        "cores": cores,
        "runs": runs,
        "rule": {f"load {load}": build_threads(cores, load) for load in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)},
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
