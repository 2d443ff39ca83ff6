"""Match rates of the spotify-recommendation set (bricevergnou, 195 tracks) against two catalogues.

    python -m bench.kaggle_match

Imports ``data_with_ids.csv`` (read in place from ../shared/data) into a
fresh empty catalogue and into the demo catalogue (48 synthesised tracks),
each in its own temporary SQLite database, then imports it once more, and
prints JSON with matched / created / rejected per run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "spotify_recommendation_bricevergnou" / "data_with_ids.csv"
if not DATA.exists():
    DATA = Path("/work/shared/data/spotify_recommendation_bricevergnou/data_with_ids.csv")


def _run(catalogue: str) -> dict:
    """One catalogue in a child process, so each gets its own settings and database."""
    workdir = tempfile.mkdtemp(prefix=f"crossfade-bench-match-{catalogue}-")
    code = f"""
import json, django, time
django.setup()
from django.core.management import call_command
from playlists.models import Track
from playlists.metadata.kaggle import kaggle_file_import
call_command("migrate", verbosity=0)
if {catalogue!r} == "demo":
    from pathlib import Path
    from playlists.demo.services import demo_catalogue_build
    demo_catalogue_build(Path({workdir!r}) / "demo")
before = Track.objects.count()
runs = []
for _ in range(2):
    s = kaggle_file_import(__import__("pathlib").Path({str(DATA)!r}))
    runs.append({{"rows": s.rows, "matched": s.matched, "matched_by": s.matched_by, "created": s.created, "rejected": s.rejected, "match_rate": round(s.matched / max(1, s.rows - s.rejected), 4)}})
print(json.dumps({{"catalogue": {catalogue!r}, "tracks_before": before, "first_import": runs[0], "second_import": runs[1]}}))
"""
    env = {**os.environ, "CROSSFADE_DATA_DIR": workdir, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> list[dict]:
    if not DATA.exists():
        print(json.dumps({"skipped": f"{DATA} is absent"}))
        return []
    results = [_run("fresh"), _run("demo")]
    print(json.dumps({"benchmark": "kaggle_match", "file": DATA.name, "results": results}, indent=2))
    return results


if __name__ == "__main__":
    main()
