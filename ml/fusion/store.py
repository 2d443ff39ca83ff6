"""Versioned index folders on disk, switched atomically, guarded by a lock.

Layout under ``root``::

    CURRENT                      name of the version that serves (replaced atomically)
    v000003-20261121T060102/     one complete version: meta.json + index files
    .staging-<random>/           a build in progress (never served, removed on failure)
    .reindex.lock                held by the one reindex allowed at a time

A version folder is only renamed into place once complete, and ``CURRENT``
only points at complete folders, so a reindex that fails or is killed leaves
the previous version serving.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

from ml.errors import IndexCorruptError, ReindexLockedError

logger = logging.getLogger(__name__)

META_FILE = "meta.json"
_CURRENT = "CURRENT"
_LOCK = ".reindex.lock"
_STAGING_PREFIX = ".staging-"
_VERSION_NAME = re.compile(r"^v(\d{6})-\d{8}T\d{6}$")

T = TypeVar("T")


class IndexStore:
    """The index versions under one folder, and the pointer to the serving one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading -----------------------------------------------------------
    def current_version(self) -> str | None:
        """Name of the serving version, or None before the first build."""
        try:
            name = (self.root / _CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name / META_FILE).is_file() else None

    def versions(self) -> list[str]:
        """Complete version folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _VERSION_NAME.match(p.name) and (p / META_FILE).is_file())

    def meta(self, version: str) -> dict[str, Any]:
        """The ``meta.json`` of ``version``."""
        try:
            return json.loads((self.root / version / META_FILE).read_text())
        except (OSError, ValueError) as error:
            raise IndexCorruptError(f"{self.root / version}: unreadable {META_FILE} ({error})") from None

    def verify(self, version: str) -> dict[str, Any]:
        """Check every byte of ``version`` against the checksum in its meta; returns the meta."""
        meta = self.meta(version)
        actual = folder_checksum(self.root / version)
        if meta.get("checksum") != actual:
            raise IndexCorruptError(f"{self.root / version}: checksum mismatch; the folder was changed or damaged")
        return meta

    def check(self, version: str) -> dict[str, Any]:
        """The cheap check a serving process makes before opening ``version``: every file the
        publish recorded is there with its recorded size, and every ``.npy`` file is as long as
        its own header says (a truncated memory-mapped file would kill the process with SIGBUS
        on first touch). Versions published before sizes were recorded get the full
        :meth:`verify`. Returns the meta; raises :class:`IndexCorruptError`."""
        meta = self.meta(version)
        sizes = meta.get("files")
        if not isinstance(sizes, dict):
            meta = self.verify(version)
        else:
            self.sizes_check(version, sizes)
        folder = self.root / version
        for path in sorted(folder.rglob("*.npy")):
            npy_check(path)
        return meta

    def sizes_check(self, version: str, sizes: dict[str, int]) -> None:
        """Raise :class:`IndexCorruptError` unless every file of ``sizes`` has its recorded size: a few
        ``stat`` calls, cheap enough for a serving process to repeat before every request."""
        folder = self.root / version
        for name, size in sorted(sizes.items()):
            try:
                actual = (folder / name).stat().st_size
            except OSError:
                raise IndexCorruptError(f"{folder}: {name} is missing; the folder was changed or damaged since its checksum was recorded") from None
            if actual != size:
                raise IndexCorruptError(
                    f"{folder}: {name} has {actual} bytes, {size} when its checksum was recorded; the folder was changed or damaged"
                )

    def load(self, version: str, loader: Callable[[Path], T]) -> T:
        """``version`` opened with ``loader(folder)`` after :meth:`check`."""
        self.check(version)
        loaded = loader(self.root / version)
        logger.info("loaded index version %s", version)
        return loaded

    def load_current(self, loader: Callable[[Path], T]) -> T | None:
        """The serving version opened with ``loader(folder)``, or None before the first build.

        Nothing is cached here: the caller (the web process's engine) keeps
        what it loaded and asks :meth:`current_version`, one small file read,
        to notice a new version without a restart.
        """
        version = self.current_version()
        return None if version is None else self.load(version, loader)

    # -- writing -----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the reindex lock; raises :class:`ReindexLockedError` if another process has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / _LOCK, "a+")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise ReindexLockedError(
                    f"another reindex is running ({holder}); wait for it to finish or stop it first"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
            handle.flush()
            yield
        finally:
            handle.close()

    def publish(self, write: Callable[[Path], dict[str, Any]], *, verify: Callable[[Path], object] | None = None) -> str:
        """Build a new version with ``write(staging_folder) -> meta`` and switch to it.

        ``write`` fills the folder and returns what goes into ``meta.json``
        (the store adds version, build time, checksum and file sizes).
        ``verify(staging_folder)``, when given, opens the written files the
        way a serving process will, so a version is verified once, here, and
        never served broken. On any exception the staging folder is removed
        and ``CURRENT`` is left untouched. Returns the new version's name.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_staging()
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.root))
        try:
            started = time.time()
            meta = dict(write(staging))
            name = self._next_name()
            meta.update(
                version=name,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                build_seconds=round(time.time() - started, 3),
                checksum=folder_checksum(staging),
                files=folder_sizes(staging),
            )
            if verify is not None:
                verify(staging)
            _write_durably(staging / META_FILE, json.dumps(meta, indent=2, sort_keys=True))
            _fsync_tree(staging)
            os.rename(staging, self.root / name)
            self._point_to(name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("index version %s is now serving", name)
        return name

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions (never the serving one)."""
        current = self.current_version()
        versions = self.versions()
        doomed = [v for v in versions[: max(0, len(versions) - keep)] if v != current]
        for version in doomed:
            shutil.rmtree(self.root / version, ignore_errors=True)
        return doomed

    def _next_name(self) -> str:
        numbers = [int(_VERSION_NAME.match(v).group(1)) for v in self.versions()]  # type: ignore[union-attr]
        return f"v{max(numbers, default=0) + 1:06d}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"

    def _point_to(self, name: str) -> None:
        pointer = self.root / f".{_CURRENT}.{os.getpid()}.tmp"
        _write_durably(pointer, name + "\n")
        os.replace(pointer, self.root / _CURRENT)
        _fsync_dir(self.root)

    def _remove_stale_staging(self) -> None:
        # Only called under the lock, so any staging folder left is from a killed build.
        for leftover in self.root.glob(f"{_STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)


def npy_check(path: Path) -> None:
    """Raise :class:`IndexCorruptError` unless the ``.npy`` file at ``path`` holds as many bytes as its header promises.

    Reads only the header (a few hundred bytes), so a serving process checks a
    file before memory-mapping it instead of dying on the first page past its end.
    """
    try:
        with open(path, "rb") as handle:
            major, _minor = np.lib.format.read_magic(handle)
            if major == 1:
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
            data_start = handle.tell()
        actual = path.stat().st_size
    except (OSError, ValueError, EOFError) as error:
        raise IndexCorruptError(f"{path}: not a readable .npy file ({error})") from None
    if dtype.hasobject:
        raise IndexCorruptError(f"{path}: holds Python objects, which an index never stores")
    expected = data_start + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if actual != expected:
        raise IndexCorruptError(f"{path}: {actual} bytes on disk, its header describes {expected} ({shape} {dtype}); the file is truncated or damaged")


def folder_checksum(folder: Path) -> str:
    """sha256 over the relative paths and bytes of every file in ``folder`` except ``meta.json``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != META_FILE):
        digest.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def folder_sizes(folder: Path) -> dict[str, int]:
    """``{relative path: bytes}`` of every file in ``folder`` except ``meta.json``."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.name != META_FILE}


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
