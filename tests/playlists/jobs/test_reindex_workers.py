"""A distributed reindex for real: PostgreSQL, three ``manage.py db_worker`` processes, one killed with SIGKILL mid-batch.

The demo catalogue is ingested into a throwaway PostgreSQL server and
reindexed in batches of 8 by three workers. While one of them is embedding
a batch it is killed (``kill -9``: no cleanup, no goodbye). The job must
still finish: the lost batch is taken again after its lease expires, what
the killed worker had stored is not embedded again, every track has one
embedding per modality, and the published index holds the same ids and
vectors as a single-process build of the same library on SQLite.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.postgres_server import postgres_binaries, postgres_running

ROOT = Path(__file__).resolve().parents[3]
WORKERS = 3
BATCH = 8
# Long enough that a live worker renews in time on a loaded 2-core machine (one track took >3 s at a
# load average of 10, so a 3 s lease also retried a live worker's batch); short enough to keep the test quick.
LEASE_S = 12

pytestmark = pytest.mark.skipif(
    postgres_binaries() is None or os.environ.get("CROSSFADE_POSTGRES_CHILD") == "1",
    reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed; apt-get install postgresql",
)


def _manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return list(connection.execute(sql, params).fetchall())


def _paths(rows: list[tuple[Any, ...]]) -> dict[int, str]:
    return {int(track_id): str(path) for track_id, path in rows}


def _index_by_path(data_dir: Path, paths: dict[int, str]) -> dict[str, dict[str, np.ndarray]]:
    """The serving index of ``data_dir``: per modality, each track's indexed vector keyed by its audio path."""
    from ml.fusion.hybrid import HybridIndex

    root = data_dir / "index"
    version = (root / "CURRENT").read_text().strip()
    index = HybridIndex.load(root / version, mmap=False)
    out: dict[str, dict[str, np.ndarray]] = {}
    for modality, modality_index in index.indexes.items():
        ids = modality_index.ids()
        out[modality] = {paths[int(i)]: vector for i, vector in zip(ids, modality_index.vectors(ids))}
    return out


