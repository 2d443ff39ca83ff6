"""Looks catalogue tracks up on the Spotify Web API and stores what it returns as metadata.

Why: album art, release dates, Spotify links and ids make the catalogue
richer and let playlists be saved to Spotify. Spotify is rate-limited and
sometimes down, so the command resumes where it stopped (tracks already
found or not found are skipped unless --force) and never touches the index.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from playlists.errors import SpotifyNotConfiguredError
from playlists.management.progress import ProgressBars
from playlists.metadata.spotify.enrich import tracks_spotify_enrich

MAX_LISTED = 30


class Command(BaseCommand):
    help = "Find catalogue tracks on Spotify (Spotify id, ISRC, else artist + title with a match score) and store id, album art, release date and link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="look up again tracks already found or not found")
        parser.add_argument("--no-cache", action="store_true", help="ask Spotify again instead of using cached answers")
        parser.add_argument("--dry-run", action="store_true", help="look up and report without storing results")
        parser.add_argument("--track", type=int, action="append", dest="tracks", help="only this track id (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        bars = ProgressBars(verbosity)
        try:
            summary = tracks_spotify_enrich(
                options["tracks"], force=options["force"], use_cache=not options["no_cache"], dry_run=options["dry_run"], progress=bars.callback("spotify")
            )
        except SpotifyNotConfiguredError as error:
            raise CommandError(str(error)) from None
        finally:
            bars.close()
        if verbosity < 1:
            return
        how = ", ".join(f"{n} by {method}" for method, n in sorted(summary.by_method.items()))
        prefix = "Would store" if summary.dry_run else "Looked up"
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix} {summary.considered} tracks: {summary.found} found{f' ({how})' if how else ''}, "
                f"{summary.not_found} without a good match, {summary.failed} failed; {summary.already} done earlier (--force redoes them)."
            )
        )
        for track_id, title, reason in summary.errors[:MAX_LISTED] if verbosity < 2 else summary.errors:
            self.stdout.write(self.style.WARNING(f"  track {track_id} “{title}”: {reason}"))
        if summary.stopped:
            self.stdout.write(self.style.ERROR(f"Stopped early: {summary.stopped}. {summary.left} tracks are left for the next run."))
