"""End-to-end timing of the demo pipeline: synthesise, ingest, reindex.

    python -m bench.reindex [--seed 7]

Runs in a temporary data folder (its own SQLite database and index) and
prints JSON: seconds for each stage, and reindex seconds per track for the
first (everything new) and an incremental run (one track changed). Model loading is timed apart.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-"))
    os.environ["CROSSFADE_DATA_DIR"] = str(workdir)
    os.environ["CROSSFADE_MUSIC_DIR"] = str(workdir / "music")  # a library root: ingest reads only there
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    from playlists.catalogue.ingest import library_ingest
    from playlists.catalogue.reindex import index_rebuild
    from playlists.demo.music import demo_library_write
    from playlists.models import Track

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    tracks = demo_library_write(workdir / "music", seed=args.seed)
    synthesise_s = time.perf_counter() - started

    started = time.perf_counter()
    ingest = library_ingest(workdir / "music")
    ingest_s = time.perf_counter() - started

    from playlists import engine

    started = time.perf_counter()
    engine.embedder_get("audio")
    engine.embedder_get("lyrics")
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    first = index_rebuild()
    first_s = time.perf_counter() - started

    track = Track.objects.exclude(lyrics="").first()
    track.lyrics += "\nand one more line about the rain on the window"
    track.save()
    started = time.perf_counter()
    second = index_rebuild()
    second_s = time.perf_counter() - started

    count = Track.objects.count()
    result = {
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
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
