"""tqdm progress bars that management commands show at verbosity 1 and above."""
from __future__ import annotations

import sys

from tqdm import tqdm

from ml.progress import Progress


class ProgressBars:
    """Hands out :class:`~ml.progress.Progress` callbacks, one bar per label; silent at verbosity 0."""

    def __init__(self, verbosity: int) -> None:
        self.enabled = verbosity >= 1
        self.bars: dict[str, tqdm] = {}

    def callback(self, label: str, *, unit: str = "") -> Progress:
        """One bar named ``label``; ``unit`` names what is counted (files for ingest, tracks otherwise)."""
        return lambda done, total, note="": self.update(label, done, total, unit=unit)

    def by_note(self, *, unit: str = "") -> Progress:
        """A bar per note the work reports ("embedding audio", "embedding lyrics"...)."""
        return lambda done, total, note="": self.update(note or "working", done, total, unit=unit)

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
