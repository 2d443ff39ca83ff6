"""Builds the configured embedders: one setting per modality picks the model."""
from __future__ import annotations

from ml.config import AudioConfig, LyricsConfig
from ml.embedder import Embedder
from ml.errors import EmbedderError

AUDIO_MODELS: tuple[str, ...] = ("mfcc-stats",)


def audio_embedder_build(config: AudioConfig) -> Embedder:
    """The audio embedder named by ``config.model``."""
    if config.model == "mfcc-stats":
        from ml.audio.baseline import MfccStatsEmbedder

        return MfccStatsEmbedder(sample_rate=config.sample_rate, max_seconds=config.max_seconds)
    raise EmbedderError(f"unknown audio model {config.model!r}; choose one of {', '.join(AUDIO_MODELS)}")


#: Lyrics encoders with a short name; any other value is a sentence-transformers path or name.
LYRICS_MODELS: tuple[str, ...] = ("minilm-l6", "use-multilingual", "e5-small")


def lyrics_embedder_build(config: LyricsConfig) -> Embedder:
    """The lyrics encoder named by ``config.model``: a short name from :data:`LYRICS_MODELS`
    or a sentence-transformers model path or name available offline."""
    if config.model == "use-multilingual":
        from ml.text.multilingual import UseEncoder

        return UseEncoder()
    if config.model == "e5-small":
        from ml.text.multilingual import E5Encoder

        return E5Encoder()
    from ml.text.encoder import SentenceEncoder

    return SentenceEncoder(config.model, batch_size=config.batch_size)
