"""Builds the configured embedders: one setting per modality picks the model."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml.audio.segments import SegmentPlan
from ml.audio.taggers import PRETRAINED, taggers_parse
from ml.config import AudioConfig, LyricsConfig
from ml.embedder import Embedder
from ml.errors import EmbedderError

AUDIO_MODELS: tuple[str, ...] = (*PRETRAINED, "<tagger>+<tagger>", "mfcc-stats", "trained", "trained:<version>")


def audio_embedder_build(config: AudioConfig) -> Embedder:
    """The audio embedder named by ``config.model``."""
    if config.model == "mfcc-stats":
        from ml.audio.baseline import MfccStatsEmbedder

        return MfccStatsEmbedder(sample_rate=config.sample_rate, max_seconds=config.max_seconds)
    if taggers_parse(config.model) is not None:
        from ml.audio.taggers import pretrained_embedder_build

        return pretrained_embedder_build(config.model, plan=segment_plan(config))
    if _is_trained(config.model):
        folder = trained_model_dir(config)
        description = trained_description(folder)
        if description.get("architecture") == "finetuned":
            from ml.audio.finetune import finetuned_embedder_build

            return finetuned_embedder_build(folder, description, plan=segment_plan(config))
        if description.get("architecture") == "genre-head":
            from ml.audio.genre_head import GenreHeadEmbedder, genre_head_load
            from ml.audio.taggers import pretrained_embedder_build

            base = pretrained_embedder_build(str(description.get("base", "")), plan=segment_plan(config))
            return GenreHeadEmbedder(base, genre_head_load(folder, description), version=str(description["version"]))
        from ml.audio.train import trained_embedder_build

        return trained_embedder_build(folder, plan=segment_plan(config))
    raise EmbedderError(f"unknown audio model {config.model!r}; choose one of {', '.join(AUDIO_MODELS)}")


def audio_embedder_dim(config: AudioConfig) -> int:
    """Dimension of the vectors ``audio_embedder_build(config)`` makes, without loading any weights.

    The one place that knows each audio model's size (an index or a benchmark
    sized from the settings asks here). Raises :class:`EmbedderError` like
    :func:`audio_embedder_build` for an unknown model or a missing trained one.
    """
    if config.model == "mfcc-stats":
        from ml.audio.baseline import MFCC_STATS_DIM

        return MFCC_STATS_DIM
    taggers = taggers_parse(config.model)
    if taggers is not None:
        return sum(t.vector_dim for t in taggers)
    if _is_trained(config.model):
        description = trained_description(trained_model_dir(config))
        if description.get("architecture") == "genre-head":
            try:
                return int(description["dim"])
            except (KeyError, TypeError, ValueError):
                raise EmbedderError(f"{config.model}: its config.json does not say the head's size; train it again") from None
        if description.get("architecture") == "finetuned":
            return sum(t.vector_dim for t in taggers_parse("+".join(description.get("taggers", []))) or [])
        try:
            return 2 * int(description["model"]["backend_units"])
        except (KeyError, TypeError, ValueError):
            raise EmbedderError(f"{config.model}: its config.json does not say the model's size; train it again") from None
    raise EmbedderError(f"unknown audio model {config.model!r}; choose one of {', '.join(AUDIO_MODELS)}")


def segment_plan(config: AudioConfig) -> SegmentPlan:
    """How the configured CNN samples each track."""
    return SegmentPlan(count=config.segments, seconds=config.segment_seconds)


def _is_trained(model: str) -> bool:
    return model == "trained" or model.startswith("trained:")


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


#: Dimensions of the short-named lyrics encoders (a sentence-transformers path reports its own when built).
LYRICS_DIMS: dict[str, int] = {"minilm-l6": 384, "use-multilingual": 512, "e5-small": 384}


def embedder_dimension(config: AudioConfig | LyricsConfig) -> int:
    """The dimension of the vectors the configured embedder of ``config`` makes, so benchmarks and capacity
    plans can size an index without loading weights (audio: :func:`audio_embedder_dim`; lyrics: the
    short names' table, else the encoder is built to ask it)."""
    if isinstance(config, AudioConfig):
        return audio_embedder_dim(config)
    if config.model in LYRICS_DIMS:
        return LYRICS_DIMS[config.model]
    return int(lyrics_embedder_build(config).dim)


def trained_model_dir(config: AudioConfig) -> Path:
    """Folder of the trained audio model ``config.model`` names.

    ``trained:<version>`` is that model, whatever its held-out result;
    ``trained`` is the newest model not kept off by its held-out decision: a
    fine-tuned model records whether it beat the pretrained one on its
    held-out artists (``decision.serve`` in its ``config.json``) and is
    served only when it did; a model trained from scratch by ``train_audio``
    records no decision and is taken as the operator chose it.
    """
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
    winners = [p.parent for p in candidates if _not_kept_off(trained_description(p.parent))]
    if not winners:
        raise EmbedderError(
            f"no trained audio model in {config.models_dir} beat the pretrained one on its held-out artists; "
            f"keep the pretrained model, or name one explicitly with trained:<version> ({', '.join(p.parent.name for p in candidates[-3:])})"
        )
    return winners[-1]


def _not_kept_off(description: dict[str, Any]) -> bool:
    """Whether a trained model's held-out decision lets ``trained`` serve it (a fine-tuned one by today's rule)."""
    decision = description.get("decision")
    if not isinstance(decision, dict):
        return True
    if description.get("architecture") == "finetuned":
        from ml.audio.finetune import decision_serves

        return decision_serves(decision)
    return bool(decision.get("serve"))


def trained_description(folder: Path) -> dict[str, Any]:
    """A trained model's ``config.json`` (architecture, sizes, held-out decision)."""
    try:
        description = json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError) as error:
        raise EmbedderError(f"{folder}: no readable config.json ({error}); train one with manage.py train_audio") from None
    if not isinstance(description, dict):
        raise EmbedderError(f"{folder}: config.json is not an object")
    return description
