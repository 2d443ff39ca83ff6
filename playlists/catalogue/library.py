"""Reading one music file: its tags, lyrics (embedded or sidecar), embedded picture, duration and hash.

Plain functions over paths, used by the ingest service. Anything unreadable
raises :class:`LibraryReadError` with a reason an operator can act on.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import mutagen
from django.conf import settings
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

from ml.audio.decode import AUDIO_EXTENSIONS, audio_load
from ml.errors import AudioDecodeError, LyricsError
from ml.text.files import lyrics_file_read
from playlists.catalogue.covers import picture_embedded
from playlists.errors import CrossfadeError

_LANGUAGE_CODES = {"eng": "en", "rus": "ru", "fre": "fr", "fra": "fr", "ger": "de", "deu": "de", "spa": "es", "ita": "it", "por": "pt", "ukr": "uk"}
_PROBE_SECONDS = 0.5


class LibraryReadError(CrossfadeError):
    """A file under the music folder could not be read as a track."""


class LibraryPathError(LibraryReadError):
    """A path is outside every library root (``CROSSFADE_LIBRARY_ROOTS``), or cannot be resolved or named."""


#: Longest text kept from a tag (a Track's title, an artist's name...); longer ones are cut with a warning.
TAG_LIMITS = {"title": 500, "artist": 300, "album": 300, "genre": 300, "isrc": 16, "language": 8}
#: Longest lyrics kept: a long song has a few thousand characters; a tag of megabytes is a broken file.
LYRICS_LIMIT = 50_000


def library_roots() -> list[Path]:
    """The configured library roots, resolved (symlinks followed)."""
    roots = []
    for root in settings.CROSSFADE_LIBRARY_ROOTS:
        try:
            roots.append(Path(root).expanduser().resolve())
        except (OSError, RuntimeError):
            continue
    return roots


def path_display(path: str | Path) -> str:
    """``path`` as text that can be printed and stored: bytes that are not UTF-8 shown as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def library_path_check(path: str | Path, *, roots: list[Path] | None = None) -> Path:
    """``path`` resolved (every symlink followed), if it lies inside a library root; else :class:`LibraryPathError`.

    The one test of "may Crossfade read or serve this file": ingest, the
    admin's track form and audio streaming all ask it, so a path typed into
    the admin or a symlink in the music folder can never reach a file
    outside the library (the database, the settings, the secret key).
    """
    roots = library_roots() if roots is None else roots
    try:
        resolved = Path(path).expanduser().resolve(strict=False)
    except RuntimeError:
        raise LibraryPathError(f"{path_display(path)} is a symlink loop") from None
    except (OSError, ValueError) as error:
        raise LibraryPathError(f"{path_display(path)} cannot be resolved ({error})") from None
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        shown = ", ".join(str(r) for r in roots) or "none configured"
        raise LibraryPathError(f"{path_display(path)} is outside the library folders ({shown}); set CROSSFADE_LIBRARY_ROOTS to add a folder")
    try:
        str(resolved).encode("utf-8")
    except UnicodeEncodeError:
        raise LibraryPathError(f"{path_display(path)}: the file name is not valid UTF-8; rename the file") from None
    return resolved


def path_in_library(path: str | Path | None) -> Path | None:
    """The resolved ``path`` if it is an existing file inside a library root, else None (for serving)."""
    if not path:
        return None
    try:
        resolved = library_path_check(path)
    except LibraryPathError:
        return None
    return resolved if resolved.is_file() else None


@dataclass
class FileInfo:
    """What one audio file says about itself."""

    path: Path
    audio_format: str
    size: int
    mtime: float
    content_hash: str
    duration_s: float
    title: str
    artist: str = ""
    album: str = ""
    genre: str = ""
    year: int | None = None
    track_number: int | None = None
    isrc: str = ""
    lyrics: str = ""
    lyrics_source: str = ""
    lyrics_path: str = ""
    language: str = ""
    #: The picture embedded in the file (front cover first), as stored in it; None without one.
    picture: bytes | None = None
    warnings: list[str] = field(default_factory=list)


