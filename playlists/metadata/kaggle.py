"""Reading Kaggle Spotify CSV files into the catalogue as metadata.

Two schemas are understood:

- ``spotify-tracks``: the Kaggle "Spotify Tracks Dataset" (one row per track
  and genre; ``artists`` separated by ``;``; audio features, popularity).
- ``spotify-recommendation``: the Kaggle "spotify-recommendation" set
  (``data_with_ids.csv``: ``track_id``, ``track_name``, audio features and a
  ``liked`` label; no artists).

Rows are matched to catalogue tracks by Spotify id, then by normalised artist
and title; the rest become metadata-only tracks (no audio file, no lyrics).
Everything read here is metadata, filters and targets: it is stored in
``Track.spotify`` and never used to train Crossfade's models.
"""
from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from django.db import connection, models, transaction
from django.utils import timezone

from ml.progress import Progress
from playlists.errors import KaggleSchemaError
from playlists.metadata.matching import match_key
from playlists.models import Album, Artist, Track

logger = logging.getLogger(__name__)

BATCH = 2000

FEATURES = (
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
)
SCHEMAS: dict[str, tuple[str, ...]] = {
    "spotify-tracks": (
        "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit", *FEATURES, "track_genre",
    ),
    "spotify-recommendation": ("track_id", "track_name", *FEATURES, "duration_ms", "liked"),
}
# Closed ranges of the numeric columns, as Spotify documents them.
RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0, 1), "energy": (0, 1), "speechiness": (0, 1), "acousticness": (0, 1),
    "instrumentalness": (0, 1), "liveness": (0, 1), "valence": (0, 1),
    "key": (-1, 11), "mode": (0, 1), "loudness": (-100, 10), "tempo": (0, 1000), "time_signature": (0, 7),
    "popularity": (0, 100), "duration_ms": (1, 24 * 3600 * 1000), "liked": (0, 1),
}
INTEGERS = {"key", "mode", "time_signature", "popularity", "duration_ms", "liked"}
SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")


@dataclass
class KaggleRow:
    line: int
    spotify_id: str
    title: str
    artists: list[str]
    album: str
    duration_s: float | None
    genres: list[str]
    metadata: dict[str, Any]

    @property
    def credit(self) -> str:
        """The artists as one catalogue artist name: ``"A, B"``."""
        return ", ".join(self.artists)[:300]


@dataclass
class KaggleImportSummary:
    schema: str = ""
    rows: int = 0
    matched: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    duplicates: int = 0
    matched_by: dict[str, int] = field(default_factory=dict)
    rejections: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False


def schema_detect(columns: Iterable[str]) -> str:
    """The name of the schema ``columns`` satisfy; raises :class:`KaggleSchemaError` naming what is missing."""
    present = {c.strip() for c in columns if c}
    missing = {name: [c for c in required if c not in present] for name, required in SCHEMAS.items()}
    for name, lacking in missing.items():
        if not lacking:
            return name
    # The schema with the largest share of its columns present is the one the user most likely meant.
    closest = min(missing, key=lambda name: len(missing[name]) / len(SCHEMAS[name]))
    hint = ""
    if closest == "spotify-recommendation" and set(missing[closest]) <= {"track_id", "track_name"}:
        hint = " (the spotify-recommendation data.csv has no ids: import data_with_ids.csv instead)"
    raise KaggleSchemaError(
        f"not a Kaggle Spotify file Crossfade knows: closest is {closest!r}, which lacks the columns "
        f"{', '.join(missing[closest])}{hint}. Expected either " + "; or ".join(f"{n}: {', '.join(c)}" for n, c in SCHEMAS.items())
    )


