"""Training Crossfade's own audio CNN on the catalogue (a write: it creates a model folder under data/)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from django.conf import settings

from ml.audio.train import TrainConfig, TrainItem, TrainResult, audio_cnn_train
from playlists.models import Track

logger = logging.getLogger(__name__)


def audio_training_items(*, use_genres: bool = True) -> list[TrainItem]:
    """Every catalogue track with an audio file, with its artist and first genre tag."""
    items = []
    for track in Track.objects.exclude(audio_path=None).exclude(audio_path="").select_related("artist").order_by("id"):
        genre = track.genres[0].casefold() if use_genres and track.genres else ""
        items.append(TrainItem(path=track.audio_path, artist=track.artist.name if track.artist else f"unknown-{track.id}", genre=genre))
    return items


def audio_model_train(
    *,
    config: TrainConfig,
    use_genres: bool = True,
    out_dir: Path | None = None,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train on the catalogue and save the model under the configured audio models folder.

    Select it afterwards with ``CROSSFADE_AUDIO_MODEL=trained`` (the newest)
    or ``trained:<version>``; the next ``reindex`` re-embeds every track.
    """
    folder = out_dir or settings.CROSSFADE.audio.models_dir
    return audio_cnn_train(audio_training_items(use_genres=use_genres), folder, config=config, progress=progress)
