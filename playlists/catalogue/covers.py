"""Cover art: pictures read from audio files and folders at ingest, stored once per content, resized on demand.

A file's own picture comes first (ID3 ``APIC``, FLAC and Ogg/Opus
``METADATA_BLOCK_PICTURE``, MP4 ``covr``; a front cover when the file has
several), then a picture beside it (``cover.*``, ``folder.*``, ``front.*``,
``album.*``). Pictures are checked with Pillow and kept under
``CROSSFADE_COVERS_DIR`` as ``<hash[:2]>/<hash>.<jpg|png>`` (other formats
are converted to PNG); resized copies (``sizes/<px>/…``) are made the first
time a size is asked for and reused after.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from playlists.errors import CrossfadeError
from playlists.models import Album, CoverArt, Track

logger = logging.getLogger(__name__)

#: Names of picture files beside audio files, best first (compared without case and extension).
FOLDER_NAMES = ("cover", "folder", "front", "album")
PICTURE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
#: The sizes a resized copy may have (pixels, longest side); a request is clamped into this range.
MIN_SIZE, MAX_SIZE = 16, 2048
#: Pictures larger than this (bytes) are not read (a corrupt tag can claim anything).
MAX_PICTURE_BYTES = 20 * 1024 * 1024
_FRONT_COVER = 3


class CoverError(CrossfadeError):
    """A picture could not be read or stored."""


@dataclass(frozen=True)
class Picture:
    data: bytes
    source: str  # CoverArt.Source


def covers_dir() -> Path:
    return Path(settings.CROSSFADE_COVERS_DIR)


def picture_embedded(audio: Any) -> bytes | None:
    """The front cover (else the first picture) embedded in a mutagen file object, or None."""
    tags = getattr(audio, "tags", None)
    pictures: list[tuple[int, bytes]] = []
    for picture in getattr(audio, "pictures", None) or []:  # FLAC
        pictures.append((int(getattr(picture, "type", 0)), bytes(picture.data)))
    if tags is not None:
        getall = getattr(tags, "getall", None)
        if callable(getall):  # ID3 (mp3, wav, aiff)
            for frame in getall("APIC"):
                pictures.append((int(getattr(frame, "type", 0)), bytes(frame.data)))
        try:
            covr = tags.get("covr") if hasattr(tags, "get") else None  # MP4
        except (KeyError, ValueError, TypeError):
            covr = None
        for item in covr or []:
            pictures.append((_FRONT_COVER, bytes(item)))
        try:
            blocks = tags.get("metadata_block_picture") if hasattr(tags, "get") and not callable(getall) else None  # Ogg Vorbis/Opus
        except (KeyError, ValueError, TypeError):
            blocks = None
        for block in blocks or []:
            from mutagen.flac import Picture as FlacPicture

            try:
                decoded = FlacPicture(base64.b64decode(block))  # type: ignore[no-untyped-call]  # mutagen is unannotated
            except (ValueError, TypeError, Exception):  # noqa: BLE001 - a broken block is skipped, not fatal
                continue
            pictures.append((int(decoded.type), bytes(decoded.data)))
    pictures = [(kind, data) for kind, data in pictures if 0 < len(data) <= MAX_PICTURE_BYTES]
    if not pictures:
        return None
    fronts = [data for kind, data in pictures if kind == _FRONT_COVER]
    return fronts[0] if fronts else pictures[0][1]


def picture_beside(folder: Path) -> Path | None:
    """The best picture file in ``folder`` (``cover.*`` before ``folder.*`` before ``front.*``), or None."""
    try:
        names = {entry.name for entry in os.scandir(folder) if entry.is_file()}
    except OSError:
        return None
    candidates = []
    for name in names:
        stem, extension = os.path.splitext(name)
        if extension.lower() in PICTURE_EXTENSIONS and stem.lower() in FOLDER_NAMES:
            candidates.append((FOLDER_NAMES.index(stem.lower()), PICTURE_EXTENSIONS.index(extension.lower()), name))
    if not candidates:
        return None
    return folder / min(candidates)[2]


def _normalised(data: bytes) -> tuple[bytes, str, int, int]:
    """``(bytes, mime, width, height)`` of a readable picture: JPEG and PNG kept as they are, others as PNG."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            kind = image.format
            if kind == "JPEG":
                return data, "image/jpeg", width, height
            if kind == "PNG":
                return data, "image/png", width, height
            converted = io.BytesIO()
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(converted, format="PNG")
            return converted.getvalue(), "image/png", width, height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise CoverError(f"not a readable picture ({type(error).__name__}: {str(error)[:120]})") from None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def cover_path(cover: CoverArt) -> Path:
    return covers_dir() / cover.content_hash[:2] / f"{cover.content_hash}.{cover.extension}"


