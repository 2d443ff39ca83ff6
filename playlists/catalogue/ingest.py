"""Ingest: bring the catalogue in line with the audio files below a folder (tags, lyrics, duration, hash)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction

from ml.progress import Progress
from playlists.catalogue.covers import CoverError, cover_store, picture_beside
from playlists.catalogue.languages import track_language_detect
from playlists.catalogue.library import FileInfo, LibraryReadError, file_read, library_path_check, library_walk, path_display
from playlists.models import Album, Artist, CoverArt, IngestFailure, Track

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
    covers: int = 0


class _FolderCovers:
    """The picture beside the files of each folder, read and stored once per run; an unreadable one is recorded."""

    def __init__(self, summary: IngestSummary) -> None:
        self.summary = summary
        self._covers: dict[Path, CoverArt | None] = {}

    def __call__(self, folder: Path) -> CoverArt | None:
        if folder not in self._covers:
            self._covers[folder] = self._read(folder)
        return self._covers[folder]

    def _read(self, folder: Path) -> CoverArt | None:
        picture = picture_beside(folder)
        if picture is None:
            return None
        try:
            cover = cover_store(picture.read_bytes(), source=CoverArt.Source.FOLDER)
        except (CoverError, OSError) as error:
            reason = f"cover art: {error}"
            self.summary.warnings.append((str(picture), reason))
            IngestFailure.objects.update_or_create(path=str(picture), defaults={"reason": reason})
            return None
        IngestFailure.objects.filter(path=str(picture)).delete()
        return cover


def library_ingest(root: Path, *, progress: Progress | None = None, dry_run: bool = False) -> IngestSummary:
    """Bring the catalogue in line with the audio files below ``root``.

    ``root`` must lie inside a library root (``CROSSFADE_LIBRARY_ROOTS``),
    else :class:`~playlists.catalogue.library.LibraryPathError`. Unchanged
    files (same size and modification time) are skipped; edited files are
    re-read; a file whose content matches a track whose old path is gone is
    treated as moved. Every problem with one file (unreadable, not audio, a
    name that is not UTF-8, a symlink loop or a link out of the library, a
    row the database refuses) is recorded as an :class:`IngestFailure` row
    and the walk goes on. Each file is written in its own short transaction,
    so the site and the db_worker are never kept waiting for the whole run.
    """
    root = library_path_check(Path(root))
    if not root.is_dir():
        raise LibraryReadError(f"{root} is not a folder")
    paths = library_walk(root)
    summary = IngestSummary(scanned=len(paths))
    known = {t.audio_path: t for t in Track.objects.filter(audio_path__startswith=str(root))}
    seen: set[str] = set()
    folder_cover = _FolderCovers(summary)
    for done, path in enumerate(paths, start=1):
        try:
            _file_ingest(path, known=known, seen=seen, summary=summary, dry_run=dry_run, folder_cover=folder_cover)
        finally:
            if progress:
                progress(done, len(paths), "reading files")
    summary.missing = sum(1 for path in known if path is not None and path not in seen and not Path(path).exists())
    return summary


def _file_ingest(
    path: Path, *, known: dict[str | None, Track], seen: set[str], summary: IngestSummary, dry_run: bool, folder_cover: _FolderCovers
) -> None:
    """One file into the catalogue, or its failure recorded; never raises for a problem of this file."""
    key = path_display(path)
    try:
        resolved = library_path_check(path)
        key = str(resolved)
        seen.add(key)
        track = known.get(key)
        stat = resolved.stat()
        if track and track.file_size == stat.st_size and track.file_mtime == stat.st_mtime:
            summary.unchanged += 1
            if track.cover_id is None and not dry_run:
                # A picture put beside unchanged files (or a catalogue read before covers were) is picked up.
                _covers_apply(track, None, folder_cover(resolved.parent), summary)
            return
        info = file_read(resolved)
    except (LibraryReadError, OSError, UnicodeError) as error:
        _failure_record(key, str(error) or type(error).__name__, summary=summary, dry_run=dry_run)
        return
    summary.warnings.extend((key, warning) for warning in info.warnings)
    if dry_run:
        summary.added += track is None
        summary.updated += track is not None
        return
    try:
        with transaction.atomic():
            if track is None:
                moved_from = _moved_track(info)
                outcome = "moved" if moved_from is not None else "added"
                track = moved_from or Track()
            else:
                outcome = "updated"
            _track_fill(track, info)
            track.save()
            embedded = None
            if info.picture:
                try:
                    embedded = cover_store(info.picture, source=CoverArt.Source.EMBEDDED)
                except CoverError as error:
                    summary.warnings.append((key, f"embedded picture: {error}"))
            _covers_apply(track, embedded, folder_cover(resolved.parent), summary)
            IngestFailure.objects.filter(path__in=[key, f"{key} (lyrics)"]).delete()
            if info.warnings:
                # The track is in; what was cut or left out is what the operator must see.
                IngestFailure.objects.create(path=f"{key} (lyrics)", reason="; ".join(info.warnings))
    except DatabaseError as error:
        logger.warning("ingest: the database refused %s: %s", key, error)
        _failure_record(key, f"the database refused the track ({type(error).__name__}: {error})", summary=summary, dry_run=dry_run)
        return
    setattr(summary, outcome, getattr(summary, outcome) + 1)


def _failure_record(key: str, reason: str, *, summary: IngestSummary, dry_run: bool) -> None:
    summary.failed += 1
    summary.failures.append((key, reason))
    if not dry_run:
        IngestFailure.objects.update_or_create(path=key[:1024], defaults={"reason": reason})


def _covers_apply(track: Track, embedded: CoverArt | None, beside: CoverArt | None, summary: IngestSummary) -> None:
    """The track's cover is its own picture, else the folder's; its album's is the folder's, else its first track's."""
    cover = embedded or beside
    if cover is not None and track.cover_id != cover.id:
        Track.objects.filter(id=track.id).update(cover=cover)
        track.cover = cover
        summary.covers += 1
    if track.album_id is not None:
        album_cover = beside or cover
        if album_cover is not None:
            Album.objects.filter(id=track.album_id).filter(cover__isnull=True).update(cover=album_cover)
            if beside is not None:
                Album.objects.filter(id=track.album_id).exclude(cover=beside).update(cover=beside)


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
