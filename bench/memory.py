"""Resident memory of this process, now and at its peak, per phase of a benchmark.

Why not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: on Linux a process
started with ``multiprocessing``'s *spawn* (fork, then exec) inherits the
peak of the process it was forked from. The kernel keeps the larger of the
old and new address spaces' peaks across ``exec``, so a benchmark child
forked from a parent holding 1.5 GB reports 1.5 GB before it has done
anything (``bench.reindex --stored`` did: its "baseline" was the parent's
synthesised rows). ``VmHWM`` in ``/proc/self/status`` is the peak of this
address space only, and writing ``5`` to ``/proc/self/clear_refs`` resets
it, so a benchmark can give each phase its own peak.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def rss_mb() -> dict[str, float]:
    """``VmRSS`` (now), ``VmHWM`` (peak since start or the last :func:`peak_reset`), ``RssAnon``, ``RssFile`` in MiB; {} where /proc is absent."""
    values: dict[str, float] = {}
    try:
        text = _STATUS.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def peak_reset() -> bool:
    """Start a new peak (``VmHWM`` := current RSS); False where the kernel does not allow it."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class PhasePeaks:
    """Peak resident memory of each named phase, and of them all.

    >>> peaks = PhasePeaks()
    >>> with peaks.phase("build"):
    ...     ...
    >>> peaks.peaks["build"], peaks.overall_mb

    Where the peak cannot be reset, each phase's figure is the peak so far
    (still an upper bound, and ``resettable`` says so).
    """

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self.start_mb: dict[str, float] = {}
        self.overall_mb = rss_mb().get("VmHWM", 0.0)
        self.resettable = True

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        # The peak up to here belongs to the phases before; keep it in the overall figure, then reset.
        self.overall_mb = max(self.overall_mb, rss_mb().get("VmHWM", 0.0))
        self.resettable = peak_reset() and self.resettable
        self.start_mb[name] = rss_mb().get("VmRSS", 0.0)
        try:
            yield
        finally:
            peak = rss_mb().get("VmHWM", 0.0)
            self.peaks[name] = max(self.peaks.get(name, 0.0), peak)
            self.overall_mb = max(self.overall_mb, peak)

    def report(self) -> dict[str, object]:
        """``{"peak_rss_mb", "phase_peak_rss_mb": {name: MiB}, "phase_start_rss_mb": {name: MiB}}``."""
        return {
            "peak_rss_mb": round(self.overall_mb, 1),
            "phase_peak_rss_mb": {k: round(v, 1) for k, v in self.peaks.items()},
            "phase_start_rss_mb": {k: round(v, 1) for k, v in self.start_mb.items()},
            "phase_peaks_exact": self.resettable,
        }
