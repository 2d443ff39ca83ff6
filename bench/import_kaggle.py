"""Time of importing a 114,000-row Kaggle "Spotify Tracks Dataset" file on SQLite.

    python -m bench.import_kaggle [--rows 114000] [--seed 7]

Generates a file in that dataset's schema (``;``-separated artists, one row
per track and genre, so some track ids repeat as in the real file, plus a few
broken rows), imports it into a fresh SQLite database in a temporary folder,
imports it again (every row then matches by Spotify id) and prints JSON with
the seconds of each run. The target is under 60 s for the first run.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import string
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = [
    "", "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit", "danceability", "energy", "key",
    "loudness", "mode", "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo", "time_signature", "track_genre",
]
GENRES = ["acoustic", "afrobeat", "alt-rock", "ambient", "black-metal", "blues", "chanson", "classical", "disco", "dub", "edm", "folk", "french", "funk", "hip-hop", "j-pop", "jazz", "k-pop", "metal", "pop", "punk", "r-n-b", "reggae", "rock", "salsa", "soul", "techno", "trance"]
WORDS = "love night city fire rain heart dream road gold blue wild sun moon dance river home light dark time world ocean wind star".split()


def file_write(path: Path, *, rows: int, seed: int) -> dict:
    """Write ``rows`` rows; about a fifth repeat an earlier track under another genre; 0.1 % are broken."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    artists = [f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i}" for i in range(rows // 6)]
    written: list[list] = []
    broken = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(rows):
            if written and rng.random() < 0.2:
                row = list(rng.choice(written))
                row[0], row[-1] = index, rng.choice(GENRES)
            else:
                credit = ";".join(rng.sample(artists, k=1 if rng.random() < 0.8 else 2))
                row = [
                    index, "".join(rng.choices(alphabet, k=22)), credit, f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}",
                    " ".join(rng.choices(WORDS, k=rng.randint(1, 4))).title(), rng.randint(0, 100), rng.randint(60_000, 420_000),
                    rng.choice(["True", "False"]), round(rng.random(), 3), round(rng.random(), 3), rng.randint(0, 11),
                    round(rng.uniform(-30, 0), 3), rng.randint(0, 1), round(rng.random(), 4), round(rng.random(), 4),
                    round(rng.random(), 6), round(rng.random(), 3), round(rng.random(), 3), round(rng.uniform(60, 200), 3),
                    rng.choice([3, 4, 4, 4, 5]), rng.choice(GENRES),
                ]
                written.append(row)
            if rng.random() < 0.001:
                row = list(row)
                row[rng.choice([1, 8, 6])] = rng.choice(["", "n/a", "-1", "abc"])
                broken += 1
            writer.writerow(row)
    return {"rows": rows, "distinct_ids": len(written), "broken_rows": broken}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=114_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-kaggle-"))
    os.environ["CROSSFADE_DATA_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    from playlists.metadata.kaggle import kaggle_file_import
    from playlists.models import Track

    call_command("migrate", verbosity=0)
    csv_path = workdir / "dataset.csv"
    started = time.perf_counter()
    generated = file_write(csv_path, rows=args.rows, seed=args.seed)
    generate_s = time.perf_counter() - started

    started = time.perf_counter()
    first = kaggle_file_import(csv_path)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = kaggle_file_import(csv_path)
    second_s = time.perf_counter() - started
    result = {
        "benchmark": "import_kaggle",
        "database": "sqlite",
        **generated,
        "file_mb": round(csv_path.stat().st_size / 1e6, 1),
        "generate_s": round(generate_s, 2),
        "import_s": round(first_s, 2),
        "reimport_s": round(second_s, 2),
        "target_s": 60,
        "within_target": first_s < 60,
        "first": {"matched": first.matched, "created": first.created, "rejected": first.rejected},
        "second": {"matched": second.matched, "created": second.created, "rejected": second.rejected},
        "tracks_in_catalogue": Track.objects.count(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
