"""Background tasks (django-tasks): Spotify work started from the web runs here, not in the request.

With the default immediate backend they run at once; with a database backend
and a worker (``manage.py db_worker``) the page answers straight away and
shows the outcome when the worker has finished.
"""
from __future__ import annotations

from django_tasks import task

from playlists import services


@task()
def spotify_enrich_task(track_ids: list[int]) -> dict:
    summary = services.tracks_spotify_enrich(track_ids, force=True)
    return {"found": summary.found, "not_found": summary.not_found, "failed": summary.failed, "stopped": summary.stopped}


@task()
def spotify_export_task(export_id: int) -> str:
    return services.playlist_spotify_export(export_id).status


# -- issue 8: work followed through Job rows (see playlists/jobs.py) ------------------
@task()
def reindex_task(job_id: int, full: bool = False) -> dict:
    """A reindex started from the site; progress per modality, outcome = the summary's counts."""
    from playlists.jobs import job_run

    def work(report) -> dict:
        summary = services.index_rebuild(full=full, progress=lambda modality, done, total: report(done, total, f"embedding {modality}"))
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
def spotify_enrich_job_task(job_id: int, track_ids: list[int]) -> dict:
    from playlists.jobs import job_run

    def work(report) -> dict:
        summary = services.tracks_spotify_enrich(track_ids, force=True, progress=lambda done, total: report(done, total, "looking up on Spotify"))
        return {"found": summary.found, "not_found": summary.not_found, "failed": summary.failed, "stopped": summary.stopped}

    return job_run(job_id, work)


@task()
def catalogue_map_task(job_id: int) -> dict:
    from playlists.catalogue_map import map_compute
    from playlists.jobs import job_run

    return job_run(job_id, map_compute)
