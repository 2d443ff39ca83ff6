"""Where pictures are cached and the colours every chart shares."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings

from playlists.errors import CrossfadeError

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#6b8e23")
OTHER_COLOUR = "#9aa0a6"


class PictureError(CrossfadeError):
    """A picture could not be drawn (no audio file, undecodable audio)."""


def pictures_dir() -> Path:
    return Path(settings.CROSSFADE_PICTURES_DIR)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
