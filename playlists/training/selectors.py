"""What the catalogue offers to train on: audio files with their artists and genres, and learned-fusion signals.

Spotify and Kaggle fields are never read here: they are metadata, not training data.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Mapping

import numpy as np

from ml.audio.train import TrainItem
from playlists.models import Playlist, Rating, Track


def audio_training_items(*, use_genres: bool = True) -> list[TrainItem]:
    """Every catalogue track with an audio file, with its artist and first genre tag."""
    items = []
    for track in Track.objects.exclude(audio_path=None).exclude(audio_path="").select_related("artist").order_by("id"):
        assert track.audio_path is not None  # the query left out tracks without a file
        genre = track.genres[0].casefold() if use_genres and track.genres else ""
        items.append(TrainItem(path=track.audio_path, artist=track.artist.name if track.artist else f"unknown-{track.id}", genre=genre))
    return items


def audio_head_items() -> list[tuple[str, str, str, str]]:
    """Every catalogue track with an audio file as ``(path, artist, first genre tag, album key)`` ("" where unknown)."""
    items = []
    for track in Track.objects.exclude(audio_path=None).exclude(audio_path="").select_related("artist").order_by("id"):
        assert track.audio_path is not None  # the query left out tracks without a file
        genre = track.genres[0].casefold() if track.genres else ""
        artist = track.artist.name if track.artist else f"unknown-{track.id}"
        items.append((track.audio_path, artist, genre, f"album-{track.album_id}" if track.album_id else ""))
    return items


@dataclass(frozen=True)
class FusionSignals:
    """The catalogue's own training signals for ``ids`` (int64 ``(n,)``, in that order).

    ``genres``: primary genre tag ("" if none); ``artists``: artist name (or a
    per-track placeholder); ``albums``: album id or -1; ``playlist_pairs``:
    row pairs of tracks a user picked as seeds of one playlist;
    ``like_pairs``: row pairs of tracks one user liked, each like paired with
    the user's next :data:`LIKE_PAIR_WINDOW` likes in time (a taste is
    local: the likes of one listening session hang together better than a
    user's whole history, and the window keeps a heavy liker from
    contributing quadratically many pairs). Dislikes are not a similarity
    signal and are left out, and so are generated playlist items: they echo
    the model being trained. Spotify fields are never read.
    """

    genres: list[str]
    artists: list[str]
    albums: list[int]
    playlist_pairs: list[tuple[int, int]]
    like_pairs: list[tuple[int, int]]


LIKE_PAIR_WINDOW = 8


def fusion_signals(ids: np.ndarray) -> FusionSignals:
    """The signals of the tracks ``ids`` (int64 ``(n,)``), rows in that order."""
    rows = {t["id"]: t for t in Track.objects.filter(id__in=[int(i) for i in ids]).values("id", "genre", "album_id", "artist__name")}
    position = {int(track_id): row for row, track_id in enumerate(ids)}
    genres, artists, albums = [], [], []
    for track_id in ids:
        row: Mapping[str, Any] = rows.get(int(track_id), {})
        tags = [g.strip() for g in (row.get("genre") or "").split(";") if g.strip()]
        genres.append(tags[0].casefold() if tags else "")
        artists.append(row.get("artist__name") or f"#track-{int(track_id)}")
        albums.append(int(row["album_id"]) if row.get("album_id") is not None else -1)
    pairs: list[tuple[int, int]] = []
    for playlist in Playlist.objects.prefetch_related("seeds"):
        members = sorted(position[s.id] for s in playlist.seeds.all() if s.id in position)
        pairs.extend(combinations(members, 2))
    liked: dict[int, list[int]] = {}
    likes = Rating.objects.filter(value=Rating.Value.LIKE).order_by("user_id", "updated_at", "track_id").values_list("user_id", "track_id")
    for user_id, track_id in likes:
        if track_id in position:
            liked.setdefault(user_id, []).append(position[track_id])
    like_pairs = sorted(
        {(min(a, b), max(a, b)) for rows in liked.values() for i, a in enumerate(rows) for b in rows[i + 1 : i + 1 + LIKE_PAIR_WINDOW]}
    )
    return FusionSignals(genres, artists, albums, pairs, like_pairs)
