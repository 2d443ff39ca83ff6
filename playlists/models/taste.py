"""What listeners tell Crossfade about their taste.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from playlists.models.catalogue import Track


class Rating(models.Model):
    """A user's like (+1) or dislike (-1) of a track; the taste model learns from these."""

    class Value(models.IntegerChoices):
        LIKE = 1, "like"
        DISLIKE = -1, "dislike"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="rating_one_per_user_track")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_value_display()} {self.track_id}"
