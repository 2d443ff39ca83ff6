"""Long work started from the web, run by django-tasks and followed through :class:`Job` rows.

A view (or admin action) calls :func:`job_start` with a task whose first
argument is the job's id; it returns at once with the database backend, the
worker (``manage.py db_worker``) runs the task, and the task wraps its work in
:func:`job_run`, which records the start, progress, outcome or error. The
Tasks page and the admin read the rows, so an operator sees the same thing
whatever backend ran the work. New kinds of work (training) only need a task
that calls ``job_run``.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from django_tasks.base import Task

from ml.errors import MLError
from ml.progress import Progress
from playlists.errors import CrossfadeError
from playlists.models import Job

logger = logging.getLogger(__name__)

# Progress rows are written at most this often, so a fast loop does not hammer the database.
PROGRESS_INTERVAL_S = 0.5


def job_start(
    task: Task[..., Any], *, kind: str, label: str, user: User | AnonymousUser | None = None, key: str = "", args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> Job:
    """Create a job row and queue ``task(job.id, *args, **kwargs)``; returns the job (refreshed).

    With the immediate backend the work has already run when this returns.
    A failure to queue is recorded on the job rather than raised, so the page
    that asked can say so.
    """
    job = Job.objects.create(kind=kind, label=label, key=key, requested_by=user if user is not None and user.is_authenticated else None)
    try:
        result = task.enqueue(job.id, *args, **(kwargs or {}))
    except Exception as error:  # the backend refused: nothing will run it
        logger.exception("could not queue job %s", job.id)
        Job.objects.filter(id=job.id).update(status=Job.Status.FAILED, error=f"could not queue the task: {error}", finished_at=timezone.now())
    else:
        Job.objects.filter(id=job.id).update(task_result_id=str(result.id))
    job.refresh_from_db()
    return job


def job_start_once(
    task: Task[..., Any], *, kind: str, key: str, label: str, user: User | AnonymousUser | None = None, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> Job:
    """Like :func:`job_start`, but reuse a queued or running job of the same ``kind`` and ``key``."""
    active = Job.objects.filter(kind=kind, key=key, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).first()
    if active is not None:
        return active
    return job_start(task, kind=kind, key=key, label=label, user=user, args=args, kwargs=kwargs)


def job_run(job_id: int, work: Callable[[Progress], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work(report)`` as job ``job_id``: mark it running, record progress, then its outcome or error.

    Returns the outcome (``work``'s dict). An exception marks the job failed
    and is raised again, so django-tasks records it too. The job keeps a
    message a person can act on: an expected failure's own message (Spotify
    not set up, no index yet), or for anything else what kind of error it was
    and that the details are in the server log, which gets the traceback;
    never the traceback itself, which would show server paths on the Tasks page.
    """
    job_started(job_id)
    try:
        outcome = work(job_progress_reporter(job_id))
    except Exception as error:
        job_failed(job_id, error)
        raise
    job_done(job_id, outcome)
    return outcome


def job_started(job_id: int) -> None:
    Job.objects.filter(id=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), error="")


def job_progress_reporter(job_id: int) -> Progress:
    """A :class:`Progress` that writes the job's progress row, at most every :data:`PROGRESS_INTERVAL_S`."""
    last_write = 0.0

    def report(done: int, total: int, note: str = "") -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write < PROGRESS_INTERVAL_S and done < total:
            return
        last_write = now
        job_progress(job_id, done, total, note)

    return report


def job_progress(job_id: int, done: int, total: int, note: str = "") -> None:
    """Record progress of a running job (a finished job's row is left as it is)."""
    Job.objects.filter(id=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        progress_done=max(0, int(done)), progress_total=max(0, int(total)), progress_note=note[:300]
    )


def job_done(job_id: int, outcome: dict[str, Any] | None) -> None:
    Job.objects.filter(id=job_id).update(status=Job.Status.DONE, outcome=outcome or {}, finished_at=timezone.now())


def job_failed(job_id: int, error: BaseException) -> None:
    """Mark the job failed with a message a person can act on, never a traceback (call it in the ``except`` block).

    An expected failure (:class:`CrossfadeError`, :class:`MLError`) keeps its
    own message; anything else says what kind of error it was and that the
    details are in the server log, which gets the traceback.
    """
    if isinstance(error, (CrossfadeError, MLError)):
        logger.warning("job %s failed: %s", job_id, error)
        message = str(error) or type(error).__name__
    else:
        logger.exception("job %s failed unexpectedly", job_id)
        message = f"stopped by an unexpected error ({type(error).__name__}); the details are in the server log"
    Job.objects.filter(id=job_id).update(status=Job.Status.FAILED, error=message, finished_at=timezone.now())
