"""The catalogue: artists, albums, tracks, files that could not be read, and per-modality embedding state.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class CoverArt(models.Model):
    """A picture of an album or a track, stored once per content under ``CROSSFADE_COVERS_DIR``.

    Read at ingest from a file's embedded pictures (ID3 APIC, FLAC/Vorbis
    pictures, MP4 ``covr``) or a ``cover.jpg``/``folder.jpg``/``front.*`` beside
    it; the demo catalogue's are generated. The file is ``<hash[:2]>/<hash>.<ext>``;
    resized copies are cached beside it on demand.
    """

    class Source(models.TextChoices):
        EMBEDDED = "embedded", "embedded in the audio file"
        FOLDER = "folder", "picture file beside the audio"
        GENERATED = "generated", "generated"

    content_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the picture file.")
    mime = models.CharField(max_length=32, help_text="image/jpeg or image/png.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.content_hash[:12]} ({self.width}x{self.height}, {self.source})"

    @property
    def extension(self) -> str:
        return "png" if self.mime == "image/png" else "jpg"


class Artist(models.Model):
    name = models.CharField(max_length=300, unique=True)
    spotify_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="The artist's Spotify id, from a Spotify lookup of one of their tracks.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    title = models.CharField(max_length=300)
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums")
    year = models.PositiveIntegerField(null=True, blank=True)
    cover = models.ForeignKey(CoverArt, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums")

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["title", "artist"], name="album_unique_per_artist")]

    def __str__(self) -> str:
        return self.title


class TrackQuerySet(models.QuerySet["Track"]):
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
        """Tracks with a voice (``True``) or without one (``False``).

        Lyrics settle it: a track with lyrics is sung whatever the audio tagger
        hears (it often misses a voice under synths). Without lyrics, the
        tagger decides: heard singing means vocals (vocalise, untranscribed songs).
        """
        sung = (~Q(lyrics="") & ~Q(language="zxx")) | Q(audio_vocals__gte=0.5)
        return self.filter(sung) if vocals else self.exclude(sung)

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
    cover = models.ForeignKey(CoverArt, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks", help_text="The file's own picture, else the picture beside it.")

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
    def has_vocals(self) -> bool | None:
        """Whether the track has a voice, as :meth:`TrackQuerySet.by_vocals` decides; None when nothing tells."""
        if self.lyrics and self.language != "zxx":
            return True
        if self.audio_vocals is None:
            return None
        return self.audio_vocals >= 0.5

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
