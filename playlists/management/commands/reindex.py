"""Embeds new or changed tracks and switches to a fresh index version.

Why: similarity is served from a versioned index on disk; after an ingest or
a model change it must be brought up to date without disturbing the version
the site is serving until the new one is complete.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.errors import MLError, ReindexLockedError
from playlists.catalogue.reindex import index_rebuild
from playlists.management.progress import ProgressBars


class Command(BaseCommand):
    help = "Embed what is new or changed (content hash, model version) and publish a new index version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="re-embed every track, earlier failures included")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        bars = ProgressBars(verbosity)
        try:
            summary = index_rebuild(full=options["full"], progress=bars.by_note())
        except ReindexLockedError as error:
            raise CommandError(str(error)) from None
        except MLError as error:
            raise CommandError(f"reindex failed, the previous index keeps serving: {error}") from None
        except OSError as error:
            # A full disk, a read-only folder: say what and where, not a traceback.
            where = f" ({error.filename})" if error.filename else ""
            raise CommandError(f"reindex failed, the previous index keeps serving: {error.strerror or error}{where}; free some space or fix the folder, then run it again") from None
        finally:
            bars.close()
        if verbosity >= 1:
            embedded = ", ".join(f"{m} {n}" for m, n in summary.embedded.items()) or "nothing"
            indexed = ", ".join(f"{m} {n}" for m, n in summary.indexed.items()) or "nothing"
            state = "published" if summary.published else "unchanged, still serving"
            self.stdout.write(self.style.SUCCESS(f"Embedded {embedded}; indexed {indexed}; index {summary.version} {state} ({summary.seconds:.1f} s)."))
            if summary.languages_detected:
                self.stdout.write(f"  detected the lyrics language of {summary.languages_detected} tracks.")
            for modality, count in summary.empty.items():
                self.stdout.write(f"  {count} tracks have no usable {modality} (instrumental or too short).")
            for track_id, modality, reason in summary.errors:
                self.stdout.write(self.style.WARNING(f"  track {track_id} {modality} failed: {reason}"))
