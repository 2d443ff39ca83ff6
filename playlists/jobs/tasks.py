"""Background tasks (django-tasks): long work started from the web runs here, never in the request.

With the immediate backend they run at once; with the database backend and
a worker (``manage.py db_worker``) the page answers straight away and shows
the outcome when the worker has finished. Work followed on the Tasks page
wraps itself in :func:`playlists.jobs.runner.job_run`.
"""
from __future__ import annotations

from typing import Any

from django_tasks import task

from ml.progress import Progress
from playlists.catalogue.reindex import index_rebuild
from playlists.jobs.reindex import reindex_distributed, reindex_plan
from playlists.jobs.runner import job_run
from playlists.metadata.spotify.enrich import tracks_spotify_enrich
from playlists.metadata.spotify.export import playlist_spotify_export
from playlists.pictures.catalogue_map import map_compute


@task()
def spotify_export_task(export_id: int) -> str:
    return playlist_spotify_export(export_id).status


@task()
def reindex_task(job_id: int, full: bool = False) -> dict[str, Any]:
    """A reindex started from the site, the admin or the command; progress per modality, outcome = the summary's counts.

    With ``CROSSFADE_REINDEX_BATCH`` set it only plans: batches go to the
    workers and the job finishes when the last one is published
    (:mod:`playlists.jobs.reindex`).
    """
    if reindex_distributed():
        return reindex_plan(job_id, full=full)

    def work(report: Progress) -> dict[str, Any]:
        summary = index_rebuild(full=full, progress=report)
        return {
            "version": summary.version,
            "published": summary.published,
            "embedded": summary.embedded,
            "failed": summary.failed,
            "indexed": summary.indexed,
            "seconds": summary.seconds,
            "errors": [f"track {track_id} {modality}: {error}" for track_id, modality, error in summary.errors[:20]],
        }

    return job_run(job_id, work)


@task()
def spotify_enrich_job_task(job_id: int, track_ids: list[int]) -> dict[str, Any]:
    def work(report: Progress) -> dict[str, Any]:
        summary = tracks_spotify_enrich(track_ids, force=True, progress=report)
        return {"found": summary.found, "not_found": summary.not_found, "failed": summary.failed, "stopped": summary.stopped}

    return job_run(job_id, work)


@task()
def catalogue_map_task(job_id: int) -> dict[str, Any]:
    return job_run(job_id, map_compute)
