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
