"""A bounded CPU load beside a benchmark: busy processes that stop by themselves.

    with busy_load(3, seconds=600):
        ...  # the latency loop, the build

Each process spins a tight Python loop until its own deadline, until the
benchmark that started it is gone (so a killed benchmark cannot leave them
running) or until the ``with`` block ends, whichever comes first. Stalls that only show when the machine is busy
(threads waiting for a descheduled sibling, prefetch threads that never
get a core) show up in figures taken this way; ``python -m bench.index
--load 3`` and ``python -m bench.report`` use it.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from typing import Iterator


def _spin(deadline: float, parent: int) -> None:
    # Nice 0 like the server's own work: the point is to compete for the cores.
    # Stops at the deadline, or as soon as the benchmark that started it is gone.
    count = 0
    while time.monotonic() < deadline and os.getppid() == parent:
        for _ in range(10_000):
            count += 1


@contextlib.contextmanager
def busy_load(processes: int, *, seconds: float = 900.0) -> Iterator[list[int]]:
    """Run ``processes`` busy loops for at most ``seconds`` (they exit by themselves then); yields their pids."""
    if processes <= 0:
        yield []
        return
    context = multiprocessing.get_context("spawn")
    deadline = time.monotonic() + float(seconds)
    workers = [context.Process(target=_spin, args=(deadline, os.getpid()), daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        # Let them reach the run queue before the measurement starts.
        time.sleep(0.5)
        yield [worker.pid or 0 for worker in workers]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=10)


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]
