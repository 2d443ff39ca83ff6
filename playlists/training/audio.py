"""Training Crossfade's own audio CNN on the catalogue (a write: it creates a model folder under data/)."""
from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from ml.audio.train import TrainConfig, TrainingError, TrainResult, audio_cnn_train
from ml.progress import Progress
from playlists.training.selectors import audio_training_items

logger = logging.getLogger(__name__)


def audio_model_train(
    *,
    config: TrainConfig,
    use_genres: bool = True,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on the catalogue and save the model under the configured audio models folder.

    Select it afterwards with ``CROSSFADE_AUDIO_MODEL=trained`` (the newest)
    or ``trained:<version>``; the next ``reindex`` re-embeds every track.
    """
    folder = out_dir or settings.CROSSFADE.audio.models_dir
    if folder is None:
        raise TrainingError("the settings name no folder for audio models (CROSSFADE.audio.models_dir) and no out_dir was given")
    return audio_cnn_train(audio_training_items(use_genres=use_genres), folder, config=config, progress=progress)