def _number(row: dict[str, str], column: str) -> float | int:
    raw = (row.get(column) or "").strip()
    if raw == "":
        raise ValueError(f"{column} is empty")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{column} is not a number: {raw[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{column} is not a finite number: {raw!r}")
    low, high = RANGES.get(column, (float("-inf"), float("inf")))
    if not low <= value <= high:
        raise ValueError(f"{column} {raw} is outside {low:g}..{high:g}")
    if column in INTEGERS:
        if value != int(value):
            raise ValueError(f"{column} must be a whole number, not {raw}")
        return int(value)
    return value


def _boolean(row: dict[str, str], column: str) -> bool:
    raw = (row.get(column) or "").strip().lower()
    if raw in {"true", "1"}:
        return True
    if raw in {"false", "0"}:
        return False
    raise ValueError(f"{column} must be True or False, not {raw[:20]!r}")


def row_parse(row: dict[str, str], *, schema: str, line: int) -> KaggleRow:
    """One CSV row as a :class:`KaggleRow`; raises ``ValueError`` with the reason it cannot be used."""
    if None in row:
        raise ValueError("more fields than the header has columns")
    spotify_id = (row.get("track_id") or "").strip()
    if not SPOTIFY_ID.match(spotify_id):
        raise ValueError(f"track_id {spotify_id[:40]!r} is not a 22-character Spotify id")
    title = (row.get("track_name") or "").strip()
    if not title:
        raise ValueError("track_name is empty")
    features = {column: _number(row, column) for column in FEATURES}
    duration_ms = _number(row, "duration_ms")
    metadata: dict[str, Any] = {"features": features}
    artists: list[str] = []
    album = ""
    genres: list[str] = []
    if schema == "spotify-tracks":
        artists = [a.strip() for a in (row.get("artists") or "").split(";") if a.strip()]
        if not artists:
            raise ValueError("artists is empty")
        album = (row.get("album_name") or "").strip()
        genre = (row.get("track_genre") or "").strip()
        genres = [genre] if genre else []
        metadata.update(popularity=_number(row, "popularity"), explicit=_boolean(row, "explicit"), artists=artists)
    else:
        metadata["liked"] = _number(row, "liked")
    return KaggleRow(line, spotify_id, title[:500], artists, album[:300], duration_ms / 1000.0, genres, metadata)


def file_read(path: Path) -> tuple[str, list[KaggleRow], list[tuple[int, str]], int]:
    """``(schema, rows, rejections, records read)`` of a CSV file; rejections are ``(line number, reason)``.

    A track id repeated in the file (the Tracks Dataset lists a track once per
    genre) is one row whose genres are the union.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise KaggleSchemaError(f"cannot read {path}: {error.strerror or error}") from None
    rows: dict[str, KaggleRow] = {}
    rejections: list[tuple[int, str]] = []
    read = 0
    with handle:
        try:
            reader = csv.DictReader(handle)
            schema = schema_detect(reader.fieldnames or [])
            line = reader.line_num + 1
            for record in reader:
                read += 1
                try:
                    parsed = row_parse(record, schema=schema, line=line)
                except ValueError as error:
                    rejections.append((line, str(error)))
                else:
                    earlier = rows.get(parsed.spotify_id)
                    if earlier is None:
                        rows[parsed.spotify_id] = parsed
                    else:
                        earlier.genres += [g for g in parsed.genres if g not in earlier.genres]
                line = reader.line_num + 1
        except UnicodeDecodeError as error:
            raise KaggleSchemaError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
        except csv.Error as error:
            raise KaggleSchemaError(f"{path} is not a readable CSV file: {error}") from None
    return schema, list(rows.values()), rejections, read


def kaggle_file_import(path: Path, *, dry_run: bool = False, progress: Progress | None = None) -> KaggleImportSummary:
    """Upsert the tracks of a Kaggle Spotify CSV into the catalogue (see the module docstring).

    Re-running with the same file writes nothing: every row then matches by
    Spotify id and carries the values the track already has. Writes go
    through ``executemany`` because the ORM's per-object work dominated a
    100,000-row import.
    """
    schema, rows, rejections, read = file_read(path)
    summary = KaggleImportSummary(schema=schema, rows=read, rejected=len(rejections), rejections=rejections, dry_run=dry_run)
    summary.duplicates = read - len(rejections) - len(rows)
    source = f"kaggle:{schema}"

    by_spotify_id: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    existing: dict[int, _Existing] = {}
    columns = ("id", "spotify_id", "title", "artist__name", "audio_path", "genre", "duration_s", "spotify")
    for track_id, spotify_id, title, artist, audio_path, genre, duration_s, spotify in Track.objects.values_list(*columns).iterator(chunk_size=5000):
        existing[track_id] = _Existing(spotify_id, title, audio_path, genre, duration_s, spotify or {})
        if spotify_id:
            by_spotify_id.setdefault(spotify_id, track_id)
        if artist:
            by_name.setdefault(match_key(artist, title), track_id)

    matched: dict[int, KaggleRow] = {}
    new_rows: list[KaggleRow] = []
    for row in rows:
        track_id = by_spotify_id.get(row.spotify_id)
        how = "spotify_id"
        if track_id is None and row.artists:
            track_id = by_name.get(match_key(row.artists[0], row.title))
            how = "artist_title"
            # A catalogue track already tied to another Spotify id is another recording.
            if track_id is not None and existing[track_id].spotify_id not in ("", row.spotify_id):
                track_id = None
        if track_id is None or track_id in matched:
            new_rows.append(row)
            continue
        matched[track_id] = row
        summary.matched_by[how] = summary.matched_by.get(how, 0) + 1
    summary.matched = len(matched)
    summary.created = len(new_rows)

    now = timezone.now()
    changes: list[tuple[int, dict[str, Any]]] = []
    for track_id, row in matched.items():
        before = existing[track_id]
        after: dict[str, Any] = {"spotify_id": row.spotify_id, "spotify": {**before.spotify, **row.metadata, "source": source}}
        if before.audio_path is None:
            # Only metadata-only tracks are rewritten from the file; a file's own tags win.
            after.update(title=row.title, duration_s=row.duration_s, genre=_genres_merge(before.genre, row.genres))
        elif row.genres and not before.genre:
            after["genre"] = _genres_merge("", row.genres)
        if any(getattr(before, name) != value for name, value in after.items()):
            changes.append((track_id, after))
    summary.updated = len(changes)
    if dry_run:
        return summary

    total = len(changes) + len(new_rows)
    # One short transaction per batch, not one for the whole file: the site and the db_worker write between
    # batches instead of waiting for a 100,000-row import. A run stopped halfway is finished by running it again
    # (an upsert: rows already in are matched, not added twice).
    with transaction.atomic():
        artists = _artists_ensure({r.credit for r in new_rows if r.artists})
        albums = _albums_ensure({(r.album, artists[r.credit]) for r in new_rows if r.album and r.artists})
    for start in range(0, len(changes), BATCH):
        with transaction.atomic():
            _tracks_update(changes[start : start + BATCH], now=now)
        if progress:
            progress(min(start + BATCH, len(changes)), total, "updating tracks")
    for start in range(0, len(new_rows), BATCH):
        values = []
        for row in new_rows[start : start + BATCH]:
            artist_id = artists[row.credit] if row.artists else None
            values.append(
                {
                    "title": row.title, "artist_id": artist_id, "album_id": albums.get((row.album, artist_id)) if row.album else None,
                    "duration_s": row.duration_s, "genre": _genres_merge("", row.genres), "audio_path": None,
                    "spotify_id": row.spotify_id, "spotify": {**row.metadata, "source": source},
                }
            )
        with transaction.atomic():
            _rows_insert(Track, values, now=now)
        if progress:
            progress(len(changes) + min(start + BATCH, len(new_rows)), total, "adding tracks")
    return summary


@dataclass
class _Existing:
    spotify_id: str
    title: str
    audio_path: str | None
    genre: str
    duration_s: float | None
    spotify: dict[str, Any]


def _genres_merge(genre: str, genres: list[str]) -> str:
    return ";".join(dict.fromkeys([*(g.strip() for g in genre.split(";") if g.strip()), *genres]))[:300]


_PREPARED_TYPES = {"JSONField", "DateTimeField", "DateField", "TimeField", "DecimalField", "UUIDField", "BinaryField", "BooleanField"}


def _rows_insert(model: type[models.Model], rows: list[dict[str, Any]], *, now: datetime) -> None:
    """INSERT ``rows`` (field name -> Python value) with ``executemany``; other columns get their defaults.

    Values are prepared by each field, so JSON and dates are stored exactly as
    the ORM would store them.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(rows[0])
    constants = {}
    for column in fields:
        if column.attname in given:
            continue
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            value = now
        else:
            value = column.get_default()
        constants[column.attname] = column.get_db_prep_save(value, connection)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # str, int, float and None pass through every backend unchanged; JSON and dates need the field's help.
    plain = {f.attname for f in fields if f.get_internal_type() not in _PREPARED_TYPES}
    prepared = [
        [
            (row[column.attname] if column.attname in plain else column.get_db_prep_save(row[column.attname], connection))
            if column.attname in given
            else constants[column.attname]
            for column in fields
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", prepared)


def _tracks_update(changes: list[tuple[int, dict[str, Any]]], *, now: datetime) -> None:
    """UPDATE tracks by id with ``executemany``, one statement per set of changed fields."""
    by_fields: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for track_id, values in changes:
        by_fields.setdefault(tuple(sorted(values)), []).append((track_id, values))
    table = connection.ops.quote_name(Track._meta.db_table)
    concrete = {key: f for f in Track._meta.concrete_fields for key in (f.name, f.attname)}
    updated_at = concrete["updated_at"]
    for names, group in by_fields.items():
        fields = [concrete[name] for name in names]
        assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in [*fields, updated_at])
        params = [
            [*(f.get_db_prep_save(values[f.name], connection) for f in fields), updated_at.get_db_prep_save(now, connection), track_id]
            for track_id, values in group
        ]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)


def _artists_ensure(names: set[str]) -> dict[str, int]:
    """Artist ids by name, creating the missing ones in bulk."""
    known = dict(Artist.objects.values_list("name", "id"))
    missing = sorted(n for n in names if n not in known)
    if missing:
        _rows_insert(Artist, [{"name": n} for n in missing], now=timezone.now())
        known = dict(Artist.objects.values_list("name", "id"))
    return {n: known[n] for n in names}


def _albums_ensure(keys: set[tuple[str, int]]) -> dict[tuple[str, int | None], int]:
    """Album ids by ``(title, artist id)``, creating the missing ones in bulk."""
    known = {(title, artist): pk for pk, title, artist in Album.objects.values_list("id", "title", "artist_id")}
    missing = sorted(key for key in keys if key not in known)
    if missing:
        _rows_insert(Album, [{"title": title, "artist_id": artist} for title, artist in missing], now=timezone.now())
        known = {(title, artist): pk for pk, title, artist in Album.objects.values_list("id", "title", "artist_id")}
    found: dict[tuple[str, int | None], int] = {key: known[key] for key in keys}
    return found
