"""How many threads numeric work runs on: embedding batches in workers, FAISS index builds.

A 2-core household server is rarely idle. OpenMP and torch split work into
one slice per thread and wait for the slowest: when another process holds a
core, the slice on that core waits for a whole scheduler time slice, again
and again, so two threads beside a busy neighbour run *slower* than one.
Measured on this project's 2-core machine (``python -m bench.build_threads``,
docs/performance.md, run ``build_threads``): beside three busy processes at a
load average of 9-12, musicnn analysis took 3.04 s a track on 2 torch threads
and 1.64 s on 1, and training the 400,000-track fused index 181.5 s on 2
threads against 115.7 s on 1. Workers therefore embed on
one thread each (they scale by processes), and builds use the cores that
are free when they start (:func:`build_threads`).
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from typing import Iterator


def cores_available() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def build_threads(cores: int, load: float, *, requested: int = 0) -> int:
    """Threads for a FAISS/OpenMP build on ``cores`` cores with 1-minute load average ``load``.

    ``requested`` > 0 is an operator's explicit choice and wins. Otherwise
    the build takes the cores nobody else is using: ``cores - load``
    rounded to the nearest whole core, at least 1, at most ``cores``. The
    load includes this process when it is already busy; callers pass the
    load seen before the build starts.
    """
    if requested > 0:
        return int(requested)
    idle = cores - max(0.0, float(load))
    return int(min(cores, max(1, math.floor(idle + 0.5))))


def build_threads_now(*, requested: int = 0) -> int:
    """:func:`build_threads` for this machine as it is now (affinity, 1-minute load average)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return build_threads(cores_available(), load, requested=requested)


@contextlib.contextmanager
def compute_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` threads in torch (when loaded), BLAS/OpenMP pools and FAISS, then restore them.

    ``threads <= 0`` leaves every library as it is.
    """
    if threads <= 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    faiss = sys.modules.get("faiss")
    torch_before = torch.get_num_threads() if torch is not None else 0
    faiss_before = faiss.omp_get_max_threads() if faiss is not None else 0
    try:
        if torch is not None:
            torch.set_num_threads(threads)
        if faiss is not None:
            faiss.omp_set_num_threads(threads)
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None and torch_before:
            torch.set_num_threads(torch_before)
        if faiss is not None and faiss_before:
            faiss.omp_set_num_threads(faiss_before)
