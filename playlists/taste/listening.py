"""Reads of what listeners do in their players: plays, now playing, stars on tracks, albums and artists.

A star on a track is a like (:class:`~playlists.models.Rating` +1), so the
site's likes show as stars in players and a player's stars teach the taste
model; plays are recorded by :mod:`playlists.taste.plays`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Max
from django.utils import timezone

from playlists.models import AlbumStar, ArtistStar, NowPlaying, Play, Rating, Track

#: A "now playing" report older than this is not shown (a player that stopped does not say so).
NOW_PLAYING_FOR = timedelta(minutes=20)


@dataclass(frozen=True)
class TrackState:
    """One user's relation to one track, as a player shows it."""

    starred_at: datetime | None = None
    stars: int | None = None
    play_count: int = 0
    last_played: datetime | None = None


def track_states(*, user: User, track_ids: list[int]) -> dict[int, TrackState]:
    """``{track_id: TrackState}`` for the tracks ``user`` has starred, rated or played (others are absent)."""
    ratings = {t: (v, s, at) for t, v, s, at in Rating.objects.filter(user=user, track_id__in=track_ids).values_list("track_id", "value", "stars", "updated_at")}
    plays = {row["track_id"]: (row["n"], row["last"]) for row in Play.objects.filter(user=user, track_id__in=track_ids).values("track_id").annotate(n=Count("id"), last=Max("played_at"))}
    out: dict[int, TrackState] = {}
    for track_id in set(ratings) | set(plays):
        value, stars, rated_at = ratings.get(track_id, (0, None, None))
        count, last = plays.get(track_id, (0, None))
        out[track_id] = TrackState(starred_at=rated_at if value == Rating.Value.LIKE else None, stars=stars, play_count=count, last_played=last)
    return out


def album_stars(*, user: User, album_ids: list[int]) -> dict[int, datetime]:
    return dict(AlbumStar.objects.filter(user=user, album_id__in=album_ids).values_list("album_id", "created_at"))


def artist_stars(*, user: User, artist_ids: list[int]) -> dict[int, datetime]:
    return dict(ArtistStar.objects.filter(user=user, artist_id__in=artist_ids).values_list("artist_id", "created_at"))


def starred_tracks(*, user: User) -> list[Track]:
    """The tracks ``user`` likes (stars), most recently starred first."""
    ids = list(Rating.objects.filter(user=user, value=Rating.Value.LIKE, track__audio_path__isnull=False).order_by("-updated_at").values_list("track_id", flat=True))
    tracks = Track.objects.select_related("artist", "album__artist").in_bulk(ids)
    return [tracks[i] for i in ids if i in tracks]


def starred_album_ids(*, user: User) -> list[int]:
    return list(AlbumStar.objects.filter(user=user).order_by("-created_at").values_list("album_id", flat=True))


def starred_artist_ids(*, user: User) -> list[int]:
    return list(ArtistStar.objects.filter(user=user).order_by("-created_at").values_list("artist_id", flat=True))


def play_counts(*, track_ids: list[int], user: User | None = None) -> dict[int, int]:
    """How often each track was played (by ``user``, or by everyone)."""
    plays = Play.objects.filter(track_id__in=track_ids)
    if user is not None:
        plays = plays.filter(user=user)
    return dict(plays.values("track_id").annotate(n=Count("id")).values_list("track_id", "n"))


def album_plays(*, user: User) -> list[tuple[int | None, int | None, int, datetime]]:
    """``(album_id, artist_id, plays, last played)`` of ``user``'s played tracks grouped by album (artist for tracks without one)."""
    rows = Play.objects.filter(user=user).values("track__album_id", "track__artist_id").annotate(n=Count("id"), last=Max("played_at"))
    return [(r["track__album_id"], None if r["track__album_id"] is not None else r["track__artist_id"], r["n"], r["last"]) for r in rows]


def album_ratings(*, user: User) -> dict[int, float]:
    """Mean 1-5 rating ``user`` gave the tracks of each album they rated."""
    rows = Rating.objects.filter(user=user, stars__isnull=False, track__album__isnull=False).values_list("track__album_id", "stars")
    totals: dict[int, list[int]] = {}
    for album_id, stars in rows:
        if album_id is not None and stars is not None:
            totals.setdefault(album_id, []).append(stars)
    return {album_id: sum(values) / len(values) for album_id, values in totals.items()}


def now_playing_entries() -> list[NowPlaying]:
    """What every user's players report playing now, most recent first."""
    fresh = timezone.now() - NOW_PLAYING_FOR
    return list(NowPlaying.objects.filter(updated_at__gte=fresh).select_related("user", "track__artist", "track__album__artist"))


def plays_of(*, user: User) -> list[tuple[int, datetime]]:
    """``(track_id, played_at)`` of every play of ``user``."""
    return list(Play.objects.filter(user=user).values_list("track_id", "played_at"))
