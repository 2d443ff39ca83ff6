"""What listeners do in their players, in the admin: plays and now playing (read-only), stars; and the stored cover art."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from playlists.models import AlbumStar, ArtistStar, CoverArt, NowPlaying, Play


class ReadOnly:
    """Players write these rows; the admin only shows them (and may delete)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Play)
class PlayAdmin(ReadOnly, admin.ModelAdmin[Play]):
    list_display = ("played_at", "user", "track", "client")
    list_filter = ("client",)
    search_fields = ("user__username", "track__title", "track__artist__name")
    list_select_related = ("user", "track")
    date_hierarchy = "played_at"


@admin.register(NowPlaying)
class NowPlayingAdmin(ReadOnly, admin.ModelAdmin[NowPlaying]):
    list_display = ("updated_at", "user", "track", "client")
    list_select_related = ("user", "track")


@admin.register(AlbumStar)
class AlbumStarAdmin(ReadOnly, admin.ModelAdmin[AlbumStar]):
    list_display = ("created_at", "user", "album")
    list_select_related = ("user", "album")


@admin.register(ArtistStar)
class ArtistStarAdmin(ReadOnly, admin.ModelAdmin[ArtistStar]):
    list_display = ("created_at", "user", "artist")
    list_select_related = ("user", "artist")


@admin.register(CoverArt)
class CoverArtAdmin(ReadOnly, admin.ModelAdmin[CoverArt]):
    list_display = ("content_hash", "source", "width", "height", "mime", "created_at")
    list_filter = ("source", "mime")
    search_fields = ("content_hash",)
