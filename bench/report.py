"""Runs the benchmarks at the product's shapes and writes ``docs/performance.md`` from their JSON.

    python -m bench.report                       # every benchmark (an hour or more on 2 cores)
    python -m bench.report --only index_1m_quiet --only index_1m_loaded
    python -m bench.report --render              # re-write the page from docs/performance.json
    python -m bench.report --quick --json /tmp/p.json --out /tmp/p.md   # small sizes (a smoke test)

Each benchmark runs as its own process (``python -m bench.<name> ...``), prints
JSON, and is recorded in ``docs/performance.json`` with the machine, the date,
the command, its wall time and the load average just before and just after
it (a 2-core machine shared with other work gives figures that depend on
load; where they do, the plan has a run with no load added and one beside
busy processes from ``bench.load``). Runs replace earlier runs of the same
name, so ``--only`` refreshes some figures and keeps the rest. A benchmark
module missing from a checkout is listed as skipped. ``docs/performance.md`` is generated from the
JSON file alone; the README quotes figures only from it.

Before a run with no load added it waits (``--quiet-below``, ``--quiet-wait``)
for the 1-minute load average to drop, and records what it was either way.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_JSON = ROOT / "docs" / "performance.json"
DEFAULT_OUT = ROOT / "docs" / "performance.md"
#: Busy processes beside the loaded runs (three busy loops on two cores: the condition the stalls were found in).
BUSY = "3"


@dataclass(frozen=True)
class Benchmark:
    """One run of one benchmark module; ``quick`` are its arguments in ``--quick`` mode (None: not run there)."""

    name: str
    module: str
    args: tuple[str, ...]
    title: str
    condition: str = "quiet"
    quick: tuple[str, ...] | None = None
    timeout_s: int = 3600
    #: Takes ``--lock FILE`` and holds it for its timed part only (its untimed setup runs outside the lock).
    locks_itself: bool = False


PLAN: tuple[Benchmark, ...] = (
    Benchmark("index_100k_quiet", "bench.index", ("--n", "100000"), "Index, 100,000 tracks", quick=("--n", "20000", "--queries", "150", "--recall-queries", "40")),
    Benchmark("index_100k_loaded", "bench.index", ("--n", "100000", "--load", BUSY), "Index, 100,000 tracks", "loaded", quick=("--n", "20000", "--queries", "150", "--recall-queries", "40", "--load", "2")),
    Benchmark("index_1m_quiet", "bench.index", ("--n", "1000000", "--keep", "{work}/index-1m"), "Index, 1,000,000 tracks"),
    Benchmark("index_1m_loaded", "bench.index", ("--n", "1000000", "--reuse", "{work}/index-1m", "--load", BUSY), "Index, 1,000,000 tracks (the quiet run's build)", "loaded"),
    Benchmark("index_1m_build_loaded", "bench.index", ("--n", "1000000", "--load", BUSY, "--load-build", "--queries", "300", "--recall-queries", "50"), "Index, 1,000,000 tracks, built beside the load", "loaded"),
    Benchmark("build_threads", "bench.build_threads", ("--n", "400000"), "Build threads", "both", quick=("--n", "20000", "--no-audio", "--load", "1")),
    Benchmark("reindex_stored_1m", "bench.reindex", ("--stored", "1000000", "--fill-nice", "15"), "Index build from 1,000,000 stored embeddings", quick=("--stored", "3000"), locks_itself=True),
    Benchmark("reindex_stored_200k", "bench.reindex", ("--stored", "200000", "--fill-nice", "15"), "Index build from 200,000 stored embeddings", locks_itself=True),
    Benchmark("reindex_demo", "bench.reindex", (), "Demo pipeline: synthesise, ingest, reindex"),
    Benchmark("playlist", "bench.playlist", ("--synthetic", "1000000"), "Playlist requests (demo catalogue, 1,000,000-track synthetic index)", quick=("--synthetic", "20000", "--skip-demo", "--repeats", "2")),
    Benchmark("distributed", "bench.distributed", ("--synth-nice", "15"), "Distributed reindex (PostgreSQL, db_worker processes)", locks_itself=True),
    Benchmark("analysis", "bench.analysis", ("--batch", "100"), "Audio analysis"),
    Benchmark("lyrics", "bench.lyrics", (), "Lyrics encoders"),
    Benchmark("import_kaggle", "bench.import_kaggle", (), "Kaggle import, 114,000 rows"),
    Benchmark("web_load", "bench.web_load", (), "The production server under load", "loaded", quick=("--seconds", "5", "--clients", "4", "--max-requests", "200")),
)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions: dict[str, str] = {"python": platform.python_version()}
    for package in ("numpy", "faiss", "torch", "django"):
        try:
            module = __import__(package)
            versions[package] = str(getattr(module, "__version__", "?"))
        except ImportError:
            continue
    return {"cpu": model or platform.processor() or "unknown", "cores": os.cpu_count(), "memory_gb": memory_gb, "system": f"{platform.system()} {platform.release()}", "versions": versions}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _wait_quiet(below: float, longest_s: float, say: Callable[[str], None]) -> float:
    """Wait up to ``longest_s`` for the 1-minute load average to drop below ``below``; returns how long it waited."""
    started = time.monotonic()
    while os.getloadavg()[0] >= below and time.monotonic() - started < longest_s:
        time.sleep(15)
    waited = time.monotonic() - started
    if os.getloadavg()[0] >= below:
        say(f"  the load average stayed at {os.getloadavg()[0]:.2f} (>= {below}); running anyway, the load is recorded")
    return round(waited, 1)


@contextlib.contextmanager
def _held(lock: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``lock`` for the block (none when None)."""
    if lock is None:
        yield
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _parse(stdout: str) -> dict[str, Any]:
    """The JSON document a benchmark printed (the last top-level one)."""
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    position = 0
    while True:
        start = stdout.find("{", position)
        if start < 0:
            break
        try:
            value, end = decoder.raw_decode(stdout, start)
        except ValueError:
            position = start + 1
            continue
        if isinstance(value, dict):
            found = value
        position = end
    if found is None:
        raise ValueError("no JSON document in the output")
    return found


