"""The catalogue, reindex, playlist (and its cached page), Kaggle-import, cover art and Subsonic flows on a real PostgreSQL server.

Runs the ingest, reindex, web and concurrent-writes test modules again in a child pytest with
``DATABASE_URL`` pointing at a throwaway server started here.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres_server import postgres_binaries, postgres_running

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    postgres_binaries() is None or os.environ.get("CROSSFADE_POSTGRES_CHILD") == "1",
    reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed; apt-get install postgresql",
)


def test_catalogue_flow_on_postgresql():
    with postgres_running() as url:
        env = {**os.environ, "DATABASE_URL": url, "CROSSFADE_POSTGRES_CHILD": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/playlists/catalogue/test_ingest.py", "tests/playlists/catalogue/test_reindex.py", "tests/playlists/jobs/test_reindex.py", "tests/playlists/web/test_catalogue.py", "tests/playlists/metadata/test_kaggle.py", "tests/playlists/test_migrations.py",
             "tests/playlists/catalogue/test_covers.py", "tests/playlists/subsonic/test_protocol.py", "tests/playlists/web/test_page_fragments.py",
             # Writes from several processes at once (web workers, the db_worker, ingest), and hostile names and tags.
             "tests/playlists/test_concurrent_writes.py", "tests/playlists/catalogue/test_ingest_hostile.py"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout.splitlines()[-1]
