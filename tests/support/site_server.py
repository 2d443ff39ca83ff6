"""The real site in child processes: ``manage.py serve`` (gunicorn + db_worker) on a data folder of its own.

For tests that need what only separate processes show: the production
server's settings (DEBUG off, static files, a generated key), writes from
several processes at once (web workers, the db_worker, ``ingest``). Each
site gets its own data folder and, on PostgreSQL (``DATABASE_URL`` set), a
database of its own on the same server, made here and dropped afterwards.
Everything listens on 127.0.0.1 and is stopped when the block ends.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return manage(self.env, *args, timeout=timeout)

    def shell_json(self, code: str, timeout: float = 300) -> object:
        """Run ``code`` in ``manage.py shell``; it prints one JSON line starting with ``JSON``, returned parsed."""
        result = self.manage("shell", "-c", code, timeout=timeout)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        line = next(line for line in result.stdout.splitlines() if line.startswith("JSON"))
        return json.loads(line[4:])

    def processes(self) -> dict[int, str]:
        """pid -> command line of the server and everything it started."""
        found = {self.process.pid: _cmdline(self.process.pid)}
        frontier = [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                            found[int(entry.name)] = _cmdline(int(entry.name))
                            frontier.append(int(entry.name))
                    except (OSError, ValueError, IndexError):
                        continue
        return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def site_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CROSSFADE_")) and k != "DATABASE_URL"}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)
    return environment


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def database_of_its_own() -> Iterator[str | None]:
    """On PostgreSQL (``DATABASE_URL`` set): a fresh database on that server, its URL, dropped afterwards; else None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    name = f"crossfade_site_{secrets.token_hex(4)}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def site_running(data_dir: Path, *, workers: int = 2, threads: int = 4, db_worker: bool = True, **extra_env: str) -> Iterator[Site]:
    """``manage.py serve`` on a free port with ``data_dir`` (migrated first), until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with database_of_its_own() as database_url:
        env = site_environment(data_dir, **extra_env, **({"DATABASE_URL": database_url} if database_url else {}))
        migrated = manage(env, "migrate", "--noinput", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        port = free_port()
        log = data_dir / "serve.log"
        command = [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)]
        if not db_worker:
            command.append("--no-worker")
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        site = Site(url=f"http://127.0.0.1:{port}/", env=env, process=process, log=log)
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"manage.py serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    requests.get(site.url + "accounts/login/", timeout=5)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the site did not answer within 120 s:\n{log.read_text()[-3000:]}") from None
                    time.sleep(0.3)
            yield site
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # anything left of the group (a stuck worker)
