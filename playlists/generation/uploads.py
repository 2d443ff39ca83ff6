"""An uploaded audio file as a playlist seed: analysed once by the audio embedder, never added to the catalogue."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from django.conf import settings

from ml.errors import MLError
from playlists import engine
from playlists.errors import UploadError

logger = logging.getLogger(__name__)

UPLOAD_TYPES = (".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".mp4", ".aac", ".aif", ".aiff", ".wma")


def upload_analyse(name: str, chunks: Iterable[bytes], *, size: int | None = None, max_bytes: int | None = None) -> dict[str, Any]:
    """Embed an uploaded audio file through the audio embedder without adding it to the catalogue.

    Returns the ``seed_audio`` entry ``{"name", "model_version", "vector"}``.
    Raises :class:`UploadError` for a file too large, of another type, or not decodable.
    """
    limit = max_bytes or settings.CROSSFADE_UPLOAD_MAX_BYTES
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise UploadError(f"“{name}” is not an audio file type Crossfade takes; upload one of {', '.join(UPLOAD_TYPES)}")
    if size is not None and size > limit:
        raise UploadError(f"“{name}” is {size / 1e6:.1f} MB; uploads are limited to {limit / 1e6:.0f} MB")
    embedder = engine.embedder_get("audio")
    with tempfile.TemporaryDirectory(prefix="crossfade-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        written = 0
        with path.open("wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise UploadError(f"“{name}” is larger than the {limit / 1e6:.0f} MB upload limit")
                out.write(chunk)
        if written == 0:
            raise UploadError(f"“{name}” is empty (0 bytes); upload an MP3, FLAC, Ogg, WAV or M4A file")
        try:
            vector = embedder.embed([str(path)])[0]
        except (MLError, RuntimeError, ValueError, OSError) as error:
            # The decoder's own words name the temporary file and an errno: the log gets them, the listener a message to act on.
            logger.info("upload %r could not be decoded: %s", name, error)
            raise UploadError(f"“{name}” is not audio Crossfade can read: the file is damaged or is not really a {suffix.lstrip('.').upper()}; upload an MP3, FLAC, Ogg, WAV or M4A file") from None
    if not np.all(np.isfinite(vector)):
        raise UploadError(f"“{name}” gave no usable audio (silent or too short?)")
    return {"name": name, "model_version": embedder.version, "vector": [round(float(v), 7) for v in vector]}
