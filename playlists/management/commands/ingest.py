"""Brings the catalogue in line with a music folder.

Why: the catalogue is the source of every playlist; users add, move and
retag files, and Crossfade must follow without reading unchanged files again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.library import LibraryReadError
from playlists.management.progress import ProgressBars


class Command(BaseCommand):
    help = "Read the audio files below PATH (tags, lyrics, duration, hash) into the catalogue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(settings.CROSSFADE_MUSIC_DIR), help="music folder (default: CROSSFADE_MUSIC_DIR)")
        parser.add_argument("--dry-run", action="store_true", help="report what would change without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        bars = ProgressBars(verbosity)
        try:
            summary = library_ingest(Path(options["path"]), progress=bars.callback("ingest"), dry_run=options["dry_run"])
        except LibraryReadError as error:
            raise CommandError(str(error)) from None
        finally:
            bars.close()
        if verbosity >= 1:
            prefix = "Would ingest" if options["dry_run"] else "Ingested"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{prefix} {summary.scanned} files: {summary.added} added, {summary.updated} updated, "
                    f"{summary.moved} moved, {summary.unchanged} unchanged, {summary.failed} failed, "
                    f"{summary.missing} missing from disk."
                )
            )
            for path, reason in summary.failures:
                self.stdout.write(self.style.WARNING(f"  failed: {path}: {reason}"))
            for path, reason in summary.warnings:
                self.stdout.write(self.style.WARNING(f"  warning: {path}: {reason}"))
