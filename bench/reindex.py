"""Reindex timings: the demo pipeline end to end, or building the index from many stored embeddings.

    python -m bench.reindex [--seed 7]
    python -m bench.reindex --stored 1000000

Default: runs in a temporary data folder (its own SQLite database and index)
and prints JSON: seconds for each stage, and reindex seconds per track for
the first (everything new) and an incremental run (one track changed).
Model loading is timed apart.

``--stored N``: fills a temporary SQLite database with N synthetic tracks and
their stored embeddings at the configured models' dimensions
(``bench.shapes.product_dims``; ~80 % with lyrics, the synthetic catalogue of
``bench.index``), then, in a fresh process, times what a reindex does once
everything is embedded: read every stored vector back (streamed in chunks),
build the index and publish it (:func:`playlists.catalogue.reindex.index_publish`).
Prints JSON with ``build_s`` and that process's ``peak_rss_mb`` (``VmHWM``
of its own address space, :mod:`bench.memory`; ``baseline_rss_mb`` is
what it held before the build: Django, numpy, FAISS). The synthetic rows are
written by a process of their own (``--fill-nice`` lowers its priority on a
shared machine); ``--lock FILE`` holds an exclusive ``flock`` on FILE for
the timed build only. Everything is removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import load_average  # noqa: E402
from bench.lock import lock_held  # noqa: E402
from bench.memory import PhasePeaks, rss_mb  # noqa: E402

VERSIONS = {"audio": "synthetic-audio", "lyrics": "synthetic-lyrics"}


def _django(workdir: Path) -> None:
    os.environ["CROSSFADE_DATA_DIR"] = str(workdir)
    os.environ["CROSSFADE_MUSIC_DIR"] = str(workdir / "music")  # a library root: ingest reads only there
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _demo(seed: int) -> dict[str, Any]:
    from django.core.management import call_command

    from playlists import engine
    from playlists.catalogue.ingest import library_ingest
    from playlists.catalogue.reindex import index_rebuild
    from playlists.demo.music import demo_library_write
    from playlists.models import Track

    workdir = Path(os.environ["CROSSFADE_DATA_DIR"])
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    tracks = demo_library_write(workdir / "music", seed=seed)
    synthesise_s = time.perf_counter() - started

    started = time.perf_counter()
    ingest = library_ingest(workdir / "music")
    ingest_s = time.perf_counter() - started

    started = time.perf_counter()
    engine.embedder_get("audio")
    engine.embedder_get("lyrics")
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    first = index_rebuild()
    first_s = time.perf_counter() - started

    track = Track.objects.exclude(lyrics="").first()
    assert track is not None
    track.lyrics += "\nand one more line about the rain on the window"
    track.save()
    started = time.perf_counter()
    second = index_rebuild()
    second_s = time.perf_counter() - started

    count = Track.objects.count()
    return {
        "tracks": count,
        "files_written": len(tracks),
        "ingest_failed": ingest.failed,
        "synthesise_s": round(synthesise_s, 2),
        "ingest_s": round(ingest_s, 2),
        "model_load_s": round(load_s, 2),
        "reindex_first_s": round(first_s, 2),
        "reindex_first_per_track_ms": round(1000 * first_s / max(count, 1), 1),
        "embedded_first": first.embedded,
        "reindex_incremental_s": round(second_s, 2),
        "embedded_incremental": second.embedded,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def stored_fill(count: int, *, dims: dict[str, int], seed: int = 0) -> dict[str, int]:
    """``count`` tracks and their OK embeddings (the synthetic catalogue of ``bench.index``), written in chunks; returns rows per modality."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.index import synthetic_chunks
    from playlists.models import Track

    now = timezone.now()
    written = {"audio": 0, "lyrics": 0}
    for audio_ids, audio, lyrics_ids, lyrics in synthetic_chunks(count, dims=dims, seed=seed):
        ids = sorted(set(audio_ids.tolist()) | set(lyrics_ids.tolist()))
        with transaction.atomic():
            Track.objects.bulk_create([Track(id=i, title=f"synthetic {i}") for i in ids], batch_size=5000)
            with connection.cursor() as cursor:
                for modality, modality_ids, vectors in (("audio", audio_ids, audio), ("lyrics", lyrics_ids, lyrics)):
                    cursor.executemany(
                        "INSERT INTO playlists_embedding (track_id, modality, status, model_version, content_hash, dim, vector, error, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [(int(i), modality, "ok", VERSIONS[modality], f"{modality}-{int(i)}", int(v.size), v.astype("<f4").tobytes(), "", now) for i, v in zip(modality_ids, vectors)],
                    )
                    written[modality] += int(modality_ids.size)
    return written


