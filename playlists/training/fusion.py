"""Learned fusion trained on the catalogue's own signals, judged on held-out artists, recorded."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from ml.config import MODALITIES
from ml.errors import MLError
from ml.fusion.learned import FusionData, FusionDecision, FusionTrainConfig, codes, fusion_fit_and_judge
from ml.progress import Progress
from ml.whitening import whitener_fit
from playlists import engine
from playlists.catalogue.selectors import embedding_vectors
from playlists.models import FusionModel
from playlists.training.selectors import fusion_signals


@dataclass
class FusionTrainSummary:
    """One ``train_fusion`` run: the held-out decision plus what this catalogue contributed.

    The decision's fields (``metric``, ``baseline``, ``learned``, ``is_default``,
    ``reason``, ``train_tracks``, ``test_tracks``, ``test_artists``) read through.
    """

    decision: FusionDecision
    signals: dict[str, int]
    path: str = ""

    @property
    def version(self) -> str:
        return self.decision.model.version

    def __getattr__(self, name: str) -> Any:
        if name == "decision":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.decision, name)


def fusion_model_train(*, config: FusionTrainConfig | None = None, dry_run: bool = False, progress: Progress | None = None) -> FusionTrainSummary:
    """Train learned fusion on the catalogue's embeddings and signals, judge it on held-out artists, record it.

    The model becomes the default (served by the next reindex) only when it
    beats the weighted baseline; either way the row, both numbers and the
    decision are stored (nothing is written with ``dry_run``).
    """
    config = config or FusionTrainConfig(balance=engine.engine_config().default_balance)
    versions = {m: engine.embedder_get(m).version for m in MODALITIES}
    vectors, _ = embedding_vectors(versions)
    if not vectors:
        raise MLError("no embeddings to learn from: run `manage.py reindex` first")
    universe = np.unique(np.concatenate([ids for ids, _ in vectors.values()]))
    aligned: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, (ids, raw) in vectors.items():
        rows = np.searchsorted(universe, ids)
        whitened = np.zeros((universe.size, raw.shape[1]), np.float32)
        whitened[rows] = whitener_fit(raw).apply(raw)
        present = np.zeros(universe.size, dtype=bool)
        present[rows] = True
        aligned[modality] = (whitened, present)
    signals = fusion_signals(universe)
    pairs = np.asarray(signals.playlist_pairs + signals.like_pairs, dtype=np.int64).reshape(-1, 2)
    data = FusionData(aligned, signals.genres, signals.artists, [codes(signals.genres), np.asarray(signals.albums, dtype=np.int64)], pairs)
    decision = fusion_fit_and_judge(data, config, progress=progress)
    counts = {
        "genre_tagged": sum(1 for g in signals.genres if g),
        "on_an_album": sum(1 for a in signals.albums if a >= 0),
        "playlist_pairs": len(signals.playlist_pairs),
        "like_pairs": len(signals.like_pairs),
    }
    summary = FusionTrainSummary(decision, counts)
    if dry_run:
        return summary
    folder = Path(settings.CROSSFADE_DATA_DIR) / "models" / "fusion" / decision.model.version
    decision.model.info["signals"] = counts
    decision.model.info["embedding_models"] = versions
    decision.model.save(folder)
    summary.path = str(folder)
    with transaction.atomic():
        if decision.is_default:
            FusionModel.objects.filter(is_default=True).update(is_default=False)
        FusionModel.objects.create(
            version=decision.model.version, path=str(folder), dim=decision.model.dim, metric=decision.metric,
            baseline_score=decision.baseline, learned_score=decision.learned, is_default=decision.is_default,
            decision=decision.reason, train_tracks=decision.train_tracks, test_tracks=decision.test_tracks,
            test_artists=decision.test_artists, signals=counts, config=decision.model.info["config"],
        )
    return summary