def path_on_this_machine(path: str, mapping: tuple[tuple[str, str], ...]) -> str:
    """Where the file that the catalogue knows as ``path`` is on this machine.

    A worker that mounts the library elsewhere than the machine that ingested
    it maps path prefixes (``CROSSFADE_PATH_MAP``, ``(("/srv/music", "/mnt/music"),)``);
    the first prefix that matches at a folder boundary is replaced, and a path
    no prefix matches is used as it is.
    """
    for source, target in mapping:
        source = source.rstrip("/")
        if path == source or path.startswith(source + "/"):
            return target.rstrip("/") + path[len(source) :]
    return path


def is_audio_path(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".")


def library_walk(root: Path) -> list[Path]:
    """Audio files below ``root``, recursively, in a stable order.

    Symlinked folders are not followed (a link loop would never end; a linked
    file is checked against the library roots when it is read). Folders that
    cannot be listed are skipped here; a name that is not UTF-8 is returned
    like any other and refused per file by :func:`file_read`.
    """
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found.extend(Path(folder) / name for name in sorted(files) if is_audio_path(Path(name)))
    return found


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_read(path: Path) -> FileInfo:
    """Tags, lyrics, duration and hash of ``path``; raises :class:`LibraryReadError`.

    ``path`` must resolve inside a library root (:func:`library_path_check`).
    Tags longer than :data:`TAG_LIMITS` are cut, with a warning.
    """
    path = library_path_check(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise LibraryReadError(f"cannot open the file ({error.strerror or error})") from None
    if stat.st_size == 0:
        raise LibraryReadError("the file is empty (0 bytes)")
    try:
        audio = mutagen.File(path)
    except Exception as error:  # noqa: BLE001 - mutagen raises many unrelated types for bad files
        raise LibraryReadError(f"not a readable audio file ({type(error).__name__}: {error})") from None
    if audio is None:
        raise LibraryReadError(f"not a recognised audio format (extension {path.suffix or 'none'})")
    duration = float(getattr(audio.info, "length", 0.0) or 0.0)
    if duration <= 0:
        raise LibraryReadError("the file has no audio (zero duration)")
    # Tags can be intact while the audio is garbage: decode a moment from the middle.
    try:
        audio_load(path, sample_rate=getattr(audio.info, "sample_rate", None) or 22050, offset=duration / 2, duration=_PROBE_SECONDS)
    except AudioDecodeError as error:
        raise LibraryReadError(f"the audio does not decode: {str(error).split(': ', 1)[-1]}") from None
    info = FileInfo(
        path=path,
        audio_format=path.suffix.lower().lstrip("."),
        size=stat.st_size,
        mtime=stat.st_mtime,
        content_hash=file_hash(path),
        duration_s=round(duration, 3),
        title=path.stem,
    )
    try:
        _read_tags(audio.tags, info)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError) as error:
        info.warnings.append(f"tags present but unreadable ({type(error).__name__}); the file name is used as the title")
    try:
        info.picture = picture_embedded(audio)
    except Exception as error:  # noqa: BLE001 - a broken picture tag loses the picture, not the track
        info.warnings.append(f"the embedded picture is unreadable ({type(error).__name__})")
    if not info.lyrics:
        _read_sidecar_lyrics(path, info)
    _limits_apply(info)
    return info


def _limits_apply(info: FileInfo) -> None:
    """Cut overlong tags to what the catalogue stores, saying so: the track still comes in."""
    for name, limit in TAG_LIMITS.items():
        value = getattr(info, name)
        if len(value) > limit:
            setattr(info, name, value[:limit])
            info.warnings.append(f"the {name} tag has {len(value):,} characters; kept the first {limit}")
    if len(info.lyrics) > LYRICS_LIMIT:
        info.warnings.append(f"the lyrics have {len(info.lyrics):,} characters; kept the first {LYRICS_LIMIT:,}")
        info.lyrics = info.lyrics[:LYRICS_LIMIT]


