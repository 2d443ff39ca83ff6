"""A tqdm progress bar that management commands show at verbosity 1 and above."""
from __future__ import annotations

import sys
from typing import Callable

from tqdm import tqdm


class ProgressBars:
    """Hands out ``progress(done, total)`` callbacks, one bar per label; silent at verbosity 0."""

    def __init__(self, verbosity: int) -> None:
        self.enabled = verbosity >= 1
        self.bars: dict[str, tqdm] = {}

    def callback(self, label: str, *, unit: str = "") -> Callable[[int, int], None]:
        """``unit`` names what is counted; by default files for ingest, tracks otherwise."""
        return lambda done, total: self.update(label, done, total, unit=unit)

    def update(self, label: str, done: int, total: int, *, unit: str = "") -> None:
        if not self.enabled:
            return
        bar = self.bars.get(label)
        if bar is None:
            unit = unit or ("file" if label == "ingest" else "track")
            bar = self.bars[label] = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=True, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