def run(benchmark: Benchmark, *, quick: bool, work: Path, quiet_below: float, quiet_wait: float, say: Callable[[str], None], lock: Path | None = None) -> dict[str, Any]:
    """Run one benchmark and return its record (result or reason it was skipped or failed).

    ``lock``: a file to hold an exclusive ``flock`` on while the benchmark measures (a machine
    shared by several people's benchmarks); a benchmark that ``locks_itself`` is handed it and
    takes it for its timed part only, any other runs whole under it.
    """
    record: dict[str, Any] = {"name": benchmark.name, "module": benchmark.module, "title": benchmark.title, "condition": benchmark.condition}
    if importlib.util.find_spec(benchmark.module) is None:
        record["skipped"] = f"{benchmark.module} is not in this checkout"
        return record
    args = benchmark.quick if quick else benchmark.args
    if args is None:
        record["skipped"] = "not run with --quick"
        return record
    args = tuple(a.replace("{work}", str(work)) for a in args)
    if lock is not None and benchmark.locks_itself:
        args = (*args, "--lock", str(lock))
    if benchmark.condition == "quiet":
        record["waited_for_quiet_s"] = _wait_quiet(quiet_below, quiet_wait, say)
    command = [sys.executable, "-m", benchmark.module, *args]
    record["command"] = "python -m " + " ".join([benchmark.module, *args]).replace(str(work), "$WORK")
    record["started_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    record["machine"] = machine_name(machine())
    record["load_average_before"] = _load()
    started = time.monotonic()
    try:
        with _held(lock if not benchmark.locks_itself else None):
            completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=benchmark.timeout_s)
    except subprocess.TimeoutExpired:
        record.update(wall_s=round(time.monotonic() - started, 1), load_average_after=_load(), failed=f"stopped after {benchmark.timeout_s} s")
        return record
    record.update(wall_s=round(time.monotonic() - started, 1), load_average_after=_load())
    if completed.returncode != 0:
        record["failed"] = (completed.stderr.strip().splitlines() or ["exit status %d" % completed.returncode])[-1][:500]
        return record
    try:
        result = _parse(completed.stdout)
    except ValueError as error:
        record["failed"] = str(error)
        return record
    if "skipped" in result and len(result) == 1:
        record["skipped"] = str(result["skipped"])
    else:
        record["result"] = result
    return record


