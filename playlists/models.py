"""The catalogue (artists, albums, tracks), per-modality embedding state, and playlists.

Models hold data only: no work in ``save()`` and no signals. Ingest,
reindexing and playlist generation are explicit calls in ``services``.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Artist(models.Model):
    name = models.CharField(max_length=300, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    title = models.CharField(max_length=300)
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums")
    year = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["title", "artist"], name="album_unique_per_artist")]

    def __str__(self) -> str:
        return self.title


class TrackQuerySet(models.QuerySet):
    def playable(self) -> "TrackQuerySet":
        return self.filter(excluded=False)

    def with_lyrics(self) -> "TrackQuerySet":
        return self.exclude(lyrics="").exclude(language="zxx")

    def instrumental(self) -> "TrackQuerySet":
        """No lyrics, or too few words to mean anything (language "zxx", set by detection)."""
        return self.filter(Q(lyrics="") | Q(language="zxx"))

    def by_artist(self, name: str) -> "TrackQuerySet":
        return self.filter(artist__name__iexact=name)

    def with_audio_tag(self, tag: str, *, threshold: float = 0.2) -> "TrackQuerySet":
        """Tracks the audio tagger gave ``tag`` a probability of at least ``threshold``."""
        return self.filter(**{f"audio_tags__{tag}__gte": threshold})

    def by_vocals(self, vocals: bool) -> "TrackQuerySet":
        """Tagged tracks that sound sung (``True``) or instrumental (``False``)."""
        return self.filter(audio_vocals__gte=0.5) if vocals else self.filter(audio_vocals__lt=0.5)

    def with_genre(self, genre: str) -> "TrackQuerySet":
        return self.filter(genre__icontains=genre)

    def search(self, text: str) -> "TrackQuerySet":
        """Tracks whose title, artist, album or lyrics contain every word of ``text``."""
        queryset = self
        for word in text.split():
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(artist__name__icontains=word) | Q(album__title__icontains=word) | Q(lyrics__icontains=word)
            )
        return queryset


class Track(models.Model):
    class LyricsSource(models.TextChoices):
        NONE = "", "none"
        TAG = "tag", "embedded tag"
        LRC = "lrc", ".lrc file"
        TXT = "txt", ".txt file"
        MANUAL = "manual", "entered by hand"

    title = models.CharField(max_length=500)
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    track_number = models.PositiveIntegerField(null=True, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True, help_text="Length in seconds.")
    genre = models.CharField(max_length=300, blank=True, help_text="Genre tags from the file, separated by ';'.")

    audio_path = models.CharField(max_length=1024, unique=True, null=True, blank=True, help_text="Absolute path of the audio file.")
    audio_format = models.CharField(max_length=16, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    file_mtime = models.FloatField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True, help_text="sha256 of the audio file.")

    lyrics = models.TextField(blank=True)
    lyrics_source = models.CharField(max_length=8, choices=LyricsSource.choices, blank=True)
    lyrics_path = models.CharField(max_length=1024, blank=True, help_text="Sidecar file the lyrics came from.")
    language = models.CharField(max_length=8, blank=True, help_text="ISO 639-1 code of the lyrics' language.")

    spotify_id = models.CharField(max_length=64, blank=True, db_index=True)
    isrc = models.CharField(max_length=16, blank=True)
    spotify = models.JSONField(default=dict, blank=True, help_text="Spotify metadata (audio features, popularity...). Metadata only, never training data.")

    audio_tags = models.JSONField(default=dict, blank=True, help_text="Tag probabilities from the audio tagger (MagnaTagATune tags for musicnn-mtt), filled by reindex.")
    audio_vocals = models.FloatField(null=True, blank=True, help_text="How sure the audio tagger is that the track has vocals (0–1); empty until tagged.")

    excluded = models.BooleanField(default=False, help_text="Never put this track in a playlist.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["artist__name", "album__title", "track_number", "title"]

    def __str__(self) -> str:
        return f"{self.artist} – {self.title}" if self.artist else self.title

    @property
    def audio_top_tags(self) -> list[str]:
        """Up to five audio tags the tagger is fairly sure of, most likely first (the best one at least)."""
        ranked = sorted(self.audio_tags.items(), key=lambda item: -item[1])
        return [tag for rank, (tag, p) in enumerate(ranked[:5]) if p >= 0.2 or rank == 0]

    @property
    def genres(self) -> list[str]:
        return [g.strip() for g in self.genre.split(";") if g.strip()]


class IngestFailure(models.Model):
    """A file that looked like audio but could not be read; cleared when a later ingest reads it."""

    path = models.CharField(max_length=1024, unique=True)
    reason = models.TextField()
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class Embedding(models.Model):
    """One track's vector for one modality, and how it was made."""

    class Modality(models.TextChoices):
        AUDIO = "audio", "audio"
        LYRICS = "lyrics", "lyrics"

    class Status(models.TextChoices):
        OK = "ok", "embedded"
        FAILED = "failed", "failed"
        EMPTY = "empty", "nothing to embed"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="embeddings")
    modality = models.CharField(max_length=8, choices=Modality.choices)
    status = models.CharField(max_length=8, choices=Status.choices)
    model_version = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, help_text="Hash of the input the vector was made from.")
    dim = models.PositiveIntegerField(default=0)
    vector = models.BinaryField(null=True, blank=True, help_text="float32 little-endian, L2-normalised.")
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["track", "modality"], name="embedding_one_per_modality")]
        indexes = [models.Index(fields=["modality", "status"])]

    def __str__(self) -> str:
        return f"{self.track_id}/{self.modality}: {self.status}"


