"""Runs Crossfade as it runs for real: a production web server and the background worker, started and stopped together.

Why: ``runserver`` is a development server (one process, debug pages, no
worker management) and must never face a household's network. This starts
gunicorn with one worker process per core (``CROSSFADE_WEB_WORKERS``), each
with a few threads (``CROSSFADE_WEB_THREADS``), always with DEBUG off, and
``manage.py db_worker`` beside it for the work started from the site; when
either stops, or the command is interrupted, both are stopped.
``make serve`` runs it after ``migrate`` and ``collectstatic``; ``make dev``
is the development server.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

#: Thread counts of the numeric libraries, set to 1 for the web workers unless the environment says otherwise.
SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: How long the processes get to finish their requests and tasks after being asked to stop.
STOP_GRACE_S = 20


def web_server_command(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> list[str]:
    """The gunicorn command line for the site."""
    module, _, attribute = str(settings.WSGI_APPLICATION).rpartition(".")
    command = [
        sys.executable, "-m", "gunicorn", f"{module}:{attribute}",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
        # An uploaded seed is analysed within the request (bounded, a few seconds); anything longer is stuck.
        "--timeout", "120",
        "--graceful-timeout", str(STOP_GRACE_S),
        # Browsers and players reuse a connection between a page and its audio, pictures and API calls.
        "--keep-alive", "5",
        "--error-logfile", "-",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    return command


def db_worker_command(*, verbosity: int) -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "db_worker", "--queue-name", "default,reindex", "--verbosity", str(min(verbosity, 1))]


class Command(BaseCommand):
    help = "Serve the site with gunicorn (DEBUG off, one worker per core) and run the db_worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.CROSSFADE_HOST, help="address to listen on (default HOST, 127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.CROSSFADE_PORT, help="port (default PORT, 8000)")
        parser.add_argument("--workers", type=int, default=settings.CROSSFADE_WEB_WORKERS, help="web worker processes (default CROSSFADE_WEB_WORKERS: the cores)")
        parser.add_argument("--threads", type=int, default=settings.CROSSFADE_WEB_THREADS, help="threads per web worker (default CROSSFADE_WEB_THREADS)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the db_worker (another machine runs it)")
        parser.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        commands = {
            "web": web_server_command(host=options["host"], port=options["port"], workers=options["workers"], threads=options["threads"], access_log=verbosity >= 2)
        }
        if not options["no_worker"]:
            commands["db_worker"] = db_worker_command(verbosity=verbosity)
        if options["dry_run"]:
            for name, command in commands.items():
                self.stdout.write(f"{name}: {' '.join(command)}")
            return
        # The production server never runs with DEBUG on, whatever the shell says.
        environment = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")}
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Serving http://{options['host']}:{options['port']}/ with {options['workers']} worker processes × {options['threads']} threads"
                    + ("" if options["no_worker"] else ", and the db_worker")
                    + "; Ctrl-C stops both."
                )
            )
        # A web request's numeric work is small matrices: BLAS and OpenMP threads would only hand off and spin
        # (and contend across worker processes); the site scales with processes instead. The db_worker keeps its
        # threads for embedding.
        web_environment = {**environment, **{name: environment.get(name, "1") for name in SINGLE_THREADED}}
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR, env=web_environment if name == "web" else environment, preexec_fn=_stop_with_parent)
            for name, command in commands.items()
        }
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping and all(p.poll() is None for p in processes.values()):
                time.sleep(0.2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            ended = [name for name, p in processes.items() if p.poll() is not None]
            _stop_all(processes)
        if ended and not stopping:
            codes = ", ".join(f"{name} exited with {processes[name].returncode}" for name in ended)
            raise CommandError(f"{codes}; stopped the rest")


def _stop_with_parent() -> None:
    """In the child: on Linux, be sent SIGTERM when this command dies, even by SIGKILL, so no server is left behind."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop_all(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S + 5
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
