"""Embeds new or changed tracks and switches to a fresh index version.

Why: similarity is served from a versioned index on disk; after an ingest or
a model change it must be brought up to date without disturbing the version
the site is serving until the new one is complete. With
``CROSSFADE_REINDEX_BATCH`` set the embedding is spread over the
``db_worker`` processes of every machine that shares the database; this
command then plans the batches and follows them until the index is published.
"""
from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.errors import MLError, ReindexLockedError
from playlists.catalogue.reindex import index_rebuild
from playlists.jobs.reindex import reindex_distributed
from playlists.jobs.runner import job_start_once
from playlists.jobs.tasks import reindex_task
from playlists.management.progress import ProgressBars
from playlists.models import Job


class Command(BaseCommand):
    help = "Embed what is new or changed (content hash, model version) and publish a new index version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="re-embed every track, earlier failures included")
        parser.add_argument(
            "--no-wait", action="store_true", help="with CROSSFADE_REINDEX_BATCH: queue the batches and return (follow them on the Tasks page)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if reindex_distributed():
            self._distributed(full=options["full"], wait=not options["no_wait"], verbosity=options["verbosity"])
            return
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

    def _distributed(self, *, full: bool, wait: bool, verbosity: int) -> None:
        job = job_start_once(reindex_task, kind="reindex", key="full" if full else "", label="Full reindex" if full else "Reindex", kwargs={"full": full})
        if verbosity >= 1:
            self.stdout.write(f"Reindex job {job.id}: batches of {settings.CROSSFADE_REINDEX_BATCH} tracks for the db_worker processes (follow it on the Tasks page; admin: Reindex plans).")
        if not wait:
            return
        bars = ProgressBars(verbosity)
        try:
            while not job.finished:
                bars.update("batches", job.progress_done, job.progress_total, unit="batch")
                time.sleep(1.0)
                job.refresh_from_db()
        finally:
            bars.close()
        if job.status == Job.Status.FAILED:
            raise CommandError(f"reindex failed, the previous index keeps serving: {job.error.split(chr(10) + chr(10))[0]}")
        if verbosity >= 1:
            outcome = job.outcome
            embedded = ", ".join(f"{m} {n}" for m, n in outcome.get("embedded", {}).items()) or "nothing"
            indexed = ", ".join(f"{m} {n}" for m, n in outcome.get("indexed", {}).items()) or "nothing"
            state = "published" if outcome.get("published") else "unchanged, still serving"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Embedded {embedded}; indexed {indexed}; index {outcome.get('version')} {state}; "
                    f"{outcome.get('batches', 0)} batches ({outcome.get('retried', 0)} retried) by {len(outcome.get('workers', {}))} workers."
                )
            )
            for line in outcome.get("errors", []):
                self.stdout.write(self.style.WARNING(f"  {line}"))