class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=200)
    seeds = models.ManyToManyField(Track, related_name="seeded_playlists", blank=True)
    length = models.PositiveIntegerField(default=20)
    balance = models.FloatField(default=0.5, help_text="Audio share of the similarity: 1 audio only, 0 lyrics only.")
    index_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settings = models.JSONField(default=dict, blank=True, help_text="Every control the playlist was generated with, so it can be regenerated.")
    updated_at = models.DateTimeField(auto_now=True, null=True)

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
    """One user's Spotify authorisation (PKCE), refreshed when it expires. Never shown in the admin."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spotify_account")
    spotify_user_id = models.CharField(max_length=128, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    access_token = models.TextField()
    refresh_token = models.TextField(blank=True)
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


class ApiToken(models.Model):
    """A personal token for the JSON API (``Authorization: Bearer <token>``); only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class FusionModel(models.Model):
    """One trained learned-fusion model, the held-out comparison with the weighted baseline, and the decision.

    Weights live in ``path`` (``model.safetensors`` + ``config.json``). At most one
    row is the default; reindex builds the index in its space when there is one.
    """

    version = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=1024, help_text="Folder with model.safetensors and config.json.")
    dim = models.PositiveIntegerField()
    metric = models.CharField(max_length=16, help_text="Artist-filtered precision on held-out artists, genre as the label.")
    baseline_score = models.FloatField(null=True, blank=True, help_text="Weighted hybrid (configured balance) on the held-out artists.")
    learned_score = models.FloatField(null=True, blank=True, help_text="Learned fusion on the same held-out artists.")
    is_default = models.BooleanField(default=False, help_text="Serving: only when the learned score beats the baseline.")
    decision = models.TextField(blank=True)
    train_tracks = models.PositiveIntegerField(default=0)
    test_tracks = models.PositiveIntegerField(default=0)
    test_artists = models.PositiveIntegerField(default=0)
    signals = models.JSONField(default=dict, blank=True, help_text="Positive pairs per training signal.")
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="fusion_model_one_default")]

    def __str__(self) -> str:
        return f"{self.version} ({'default' if self.is_default else 'off'})"


class Job(models.Model):
    """One piece of long work started from the web (reindex, Spotify lookup, map, training...).

    The request creates the row and queues a django-tasks task that carries its
    id; the task reports progress and the outcome here, so the site's Tasks page
    and the admin show them whichever tasks backend runs it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "waiting"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=32, db_index=True, help_text="reindex, spotify_enrich, catalogue_map, train_audio, ...")
    label = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0, help_text="0 while the size of the work is unknown.")
    progress_note = models.CharField(max_length=300, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    key = models.CharField(max_length=200, blank=True, db_index=True, help_text="What the job is for (a map's index version), so the same work is queued once.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    task_result_id = models.CharField(max_length=64, blank=True, help_text="The django-tasks result that runs it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))