def _read_tags(tags: object, info: FileInfo) -> None:
    if tags is None:
        return
    if isinstance(tags, ID3):
        def text(key: str) -> str:
            return str(tags[key].text[0]) if key in tags and tags[key].text else ""

        info.title = text("TIT2") or info.title
        info.artist = text("TPE1") or text("TPE2")
        info.album = text("TALB")
        info.genre = "; ".join(str(g) for g in tags["TCON"].genres) if "TCON" in tags else ""
        info.year = _year(text("TDRC") or text("TYER"))
        info.track_number = _number(text("TRCK"))
        info.isrc = text("TSRC")
        info.language = _language(text("TLAN"))
        frames = [frame for frame in tags.getall("USLT") if str(frame.text).strip()]  # type: ignore[no-untyped-call]  # mutagen's getall is unannotated
        if frames:
            info.lyrics = str(frames[0].text).strip()
            info.lyrics_source = "tag"
            info.language = info.language or _language(getattr(frames[0], "lang", "") or "")
        return
    if isinstance(tags, MP4Tags):
        def first(key: str) -> str:
            return str(tags[key][0]) if key in tags and tags[key] else ""

        info.title = first("\xa9nam") or info.title
        info.artist = first("\xa9ART") or first("aART")
        info.album = first("\xa9alb")
        info.genre = first("\xa9gen")
        info.year = _year(first("\xa9day"))
        if "trkn" in tags and tags["trkn"]:
            info.track_number = int(tags["trkn"][0][0]) or None
        lyrics = first("\xa9lyr").strip()
        if lyrics:
            info.lyrics, info.lyrics_source = lyrics, "tag"
        return
    # Vorbis comments (Ogg Vorbis/Opus, FLAC) and other dict-like tags.
    try:
        def get(key: str) -> str:
            return str(tags.get(key, [""])[0]) if tags.get(key) else ""  # type: ignore[attr-defined]

        info.title = get("title") or info.title
        info.artist = get("artist") or get("albumartist")
        info.album = get("album")
        info.genre = "; ".join(str(g) for g in tags.get("genre", []))  # type: ignore[attr-defined]
        info.year = _year(get("date") or get("year"))
        info.track_number = _number(get("tracknumber"))
        info.isrc = get("isrc")
        info.language = _language(get("language"))
        lyrics = (get("lyrics") or get("unsyncedlyrics")).strip()
        if lyrics:
            info.lyrics, info.lyrics_source = lyrics, "tag"
    except (AttributeError, TypeError, ValueError):
        info.warnings.append("tags present but not in a layout Crossfade reads")


def _read_sidecar_lyrics(path: Path, info: FileInfo) -> None:
    for suffix, source in ((".lrc", "lrc"), (".txt", "txt")):
        for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if not candidate.is_file():
                continue
            try:
                library_path_check(candidate)
            except LibraryPathError as error:
                info.warnings.append(f"lyrics file not read: {error}")
                continue
            try:
                text, _encoding = lyrics_file_read(candidate)
            except LyricsError as error:
                info.warnings.append(str(error))
                continue
            if text.strip():
                info.lyrics, info.lyrics_source, info.lyrics_path = text.strip(), source, str(candidate)
                return


def _year(value: str) -> int | None:
    digits = value.strip()[:4]
    return int(digits) if digits.isdigit() and 1000 < int(digits) < 3000 else None


def _number(value: str) -> int | None:
    head = value.split("/")[0].strip()
    return int(head) if head.isdigit() else None


def _language(value: str) -> str:
    value = value.strip().lower()
    if len(value) == 2 and value.isalpha():
        return value
    return _LANGUAGE_CODES.get(value[:3], "")
