"""A damaged index never kills the web process: it falls back to the newest intact version, says so, and pages degrade.

The probe: truncating ``audio/vectors.npy`` of the serving version made the
next request die of SIGBUS (the file is memory-mapped); after a restart,
track pages and the API answered 500. Here the truncation is real and so is
the request: a process that has the version memory-mapped (as a web worker
does) is forked and serves the next request after the file is cut, so a
SIGBUS shows as the child's death instead of taking the test run with it.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from ml.errors import IndexCorruptError
from ml.fusion.store import npy_check
from playlists import engine
from playlists.catalogue.reindex import index_rebuild

pytestmark = pytest.mark.django_db


def _truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


@pytest.fixture
def two_versions(indexed, memo_embedders):
    """An older intact version and the serving one, both of the tagged library; the serving one opened (memory-mapped)."""
    older = engine.index_store().current_version()
    newer = index_rebuild(full=True, embedders={m: e for (m, _), e in memo_embedders.items()}).version
    assert newer != older and engine.serving().version == newer
    # Open and touch the vectors the way a request does, so the pages are mapped in this process.
    snapshot = engine.serving()
    assert snapshot.index.indexes["audio"]._store.memory_mapped
    return older, newer


@pytest.fixture
def signed_in(client):
    client.force_login(get_user_model().objects.create_user("ana", password="a-long-password-1"))
    return client


def _serve_in_child(client: Client, paths: list[str], out: Path) -> int:
    """Requests ``paths`` in a forked child holding this process's mapped index; returns its exit code."""

    def child() -> None:
        answers = []
        for path in paths:
            response = client.get(path)
            answers.append({"path": path, "status": response.status_code, "body": response.content.decode()})
        out.write_text(json.dumps(answers))
        os._exit(0)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(120)
    return process.exitcode


def test_truncation_while_serving_falls_back_to_the_intact_version_and_the_process_lives(two_versions, indexed, signed_in, tmp_path, caplog):
    older, newer = two_versions
    track = indexed["Salt Wind"]
    before = signed_in.get(reverse("playlists:track_detail", args=[track.id]))
    assert before.status_code == 200 and before.context["neighbours"]

    _truncate(engine.index_store().root / newer / "audio" / "vectors.npy")
    out = tmp_path / "answers.json"
    with caplog.at_level(logging.WARNING, logger="playlists.engine"):
        exit_code = _serve_in_child(
            signed_in, [reverse("playlists:track_detail", args=[track.id]), reverse("api:track_similar", args=[track.id])], out
        )
    assert exit_code == 0, f"the serving process died (exit code {exit_code}; -7 is SIGBUS)"
    page, similar = json.loads(out.read_text())
    assert page["status"] == 200 and "Similar tracks" in page["body"]
    assert similar["status"] == 200
    assert len(json.loads(similar["body"])["results"]) == 5, "similar tracks come from the older, intact version"

    # The same in this process: it notices before touching the mapping, serves the older version and says why.
    with caplog.at_level(logging.WARNING, logger="playlists.engine"):
        snapshot = engine.serving()
    assert snapshot.version == older and snapshot.replaces == newer
    assert any("vectors.npy" in record.getMessage() and newer in record.getMessage() for record in caplog.records)


def test_a_restart_on_a_damaged_version_serves_the_older_one_with_a_warning_in_the_admin(two_versions, indexed, client):
    older, newer = two_versions
    _truncate(engine.index_store().root / newer / "audio" / "vectors.npy")
    engine._engines._values.clear()  # a fresh process: nothing opened yet

    admin = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    client.force_login(admin)
    track = indexed["Neon"]
    page = client.get(reverse("playlists:track_detail", args=[track.id]))
    assert page.status_code == 200 and page.context["neighbours"], "similar tracks from the older version"
    api = client.get(reverse("api:track_similar", args=[track.id]))
    assert api.status_code == 200 and api.json()["results"]
    versions = client.get(reverse("admin_index_versions"))
    text = versions.content.decode()
    assert versions.status_code == 200 and f"Index version {newer} is damaged" in text and f"serving {older}" in text
    assert "vectors.npy" in text


def test_with_no_intact_version_pages_degrade_and_the_api_says_503(two_versions, indexed, signed_in):
    for version in two_versions:
        _truncate(engine.index_store().root / version / "audio" / "vectors.npy")
    engine._engines._values.clear()
    track = indexed["Neon"]
    page = signed_in.get(reverse("playlists:track_detail", args=[track.id]))
    assert page.status_code == 200 and "damaged" in page.context["similar_error"] and b"Neon" in page.content
    assert signed_in.get(reverse("playlists:catalogue")).status_code == 200
    api = signed_in.get(reverse("api:track_similar", args=[track.id]))
    assert api.status_code == 503 and "reindex --full" in api.json()["error"]["message"]
    recommendations = signed_in.get(reverse("api:recommendations"), {"seed_tracks": str(track.id)})
    assert recommendations.status_code == 503


def test_a_reindex_replaces_a_damaged_serving_version_even_when_nothing_changed(two_versions, memo_embedders):
    older, newer = two_versions
    _truncate(engine.index_store().root / newer / "audio" / "vectors.npy")
    summary = index_rebuild(embedders={m: e for (m, _), e in memo_embedders.items()})
    assert summary.published and summary.version not in (older, newer)
    assert engine.serving().version == summary.version and engine.serving().replaces == ""


def test_npy_headers_are_checked_against_the_file_size(tmp_path):
    import numpy as np

    path = tmp_path / "vectors.npy"
    np.save(path, np.ones((100, 8), np.float32))
    npy_check(path)
    _truncate(path)
    with pytest.raises(IndexCorruptError, match=r"its header describes 3328 \(\(100, 8\) float32\)"):
        npy_check(path)
    path.write_bytes(b"not numpy at all")
    with pytest.raises(IndexCorruptError, match="not a readable .npy file"):
        npy_check(path)
