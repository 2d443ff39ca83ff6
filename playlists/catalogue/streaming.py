"""Serving audio files with HTTP range requests, so players can seek and resume.

Only files inside the library roots are ever served: callers pass paths
through :func:`playlists.catalogue.library.path_in_library` first.
"""
from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Iterator

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from playlists.catalogue.library import path_in_library

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024
AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
}


def file_response_ranged(request: HttpRequest, path: Path) -> HttpResponseBase:
    """The file at ``path``, whole (200) or the one byte range asked for (206).

    A range that cannot be satisfied gets 416 with the file's size;
    multi-range requests are answered with the whole file, which RFC 9110 allows.
    """
    size = path.stat().st_size
    content_type = AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    header = request.headers.get("Range", "").strip()
    match = _RANGE.match(header) if header else None
    if match is None or (not match.group(1) and not match.group(2)):
        whole = FileResponse(open(path, "rb"), content_type=content_type)
        whole["Accept-Ranges"] = "bytes"
        whole["Content-Length"] = str(size)
        return whole
    first, last = match.groups()
    if first:
        start, end = int(first), int(last) if last else size - 1
    else:  # "bytes=-N": the last N bytes
        start, end = max(0, size - int(last)), size - 1
    end = min(end, size - 1)
    if start >= size or start > end:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    response = StreamingHttpResponse(_file_slice(path, start, end - start + 1), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _file_slice(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            block = handle.read(min(_CHUNK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block


def file_exists(path: str | None) -> bool:
    """Whether ``path`` is a file Crossfade may serve (inside a library root, symlinks resolved)."""
    return path_in_library(path) is not None
