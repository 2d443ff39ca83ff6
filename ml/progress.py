"""The one progress callback shape every long piece of work in Crossfade reports through."""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """``progress(done, total, note)``: ``done`` of ``total`` units finished; ``note`` says what is being done.

    ``total`` may be 0 while the size of the work is unknown. Callers call it
    often; implementations (a tqdm bar, a job row) decide how often to show it.
    """

    def __call__(self, done: int, total: int, note: str = "") -> None: ...


def progress_silent(done: int, total: int, note: str = "") -> None:
    """A :class:`Progress` that shows nothing."""
