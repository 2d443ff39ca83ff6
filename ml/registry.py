"""Builds the configured embedders: one setting per modality picks the model."""
from __future__ import annotations

from ml.config import AudioConfig, LyricsConfig
from ml.embedder import Embedder
from ml.errors import EmbedderError

AUDIO_MODELS: tuple[str, ...] = ("mfcc-stats", "musicnn-mtt")


def audio_embedder_build(config: AudioConfig) -> Embedder:
    """The audio embedder named by ``config.model``."""
    if config.model == "mfcc-stats":
        from ml.audio.baseline import MfccStatsEmbedder

        return MfccStatsEmbedder(sample_rate=config.sample_rate, max_seconds=config.max_seconds)
    if config.model == "musicnn-mtt":
        from ml.audio.cnn_embedder import musicnn_embedder_build
        from ml.audio.segments import SegmentPlan

        return musicnn_embedder_build(plan=SegmentPlan(count=config.segments, seconds=config.segment_seconds))
    raise EmbedderError(f"unknown audio model {config.model!r}; choose one of {', '.join(AUDIO_MODELS)}")


def lyrics_embedder_build(config: LyricsConfig) -> Embedder:
    """The lyrics encoder named by ``config.model`` (a packaged short name or a sentence-transformers path)."""
    from ml.text.encoder import SentenceEncoder

    return SentenceEncoder(config.model, batch_size=config.batch_size)