def test_three_workers_one_killed_mid_batch_publish_what_one_process_builds(demo_library, tmp_path):
    with postgres_running() as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CROSSFADE_DATA_DIR": str(tmp_path / "distributed"),
            "CROSSFADE_LIBRARY_ROOTS": str(demo_library),
            "CROSSFADE_REINDEX_BATCH": str(BATCH),
            "CROSSFADE_REINDEX_LEASE_S": str(LEASE_S),
            "CROSSFADE_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "DJANGO_DEBUG": "1",
        }
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        _manage(env, "ingest", str(demo_library), "--verbosity", "0")
        logs = [open(tmp_path / f"worker{n}.log", "w") for n in range(WORKERS)]
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--queue-name", "default,reindex", "--interval", "0.2", "--no-startup-delay", "--no-reload", "--worker-id", f"test-worker-{n}"],
                cwd=ROOT, env=env, stdout=logs[n], stderr=subprocess.STDOUT,
            )
            for n in range(WORKERS)
        ]
        try:
            _manage(env, "reindex", "--no-wait", "--verbosity", "0")
            (job_id,) = _rows(url, "SELECT id FROM playlists_job WHERE kind = 'reindex'")[0]
            pids = {worker.pid for worker in workers}

            # Wait until some batch is part-way through, then kill its worker.
            deadline = time.monotonic() + 300
            victim: tuple[int, str, int] | None = None
            while victim is None:
                assert time.monotonic() < deadline, "no batch was ever seen mid-way"
                assert all(w.poll() is None for w in workers), "a worker exited by itself"
                for batch_id, worker, done in _rows(url, "SELECT id, worker, done FROM playlists_reindexbatch WHERE status = 'running' AND done BETWEEN 1 AND 5"):
                    pid = int(worker.rsplit(":", 1)[1])
                    if pid in pids:
                        os.kill(pid, signal.SIGKILL)
                        victim = (batch_id, worker, pid)
                        break
                time.sleep(0.05)
            killed_at = _rows(url, "SELECT now()")[0][0]
            next(w for w in workers if w.pid == victim[2]).wait(timeout=30)
            (stored_by_victim,) = _rows(url, "SELECT done FROM playlists_reindexbatch WHERE id = %s", victim[0])[0]

            while True:
                assert time.monotonic() < deadline, "the reindex did not finish"
                status, outcome_text = _rows(url, "SELECT status, outcome::text FROM playlists_job WHERE id = %s", job_id)[0]
                if status in ("done", "failed"):
                    break
                time.sleep(0.25)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
            for log in logs:
                log.close()
        worker_logs = "\n".join((tmp_path / f"worker{n}.log").read_text()[-1500:] for n in range(WORKERS))
        assert status == "done", worker_logs
        outcome = json.loads(outcome_text)
        assert outcome["published"] and outcome["retried"] == 1 and outcome["given_up"] == 0

        # The killed worker's batch was taken again by another worker, which skipped what it had stored.
        history, attempts, skipped, batch_status = _rows(url, "SELECT history::text, attempts, skipped::text, status FROM playlists_reindexbatch WHERE id = %s", victim[0])[0]
        history = json.loads(history)
        assert batch_status == "done" and attempts == 2
        assert history[0]["worker"] == victim[1] and history[0]["outcome"].startswith("lease expired")
        assert history[1]["worker"] != victim[1] and history[1]["outcome"] == "done"
        assert sum(json.loads(skipped).values()) >= stored_by_victim >= 1
        # ...and what it stored was never written again.
        (track_ids,) = _rows(url, "SELECT track_ids::text FROM playlists_reindexbatch WHERE id = %s", victim[0])[0]
        kept = _rows(url, "SELECT count(*) FROM playlists_embedding WHERE track_id = ANY(%s) AND updated_at < %s", json.loads(track_ids), killed_at)[0][0]
        assert kept >= stored_by_victim
        # Every other batch ran once, on a worker that was not killed.
        others = _rows(url, "SELECT attempts, skipped::text FROM playlists_reindexbatch WHERE id <> %s", victim[0])
        assert others and all(attempts == 1 and sum(json.loads(s).values()) == 0 for attempts, s in others)

        # One embedding per track and modality: every track embedded once.
        tracks = _rows(url, "SELECT count(*) FROM playlists_track")[0][0]
        per_modality = dict(_rows(url, "SELECT modality, count(*) FROM playlists_embedding GROUP BY modality"))
        assert per_modality == {"audio": tracks, "lyrics": tracks}
        assert _rows(url, "SELECT count(*) FROM playlists_embedding WHERE modality = 'audio' AND status <> 'ok'")[0][0] == 0
        distributed_paths = _paths(_rows(url, "SELECT id, audio_path FROM playlists_track"))

    # The same library, one process, SQLite.
    single = tmp_path / "single"
    single_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CROSSFADE_REINDEX_BATCH")}
    single_env.update(CROSSFADE_DATA_DIR=str(single), CROSSFADE_LIBRARY_ROOTS=str(demo_library), CROSSFADE_TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend")
    _manage(single_env, "migrate", "--noinput", "--verbosity", "0")
    _manage(single_env, "ingest", str(demo_library), "--verbosity", "0")
    _manage(single_env, "reindex", "--verbosity", "0")
    with sqlite3.connect(single / "crossfade.sqlite3") as connection:
        single_paths = _paths(connection.execute("SELECT id, audio_path FROM playlists_track").fetchall())

    distributed = _index_by_path(tmp_path / "distributed", distributed_paths)
    alone = _index_by_path(single, single_paths)
    assert set(distributed) == set(alone) == {"audio", "lyrics"}
    for modality in distributed:
        assert set(distributed[modality]) == set(alone[modality]), modality
        for path, vector in alone[modality].items():
            np.testing.assert_allclose(distributed[modality][path], vector, atol=2e-4, err_msg=f"{modality} {path}")
