"""What listeners tell Crossfade about their taste: likes and dislikes, stars, and what they play.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from playlists.models.catalogue import Album, Artist, Track


class Rating(models.Model):
    """A user's like (+1) or dislike (-1) of a track; the taste model learns from these.

    A Subsonic player's star is a like; its 1-5 rating is kept in ``stars``
    (4-5 like, 1-2 dislike, 3 "neither": value 0, which teaches nothing).
    """

    class Value(models.IntegerChoices):
        LIKE = 1, "like"
        DISLIKE = -1, "dislike"
        NEITHER = 0, "neither (rated 3 of 5)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    stars = models.PositiveSmallIntegerField(null=True, blank=True, help_text="A player's 1-5 rating, when one was given.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="rating_one_per_user_track")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_value_display()} {self.track_id}"


class Play(models.Model):
    """One listen of a track reported by a player (Subsonic ``scrobble``); recent plays weigh more in the taste model."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plays")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="plays")
    played_at = models.DateTimeField()
    client = models.CharField(max_length=100, blank=True, help_text="The player that reported it.")

    class Meta:
        ordering = ["-played_at"]
        # A player that reports the same listen twice records it once.
        constraints = [models.UniqueConstraint(fields=["user", "track", "played_at"], name="play_once_per_moment")]
        indexes = [models.Index(fields=["user", "played_at"]), models.Index(fields=["track", "played_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.track_id} at {self.played_at:%Y-%m-%d %H:%M}"


class NowPlaying(models.Model):
    """What a user's player said it is playing now (a scrobble with ``submission=false``); one row per player."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="now_playing")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="now_playing")
    client = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="now_playing_one_per_player")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.client or 'a player'}: {self.track_id}"


class AlbumStar(models.Model):
    """A user's star on an album (Subsonic ``star albumId=``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="album_stars")
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "album"], name="album_star_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ album {self.album_id}"


class ArtistStar(models.Model):
    """A user's star on an artist (Subsonic ``star artistId=``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist_stars")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "artist"], name="artist_star_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ artist {self.artist_id}"
