"""The catalogue in the admin: artists, albums, tracks with their embedding state, embeddings, unreadable files."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from playlists.catalogue.library import LibraryPathError, library_path_check
from playlists.jobs.runner import job_start, job_start_once
from playlists.jobs.tasks import reindex_task, spotify_enrich_job_task
from playlists.metadata.spotify.client import spotify_lookup_available
from playlists.models import Album, Artist, Embedding, IngestFailure, Job, Track

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class TrackCount(TypedDict):
    """What :meth:`ArtistAdmin.get_queryset` annotates an artist with."""

    track_count: int


class EmbeddingInline(admin.TabularInline[Embedding, Track]):
    model = Embedding
    extra = 0
    can_delete = False
    fields = ("modality", "status", "model_version", "dim", "error", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Track | None = None) -> bool:
        return False


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin[Artist]):
    search_fields = ("name",)
    list_display = ("name", "track_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artist]:
        return super().get_queryset(request).annotate(track_count=Count("tracks"))

    @admin.display(ordering="track_count")
    def track_count(self, artist: WithAnnotations[Artist, TrackCount]) -> int:
        return artist.track_count


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin[Album]):
    search_fields = ("title", "artist__name")
    list_display = ("title", "artist", "year")
    list_select_related = ("artist",)
    autocomplete_fields = ("artist",)


class TrackAdminForm(forms.ModelForm[Track]):
    """A track's audio path must be a file inside a library root: anything else could be published by /tracks/<id>/audio."""

    class Meta:
        model = Track
        fields = "__all__"

    def clean_audio_path(self) -> str | None:
        value = (self.cleaned_data.get("audio_path") or "").strip()
        if not value:
            return None
        try:
            resolved = library_path_check(value)
        except LibraryPathError as error:
            raise forms.ValidationError(str(error)) from None
        if not resolved.is_file():
            raise forms.ValidationError(f"{resolved} is not a file")
        return str(resolved)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin[Track]):
    form = TrackAdminForm
    search_fields = ("title", "artist__name", "album__title", "lyrics", "audio_path", "spotify_id")
    list_display = ("title", "artist", "album", "genre", "language", "has_lyrics", "audio_state", "lyrics_state", "excluded")
    list_filter = ("excluded", "language", "audio_format", "lyrics_source", "embeddings__status", "genre")
    list_select_related = ("artist", "album")
    autocomplete_fields = ("artist", "album")
    readonly_fields = ("content_hash", "file_size", "file_mtime", "created_at", "updated_at")
    inlines = [EmbeddingInline]
    actions = ["exclude_from_playlists", "include_in_playlists", "mark_for_reembedding", "reembed_now", "spotify_lookup"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Track]:
        return super().get_queryset(request).prefetch_related("embeddings")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Every bulk action, less "Look up on Spotify" while Spotify is not set up here (it could only fail)."""
        actions = super().get_actions(request)
        if not spotify_lookup_available():
            actions.pop("spotify_lookup", None)
        return actions

    @admin.display(boolean=True, description="lyrics")
    def has_lyrics(self, track: Track) -> bool:
        return bool(track.lyrics)

    def _state(self, track: Track, modality: str) -> str:
        for embedding in track.embeddings.all():
            if embedding.modality == modality:
                return embedding.get_status_display() + (f": {embedding.error[:60]}" if embedding.error else "")
        return "not yet"

    @admin.display(description="audio")
    def audio_state(self, track: Track) -> str:
        return self._state(track, "audio")

    @admin.display(description="lyrics vec")
    def lyrics_state(self, track: Track) -> str:
        return self._state(track, "lyrics")

    @admin.action(description="Exclude from playlists")
    def exclude_from_playlists(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
        self.message_user(request, f"{queryset.update(excluded=True)} tracks excluded.", messages.SUCCESS)

    @admin.action(description="Include in playlists again")
    def include_in_playlists(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
        self.message_user(request, f"{queryset.update(excluded=False)} tracks included.", messages.SUCCESS)

    @admin.action(description="Re-embed at the next reindex")
    def mark_for_reembedding(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
        deleted, _ = Embedding.objects.filter(track__in=queryset).delete()
        self.message_user(request, f"{deleted} embeddings cleared; run reindex to embed them again.", messages.SUCCESS)


    @admin.action(description="Look up on Spotify")
    def spotify_lookup(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
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
    def reembed_now(self, request: HttpRequest, queryset: QuerySet[Track]) -> None:
        deleted, _ = Embedding.objects.filter(track__in=queryset).delete()
        job = job_start_once(reindex_task, kind="reindex", key="", label="Reindex after re-embedding selected tracks", user=request.user)
        self.message_user(request, f"{deleted} embeddings cleared; {job.label}: {job.get_status_display()} (see Tasks).", messages.SUCCESS if job.status != "failed" else messages.ERROR)


@admin.register(Embedding)
class EmbeddingAdmin(admin.ModelAdmin[Embedding]):
    list_display = ("track", "modality", "status", "model_version", "dim", "short_error", "updated_at")
    list_filter = ("modality", "status", "model_version")
    search_fields = ("track__title", "error")
    list_select_related = ("track",)
    exclude = ("vector",)
    readonly_fields = ("track", "modality", "status", "model_version", "content_hash", "dim", "error", "updated_at")

    @admin.display(description="error")
    def short_error(self, embedding: Embedding) -> str:
        return embedding.error[:80]


@admin.register(IngestFailure)
class IngestFailureAdmin(admin.ModelAdmin[IngestFailure]):
    list_display = ("path", "reason", "last_seen")
    search_fields = ("path", "reason")
    readonly_fields = ("path", "reason", "first_seen", "last_seen")
