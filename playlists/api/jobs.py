"""Background tasks in the JSON API: one task's status and progress, for the Tasks page's polling and for scripts."""
from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.schemas import ERRORS
from playlists.jobs.selectors import job_json, jobs_visible

router = Router(tags=["tasks"])


class JobOut(Schema):
    id: int
    kind: str
    label: str
    status: str
    status_display: str
    done: int
    total: int
    percent: int | None
    note: str
    outcome: dict[str, Any]
    error: str
    finished: bool


@router.get("/tasks/{int:job_id}", auth=user_auth, response={200: JobOut, **ERRORS}, url_name="task_status")
def task_status(request: AuthedRequest, job_id: int) -> dict[str, Any]:
    """A task the caller started (staff: any task)."""
    job = jobs_visible(user=request.auth).filter(id=job_id).first()
    if job is None:
        raise ApiError(404, f"no task {job_id}")
    return job_json(job)
