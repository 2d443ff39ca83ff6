"""Saved playlists and their items.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from typing import Sequence

from django.conf import settings
from django.db import models

from playlists.models.catalogue import Track


class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=200)
    comment = models.TextField(blank=True, help_text="A note on the playlist (set from a Subsonic player).")
    seeds = models.ManyToManyField(Track, related_name="seeded_playlists", blank=True)
    length = models.PositiveIntegerField(default=20)
    balance = models.FloatField(default=0.5, help_text="Audio share of the similarity: 1 audio only, 0 lyrics only.")
    index_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settings = models.JSONField(default=dict, blank=True, help_text="Every control the playlist was generated with, so it can be regenerated.")
    updated_at = models.DateTimeField(auto_now=True, null=True)
    edited_at = models.DateTimeField(null=True, blank=True, help_text="When the listener last moved or removed a track by hand; regenerating replaces those edits and clears this.")

    #: Not stored: what generation had to tell the user about the playlist it just made
    #: (too few tracks left after the filters...); empty on a playlist read from the database.
    generation_messages: Sequence[str] = ()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="playlist_items")
    position = models.PositiveIntegerField()
    score = models.FloatField(null=True, blank=True, help_text="Hybrid similarity to the seeds; empty for a seed.")
    is_seed = models.BooleanField(default=False)
    explanation = models.JSONField(default=dict, blank=True, help_text="Why the track is here: audio/lyrics similarity to the seeds, shared tags, theme.")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["playlist", "position"], name="playlist_item_position")]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}"
