"""Spotify metadata lookups, cached answers, user authorisations and exports.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from playlists.models.catalogue import Track
from playlists.models.fields import EncryptedTextField
from playlists.models.playlists import Playlist


class SpotifyLookup(models.Model):
    """Where ``enrich_spotify`` stands with one track: found, not found or failed, and why.

    A run skips tracks that already have a lookup (``--force`` redoes them), so
    an interrupted or rate-limited run resumes where it stopped.
    """

    class Status(models.TextChoices):
        FOUND = "found", "found"
        NOT_FOUND = "not_found", "no good match"
        FAILED = "failed", "failed"

    track = models.OneToOneField(Track, on_delete=models.CASCADE, related_name="spotify_lookup")
    status = models.CharField(max_length=16, choices=Status.choices)
    method = models.CharField(max_length=16, blank=True, help_text="isrc, id or search.")
    score = models.FloatField(null=True, blank=True, help_text="Match score of the best candidate, 0..1.")
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.track_id}: {self.status}"


class SpotifyCacheEntry(models.Model):
    """A cached Spotify Web API answer (search or track), so re-runs do not spend the rate limit again."""

    key = models.CharField(max_length=255, unique=True)
    body = models.JSONField()
    fetched_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class SpotifyAccount(models.Model):
    """One user's Spotify authorisation (PKCE), refreshed when it expires. Never shown in the admin; the tokens are encrypted at rest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spotify_account")
    spotify_user_id = models.CharField(max_length=128, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField()
    scope = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} on Spotify"


class SpotifyExport(models.Model):
    """One "Save to Spotify" of a playlist and its outcome, shown on the playlist page."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting"
        RUNNING = "running", "saving"
        DONE = "done", "saved"
        PARTIAL = "partial", "saved in part"
        FAILED = "failed", "failed"

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="spotify_exports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    spotify_playlist_id = models.CharField(max_length=64, blank=True)
    spotify_url = models.URLField(max_length=500, blank=True)
    added = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True, help_text="Titles of tracks with no Spotify match.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.playlist} → Spotify: {self.status}"
