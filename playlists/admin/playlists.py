"""Playlists, ratings and API tokens in the admin."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from playlists.models import ApiToken, Playlist, PlaylistItem, Rating


class PlaylistItemInline(admin.TabularInline[PlaylistItem, Playlist]):
    model = PlaylistItem
    extra = 0
    fields = ("position", "track", "score", "is_seed")
    autocomplete_fields = ("track",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin[Playlist]):
    list_display = ("name", "owner", "length", "balance", "index_version", "created_at")
    list_filter = ("owner",)
    search_fields = ("name", "owner__username")
    inlines = [PlaylistItemInline]
    filter_horizontal = ("seeds",)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin[Rating]):
    list_display = ("user", "track", "value", "stars", "updated_at")
    list_filter = ("value",)
    search_fields = ("user__username", "track__title")
    raw_id_fields = ("track",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        self.message_user(request, f"Revoked {queryset.update(revoked=True)} tokens.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token's secret is shown once to its owner on /api/tokens/; the admin only revokes.
        return False
