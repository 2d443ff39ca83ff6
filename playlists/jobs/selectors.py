"""Reads of jobs: which a user may see, the latest ones, one as JSON for the Tasks page's polling."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from playlists.models import Job


def jobs_visible(*, user: User | AnonymousUser | None = None) -> QuerySet[Job]:
    """Jobs ``user`` may see: everyone's for staff, otherwise the ones they started."""
    jobs = Job.objects.select_related("requested_by")
    if user is None or not user.is_staff:
        jobs = jobs.filter(requested_by=user) if user is not None and user.is_authenticated else jobs.none()
    return jobs


def job_list(*, user: User | AnonymousUser | None = None, limit: int = 50) -> QuerySet[Job]:
    """The most recent visible jobs."""
    return jobs_visible(user=user)[:limit]


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "label": job.label,
        "status": job.status,
        "status_display": job.get_status_display(),
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "note": job.progress_note,
        "outcome": job.outcome,
        "error": job.error_message,
        "finished": job.finished,
    }
