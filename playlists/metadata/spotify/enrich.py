"""Enriching catalogue tracks with Spotify Web API metadata (client credentials), resumably.

Every Spotify failure ends as a recorded, readable outcome (a
:class:`SpotifyLookup` row, a summary line); none reaches the site's pages
or the index. Spotify fields are metadata, filters and targets, never
training data.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction

from ml.progress import Progress
from playlists.errors import SpotifyAuthError, SpotifyError, SpotifyRateLimitedError, SpotifyUnavailableError
from playlists.metadata.sources import SourceMatch, source_track_find
from playlists.metadata.spotify.client import SpotifyApi
from playlists.metadata.spotify.source import SpotifySource
from playlists.models import SpotifyLookup, Track

logger = logging.getLogger(__name__)

# This many tracks in a row failing with Spotify unavailable means an outage: stop and say so.
OUTAGE_AFTER = 3


@dataclass
class EnrichSummary:
    considered: int = 0
    found: int = 0
    not_found: int = 0
    failed: int = 0
    already: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    stopped: str = ""
    dry_run: bool = False

    @property
    def left(self) -> int:
        return self.considered - self.found - self.not_found - self.failed


def track_spotify_lookup(source: SpotifySource, track: Track) -> SourceMatch:
    """Find ``track`` on Spotify: by its Spotify id, else by ISRC, else by artist + title with a match score."""
    return source_track_find(
        source,
        source_id=track.spotify_id,
        isrc=track.isrc,
        title=track.title,
        artist=track.artist.name if track.artist else "",
        duration_s=track.duration_s,
        threshold=source.api.config.match_threshold,
    )


def lookup_apply(track: Track, outcome: SourceMatch) -> None:
    """Store what a lookup found on the track, and the lookup's outcome beside it."""
    status = SpotifyLookup.Status.FOUND if outcome.track is not None else SpotifyLookup.Status.NOT_FOUND
    with transaction.atomic():
        if outcome.track is not None:
            metadata = outcome.track.metadata
            track.spotify_id = metadata.get("id", track.spotify_id)
            track.spotify = {**track.spotify, "web_api": metadata}
            if not track.isrc and metadata.get("isrc"):
                track.isrc = str(metadata["isrc"])[:16]
            track.save(update_fields=["spotify_id", "spotify", "isrc", "updated_at"])
        SpotifyLookup.objects.update_or_create(
            track=track, defaults={"status": status, "method": outcome.method, "score": outcome.score, "error": ""}
        )


def _failure_record(track: Track, reason: str) -> None:
    SpotifyLookup.objects.update_or_create(track=track, defaults={"status": SpotifyLookup.Status.FAILED, "method": "", "score": None, "error": reason})


def tracks_spotify_enrich(
    track_ids: list[int] | None = None,
    *,
    force: bool = False,
    use_cache: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
    api: SpotifyApi | None = None,
) -> EnrichSummary:
    """Look tracks up on Spotify (client credentials) and store what the API returns.

    Tracks already found or not found are skipped unless ``force``; failed
    ones are tried again, so a run resumes where the last one stopped. A long
    rate limit, refused credentials or an outage stop the run with
    ``summary.stopped`` set; the tracks done so far keep their results.
    Raises :class:`SpotifyNotConfiguredError` without credentials.
    """
    source = SpotifySource(api or SpotifyApi.for_app(), use_cache=use_cache)
    tracks = Track.objects.order_by("id")
    if track_ids is not None:
        tracks = tracks.filter(id__in=track_ids)
    summary = EnrichSummary(dry_run=dry_run)
    todo = tracks if force else tracks.exclude(spotify_lookup__status__in=[SpotifyLookup.Status.FOUND, SpotifyLookup.Status.NOT_FOUND])
    ids = list(todo.values_list("id", flat=True))
    summary.considered = len(ids)
    summary.already = tracks.count() - len(ids)
    unavailable_in_a_row = 0
    for done, track_id in enumerate(ids, start=1):
        track = Track.objects.select_related("artist").get(id=track_id)
        try:
            outcome = track_spotify_lookup(source, track)
        except (SpotifyRateLimitedError, SpotifyAuthError) as error:
            summary.failed += 1
            summary.errors.append((track.id, track.title, str(error)))
            if not dry_run:
                _failure_record(track, str(error))
            summary.stopped = str(error)
            break
        except SpotifyError as error:
            summary.failed += 1
            summary.errors.append((track.id, track.title, str(error)))
            if not dry_run:
                _failure_record(track, str(error))
            unavailable_in_a_row = unavailable_in_a_row + 1 if isinstance(error, SpotifyUnavailableError) else 0
            if unavailable_in_a_row >= OUTAGE_AFTER:
                summary.stopped = f"Spotify looks unavailable ({error}); stopped, the next run goes on from here"
                break
            continue
        finally:
            if progress:
                progress(done, len(ids), "looking up on Spotify")
        unavailable_in_a_row = 0
        if outcome.track is not None:
            summary.found += 1
            summary.by_method[outcome.method] = summary.by_method.get(outcome.method, 0) + 1
        else:
            summary.not_found += 1
        if not dry_run:
            lookup_apply(track, outcome)
    return summary
