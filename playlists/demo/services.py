"""The demo catalogue: written once per seed, ingested like a user's library, and a login to try it with."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model

from ml.progress import Progress
from playlists.catalogue.ingest import IngestSummary, library_ingest
from playlists.demo.covers import demo_covers_write
from playlists.demo.music import demo_library_write


@dataclass
class DemoSummary:
    folder: Path
    tracks: int
    generated: bool
    ingest: IngestSummary


def demo_catalogue_build(target: Path, *, seed: int = 7, progress: Progress | None = None, ingest_progress: Progress | None = None) -> DemoSummary:
    """Write the demo music library into ``target`` (once per seed), with a generated cover per album, and ingest it like a user's library."""
    target = Path(target)
    manifest = target / ".crossfade-demo.json"
    generated = False
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        recorded = {}
    if recorded.get("seed") != seed or not all((target / p).is_file() for p in recorded.get("files", [None])):
        tracks = demo_library_write(target, seed=seed, progress=progress)
        manifest.write_text(json.dumps({"seed": seed, "files": [str(t.path.relative_to(target)) for t in tracks]}))
        generated = True
    count = len(json.loads(manifest.read_text())["files"])
    # Also for a library written before the demo had covers.
    demo_covers_write(target)
    return DemoSummary(folder=target, tracks=count, generated=generated, ingest=library_ingest(target, progress=ingest_progress))


def demo_user_ensure(*, username: str = "demo") -> tuple[str, str]:
    """Create (or reset) the demo login with a fresh random password; returns ``(username, password)``."""
    password = secrets.token_urlsafe(9)
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return username, password