def cover_store(data: bytes, *, source: str) -> CoverArt:
    """The stored cover with these bytes (stored now if new); raises :class:`CoverError` for anything but a picture."""
    if not data or len(data) > MAX_PICTURE_BYTES:
        raise CoverError("the picture is empty or larger than 20 MB")
    content, mime, width, height = _normalised(data)
    digest = hashlib.sha256(content).hexdigest()
    existing = CoverArt.objects.filter(content_hash=digest).first()
    if existing is not None:
        if not cover_path(existing).is_file():
            _write_atomically(cover_path(existing), content)
        return existing
    cover = CoverArt(content_hash=digest, mime=mime, width=width, height=height, source=source)
    _write_atomically(cover_path(cover), content)
    try:
        with transaction.atomic():
            cover.save()
    except IntegrityError:  # stored concurrently by another ingest
        return CoverArt.objects.get(content_hash=digest)
    return cover


def cover_file(cover: CoverArt, *, size: int | None = None) -> Path:
    """The stored picture, or a copy whose longest side is ``size`` pixels (clamped to 16..2048; never enlarged).

    Raises :class:`CoverError` when the stored file is gone.
    """
    original = cover_path(cover)
    if not original.is_file():
        raise CoverError("the cover's file is missing; run ingest again")
    if size is None:
        return original
    size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
    if size >= max(cover.width, cover.height):
        return original
    resized = covers_dir() / "sizes" / str(size) / original.name
    if resized.is_file():
        return resized
    with Image.open(original) as image:
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if cover.mime == "image/png":
            image.save(out, format="PNG", optimize=True)
        else:
            image.convert("RGB").save(out, format="JPEG", quality=88)
    _write_atomically(resized, out.getvalue())
    return resized


def track_cover(track_id: int) -> CoverArt | None:
    """A track's picture, else its album's."""
    track = Track.objects.select_related("cover", "album__cover").filter(id=track_id).first()
    if track is None:
        return None
    return track.cover or (track.album.cover if track.album else None)


def album_cover(album_id: int) -> CoverArt | None:
    """An album's picture, else the first of its tracks'."""
    album = Album.objects.select_related("cover").filter(id=album_id).first()
    if album is None:
        return None
    return album.cover or CoverArt.objects.filter(tracks__album_id=album_id).order_by("tracks__track_number", "tracks__id").first()


def loose_tracks_cover(artist_id: int) -> CoverArt | None:
    """The first picture of an artist's tracks that have no album."""
    return CoverArt.objects.filter(tracks__album__isnull=True, tracks__artist_id=artist_id).order_by("tracks__id").first()


def artist_cover(artist_id: int) -> CoverArt | None:
    """The picture of an artist's earliest album with one, else of any of their tracks."""
    return (
        CoverArt.objects.filter(albums__artist_id=artist_id).order_by("albums__year", "albums__title").first()
        or CoverArt.objects.filter(tracks__artist_id=artist_id).order_by("tracks__id").first()
    )


def playlist_cover(playlist_id: int) -> CoverArt | None:
    """The picture of the first of a playlist's tracks that has one (own or album's)."""
    for track in Track.objects.filter(playlist_items__playlist_id=playlist_id).select_related("cover", "album__cover").order_by("playlist_items__position")[:50]:
        picture = track.cover or (track.album.cover if track.album else None)
        if picture is not None:
            return picture
    return None
