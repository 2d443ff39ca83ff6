"""Background jobs in the admin, and the admin's front page (the control room)."""
from __future__ import annotations

from collections import Counter

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from playlists.models import Job, ReindexBatch, ReindexPlan

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


class ReindexBatchInline(admin.TabularInline[ReindexBatch, ReindexPlan]):
    model = ReindexBatch
    extra = 0
    can_delete = False
    fields = ("number", "status", "worker", "attempts", "size", "embedded", "skipped", "failed", "lease_until", "started_at", "finished_at", "attempt_history", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: ReindexPlan | None = None) -> bool:
        return False

    @admin.display(description="attempts by worker")
    def attempt_history(self, batch: ReindexBatch) -> str:
        return "; ".join(f"{entry.get('worker', '?')}: {entry.get('outcome', '?')}" for entry in batch.history)


@admin.register(ReindexPlan)
class ReindexPlanAdmin(admin.ModelAdmin[ReindexPlan]):
    """A distributed reindex: its batches, who ran them, which were retried."""

    list_display = ("job", "status", "batches_done", "retried", "workers", "rate", "tracks", "batch_size", "created_at", "published_at")
    readonly_fields = ("job", "full", "versions", "batch_size", "tracks", "lease_seconds", "created_at", "watched_at", "batches_finished_at", "published_at", "progress")
    inlines = [ReindexBatchInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="status")
    def status(self, plan: ReindexPlan) -> str:
        return plan.job.get_status_display()

    @admin.display(description="batches done")
    def batches_done(self, plan: ReindexPlan) -> str:
        batches = plan.batches.all()
        return f"{sum(1 for b in batches if b.status == ReindexBatch.Status.DONE)}/{len(batches)}"

    @admin.display(description="retried")
    def retried(self, plan: ReindexPlan) -> int:
        return sum(1 for b in plan.batches.all() if b.retried)

    @admin.display(description="batches per worker")
    def workers(self, plan: ReindexPlan) -> str:
        done = Counter(b.worker for b in plan.batches.all() if b.status == ReindexBatch.Status.DONE)
        return ", ".join(f"{worker} {count}" for worker, count in done.most_common())

    @admin.display(description="tracks/s")
    def rate(self, plan: ReindexPlan) -> str:
        rate = plan.job.outcome.get("tracks_per_s")
        return f"{rate:.2f}" if isinstance(rate, (int, float)) else "–"

    @admin.display(description="progress")
    def progress(self, plan: ReindexPlan) -> str:
        return plan.job.progress_note

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReindexPlan]:
        return super().get_queryset(request).select_related("job").prefetch_related("batches")
