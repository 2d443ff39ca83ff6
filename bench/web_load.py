"""The site under load: the production server on the demo catalogue, 20 concurrent clients per scenario.

    python -m bench.web_load [--seconds 60] [--clients 20] [--max-requests 20000]
                             [--server production|runserver] [--checkout PATH] [--data-dir DIR]

Starts the server of ``--checkout`` (default: this one) on 127.0.0.1 and a
free port, on the demo catalogue in ``--data-dir`` (built there with
``manage.py demo`` when missing; default a temporary folder), with a
``bench`` login, a personal API token and a 30-track playlist. Then, one
after the other, ``--clients`` threads drive each scenario for at most
``--seconds`` or ``--max-requests`` requests, whichever comes first:

- ``playlist_page``: ``GET /playlists/<id>/`` (signed in)
- ``catalogue_search``: ``GET /?q=<word>`` (signed in)
- ``similar``: ``GET /api/tracks/<id>/similar`` (token), seeds in turn
- ``recommendations``: ``GET /api/recommendations?seed_tracks=…&limit=20`` (token)
- ``likers``: ``POST /api/tracks/<id>/rating`` (token), like and dislike in turn

and prints JSON: per scenario requests, requests/s, p50/p95/p99 in ms and
errors (non-2xx answers and failed connections), and the CPU the load
generator itself used per request (it shares the machine's cores with the
server); the load average before and after; the resident memory of each web
worker process after the load. Each client is one kept-alive HTTP/1.1
connection through the standard library's ``http.client`` (a real HTTP
client over loopback, at a fraction of ``requests``' CPU per request); the
login that gives the page clients their session cookie is made with
``requests``, as a browser would, before any timing.
``--server runserver`` measures Django's development server the same way
(``--checkout`` lets it measure another checkout, e.g. an export of main).
Everything talks to 127.0.0.1 only, and the server is stopped at the end.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("playlist_page", "catalogue_search", "similar", "recommendations", "likers")
USERNAME, PASSWORD = "bench", "bench-password-not-secret-1"

# Run inside the checkout's Django (manage.py shell -c): the login, a token and a playlist, printed as JSON.
_SETUP = """
import json
from django.contrib.auth import get_user_model
from playlists.accounts.tokens import api_token_create
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Playlist, Track
user, _ = get_user_model().objects.get_or_create(username=%(username)r)
user.set_password(%(password)r)
user.save()
_, token = api_token_create(user=user, name="bench.web_load")
tracks = list(Track.objects.exclude(audio_path=None).order_by("id").values_list("id", flat=True))
playlist = Playlist.objects.filter(owner=user).first() or playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=tracks[:2], length=30), name="bench")
print("BENCH" + json.dumps({"token": token, "tracks": tracks, "playlist": playlist.id}))
"""


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    retried: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: str, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.errors += not ok


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _manage(checkout: Path, env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _wait_ready(url: str, process: subprocess.Popen[bytes], *, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode} before answering")
        try:
            requests.get(url + "accounts/login/", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer within {timeout:.0f} s")


class ConnectionClosed(ConnectionError):
    """The server closed a kept-alive connection (idle past its keep-alive) before answering."""


class Client:
    """One client: a kept-alive HTTP/1.1 connection to the server on 127.0.0.1, with fixed headers (cookie or token)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = headers
        self.connection: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, *, query: dict[str, object] | None = None, json_body: object = None) -> int:
        """The HTTP status of one request; the whole answer is read, as a browser would. Raises :class:`ConnectionClosed`
        when a kept-alive connection turned out closed (the caller may send again), ``OSError`` for other failures."""
        if query:
            path = f"{path}?{urlencode(query)}"
        headers = dict(self.headers)
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        reused = self.connection is not None
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
        except (http.client.HTTPException, OSError) as error:
            self.close()
            if reused and isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
                raise ConnectionClosed(str(error)) from error
            raise OSError(f"{type(error).__name__}: {error}") from error
        if response.will_close:
            self.close()
        return response.status

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _signed_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    answer = session.post(
        base + "accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1) if token else "", "next": "/"},
        headers={"Referer": base + "accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"could not log in as {USERNAME}: HTTP {answer.status_code}")
    return session


def _drive(clients: int, seconds: float, budget: int, request: Callable[[int, int], tuple[str, bool]], *, idempotent: bool = True) -> dict[str, object]:
    """``clients`` threads call ``request(client, n)`` until ``seconds`` pass or ``budget`` requests are made.

    An idempotent request that finds its kept-alive connection closed by the
    server (idle past its keep-alive) is sent once more, as browsers do; such
    retries are counted (``retried``) and their time is in the latency.
    ``client_cpu_ms_per_request`` is this process's CPU (user + system) over
    the run divided by the requests: what the load generator takes from the
    cores the server also runs on.
    """
    outcome = Outcome()
    counter = iter(range(budget))
    counter_lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        while time.monotonic() < deadline:
            with counter_lock:
                n = next(counter, None)
            if n is None:
                return
            started = time.perf_counter()
            try:
                try:
                    status, ok = request(number, n)
                except ConnectionClosed:
                    if not idempotent:
                        raise
                    with outcome.lock:
                        outcome.retried += 1
                    status, ok = request(number, n)
            except OSError as error:
                status, ok = type(error).__name__, False
            outcome.add(time.perf_counter() - started, status, ok)

    cpu_before = os.times()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu_after = os.times()
    client_cpu_s = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    latencies = sorted(outcome.latencies)

    def percentile(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else 0.0,
        "errors": outcome.errors,
        "retried": outcome.retried,
        "statuses": outcome.statuses,
        "client_cpu_ms_per_request": round(1000 * client_cpu_s / len(latencies), 2) if latencies else 0.0,
    }


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            children.append(int(entry.name))
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _web_workers(process: subprocess.Popen[bytes]) -> dict[str, float | None]:
    """Resident memory (MB) of the processes that answer requests: gunicorn's workers, or runserver itself."""
    rows: dict[str, float | None] = {}
    for pid in [process.pid, *_descendants(process.pid)]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "gunicorn" in command or "runserver" in command:
            rows[f"{pid} {command.split(' -m ')[-1][:40].strip()}"] = _rss_mb(pid)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="longest time per scenario")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--max-requests", type=int, default=20_000, help="most requests per scenario")
    parser.add_argument("--server", choices=("production", "runserver"), default="production")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the Crossfade checkout whose server is measured")
    parser.add_argument("--data-dir", type=Path, help="a data folder with (or for) the demo catalogue; default a temporary one")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")

    checkout = args.checkout.resolve()
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="crossfade-web-load-")) if temporary else args.data_dir.resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CROSSFADE_"))}
    env.update(CROSSFADE_DATA_DIR=str(data_dir), CROSSFADE_MUSIC_DIR=str(data_dir / "demo" / "music"), DJANGO_SETTINGS_MODULE="config.settings", PYTHONUNBUFFERED="1")
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    process: subprocess.Popen[bytes] | None = None
    try:
        _manage(checkout, env, "migrate", "--noinput", "--verbosity", "0")
        if not (data_dir / "index" / "CURRENT").exists():
            _manage(checkout, env, "demo", "--no-user", "--verbosity", "0")
        setup = _manage(checkout, env, "shell", "-c", _SETUP % {"username": USERNAME, "password": PASSWORD})
        fixture = json.loads(setup[setup.index("BENCH") + 5 :].splitlines()[0])
        if args.server == "production":
            _manage(checkout, env, "collectstatic", "--noinput", "--verbosity", "0")
            command = [sys.executable, "manage.py", "serve", "--port", str(port), "--verbosity", "0"]
        else:
            command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--verbosity", "0"]
        process = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_ready(base, process)

        tracks: list[int] = fixture["tracks"]
        bearer = {"Authorization": f"Bearer {fixture['token']}"}
        words = ["sea", "night", "love", "road", "rain", "fire", "home", "dance"]
        # Each page client is a browser signed in once (its own session); each API client sends the token.
        sessions = [Client(port, {"Cookie": "; ".join(f"{k}={v}" for k, v in _signed_in(base).cookies.items())}) for _ in range(args.clients)]
        apis = [Client(port, bearer) for _ in range(args.clients)]

        def ok(status: int) -> tuple[str, bool]:
            return str(status), 200 <= status < 300

        requests_by_scenario: dict[str, Callable[[int, int], tuple[str, bool]]] = {
            "playlist_page": lambda c, n: ok(sessions[c].send("GET", f"/playlists/{fixture['playlist']}/")),
            "catalogue_search": lambda c, n: ok(sessions[c].send("GET", "/", query={"q": words[n % len(words)]})),
            "similar": lambda c, n: ok(apis[c].send("GET", f"/api/tracks/{tracks[n % len(tracks)]}/similar")),
            "recommendations": lambda c, n: ok(
                apis[c].send("GET", "/api/recommendations", query={"seed_tracks": f"{tracks[n % len(tracks)]},{tracks[(n * 7 + 3) % len(tracks)]}", "limit": 20})
            ),
            "likers": lambda c, n: ok(apis[c].send("POST", f"/api/tracks/{tracks[(c * 5 + n) % len(tracks)]}/rating", json_body={"rating": 1 if n % 2 else -1})),
        }
        # One warm-up pass: the first request of a worker opens the index and fills its caches.
        for name in scenarios:
            _drive(args.clients, 30, args.clients * 2, requests_by_scenario[name], idempotent=name != "likers")
        load_before = [round(x, 2) for x in os.getloadavg()]
        results = {name: _drive(args.clients, args.seconds, args.max_requests, requests_by_scenario[name], idempotent=name != "likers") for name in scenarios}
        load_after = [round(x, 2) for x in os.getloadavg()]
        report = {
            "server": args.server,
            "checkout": str(checkout),
            "clients": args.clients,
            "seconds_per_scenario": args.seconds,
            "cores": os.cpu_count(),
            "tracks": len(tracks),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "scenarios": results,
            "web_worker_rss_mb": _web_workers(process),
        }
        for client in sessions + apis:
            client.close()
        print(json.dumps(report, indent=2))
        return 0
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
