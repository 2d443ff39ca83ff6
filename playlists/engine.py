"""Where Django meets ml: the configured embedders and the one serving snapshot of the index.

:func:`engine` hands out the :class:`Engine` of the current settings
(``settings.CROSSFADE``; a test that replaces the settings gets a fresh one).
An engine loads each configured embedder once and hands out
:class:`Serving` snapshots: the serving index version, opened and checked,
with its model versions and the caches that are only valid for that version.
A request takes one snapshot and uses it throughout, so a reindex that
switches versions mid-request cannot mix two indexes in one answer, and the
playlist it builds records the version that built it.

A damaged version never takes the process down: before a version is opened
its files are checked against the sizes recorded at publish and against
their own ``.npy`` headers (a truncated memory-mapped file would raise SIGBUS
on first touch), and before every request the serving snapshot's files are
checked again (a few ``stat`` calls). A version that fails is set aside with
a warning in the log and in :attr:`Engine.problems` (shown in the admin), and
the newest intact version serves instead; with none, pages go without
similar tracks and the API answers 503.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generic, Hashable, Mapping, TypeVar

import numpy as np
from django.conf import settings

from ml.config import EngineConfig
from ml.embedder import Embedder
from ml.errors import MLError
from ml.fusion.hybrid import HybridIndex
from ml.fusion.store import IndexStore
from ml.playlist.taste import TasteModel
from ml.registry import audio_embedder_build, lyrics_embedder_build
from playlists.errors import IndexNotReadyError

logger = logging.getLogger(__name__)

Value = TypeVar("Value")


class BoundedCache(Generic[Value]):
    """A small thread-safe least-recently-used cache: ``get(key, make)`` makes a missing value once.

    Concurrent callers of the same missing key wait for the one maker; other
    keys are not held up by it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._making: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            maker = self._making.setdefault(key, threading.Lock())
        with maker:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = make()
            with self._lock:
                self._values[key] = value
                self._making.pop(key, None)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class Serving:
    """One index version as it serves: never changed after it is made.

    ``prompts`` caches prompt vectors of the lyrics encoder the index was
    built with (encoding a prompt costs more than the rest of a request);
    ``tastes`` caches per-user taste models fitted on this index's vectors.
    """

    version: str
    index: HybridIndex
    meta: Mapping[str, object]
    prompts: BoundedCache[np.ndarray] = field(default_factory=lambda: BoundedCache(512))
    tastes: BoundedCache[TasteModel] = field(default_factory=lambda: BoundedCache(256))
    #: Answers that depend only on this version and the request's values (similar tracks of a seed, a
    #: playlist's candidate pool...), keyed by the caller; see :func:`playlists.catalogue.selectors.track_similar`.
    answers: BoundedCache[object] = field(default_factory=lambda: BoundedCache(2048))
    #: The version CURRENT names, when it is damaged and this (older, intact) one serves instead.
    replaces: str = ""

    @property
    def model_versions(self) -> Mapping[str, str]:
        return self.index.model_versions

    def __contains__(self, track_id: object) -> bool:
        return track_id in self.index


class Engine:
    """The embedders of one configuration and the snapshot of its serving index version."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = IndexStore(Path(config.index_dir))
        self._serving: Serving | None = None
        self._current: str | None = None
        self._lock = threading.Lock()
        #: Versions found damaged by this process: version -> what is wrong (also logged once).
        self.problems: dict[str, str] = {}

    def embedder(self, modality: str) -> Embedder:
        """The configured embedder of ``modality`` ("audio" or "lyrics"), loaded once per process."""
        if modality == "audio":
            return _embedders.get(("audio", self.config.audio), lambda: audio_embedder_build(self.config.audio))
        if modality == "lyrics":
            return _embedders.get(("lyrics", self.config.lyrics), lambda: lyrics_embedder_build(self.config.lyrics))
        raise ValueError(f"unknown modality {modality!r}")

    def serving(self) -> Serving | None:
        """The snapshot of the serving version, reopened when a reindex has switched versions; None before
        the first build or when no version is intact.

        Costs one small file read and a few ``stat`` calls when nothing
        changed, so a web process picks up a new version without a restart
        and notices a damaged file before touching it.
        """
        version = self.store.current_version()
        with self._lock:
            current = self._serving
            if version is None:
                self._serving, self._current = None, None
                return None
            if current is not None and self._current == version and self._intact(current):
                return current
            self._current = version
            self._serving = self._open_newest_intact(version)
            return self._serving

    def _intact(self, snapshot: Serving) -> bool:
        sizes = snapshot.meta.get("files")
        if not isinstance(sizes, dict):
            return True
        try:
            self.store.sizes_check(snapshot.version, sizes)
        except MLError as error:
            self._problem(snapshot.version, str(error))
            return False
        return True

    def _open_newest_intact(self, current: str) -> Serving | None:
        """``current`` opened, or else the newest older version that opens; None when none does."""
        candidates = [current, *(v for v in reversed(self.store.versions()) if v != current)]
        for version in candidates:
            try:
                meta = self.store.check(version)
                index = HybridIndex.load(self.store.root / version)
            except Exception as error:  # noqa: BLE001 - whatever a damaged folder raises, the process goes on serving
                self._problem(version, str(error) or type(error).__name__)
                continue
            self.problems.pop(version, None)
            snapshot = Serving(version=version, index=index, meta=meta, replaces="" if version == current else current)
            if version == current:
                logger.info("serving index version %s", version)
            else:
                logger.warning("index version %s is damaged; serving %s, the newest intact version, instead (run `manage.py reindex`)", current, version)
            return snapshot
        logger.error("no intact index version under %s: similar tracks and playlists are off until `manage.py reindex --full`", self.store.root)
        return None

    def _problem(self, version: str, message: str) -> None:
        if self.problems.get(version) != message:
            logger.warning("index version %s cannot serve: %s", version, message)
        self.problems[version] = message

    def serving_or_raise(self) -> Serving:
        """Like :meth:`serving`, but raises :class:`IndexNotReadyError` before the first build or when no version is intact."""
        snapshot = self.serving()
        if snapshot is None:
            if self.problems:
                raise IndexNotReadyError("the index is damaged and no earlier version is intact: run `manage.py reindex --full`")
            raise IndexNotReadyError("no index yet: run `manage.py reindex`")
        return snapshot


#: Models are heavy and do not depend on where the index lives: one per model configuration.
_embedders: BoundedCache[Embedder] = BoundedCache(8)
#: One engine per configuration; a handful, since tests swap index folders.
_engines: BoundedCache[Engine] = BoundedCache(8)


def engine() -> Engine:
    """The engine of the current ``settings.CROSSFADE``, made once per configuration."""
    config: EngineConfig = settings.CROSSFADE
    return _engines.get(config, lambda: Engine(config))


def engine_config() -> EngineConfig:
    return engine().config


def embedder_get(modality: str) -> Embedder:
    """The configured embedder of ``modality``."""
    return engine().embedder(modality)


def serving() -> Serving | None:
    """The current serving snapshot, or None before the first build."""
    return engine().serving()


def serving_or_raise() -> Serving:
    return engine().serving_or_raise()


def index_store() -> IndexStore:
    return engine().store
