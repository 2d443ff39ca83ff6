"""The language of each track's lyrics: from the tags at ingest, otherwise detected from the words."""
from __future__ import annotations

from ml.progress import Progress
from ml.text.clean import lyrics_clean
from ml.text.language import language_detect
from playlists import engine
from playlists.models import Track


def track_language_detect(track: Track) -> str:
    """Language code of ``track``'s lyrics, "zxx" when there are too few words, "und" when unsure."""
    return language_detect(lyrics_clean(track.lyrics), min_words=engine.engine_config().lyrics.min_words)


def track_languages_fill(*, progress: Progress | None = None) -> int:
    """Detect and store the language of every track that has none yet (tags silent, lyrics added
    by hand, or ingested before detection existed); returns how many were filled."""
    tracks = list(Track.objects.filter(language="").only("id", "lyrics", "language"))
    for done, track in enumerate(tracks, start=1):
        track.language = track_language_detect(track)
        if progress:
            progress(done, len(tracks), "detecting languages")
    Track.objects.bulk_update(tracks, ["language"], batch_size=500)
    return len(tracks)
