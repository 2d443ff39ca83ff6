"""Where Django meets ml: builds embedders and the index store from settings, once per process.

Everything heavy is built lazily on first use and cached per configuration,
so a test that changes ``settings.CROSSFADE`` gets fresh objects.
"""
from __future__ import annotations

import threading

from django.conf import settings

from ml.config import EngineConfig
from ml.embedder import Embedder
from ml.fusion.hybrid import HybridIndex
from ml.fusion.store import IndexStore
from ml.registry import audio_embedder_build, lyrics_embedder_build

_lock = threading.Lock()
_embedders: dict[tuple, Embedder] = {}
_stores: dict[str, IndexStore] = {}


def engine_config() -> EngineConfig:
    return settings.CROSSFADE


def embedder_get(modality: str) -> Embedder:
    """The configured embedder of ``modality`` ("audio" or "lyrics"), loaded once."""
    config = engine_config()
    key = (modality, config.audio if modality == "audio" else config.lyrics)
    with _lock:
        if key not in _embedders:
            if modality == "audio":
                _embedders[key] = audio_embedder_build(config.audio)
            elif modality == "lyrics":
                _embedders[key] = lyrics_embedder_build(config.lyrics)
            else:
                raise ValueError(f"unknown modality {modality!r}")
        return _embedders[key]


def index_store() -> IndexStore:
    root = str(engine_config().index_dir)
    with _lock:
        if root not in _stores:
            _stores[root] = IndexStore(engine_config().index_dir)
        return _stores[root]


def index_current() -> HybridIndex | None:
    """The serving index, reloaded when a reindex has switched versions; None before the first build."""
    store = index_store()
    with _lock:
        return store.load_current(HybridIndex.load)
