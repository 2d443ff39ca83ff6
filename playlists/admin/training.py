"""Learned fusion models in the admin: both held-out numbers and the decision."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from playlists.models import FusionModel


@admin.register(FusionModel)
class FusionModelAdmin(admin.ModelAdmin[FusionModel]):
    """Learned fusion runs: both held-out numbers and the decision, read-only (``manage.py train_fusion`` writes them)."""

    list_display = ("version", "is_default", "metric", "baseline_score", "learned_score", "test_artists", "created_at")
    list_filter = ("is_default",)
    readonly_fields = [f.name for f in FusionModel._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
