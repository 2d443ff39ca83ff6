"""Builds the configured embedders: one setting per modality picks the model."""
from __future__ import annotations

from pathlib import Path

from ml.config import AudioConfig, LyricsConfig
from ml.embedder import Embedder
from ml.errors import EmbedderError

AUDIO_MODELS: tuple[str, ...] = ("mfcc-stats", "musicnn-mtt", "trained", "trained:<version>")


def audio_embedder_build(config: AudioConfig) -> Embedder:
    """The audio embedder named by ``config.model``."""
    if config.model == "mfcc-stats":
        from ml.audio.baseline import MfccStatsEmbedder

        return MfccStatsEmbedder(sample_rate=config.sample_rate, max_seconds=config.max_seconds)
    if config.model == "musicnn-mtt":
        from ml.audio.cnn_embedder import musicnn_embedder_build
        from ml.audio.segments import SegmentPlan

        return musicnn_embedder_build(plan=SegmentPlan(count=config.segments, seconds=config.segment_seconds))
    if config.model == "trained" or config.model.startswith("trained:"):
        from ml.audio.segments import SegmentPlan
        from ml.audio.train import trained_embedder_build

        return trained_embedder_build(trained_model_dir(config), plan=SegmentPlan(count=config.segments, seconds=config.segment_seconds))
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


#: Vector dimension of each named model, so benchmarks and capacity plans can size an index
#: without loading weights (musicnn: mean and max of its 200 penultimate features; a test
#: checks every entry against the built embedder). Other models are built to ask them.
MODEL_DIMS: dict[str, int] = {"musicnn-mtt": 400, "mfcc-stats": 102, "use-multilingual": 512, "e5-small": 384, "minilm-l6": 384}


def embedder_dimension(config: AudioConfig | LyricsConfig) -> int:
    """The dimension of the vectors the configured embedder of ``config`` makes."""
    if config.model in MODEL_DIMS:
        return MODEL_DIMS[config.model]
    if isinstance(config, AudioConfig):
        return int(audio_embedder_build(config).dim)
    return int(lyrics_embedder_build(config).dim)


def trained_model_dir(config: AudioConfig) -> Path:
    """Folder of the trained audio model ``config.model`` names (``trained``: the newest)."""
    if config.models_dir is None:
        raise EmbedderError("no models folder is configured for trained audio models")
    _, _, version = config.model.partition(":")
    if version:
        folder = Path(config.models_dir) / version
        if not (folder / "config.json").is_file():
            raise EmbedderError(f"no trained audio model {version!r} in {config.models_dir}; run manage.py train_audio")
        return folder
    candidates = sorted((p for p in Path(config.models_dir).glob("*/config.json")), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise EmbedderError(f"no trained audio model in {config.models_dir}; run manage.py train_audio first")
    return candidates[-1].parent
