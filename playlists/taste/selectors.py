"""Reads of taste: a listener's ratings, their fitted taste model, and the tracks it expects them to like."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Max

from ml.playlist.taste import TasteModel, taste_fit
from playlists import engine
from playlists.engine import Serving
from playlists.models import Rating, Track


def ratings_of(*, user: User) -> dict[int, int]:
    """``{track_id: +1 like / -1 dislike}`` of one user."""
    return dict(Rating.objects.filter(user=user).values_list("track_id", "value"))


def taste_get(*, user: User, serving: Serving | None = None) -> TasteModel:
    """``user``'s fitted taste model, kept with the serving snapshot until their ratings change.

    Raises :class:`~ml.playlist.taste.TasteNotReadyError` below 5 likes and 5 dislikes,
    :class:`~playlists.errors.IndexNotReadyError` before the first reindex.
    """
    serving = serving or engine.serving_or_raise()
    summary = Rating.objects.filter(user=user).aggregate(n=Count("id"), last=Max("updated_at"))
    key = (user.pk, summary["n"], str(summary["last"]))

    def fit() -> TasteModel:
        ratings = list(Rating.objects.filter(user=user).values_list("track_id", "value"))
        return taste_fit(serving.index, ratings)

    return serving.tastes.get(key, fit)


@dataclass(frozen=True)
class TastePick:
    track: Track
    probability: float


def taste_recommendations(*, user: User, limit: int = 50) -> tuple[TasteModel, list[TastePick]]:
    """The user's taste model and the unrated, playable tracks it rates most likely to be liked, best first."""
    model = taste_get(user=user)
    rated = set(Rating.objects.filter(user=user).values_list("track_id", flat=True))
    excluded = set(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, probabilities = model.best(limit, exclude=rated | excluded)
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in ids])
    return model, [TastePick(tracks[int(i)], float(p)) for i, p in zip(ids, probabilities) if int(i) in tracks]
