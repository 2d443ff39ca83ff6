"""The configured embedders, remembered across tests: the same input is embedded by the real model once per test run.

Dozens of tests index the same six-file library (copied to a new folder each
time). The vectors and tags they get are the real models' own; only the
repeated work is skipped. Audio inputs are remembered by their file's bytes,
lyrics by their text, so a test that changes a file or a lyric gets it
embedded again.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from ml.embedder import Embedder


class MemoEmbedder:
    """Wraps an :class:`~ml.embedder.Embedder` (and its ``embed_with_tags`` when it has one)."""

    def __init__(self, inner: Embedder, *, files: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.dim = inner.dim
        self.files = files
        self._vectors: dict[str, np.ndarray] = {}
        self._tags: dict[str, dict[str, float]] = {}
        if hasattr(inner, "embed_with_tags"):
            self.embed_with_tags = self._embed_with_tags

    def _key(self, item: str) -> str:
        if self.files and Path(item).is_file():
            return hashlib.sha256(Path(item).read_bytes()).hexdigest()
        return "text:" + item

    def embed(self, items: Sequence[str]) -> np.ndarray:
        keys = [self._key(item) for item in items]
        missing = [(key, item) for key, item in zip(keys, items) if key not in self._vectors]
        if missing:
            vectors = self.inner.embed([item for _, item in missing])
            self._vectors.update({key: vector for (key, _), vector in zip(missing, vectors)})
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32)

    def _embed_with_tags(self, items: Sequence[str]) -> tuple[np.ndarray, list[dict[str, float]]]:
        keys = [self._key(item) for item in items]
        missing = [(key, item) for key, item in zip(keys, items) if key not in self._tags]
        if missing:
            vectors, tags = self.inner.embed_with_tags([item for _, item in missing])
            for (key, _), vector, tag in zip(missing, vectors, tags):
                self._vectors[key], self._tags[key] = vector, tag
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32), [dict(self._tags[key]) for key in keys]
