"""Learned fusion models and the held-out decision that serves them.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class FusionModel(models.Model):
    """One trained learned-fusion model, the held-out comparison with the weighted baseline, and the decision.

    Weights live in ``path`` (``model.safetensors`` + ``config.json``). At most one
    row is the default; reindex builds the index in its space when there is one.
    """

    version = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=1024, help_text="Folder with model.safetensors and config.json.")
    dim = models.PositiveIntegerField()
    metric = models.CharField(max_length=16, help_text="Artist-filtered precision on held-out artists, genre as the label.")
    baseline_score = models.FloatField(null=True, blank=True, help_text="Weighted hybrid (configured balance) on the held-out artists.")
    learned_score = models.FloatField(null=True, blank=True, help_text="Learned fusion on the same held-out artists.")
    is_default = models.BooleanField(default=False, help_text="Serving: only when the learned score beats the baseline.")
    decision = models.TextField(blank=True)
    train_tracks = models.PositiveIntegerField(default=0)
    test_tracks = models.PositiveIntegerField(default=0)
    test_artists = models.PositiveIntegerField(default=0)
    signals = models.JSONField(default=dict, blank=True, help_text="Positive pairs per training signal.")
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="fusion_model_one_default")]

    def __str__(self) -> str:
        return f"{self.version} ({'default' if self.is_default else 'off'})"
