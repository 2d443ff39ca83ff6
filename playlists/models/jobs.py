"""Long work started from the web, followed through one row per job.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One piece of long work started from the web (reindex, Spotify lookup, map, training...).

    The request creates the row and queues a django-tasks task that carries its
    id; the task reports progress and the outcome here, so the site's Tasks page
    and the admin show them whichever tasks backend runs it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "waiting"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=32, db_index=True, help_text="reindex, spotify_enrich, catalogue_map, train_audio, ...")
    label = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0, help_text="0 while the size of the work is unknown.")
    progress_note = models.CharField(max_length=300, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    key = models.CharField(max_length=200, blank=True, db_index=True, help_text="What the job is for (a map's index version), so the same work is queued once.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    task_result_id = models.CharField(max_length=64, blank=True, help_text="The django-tasks result that runs it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def error_message(self) -> str:
        """What went wrong, for people: the error's first paragraph (jobs recorded before tracebacks went to the log only held one after it)."""
        return self.error.split("\n\n")[0].strip()

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))
