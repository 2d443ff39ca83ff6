"""bench.memory: a process's own peak memory, per phase, not the peak of the process it was forked from."""
from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pytest

from bench.memory import PhasePeaks, peak_reset, rss_mb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


def _child_peak() -> float:
    return rss_mb()["VmHWM"]


def test_each_phase_has_its_own_peak():
    if not peak_reset():
        pytest.skip("this kernel does not let a process reset its peak (/proc/self/clear_refs)")
    peaks = PhasePeaks()
    with peaks.phase("large"):
        block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
        del block
    with peaks.phase("small"):
        np.ones(1000)
    report = peaks.report()
    assert report["phase_peaks_exact"] is True
    assert report["phase_peak_rss_mb"]["large"] >= report["phase_start_rss_mb"]["large"] + 190
    assert report["phase_peak_rss_mb"]["small"] < report["phase_peak_rss_mb"]["large"] - 150
    assert report["peak_rss_mb"] >= report["phase_peak_rss_mb"]["large"]


def test_a_spawned_process_does_not_report_its_parents_memory():
    held = np.ones(300 * 2**20 // 8)  # 300 MiB in this process when the child is forked
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        child = pool.apply(_child_peak)
    assert held.sum() > 0
    # ru_maxrss would say >= 300 MiB here (the kernel keeps the pre-exec peak); VmHWM is the child's own.
    assert child < rss_mb()["VmRSS"] - 250
