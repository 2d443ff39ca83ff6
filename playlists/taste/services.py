"""Writes of taste: a listener's likes and dislikes on the site (players' stars, ratings and plays: :mod:`playlists.taste.plays`)."""
from __future__ import annotations

from django.contrib.auth.models import User

from playlists.errors import ControlError, SeedError
from playlists.models import Rating, Track


def rating_set(*, user: User, track_id: int, value: int | None) -> Rating | None:
    """Like (+1), dislike (-1) or clear (None/0) ``user``'s rating of a track."""
    if not Track.objects.filter(id=track_id).exists():
        raise SeedError(f"no track with id {track_id}")
    if not value:
        Rating.objects.filter(user=user, track_id=track_id).delete()
        return None
    if value not in (1, -1):
        raise ControlError("a rating is 1 (like) or -1 (dislike)")
    # A player's 1-5 rating stays only while it agrees (4-5 with a like, 1-2 with a dislike).
    stars = Rating.objects.filter(user=user, track_id=track_id).values_list("stars", flat=True).first()
    agrees = stars is not None and ((value > 0 and stars >= 4) or (value < 0 and stars <= 2))
    return Rating.objects.update_or_create(user=user, track_id=track_id, defaults={"value": value, "stars": stars if agrees else None})[0]
