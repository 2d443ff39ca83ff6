"""Spotify lookups and exports in the admin: what each track's lookup found and how each "Save to Spotify" went."""
from __future__ import annotations

from django.contrib import admin

from playlists.models import SpotifyExport, SpotifyLookup


@admin.register(SpotifyLookup)
class SpotifyLookupAdmin(admin.ModelAdmin[SpotifyLookup]):
    list_display = ("track", "status", "method", "score", "short_error", "checked_at")
    list_filter = ("status", "method")
    search_fields = ("track__title", "track__artist__name", "error")
    list_select_related = ("track",)
    readonly_fields = ("track", "status", "method", "score", "error", "checked_at")

    @admin.display(description="error")
    def short_error(self, lookup: SpotifyLookup) -> str:
        return lookup.error[:80]


@admin.register(SpotifyExport)
class SpotifyExportAdmin(admin.ModelAdmin[SpotifyExport]):
    list_display = ("playlist", "status", "added", "spotify_url", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("playlist", "status", "spotify_playlist_id", "spotify_url", "added", "skipped", "error", "created_at", "finished_at")
