"""The Subsonic API on the demo catalogue, as a player sees it: ``getSimilarSongs2`` and the first byte of ``stream``.

    python -m bench.subsonic [--repeats 20] [--port 0] [--data-dir DIR]

Builds the demo catalogue (synthesised, ingested with its covers, indexed) in
a temporary data folder, sets a Subsonic password, starts the production
server (``manage.py serve``: gunicorn, DEBUG off, as ``make serve``) in a
fresh process on 127.0.0.1, and times over HTTP with token authentication (one keep-alive
session, like a player): ``ping`` (authentication and HTTP alone), ``getSimilarSongs2`` of ``count=50`` for different
seed songs, ``stream`` until the first byte and until the last, a ``stream`` of the
second half (a seek), and ``getCoverArt`` at 300 px (first: resized; again: cached).
Then ``ping`` and ``getSimilarSongs2`` again through Django's test client in
this process (the server's own time, without HTTP). Prints
JSON with medians and 90th percentiles in milliseconds and the load average
before and after. Stops the server when done and removes the temporary
folder; ``--data-dir`` measures a folder of your own that has a serving index
(``manage.py demo`` makes one), and keeps it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.demo_catalogue import demo_catalogue

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-subsonic-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _summary(milliseconds: list[float]) -> dict[str, float]:
    ordered = sorted(milliseconds)
    return {"median_ms": round(statistics.median(ordered), 2), "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2), "n": len(ordered)}


def _player_account() -> None:
    """The player's login: the user ``bench`` with the Subsonic password the measurements send."""
    from django.contrib.auth import get_user_model

    from playlists.accounts.subsonic import subsonic_password_set

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_user("bench", password="bench-site-password-1")
    subsonic_password_set(user=user, password=PASSWORD)


def _measure(base: str, repeats: int) -> dict:
    import requests

    session = requests.Session()

    def auth() -> dict[str, str]:
        salt = os.urandom(6).hex()
        return {"u": "bench", "t": hashlib.md5(f"{PASSWORD}{salt}".encode()).hexdigest(), "s": salt, "v": "1.16.1", "c": "bench", "f": "json"}

    def call(method: str, **params: object) -> dict:
        answer = session.get(f"{base}/rest/{method}", params={**auth(), **params}, timeout=30).json()["subsonic-response"]
        if answer["status"] != "ok":
            raise SystemExit(f"{method} failed: {answer}")
        return answer

    pings: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        call("ping")
        pings.append(1000 * (time.perf_counter() - started))
    songs = call("search3", query="", songCount=500)["searchResult3"]["song"]
    ids = [s["id"] for s in songs]
    similar: list[float] = []
    returned = 0
    call("getSimilarSongs2", id=ids[0], count=50)  # warm-up: opens the index, loads nothing else
    for n in range(repeats):
        started = time.perf_counter()
        returned = len(call("getSimilarSongs2", id=ids[n % len(ids)], count=50)["similarSongs2"]["song"])
        similar.append(1000 * (time.perf_counter() - started))
    first_byte: list[float] = []
    whole: list[float] = []
    ranged: list[float] = []
    sizes = []
    for n in range(repeats):
        song = ids[(7 * n) % len(ids)]
        started = time.perf_counter()
        with session.get(f"{base}/rest/stream", params={**auth(), "id": song}, stream=True, timeout=30) as response:
            response.raise_for_status()
            chunks = response.iter_content(chunk_size=64 * 1024)
            next(chunks)
            first_byte.append(1000 * (time.perf_counter() - started))
            size = 64 * 1024 + sum(len(chunk) for chunk in chunks)
            whole.append(1000 * (time.perf_counter() - started))
            sizes.append(size)
        started = time.perf_counter()
        with session.get(f"{base}/rest/stream", params={**auth(), "id": song}, headers={"Range": f"bytes={size // 2}-"}, stream=True, timeout=30) as response:
            if response.status_code != 206:
                raise SystemExit(f"a ranged stream answered {response.status_code}")
            next(response.iter_content(chunk_size=64 * 1024))
            ranged.append(1000 * (time.perf_counter() - started))
    album = songs[0]["albumId"]
    started = time.perf_counter()
    cover = session.get(f"{base}/rest/getCoverArt", params={**auth(), "id": album, "size": 300}, timeout=30)
    cover_first = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    session.get(f"{base}/rest/getCoverArt", params={**auth(), "id": album, "size": 300}, timeout=30)
    cover_cached = 1000 * (time.perf_counter() - started)
    return {
        "songs": len(ids),
        "ping": _summary(pings),
        "getSimilarSongs2_count50": {**_summary(similar), "returned": returned},
        "stream_first_byte": _summary(first_byte),
        "stream_whole_file": {**_summary(whole), "median_bytes": int(statistics.median(sizes))},
        "stream_range_first_byte": _summary(ranged),
        "getCoverArt_300px_ms": {"resized": round(cover_first, 2), "cached": round(cover_cached, 2), "content_type": cover.headers.get("Content-Type")},
    }


def _in_process(repeats: int) -> dict:
    """The same ``ping`` and ``getSimilarSongs2`` through Django's test client: the server's own time, without HTTP."""
    from django.test import Client

    client = Client()
    salt = "b3nch5"
    auth = {"u": "bench", "t": hashlib.md5(f"{PASSWORD}{salt}".encode()).hexdigest(), "s": salt, "v": "1.16.1", "c": "bench", "f": "json"}
    ids = [s["id"] for s in client.get("/rest/search3", {**auth, "query": "", "songCount": 500}).json()["subsonic-response"]["searchResult3"]["song"]]
    out: dict = {}
    for name, method, params in (("ping", "ping", lambda n: {}), ("getSimilarSongs2_count50", "getSimilarSongs2", lambda n: {"id": ids[n % len(ids)], "count": 50})):
        client.get(f"/rest/{method}", {**auth, **params(0)})
        times = []
        for n in range(repeats):
            started = time.perf_counter()
            client.get(f"/rest/{method}", {**auth, **params(n)})
            times.append(1000 * (time.perf_counter() - started))
        out[name] = _summary(times)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--data-dir", type=Path, default=None, help="a data folder with a serving index (default: the demo, built in a temporary folder)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with demo_catalogue(args.data_dir.resolve() if args.data_dir else None, prefix="crossfade-bench-subsonic-") as workdir:
        _player_account()
        return _run(args, workdir, prepare_s=time.perf_counter() - started)


def _run(args: argparse.Namespace, workdir: Path, *, prepare_s: float) -> dict:
    result: dict = {"cpu_count": os.cpu_count(), "data_dir": str(workdir), "prepare_s": round(prepare_s, 1)}
    port = args.port or _free_port()
    env = {**os.environ, "CROSSFADE_DATA_DIR": str(workdir)}
    # The production server (gunicorn, DEBUG off), as a household runs it; its own session, so all of it stops at the end.
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-worker", "--verbosity", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        import requests

        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/rest/getOpenSubsonicExtensions", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.5)
        result["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
        result["http"] = _measure(f"http://127.0.0.1:{port}", args.repeats)
        result["in_process"] = _in_process(args.repeats)
        result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
