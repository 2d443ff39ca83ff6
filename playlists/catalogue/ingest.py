"""Ingest: bring the catalogue in line with the audio files below a folder (tags, lyrics, duration, hash)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from ml.progress import Progress
from playlists.catalogue.languages import track_language_detect
from playlists.catalogue.library import FileInfo, LibraryReadError, file_read, library_walk
from playlists.models import Album, Artist, IngestFailure, Track

logger = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    scanned: int = 0
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    failed: int = 0
    missing: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def library_ingest(root: Path, *, progress: Progress | None = None, dry_run: bool = False) -> IngestSummary:
    """Bring the catalogue in line with the audio files below ``root``.

    Unchanged files (same size and modification time) are skipped; edited
    files are re-read; a file whose content matches a track whose old path
    is gone is treated as moved. Unreadable files are recorded as
    :class:`IngestFailure` rows and the run goes on.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise LibraryReadError(f"{root} is not a folder")
    paths = library_walk(root)
    summary = IngestSummary(scanned=len(paths))
    known = {t.audio_path: t for t in Track.objects.filter(audio_path__startswith=str(root))}
    seen: set[str] = set()
    for done, path in enumerate(paths, start=1):
        key = str(path.resolve())
        seen.add(key)
        track = known.get(key)
        try:
            stat = path.stat()
            if track and track.file_size == stat.st_size and track.file_mtime == stat.st_mtime:
                summary.unchanged += 1
                continue
            info = file_read(path)
        except (LibraryReadError, OSError) as error:
            reason = str(error)
            summary.failed += 1
            summary.failures.append((key, reason))
            if not dry_run:
                IngestFailure.objects.update_or_create(path=key, defaults={"reason": reason})
            continue
        finally:
            if progress:
                progress(done, len(paths), "reading files")
        summary.warnings.extend((key, warning) for warning in info.warnings)
        if dry_run:
            summary.added += track is None
            summary.updated += track is not None
            continue
        with transaction.atomic():
            if track is None:
                moved_from = _moved_track(info)
                if moved_from is not None:
                    summary.moved += 1
                    track = moved_from
                else:
                    summary.added += 1
                    track = Track()
            else:
                summary.updated += 1
            _track_fill(track, info)
            track.save()
            IngestFailure.objects.filter(path__in=[key, f"{key} (lyrics)"]).delete()
            if info.warnings:
                # The track is in; its unreadable lyrics file is what the operator must see.
                IngestFailure.objects.create(path=f"{key} (lyrics)", reason="; ".join(info.warnings))
    summary.missing = sum(1 for path in known if path is not None and path not in seen and not Path(path).exists())
    return summary


def _moved_track(info: FileInfo) -> Track | None:
    for candidate in Track.objects.filter(content_hash=info.content_hash).exclude(audio_path=str(info.path)):
        if candidate.audio_path and not Path(candidate.audio_path).exists():
            return candidate
    return None


def _track_fill(track: Track, info: FileInfo) -> None:
    artist = Artist.objects.get_or_create(name=info.artist.strip() or "Unknown artist")[0]
    album = Album.objects.get_or_create(title=info.album.strip(), artist=artist, defaults={"year": info.year})[0] if info.album.strip() else None
    track.title = info.title.strip() or info.path.stem
    track.artist = artist
    track.album = album
    track.track_number = info.track_number
    track.year = info.year
    track.duration_s = info.duration_s
    track.genre = info.genre
    track.audio_path = str(info.path)
    track.audio_format = info.audio_format
    track.file_size = info.size
    track.file_mtime = info.mtime
    track.content_hash = info.content_hash
    track.isrc = info.isrc or track.isrc
    if info.lyrics or track.lyrics_source != Track.LyricsSource.MANUAL:
        track.lyrics = info.lyrics
        track.lyrics_source = info.lyrics_source
        track.lyrics_path = info.lyrics_path
    # Tags say best; otherwise the lyrics are asked ("zxx" too little text, "und" unsure).
    track.language = info.language or track_language_detect(track)