def _fill_stored(workdir: str, count: int, seed: int, nice: int) -> dict[str, Any]:
    """In a process of its own (its memory is not the build's): migrate and write the synthetic rows."""
    if nice:
        os.nice(nice)
    _django(Path(workdir))
    from django.core.management import call_command
    from django.db import connection

    from bench.shapes import product_dims

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # Synthetic rows for a throwaway database: no need to survive a power cut.
        cursor.execute("PRAGMA synchronous = OFF")
    dims = product_dims()
    started = time.perf_counter()
    written = stored_fill(count, dims=dims, seed=seed)
    return {"dims": dims, "rows": written, "fill_s": round(time.perf_counter() - started, 1)}


def _build_from_stored(workdir: str) -> dict[str, Any]:
    """In a fresh process: read back every stored vector, build and publish (what a reindex does when nothing needs embedding)."""
    _django(Path(workdir))
    import faiss  # noqa: F401  (loaded before the baseline, as a reindex has it loaded)

    from playlists import engine
    from playlists.catalogue.reindex import index_publish

    peaks = PhasePeaks()
    baseline = rss_mb().get("VmRSS", 0.0)
    average = load_average()
    started = time.perf_counter()
    with peaks.phase("index_publish"):
        summary = index_publish(VERSIONS, full=True)
    build_s = time.perf_counter() - started
    folder = engine.index_store().root / str(summary.version)
    meta = engine.index_store().meta(str(summary.version))
    return {
        "build_s": round(build_s, 1),
        "peak_rss_mb": peaks.report()["peak_rss_mb"],
        "baseline_rss_mb": round(baseline, 1),
        "version": summary.version,
        "indexed": summary.indexed,
        "index_disk_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1),
        "backend": meta.get("backend"),
        "build_load_average": [average, load_average()],
    }


def _stored(count: int, workdir: Path, seed: int, *, fill_nice: int = 0, lock: str | None = None) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(1) as pool:
        filled = pool.apply(_fill_stored, (str(workdir), count, seed, fill_nice))
    database = workdir / "crossfade.sqlite3"
    with lock_held(lock) as waited, spawn.Pool(1) as pool:
        built = pool.apply(_build_from_stored, (str(workdir),))
    if waited is not None:
        built["lock_waited_s"] = waited
    return {"stored": count, **filled, "database_mb": round(database.stat().st_size / 2**20, 1), **built}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.reindex", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stored", type=int, default=0, help="time an index build from this many stored synthetic embeddings instead of the demo pipeline")
    parser.add_argument("--fill-nice", type=int, default=0, help="--stored: niceness of the process that writes the synthetic rows (not timed)")
    parser.add_argument("--lock", default=None, help="--stored: hold an exclusive flock on this file for the timed build only")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-reindex-"))
    before = load_average()
    try:
        if args.stored:
            result = _stored(args.stored, workdir, args.seed, fill_nice=args.fill_nice, lock=args.lock)
        else:
            _django(workdir)
            result = _demo(args.seed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.update(cpu_count=os.cpu_count(), load_average_before=before, load_average_after=load_average())
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
