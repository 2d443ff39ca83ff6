"""Background jobs in the admin, and the admin's front page (the control room)."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from playlists.models import Job

admin.site.index_template = "admin/crossfade_index.html"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ("label", "kind", "status", "progress", "short_outcome", "requested_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("label", "error", "key")
    readonly_fields = ("kind", "label", "status", "progress_done", "progress_total", "progress_note", "outcome", "error", "key", "requested_by", "task_result_id", "created_at", "started_at", "finished_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Jobs are started by the site (Tasks page, admin actions), never typed in.
        return False

    @admin.display(description="progress")
    def progress(self, job: Job) -> str:
        if job.finished:
            return "–"
        percent = job.percent
        return format_html("<progress max='100' value='{}'></progress> {}", percent or 0, job.progress_note) if percent is not None else job.progress_note or "waiting"

    @admin.display(description="outcome")
    def short_outcome(self, job: Job) -> str:
        if job.error:
            return job.error.splitlines()[0][:120]
        return ", ".join(f"{key}: {value}" for key, value in job.outcome.items())[:160]
