"""Training Crossfade's own audio CNN on the catalogue (a write: it creates a model folder under data/)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from ml.audio.train import TrainConfig, TrainingError, TrainResult, audio_cnn_train
from ml.errors import MLError
from ml.progress import Progress
from playlists.training.selectors import audio_head_items, audio_training_items

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


def audio_genre_head_train(
    *,
    base: str = "musicnn-mtt+musicnn-msd",
    folds: int = 4,
    seed: int = 0,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Path, dict[str, Any], list[str]]:
    """Embed the catalogue with the pretrained ``base``, test a genre head on held-out artists and save it.

    Returns the model folder, its description (held-out folds, decision) and
    the files that could not be analysed (skipped, with the reason). The head
    is served by ``CROSSFADE_AUDIO_MODEL=trained`` only if its decision says so.
    """
    from ml.audio.genre_head import genre_head_train
    from ml.audio.taggers import pretrained_embedder_build
    from ml.registry import segment_plan

    folder = out_dir or settings.CROSSFADE.audio.models_dir
    if folder is None:
        raise TrainingError("the settings name no folder for audio models (CROSSFADE.audio.models_dir) and no out_dir was given")
    items = audio_head_items()
    embedder = pretrained_embedder_build(base, plan=segment_plan(settings.CROSSFADE.audio))
    vectors, kept, failures = [], [], []
    for done, (path, artist, genre, album) in enumerate(items, start=1):
        try:
            vectors.append(embedder.embed([path])[0])
            kept.append((artist, genre, album))
        except (MLError, OSError, RuntimeError, ValueError) as error:
            failures.append(f"{path}: {error}")
            logger.warning("genre head: %s skipped (%s)", path, error)
        if progress:
            progress(done, len(items), "")
    if not kept:
        raise TrainingError("no catalogue track could be analysed; nothing to train on")
    folder_out, description = genre_head_train(
        np.stack(vectors),
        [genre for _, genre, _ in kept],
        [artist for artist, _, _ in kept],
        folder,
        base=base,
        albums=[album for _, _, album in kept],
        folds=folds,
        seed=seed,
    )
    return folder_out, description, failures