# -- the page -------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2, *, keep: bool = False) -> str:
    """A figure for the page: thousands separated, ``digits`` decimals, trailing zeros dropped unless ``keep``."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        text = f"{value:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text and not keep else text
    return str(value)


def _loads(record: dict[str, Any]) -> str:
    before, after = record.get("load_average_before") or [None], record.get("load_average_after") or [None]
    return f"{_fmt(before[0])} → {_fmt(after[0])}"


def _when(record: dict[str, Any]) -> str:
    return str(record.get("started_at", "–"))


def _condition(record: dict[str, Any]) -> str:
    result = record.get("result", {})
    busy = result.get("busy_processes")
    if record.get("condition") == "loaded":
        return f"beside {busy if busy is not None else BUSY} busy processes" + (" (build too)" if result.get("busy_during_build") else "")
    return "nothing added"


def _index_section(records: dict[str, dict[str, Any]]) -> list[str]:
    rows = [r for name, r in records.items() if name.startswith("index_") and "result" in r]
    if not rows:
        return []
    lines = [
        "## Index: latency, recall, memory (`bench.index`)",
        "",
        "One seed, top 50 through `HybridIndex.similar` (the site's call), one thread, served by a fresh process;",
        "recall@50 against exact float32 brute force; `rss` is what the loaded index adds to that process (private",
        "part in brackets); dimensions are the configured models'.",
        "",
        "| run | tracks | dims (audio/lyrics) | condition | p50 ms | p99 ms | CPU p50 ms | recall@50 | RSS MB (private) | disk MB | build s (threads) | load before → after | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["result"]["n"], r["name"])):
        x = r["result"]
        dims = x.get("dims", {})
        build = f"{_fmt(x.get('build_s'))} ({x.get('build_threads_at_start', '–')})" if "build_s" in x else "(reused)"
        lines.append(
            f"| `{r['name']}` | {_fmt(x['n'])} | {dims.get('audio', '?')}/{dims.get('lyrics', '?')} | {_condition(r)} | {_fmt(x['p50_ms'])} | {_fmt(x['p99_ms'])} | "
            f"{_fmt(x.get('cpu_p50_ms'))} | {_fmt(float(x['recall_at_50']), 4, keep=True)} | {_fmt(x['rss_mb'], 0)} ({_fmt(x.get('rss_anon_mb'), 0)}) | {_fmt(x['disk_mb'], 0)} | {build} | {_loads(r)} | {_when(r)} |"
        )
    pairs = [(q, l) for q, l in (("index_100k_quiet", "index_100k_loaded"), ("index_1m_quiet", "index_1m_loaded")) if "result" in records.get(q, {}) and "result" in records.get(l, {})]
    if pairs:
        lines += ["", "Loaded against quiet p50 (goal: at most 2x):", ""]
        for quiet, loaded in pairs:
            q, l = records[quiet]["result"], records[loaded]["result"]
            lines.append(f"- {_fmt(q['n'])} tracks: {_fmt(l['p50_ms'])} ms beside the load against {_fmt(q['p50_ms'])} ms, {_fmt(l['p50_ms'] / q['p50_ms'])}x")
    return lines + [""]


def _stored_section(records: dict[str, dict[str, Any]]) -> list[str]:
    runs = sorted((r for name, r in records.items() if name.startswith("reindex_stored_") and "result" in r), key=lambda r: int(r["result"]["stored"]))
    if not runs:
        return []
    lines = [
        "## Index build from stored embeddings (`bench.reindex --stored`)",
        "",
        "Every stored vector read back from SQLite in chunks, the index built and published, in a fresh process (peak RSS is that process's own `VmHWM`; runs before 2026-12-02 05:00 UTC used `ru_maxrss`, which included the memory of the parent that wrote the synthetic rows).",
        "",
        "| run | stored tracks | rows audio / lyrics | build s | peak RSS MB (before the build) | database MB | index on disk MB | load before → after | date |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        x = r["result"]
        lines.append(
            f"| `{r['name']}` | {_fmt(x['stored'])} | {_fmt(x['rows']['audio'])} / {_fmt(x['rows']['lyrics'])} | {_fmt(x['build_s'])} | {_fmt(x['peak_rss_mb'], 0)} ({_fmt(x['baseline_rss_mb'], 0)}) | "
            f"{_fmt(x['database_mb'], 0)} | {_fmt(x['index_disk_mb'], 0)} | {_loads(r)} | {_when(r)} |"
        )
    return lines + [""]


def _playlist_section(records: dict[str, dict[str, Any]]) -> list[str]:
    r = records.get("playlist", {})
    if "result" not in r:
        return []
    x = r["result"]
    lines = ["## Playlists (`bench.playlist`)", "", f"Load average {_loads(r)}, {_when(r)}.", ""]
    if "synthetic" in x:
        s = x["synthetic"]
        lines += [
            f"- Vector side of a 50-track request on a {_fmt(s['tracks'])}-track synthetic index ({s['dims']['audio']}/{s['dims']['lyrics']}-d): "
            f"**{_fmt(1000 * s['request_50_vector_side_s'], 1)} ms** (median); that process's peak RSS, streamed build included: **{_fmt(s['peak_rss_mb'], 0)} MB** (build {_fmt(s['build_index_s'], 0)} s).",
        ]
        if s.get("phase_peak_rss_mb"):
            phases = ", ".join(f"{name} {_fmt(mb, 0)} MB" for name, mb in s["phase_peak_rss_mb"].items())
            lines.append(f"- Peak RSS by phase ({_fmt(s.get('build_chunk_rows'))} rows a build step): {phases}.")
    if "demo" in x:
        for shape, timing in x["demo"]["requests"].items():
            lines.append(f"- Demo catalogue, `{shape}`: {_fmt(1000 * timing['seconds'], 1)} ms ({timing['returned']} tracks)")
        lines.append(f"- Demo part's peak RSS (models loaded): {_fmt(x['demo'].get('peak_rss_mb'), 0)} MB")
    return lines + [""]


def _distributed_section(records: dict[str, dict[str, Any]]) -> list[str]:
    r = records.get("distributed", {})
    if "result" not in r:
        return []
    x = r["result"]
    lines = [
        "## Distributed reindex (`bench.distributed`)",
        "",
        f"{_fmt(x.get('tracks'))} demo tracks in batches of {x.get('batch')}, PostgreSQL on 127.0.0.1, `db_worker` processes with one torch thread each, "
        f"every worker warmed (models loaded, a track embedded) before the clock starts; load average {_loads(r)}, {_when(r)}"
        + (f" (while the workers ran: {_fmt(x['load_average_timed_start'][0])} → {_fmt(x['load_average_timed_end'][0])})" if x.get("load_average_timed_start") and x.get("load_average_timed_end") else "")
        + ".",
        "",
        "| workers | tracks/s | speedup | batches per worker | wall s | last batch → published s |",
        "|---|---|---|---|---|---|",
    ]
    for count, run_ in sorted(x["runs"].items(), key=lambda kv: int(kv[0])):
        shares = " / ".join(str(n) for n in run_.get("batches_per_worker", [])) or "–"
        lines.append(f"| {count} | {_fmt(run_['tracks_per_s'])} | {_fmt(run_.get('speedup'))} | {shares} | {_fmt(run_['wall_s'], 1)} | {_fmt(run_.get('last_batch_to_published_s'))} |")
    return lines + [""]


def _threads_section(records: dict[str, dict[str, Any]]) -> list[str]:
    r = records.get("build_threads", {})
    if "result" not in r:
        return []
    x = r["result"]
    lines = [
        "## Build threads (`bench.build_threads`)",
        "",
        f"Training the fused candidate index of a {_fmt(x['n'])}-track catalogue ({x['fused_dim']}-d) and adding 200,000 vectors; the audio embedder per track. {_when(r)}.",
        "",
        "| condition | threads | train s | add s | audio s/track | load during |",
        "|---|---|---|---|---|---|",
    ]
    for run_ in x["runs"]:
        lines.append(f"| {run_['condition']} ({run_['busy_processes']} busy) | {run_['threads']} | {_fmt(run_['train_s'])} | {_fmt(run_['add_s'])} | {_fmt(run_.get('musicnn_s_per_track'), 3)} | {_fmt(run_['load_average_during'][0])} |")
    lines += ["", "`ml.threads.build_threads` picks: " + ", ".join(f"{k}: {v}" for k, v in x["rule"].items()), ""]
    return lines


def _web_load_section(records: dict[str, dict[str, Any]]) -> list[str]:
    r = records.get("web_load", {})
    if "result" not in r:
        return []
    x = r["result"]
    lines = [
        "## The production server under load (`bench.web_load`)",
        "",
        f"`manage.py serve` (gunicorn) on the demo catalogue ({_fmt(x.get('tracks'))} tracks), {x.get('clients')} concurrent clients per scenario for at most "
        f"{_fmt(x.get('seconds_per_scenario'))} s each, on 127.0.0.1; load average {_loads(r)}, {_when(r)}.",
        "",
        "| scenario | requests | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, values in x.get("scenarios", {}).items():
        lines.append(
            f"| `{name}` | {_fmt(values.get('requests'))} | {_fmt(values.get('requests_per_s'))} | {_fmt(values.get('p50_ms'))} | {_fmt(values.get('p95_ms'))} | {_fmt(values.get('p99_ms'))} | {_fmt(values.get('errors'))} |"
        )
    return lines + [""]


def _lyrics_section(records: dict[str, dict[str, Any]]) -> list[str]:
    r = records.get("lyrics", {})
    if "result" not in r:
        return []
    x = r["result"]
    lines = ["## Lyrics encoders (`bench.lyrics`)", "", f"Load average {_loads(r)}, {_when(r)}.", "", "| encoder | lyrics/s | 10,000 lyrics, minutes |", "|---|---|---|"]
    speeds: dict[str, float] = {}
    for model, values in x.get("encoders", {}).items():
        rate = values.get("lyrics_per_s")
        speeds[model] = float(rate or 0)
        lines.append(f"| `{model}` | {_fmt(rate, 1)} | {_fmt(values.get('projected_10k_min'), 1)} |")
    if speeds.get("use-multilingual") and speeds.get("e5-small"):
        lines += ["", f"`e5-small` embeds {_fmt(speeds['use-multilingual'] / speeds['e5-small'], 0)}x slower than `use-multilingual`."]
    return lines + [""]


def _generic_section(record: dict[str, Any]) -> list[str]:
    """Any other benchmark: its numeric figures, two levels deep."""
    lines = [f"## {record['title']} (`{record['module']}`)", "", f"Load average {_loads(record)}, {_when(record)}.", ""]

    def walk(prefix: str, value: Any, depth: int) -> None:
        if isinstance(value, dict) and depth < 3:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner, depth + 1)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            lines.append(f"- `{prefix}`: {_fmt(value, 3)}")

    walk("", record["result"], 0)
    return lines + [""]


def machine_name(info: dict[str, Any]) -> str:
    """The CPU and the kernel of :func:`machine`'s description: what tells two virtual machines apart."""
    return f"{info.get('cpu', '?')}, {info.get('system', '?')}"


