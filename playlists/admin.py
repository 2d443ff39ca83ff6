"""The catalogue's control room: every model, with search, filters and embedding state."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from playlists.models import Album, Artist, Embedding, FusionModel, IngestFailure, Playlist, PlaylistItem, SpotifyExport, SpotifyLookup, Track


class EmbeddingInline(admin.TabularInline):
    model = Embedding
    extra = 0
    can_delete = False
    fields = ("modality", "status", "model_version", "dim", "error", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    list_display = ("name", "track_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(track_count=Count("tracks"))

    @admin.display(ordering="track_count")
    def track_count(self, artist) -> int:
        return artist.track_count


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    search_fields = ("title", "artist__name")
    list_display = ("title", "artist", "year")
    list_select_related = ("artist",)
    autocomplete_fields = ("artist",)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    search_fields = ("title", "artist__name", "album__title", "lyrics", "audio_path", "spotify_id")
    list_display = ("title", "artist", "album", "genre", "language", "has_lyrics", "audio_state", "lyrics_state", "excluded")
    list_filter = ("excluded", "language", "audio_format", "lyrics_source", "embeddings__status", "genre")
    list_select_related = ("artist", "album")
    autocomplete_fields = ("artist", "album")
    readonly_fields = ("content_hash", "file_size", "file_mtime", "created_at", "updated_at")
    inlines = [EmbeddingInline]
    actions = ["exclude_from_playlists", "include_in_playlists", "mark_for_reembedding", "reembed_now", "spotify_lookup"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("embeddings")

    @admin.display(boolean=True, description="lyrics")
    def has_lyrics(self, track) -> bool:
        return bool(track.lyrics)

    def _state(self, track, modality: str) -> str:
        for embedding in track.embeddings.all():
            if embedding.modality == modality:
                return embedding.get_status_display() + (f": {embedding.error[:60]}" if embedding.error else "")
        return "not yet"

    @admin.display(description="audio")
    def audio_state(self, track) -> str:
        return self._state(track, "audio")

    @admin.display(description="lyrics vec")
    def lyrics_state(self, track) -> str:
        return self._state(track, "lyrics")

    @admin.action(description="Exclude from playlists")
    def exclude_from_playlists(self, request, queryset) -> None:
        self.message_user(request, f"{queryset.update(excluded=True)} tracks excluded.", messages.SUCCESS)

    @admin.action(description="Include in playlists again")
    def include_in_playlists(self, request, queryset) -> None:
        self.message_user(request, f"{queryset.update(excluded=False)} tracks included.", messages.SUCCESS)

    @admin.action(description="Re-embed at the next reindex")
    def mark_for_reembedding(self, request, queryset) -> None:
        deleted, _ = Embedding.objects.filter(track__in=queryset).delete()
        self.message_user(request, f"{deleted} embeddings cleared; run reindex to embed them again.", messages.SUCCESS)


    @admin.action(description="Look up on Spotify")
    def spotify_lookup(self, request, queryset) -> None:
        from playlists.jobs import job_start
        from playlists.models import Job
        from playlists.tasks import spotify_enrich_job_task

        ids = list(queryset.values_list("id", flat=True))
        job = job_start(spotify_enrich_job_task, kind="spotify_enrich", label=f"Spotify lookup of {len(ids)} tracks", user=request.user, args=(ids,))
        if job.status == Job.Status.DONE:
            outcome = job.outcome
            level = messages.WARNING if outcome["stopped"] or outcome["failed"] else messages.SUCCESS
            text = f"Spotify: {outcome['found']} found, {outcome['not_found']} without a good match, {outcome['failed']} failed."
            self.message_user(request, text + (f" Stopped: {outcome['stopped']}" if outcome["stopped"] else ""), level)
        elif job.status == Job.Status.FAILED:
            self.message_user(request, f"The Spotify lookup failed: {job.error.splitlines()[0] if job.error else 'see the log'} (is SPOTIFY_CLIENT_ID set?).", messages.ERROR)
        else:
            self.message_user(request, f"{len(ids)} tracks queued for a Spotify lookup; follow it under Tasks, results appear under Spotify lookups.", messages.INFO)

    @admin.action(description="Re-embed now (background reindex)")
    def reembed_now(self, request, queryset) -> None:
        from playlists.jobs import job_start_once
        from playlists.tasks import reindex_task

        deleted, _ = Embedding.objects.filter(track__in=queryset).delete()
        job = job_start_once(reindex_task, kind="reindex", key="", label="Reindex after re-embedding selected tracks", user=request.user)
        self.message_user(request, f"{deleted} embeddings cleared; {job.label}: {job.get_status_display()} (see Tasks).", messages.SUCCESS if job.status != "failed" else messages.ERROR)


@admin.register(SpotifyLookup)
class SpotifyLookupAdmin(admin.ModelAdmin):
    list_display = ("track", "status", "method", "score", "short_error", "checked_at")
    list_filter = ("status", "method")
    search_fields = ("track__title", "track__artist__name", "error")
    list_select_related = ("track",)
    readonly_fields = ("track", "status", "method", "score", "error", "checked_at")

    @admin.display(description="error")
    def short_error(self, lookup) -> str:
        return lookup.error[:80]


@admin.register(SpotifyExport)
class SpotifyExportAdmin(admin.ModelAdmin):
    list_display = ("playlist", "status", "added", "spotify_url", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = ("playlist", "status", "spotify_playlist_id", "spotify_url", "added", "skipped", "error", "created_at", "finished_at")


@admin.register(Embedding)
class EmbeddingAdmin(admin.ModelAdmin):
    list_display = ("track", "modality", "status", "model_version", "dim", "short_error", "updated_at")
    list_filter = ("modality", "status", "model_version")
    search_fields = ("track__title", "error")
    list_select_related = ("track",)
    exclude = ("vector",)
    readonly_fields = ("track", "modality", "status", "model_version", "content_hash", "dim", "error", "updated_at")

    @admin.display(description="error")
    def short_error(self, embedding) -> str:
        return embedding.error[:80]


@admin.register(IngestFailure)
class IngestFailureAdmin(admin.ModelAdmin):
    list_display = ("path", "reason", "last_seen")
    search_fields = ("path", "reason")
    readonly_fields = ("path", "reason", "first_seen", "last_seen")


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    fields = ("position", "track", "score", "is_seed")
    autocomplete_fields = ("track",)


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "length", "balance", "index_version", "created_at")
    list_filter = ("owner",)
    search_fields = ("name", "owner__username")
    inlines = [PlaylistItemInline]
    filter_horizontal = ("seeds",)


# -- issue 6: ratings and API tokens -------------------------------------------------
from playlists.models import ApiToken, Rating  # noqa: E402


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("user", "track", "value", "updated_at")
    list_filter = ("value",)
    search_fields = ("user__username", "track__title")
    raw_id_fields = ("track",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        self.message_user(request, f"Revoked {queryset.update(revoked=True)} tokens.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        # A token's secret is shown once to its owner on /api/tokens/; the admin only revokes.
        return False


@admin.register(FusionModel)
class FusionModelAdmin(admin.ModelAdmin):
    """Learned fusion runs: both held-out numbers and the decision, read-only (``manage.py train_fusion`` writes them)."""

    list_display = ("version", "is_default", "metric", "baseline_score", "learned_score", "test_artists", "created_at")
    list_filter = ("is_default",)
    readonly_fields = [f.name for f in FusionModel._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


# -- issue 8: background tasks and the control room -----------------------------------
from django.utils.html import format_html  # noqa: E402

from playlists.models import Job  # noqa: E402

admin.site.index_template = "admin/crossfade_index.html"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("label", "kind", "status", "progress", "short_outcome", "requested_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("label", "error", "key")
    readonly_fields = ("kind", "label", "status", "progress_done", "progress_total", "progress_note", "outcome", "error", "key", "requested_by", "task_result_id", "created_at", "started_at", "finished_at")

    def has_add_permission(self, request) -> bool:
        # Jobs are started by the site (Tasks page, admin actions), never typed in.
        return False

    @admin.display(description="progress")
    def progress(self, job) -> str:
        if job.finished:
            return "–"
        percent = job.percent
        return format_html("<progress max='100' value='{}'></progress> {}", percent or 0, job.progress_note) if percent is not None else job.progress_note or "waiting"

    @admin.display(description="outcome")
    def short_outcome(self, job) -> str:
        if job.error:
            return job.error.splitlines()[0][:120]
        return ", ".join(f"{key}: {value}" for key, value in job.outcome.items())[:160]
