"""Distributed reindex throughput: tracks/s with 1 and 2 ``db_worker`` processes, and the time to publish.

    python -m bench.distributed [--workers 1 2] [--batch 8] [--copies 4]

Starts a throwaway PostgreSQL server on 127.0.0.1 (the tests' helper,
``tests/support/postgres_server.py``), synthesises the demo library
(``--copies`` copies of it, each its own files and its own tracks), and for
each worker count starts that many ``manage.py db_worker`` processes with the
product's worker settings (one torch/BLAS thread each,
``CROSSFADE_WORKER_THREADS=1``: workers scale by processes). Before the
clock starts every worker is *warm*: warm-up reindexes of tracks of their own
(batches of one) run until each worker has embedded at least one, so model
loading and first-call costs are outside the timed part. It then times a
reindex of the whole library (``CROSSFADE_REINDEX_BATCH=--batch``). Prints JSON:

- ``tracks_per_s``: tracks in finished batches over the time from the first
  batch's start to the last batch's end (steady-state analysis throughput);
- ``wall_s``: from queueing the reindex to the job being done;
- ``last_batch_to_published_s``: from the last batch's end to the index
  published (queueing the publish task, a worker taking it, the build);
- ``speedup``: ``tracks_per_s`` with N workers over that with 1;
- ``batches_per_worker``: how the batches were shared (a tail of one batch
  on one worker is the granularity the figure carries).

Needs PostgreSQL's server binaries (``initdb``, ``pg_ctl``); everything
runs in temporary folders that are removed afterwards. Stops by itself
(``--timeout`` per reindex). ``--lock FILE`` holds an exclusive ``flock`` on
FILE only while the workers run (the library synthesis is outside it).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lock import lock_held  # noqa: E402


def _manage(env: dict[str, str], *args: str, timeout: float = 1200) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def _query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return list(connection.execute(sql, params).fetchall())


def _reindex(env: dict[str, str], url: str, *, full: bool, timeout: float) -> dict[str, Any]:
    """Queue a reindex, wait for its job; returns its outcome plus the wall time."""
    before = _query(url, "SELECT coalesce(max(id), 0) FROM playlists_job")[0][0]
    started = time.perf_counter()
    _manage(env, "reindex", "--no-wait", "--verbosity", "0", *(["--full"] if full else []))
    deadline = time.monotonic() + timeout
    while True:
        rows = _query(url, "SELECT status, outcome::text, error FROM playlists_job WHERE kind = 'reindex' AND id > %s ORDER BY id DESC LIMIT 1", before)
        if rows and rows[0][0] in ("done", "failed"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the reindex did not finish within {timeout:.0f} s")
        time.sleep(0.2)
    status, outcome, error = rows[0]
    if status != "done":
        raise SystemExit(f"the reindex failed: {error.splitlines()[0] if error else '?'}")
    return {**json.loads(outcome), "wall_s": round(time.perf_counter() - started, 2)}


def _database_create(url: str, name: str) -> str:
    """A new empty database on the server of ``url``; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _workers_start(env: dict[str, str], count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    processes = []
    for number in range(count):
        log = open(logs / f"worker{number}.log", "wb")
        processes.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "db_worker", "--queue-name", "default,reindex", "--interval", "0.2", "--no-startup-delay", "--no-reload", "--worker-id", f"bench-{count}-{number}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        )
        log.close()
    # Until every worker polls the queue, the first one would take every warm-up batch.
    deadline = time.monotonic() + 300
    while not all("Starting worker" in (logs / f"worker{n}.log").read_text(errors="replace") for n in range(count)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise SystemExit(f"the workers did not start; see {logs}")
        time.sleep(0.2)
    return processes


def _workers_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _library_write(music: str, copies: int, nice: int) -> None:
    if nice:
        os.nice(nice)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from playlists.demo.music import demo_library_write

    for copy in range(1, copies + 1):
        demo_library_write(Path(music) / f"copy-{copy}", seed=7 + copy - 1)


AUDIO_SUFFIXES = (".mp3", ".ogg", ".flac", ".wav", ".m4a", ".opus")


def _warm(env: dict[str, str], url: str, count: int, sources: list[Path], folder: Path, *, rounds: int = 6, timeout: float) -> dict[str, int]:
    """Warm-up reindexes (batches of one) until each of the ``count`` workers has embedded a track.

    Returns ``{worker: the round it was first seen}``. A worker busy loading its
    models while another drains the queue gets a batch in a later round; after
    ``rounds`` without every worker seen the benchmark stops (a figure with a
    cold worker in it would not be steady state).
    """
    warm_env = {**env, "CROSSFADE_REINDEX_BATCH": "1"}
    seen: dict[str, int] = {}
    for number in range(1, rounds + 1):
        target = folder / f"round-{number}"
        target.mkdir(parents=True)
        # Two tracks a worker a round, new paths each round: there is always something to embed.
        for position, source in enumerate(sources[: 2 * count]):
            shutil.copy(source, target / f"warm-{position}{source.suffix}")
        _manage(warm_env, "ingest", str(target), "--verbosity", "0")
        outcome = _reindex(warm_env, url, full=False, timeout=timeout)
        for worker in outcome.get("workers", {}):
            seen.setdefault(worker, number)
        if len(seen) >= count:
            return seen
    raise SystemExit(f"after {rounds} warm-up reindexes only {len(seen)} of {count} workers had embedded a track: {sorted(seen)}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time (the first is the baseline)")
    parser.add_argument("--batch", type=int, default=8, help="tracks per batch (CROSSFADE_REINDEX_BATCH)")
    parser.add_argument("--copies", type=int, default=4, help="copies of the 48-track demo library to index (each synthesised with its own seed)")
    parser.add_argument("--synth-nice", type=int, default=0, help="niceness of the process that synthesises the library (not timed)")
    parser.add_argument("--warmup-rounds", type=int, default=6, help="most warm-up reindexes before giving up on warming every worker")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds one reindex may take")
    parser.add_argument("--lock", default=None, help="hold an exclusive flock on this file while the workers run (the synthesis is outside it)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres_server import postgres_binaries, postgres_running

    if postgres_binaries() is None:
        raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) are not installed; apt-get install postgresql")
    load_before = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-distributed-"))
    report: dict[str, Any] = {"batch": args.batch, "cpu_count": os.cpu_count(), "runs": {}}
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        music = workdir / "music"
        # Each copy its own synthesis (another seed): distinct files, the same work per track. Not timed:
        # in a process of its own, at --synth-nice.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply(_library_write, (str(music), args.copies, args.synth_nice))
        # Warm-up tracks of their own (other files, other paths), enough rounds of them for every worker.
        warmup = workdir / "warmup"
        sources = sorted(p for p in (music / "copy-1").rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        with lock_held(args.lock) as waited, postgres_running() as server_url:
            if waited is not None:
                report["lock_waited_s"] = waited
            report["load_average_timed_start"] = [round(x, 2) for x in os.getloadavg()]
            for count in args.workers:
                # Each worker count gets a database of its own: the same catalogue, all of it to embed.
                url = _database_create(server_url, f"crossfade_{count}")
                env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith("CROSSFADE_")},
                    "DATABASE_URL": url,
                    "CROSSFADE_DATA_DIR": str(workdir / f"data-{count}"),
                    "CROSSFADE_LIBRARY_ROOTS": os.pathsep.join([str(music), str(warmup)]),
                    "CROSSFADE_REINDEX_BATCH": str(args.batch),
                    "CROSSFADE_REINDEX_LEASE_S": "60",
                    "CROSSFADE_WORKER_THREADS": "1",
                    "CROSSFADE_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
                }
                _manage(env, "migrate", "--noinput", "--verbosity", "0")
                processes = _workers_start(env, count, workdir)
                try:
                    warmed = _warm(env, url, count, sources, warmup / f"workers-{count}", rounds=args.warmup_rounds, timeout=args.timeout)
                    _manage(env, "ingest", str(music), "--verbosity", "0")
                    outcome = _reindex(env, url, full=False, timeout=args.timeout)
                finally:
                    _workers_stop(processes)
                report["tracks"] = _query(url, "SELECT count(*) FROM playlists_track WHERE audio_path NOT LIKE %s", str(warmup) + "%")[0][0]
                report["runs"][str(count)] = {
                    "workers_warmed": len(warmed),
                    "warmup_rounds": max(warmed.values(), default=0),
                    "workers_used": len(outcome.get("workers", {})),
                    "batches_per_worker": sorted(outcome.get("workers", {}).values(), reverse=True),
                    "tracks_per_s": outcome.get("tracks_per_s"),
                    "wall_s": outcome["wall_s"],
                    "last_batch_to_published_s": outcome.get("last_batch_to_published_s"),
                    "publish_s": outcome.get("publish_s"),
                    "batches": outcome.get("batches"),
                    "retried": outcome.get("retried"),
                    "embedded": outcome.get("embedded"),
                }
            report["load_average_timed_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base = report["runs"].get(str(args.workers[0]), {}).get("tracks_per_s")
    for count, run in report["runs"].items():
        run["speedup"] = round(run["tracks_per_s"] / base, 2) if base and run.get("tracks_per_s") else None
    report["load_average_before"] = load_before
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