def _other_machines(records: dict[str, dict[str, Any]], current: str) -> list[str]:
    """A line per machine other than ``current`` that runs of the page were measured on (or runs that did not record theirs)."""
    others: dict[str, list[str]] = {}
    for name, record in records.items():
        if "result" in record and record.get("machine") != current:
            others.setdefault(record.get("machine") or "", []).append(name)
    return [
        f"- Measured on {'another machine, ' + machine if machine else 'a machine not recorded (runs from before each run kept its own)'}: "
        + ", ".join(f"`{name}`" for name in names) + ". Their figures do not compare directly with the others."
        for machine, names in others.items()
    ]


def render(data: dict[str, Any]) -> str:
    """The Markdown page for the runs in ``data`` (the JSON file's content)."""
    records: dict[str, dict[str, Any]] = data.get("runs", {})
    info = data.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
    lines = [
        "# Performance",
        "",
        "Generated by `python -m bench.report` from `docs/performance.json`; do not edit by hand. The README quotes",
        "figures from this page only.",
        "",
        f"- Machine: {info.get('cpu', '?')}, {info.get('cores', '?')} cores, {info.get('memory_gb', '?')} GB RAM, {info.get('system', '?')}; {versions}.",
        *_other_machines(records, machine_name(info)),
        "- Models: " + ", ".join(f"{m} `{name}` ({data.get('dims', {}).get(m, '?')}-d)" for m, name in data.get("models", {}).items()) + ".",
        f"- Written {data.get('written_at', '?')}; each run says when it ran and the 1-minute load average just before and just after it.",
        "- This is a shared 2-core virtual machine: figures depend on what else runs. \"nothing added\" runs add no load of",
        "  their own but still see the machine's; \"beside N busy processes\" runs add N spinning processes (`bench.load`).",
        "",
    ]
    known = set()
    for section in (_index_section, _stored_section, _playlist_section, _distributed_section, _threads_section, _web_load_section, _lyrics_section):
        part = section(records)
        if part:
            lines += part
    known.update(n for n in records if n.startswith("index_"))
    known.update(n for n in records if n.startswith("reindex_stored_"))
    known.update({"playlist", "distributed", "build_threads", "web_load", "lyrics"})
    for name, record in records.items():
        if name not in known and "result" in record:
            lines += _generic_section(record)
    missing = [(n, r) for n, r in records.items() if "result" not in r]
    if missing:
        lines += ["## Not measured in this report", ""]
        for name, record in missing:
            lines.append(f"- `{name}` ({record.get('module')}): {record.get('skipped') or record.get('failed')}")
        lines.append("")
    lines += ["## Commands", ""]
    for name, record in records.items():
        if "command" in record:
            lines.append(f"- `{name}`: `{record['command']}` ({_fmt(record.get('wall_s'), 0)} s)")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=None, help="run only these benchmarks (names in bench.report.PLAN; repeatable)")
    parser.add_argument("--quick", action="store_true", help="small sizes, the fast benchmarks only (a smoke test, not figures to quote)")
    parser.add_argument("--render", action="store_true", help="only re-write the page from the JSON file")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the runs are kept (default docs/performance.json)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the page to write (default docs/performance.md)")
    parser.add_argument("--quiet-below", type=float, default=1.5, help="before a run with no load added, wait for the 1-minute load average to drop below this")
    parser.add_argument("--quiet-wait", type=float, default=600, help="longest wait for it, seconds (then it runs anyway)")
    parser.add_argument("--lock", type=Path, default=None, help="hold an exclusive flock on this file while each benchmark measures (only the timed part where the benchmark can separate it)")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data: dict[str, Any] = json.loads(args.json.read_text()) if args.json.exists() else {}
    data.setdefault("runs", {})
    if not args.render:
        from bench.shapes import product_dims, product_models

        names = {b.name for b in PLAN}
        unknown = set(args.only or ()) - names
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; choose from {sorted(names)}")
        work = Path(tempfile.mkdtemp(prefix="crossfade-report-"))
        try:
            for benchmark in PLAN:
                if args.only and benchmark.name not in args.only:
                    continue
                say(f"{benchmark.name}: python -m {benchmark.module} ...")
                record = run(benchmark, quick=args.quick, work=work, quiet_below=args.quiet_below, quiet_wait=args.quiet_wait, say=say, lock=args.lock)
                say(f"  {'skipped: ' + record['skipped'] if 'skipped' in record else 'failed: ' + record['failed'] if 'failed' in record else 'done'} ({record.get('wall_s', 0)} s)")
                data["runs"][benchmark.name] = record
                data.update(machine=machine(), models=product_models(), dims=product_dims(), written_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(data, indent=2) + "\n")
                args.out.write_text(render(data))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(data))
    say(f"wrote {args.out}")
    return data


if __name__ == "__main__":
    main()
