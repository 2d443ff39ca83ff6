from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ml.errors import IndexCorruptError, ReindexLockedError
from ml.fusion.store import IndexStore


def _writer(payload: str):
    def write(folder):
        (folder / "data.txt").write_text(payload)
        return {"payload": payload}

    return write


def test_publish_switches_atomically_and_keeps_history(tmp_path):
    store = IndexStore(tmp_path)
    assert store.current_version() is None
    first = store.publish(_writer("one"))
    second = store.publish(_writer("two"))
    assert store.current_version() == second != first
    assert store.versions() == [first, second]
    meta = store.verify(second)
    assert meta["payload"] == "two" and meta["version"] == second and meta["checksum"]
    assert store.load_current(lambda folder: (folder / "data.txt").read_text()) == "two"


def test_a_failing_build_leaves_the_previous_version_and_no_staging(tmp_path):
    store = IndexStore(tmp_path)
    first = store.publish(_writer("one"))

    def broken(folder):
        (folder / "half.bin").write_bytes(b"x" * 100)
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        store.publish(broken)
    assert store.current_version() == first
    assert store.versions() == [first]
    assert not list(tmp_path.glob(".staging-*"))


def test_a_killed_build_leaves_the_previous_version_serving(tmp_path):
    store = IndexStore(tmp_path)
    first = store.publish(_writer("one"))
    script = textwrap.dedent(
        f"""
        import time, sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from ml.fusion.store import IndexStore
        def slow(folder):
            (folder / "part.bin").write_bytes(b"y" * 1000)
            print("building", flush=True)
            time.sleep(60)
            return {{}}
        store = IndexStore({str(tmp_path)!r})
        with store.lock():
            store.publish(slow)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "building"
        assert list(tmp_path.glob(".staging-*"))
        with pytest.raises(ReindexLockedError, match="another reindex is running"):
            with store.lock():
                pass
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert store.current_version() == first
    assert store.load_current(lambda folder: (folder / "data.txt").read_text()) == "one"
    # The next reindex takes the lock and clears what the killed one left behind.
    with store.lock():
        second = store.publish(_writer("two"))
    assert not list(tmp_path.glob(".staging-*"))
    assert store.current_version() == second


def test_the_lock_is_exclusive_within_a_process_too(tmp_path):
    store = IndexStore(tmp_path)
    with store.lock():
        with pytest.raises(ReindexLockedError):
            with IndexStore(tmp_path).lock():
                pass
    with store.lock():
        pass


def test_a_web_process_picks_up_a_new_version_without_restart(tmp_path):
    # The store keeps nothing: the engine's serving snapshot is what is reused (tests/playlists/test_engine.py).
    reader = IndexStore(tmp_path)
    writer = IndexStore(tmp_path)
    loads = []

    def loader(folder):
        loads.append(folder.name)
        return (folder / "data.txt").read_text()

    first = writer.publish(_writer("one"))
    assert reader.load_current(loader) == "one" and reader.current_version() == first
    second = writer.publish(_writer("two"))
    assert reader.load_current(loader) == "two" and reader.current_version() == second
    assert loads == [first, second]


def test_publish_verifies_the_written_version_before_it_serves(tmp_path):
    store = IndexStore(tmp_path)
    first = store.publish(_writer("one"))

    def refuse(folder):
        raise IndexCorruptError(f"{folder}: cannot be opened")

    with pytest.raises(IndexCorruptError, match="cannot be opened"):
        store.publish(_writer("two"), verify=refuse)
    assert store.current_version() == first and store.versions() == [first]
    opened = []
    second = store.publish(_writer("three"), verify=lambda folder: opened.append((folder / "data.txt").read_text()))
    assert opened == ["three"] and store.current_version() == second


def test_a_truncated_file_is_refused_by_the_cheap_check(tmp_path):
    store = IndexStore(tmp_path)
    version = store.publish(_writer("a longer payload"))
    assert store.meta(version)["files"] == {"data.txt": len("a longer payload")}
    with open(tmp_path / version / "data.txt", "r+b") as handle:
        handle.truncate(3)
    with pytest.raises(IndexCorruptError, match="data.txt has 3 bytes, 16 when its checksum was recorded"):
        store.check(version)


def test_a_tampered_version_is_refused(tmp_path):
    store = IndexStore(tmp_path)
    version = store.publish(_writer("one"))
    (tmp_path / version / "data.txt").write_text("evil")
    with pytest.raises(IndexCorruptError, match="checksum"):
        store.load_current(lambda folder: None)


def test_prune_keeps_the_newest_and_the_serving_version(tmp_path):
    store = IndexStore(tmp_path)
    names = [store.publish(_writer(str(i))) for i in range(5)]
    assert store.prune(2) == names[:3]
    assert store.versions() == names[3:]
    assert json.loads((tmp_path / names[4] / "meta.json").read_text())["payload"] == "4"
    assert (tmp_path / "CURRENT").read_text().strip() == names[4]
    # Versions are numbered, so two builds within one second stay distinct.
    assert len(set(names)) == 5
