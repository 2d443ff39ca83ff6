"""Reads of taste: a listener's ratings, their fitted taste model, and the tracks it expects them to like."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Max
from django.utils import timezone

from ml.playlist.taste import TasteModel, play_weights, taste_fit
from playlists import engine
from playlists.engine import Serving
from playlists.models import Play, Rating, Track


def ratings_of(*, user: User) -> dict[int, int]:
    """``{track_id: +1 like / -1 dislike}`` of one user (a player's 3-star "neither" is not among them)."""
    return dict(Rating.objects.filter(user=user).exclude(value=Rating.Value.NEITHER).values_list("track_id", "value"))


def play_signal(*, user: User) -> dict[int, float]:
    """``{track_id: weight}`` of the user's plays: each play counts, recent plays weigh more (:func:`~ml.playlist.taste.play_weights`)."""
    rows = list(Play.objects.filter(user=user).values_list("track_id", "played_at"))
    if not rows:
        return {}
    now = timezone.now()
    return play_weights([t for t, _ in rows], [(now - at).total_seconds() / 86400.0 for _, at in rows])


def taste_get(*, user: User, serving: Serving | None = None) -> TasteModel:
    """``user``'s fitted taste model, kept with the serving snapshot until their ratings or plays change (or a day passes: plays age).

    Raises :class:`~ml.playlist.taste.TasteNotReadyError` below 5 likes (or played tracks) and 5 dislikes,
    :class:`~playlists.errors.IndexNotReadyError` before the first reindex.
    """
    serving = serving or engine.serving_or_raise()
    summary = Rating.objects.filter(user=user).aggregate(n=Count("id"), last=Max("updated_at"))
    listened = Play.objects.filter(user=user).aggregate(n=Count("id"), last=Max("played_at"))
    key = (user.pk, summary["n"], str(summary["last"]), listened["n"], str(listened["last"]), timezone.now().date())

    def fit() -> TasteModel:
        ratings = list(Rating.objects.filter(user=user).exclude(value=Rating.Value.NEITHER).values_list("track_id", "value"))
        return taste_fit(serving.index, ratings, plays=play_signal(user=user))

    return serving.tastes.get(key, fit)


@dataclass(frozen=True)
class TastePick:
    track: Track
    probability: float


def taste_recommendations(*, user: User, limit: int = 50) -> tuple[TasteModel, list[TastePick]]:
    """The user's taste model and the unrated, unplayed tracks it rates most likely to be liked, best first."""
    model = taste_get(user=user)
    rated = set(Rating.objects.filter(user=user).values_list("track_id", flat=True)) | set(Play.objects.filter(user=user).values_list("track_id", flat=True))
    excluded = set(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, probabilities = model.best(limit, exclude=rated | excluded)
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in ids])
    return model, [TastePick(tracks[int(i)], float(p)) for i, p in zip(ids, probabilities) if int(i) in tracks]
