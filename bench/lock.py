"""The machine's shared benchmark lock: one timed part at a time on a shared machine."""
from __future__ import annotations

import contextlib
import fcntl
import time
from typing import Iterator


@contextlib.contextmanager
def lock_held(path: str | None) -> Iterator[float | None]:
    """Hold an exclusive ``flock`` on ``path`` for the block, yielding the seconds waited for it; no lock (None) when ``path`` is empty."""
    if not path:
        yield None
        return
    with open(path, "a") as handle:
        waited = time.perf_counter()
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield round(time.perf_counter() - waited, 1)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
