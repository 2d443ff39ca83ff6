"""Writes of what listeners do in their players: plays (scrobbles), now playing, stars and 1-5 ratings.

Every write is one statement or one transaction that tolerates a
concurrent identical write (a player retrying, two players at once).
"""
from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from playlists.errors import ControlError, SeedError
from playlists.models import Album, AlbumStar, Artist, ArtistStar, NowPlaying, Play, Rating, Track


def _playable(track_ids: list[int]) -> None:
    found = set(Track.objects.filter(id__in=track_ids).values_list("id", flat=True))
    missing = [t for t in track_ids if t not in found]
    if missing:
        raise SeedError(f"no track with id {missing[0]}")


def play_record(*, user: User, track_id: int, played_at: datetime | None = None, client: str = "") -> Play:
    """Record one listen (a repeat of the same listen at the same moment is recorded once) and clear now playing."""
    _playable([track_id])
    moment = played_at or timezone.now()
    try:
        with transaction.atomic():
            play, _ = Play.objects.get_or_create(user=user, track_id=track_id, played_at=moment, defaults={"client": client[:100]})
    except IntegrityError:  # the same listen written concurrently
        play = Play.objects.get(user=user, track_id=track_id, played_at=moment)
    NowPlaying.objects.filter(user=user, client=client[:100], track_id=track_id).delete()
    return play


def now_playing_set(*, user: User, track_id: int, client: str = "") -> None:
    """What ``user``'s player ``client`` is playing now (one row per player)."""
    _playable([track_id])
    try:
        with transaction.atomic():
            NowPlaying.objects.update_or_create(user=user, client=client[:100], defaults={"track_id": track_id, "updated_at": timezone.now()})
    except IntegrityError:
        NowPlaying.objects.filter(user=user, client=client[:100]).update(track_id=track_id, updated_at=timezone.now())


def _rating_write(*, user: User, track_id: int, value: int, stars: int | None) -> None:
    try:
        with transaction.atomic():
            Rating.objects.update_or_create(user=user, track_id=track_id, defaults={"value": value, "stars": stars})
    except IntegrityError:
        Rating.objects.filter(user=user, track_id=track_id).update(value=value, stars=stars, updated_at=timezone.now())


def tracks_star(*, user: User, track_ids: list[int]) -> None:
    """Star = like: each track becomes a like (a 1-3 star rating that contradicts it is dropped)."""
    _playable(track_ids)
    for track_id in track_ids:
        current = Rating.objects.filter(user=user, track_id=track_id).first()
        if current is not None and current.value == Rating.Value.LIKE:
            continue
        stars = current.stars if current is not None and current.stars is not None and current.stars >= 4 else None
        _rating_write(user=user, track_id=track_id, value=Rating.Value.LIKE, stars=stars)


def tracks_unstar(*, user: User, track_ids: list[int]) -> None:
    """Remove the star (the like) of each track; a dislike is left alone, a 4-5 star rating goes with the like."""
    _playable(track_ids)
    Rating.objects.filter(user=user, track_id__in=track_ids, value=Rating.Value.LIKE).delete()


def track_stars_set(*, user: User, track_id: int, stars: int) -> None:
    """A player's 1-5 rating: 4-5 is a like, 1-2 a dislike, 3 neither; 0 removes the rating (a like or dislike given on the site stays)."""
    if not 0 <= stars <= 5:
        raise ControlError(f"a rating is 0 to 5 stars, not {stars}")
    _playable([track_id])
    if stars == 0:
        Rating.objects.filter(user=user, track_id=track_id, value=Rating.Value.NEITHER).delete()
        Rating.objects.filter(user=user, track_id=track_id).update(stars=None, updated_at=timezone.now())
        return
    value = Rating.Value.LIKE if stars >= 4 else Rating.Value.DISLIKE if stars <= 2 else Rating.Value.NEITHER
    _rating_write(user=user, track_id=track_id, value=value, stars=stars)


def albums_star(*, user: User, album_ids: list[int], starred: bool) -> None:
    found = set(Album.objects.filter(id__in=album_ids).values_list("id", flat=True))
    missing = [a for a in album_ids if a not in found]
    if missing:
        raise SeedError(f"no album with id {missing[0]}")
    if starred:
        AlbumStar.objects.bulk_create([AlbumStar(user=user, album_id=a) for a in album_ids], ignore_conflicts=True)
    else:
        AlbumStar.objects.filter(user=user, album_id__in=album_ids).delete()


def artists_star(*, user: User, artist_ids: list[int], starred: bool) -> None:
    found = set(Artist.objects.filter(id__in=artist_ids).values_list("id", flat=True))
    missing = [a for a in artist_ids if a not in found]
    if missing:
        raise SeedError(f"no artist with id {missing[0]}")
    if starred:
        ArtistStar.objects.bulk_create([ArtistStar(user=user, artist_id=a) for a in artist_ids], ignore_conflicts=True)
    else:
        ArtistStar.objects.filter(user=user, artist_id__in=artist_ids).delete()
