"""Which parts of a track are analysed, and decoding only those parts.

A CNN tagger looks at a few seconds at a time, so a track's character can be
estimated from a handful of segments spread across it. Decoding seeks to each
segment instead of reading the whole file: this is most of the speed of the
analysis path (a 4-minute mp3 decodes in a fraction of the time).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.audio.decode import audio_duration, audio_load
from ml.errors import AudioDecodeError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentPlan:
    """How a track is sampled: ``count`` segments of ``seconds`` each; ``count=0`` means the whole track.

    ``margin`` is the share of the track skipped at each end when sampling
    (intros and fade-outs are least typical of a song).
    """

    count: int = 4
    seconds: float = 3.0
    margin: float = 0.05

    def describe(self) -> str:
        """The plan as it appears in a model version: ``"whole"`` or ``"4x3s"``."""
        return "whole" if self.count <= 0 else f"{self.count}x{self.seconds:g}s"

    def spans(self, duration: float) -> list[tuple[float, float | None]]:
        """``(offset, length)`` pairs in seconds for a track of ``duration`` seconds.

        The whole track (``[(0, None)]``) when sampling is off, the duration is
        unknown, or the track is too short to hold the segments apart.
        Segments are centred on evenly spaced points of the track without its
        margins, and never overlap.
        """
        if self.count <= 0 or duration <= 0 or duration <= self.count * self.seconds:
            return [(0.0, None)]
        start = duration * self.margin
        usable = duration - 2 * start
        if usable < self.count * self.seconds:
            start, usable = 0.0, duration
        centres = start + usable * (np.arange(self.count) + 0.5) / self.count
        offsets = np.clip(centres - self.seconds / 2, 0.0, duration - self.seconds)
        return [(round(float(o), 3), self.seconds) for o in offsets]


def segments_load(path: str | Path, *, sample_rate: int, plan: SegmentPlan) -> list[np.ndarray]:
    """Decode the planned segments of ``path``: a list of float32 ``(n_samples,)`` arrays.

    Falls back to decoding the whole file when its duration cannot be read
    from the header. Raises :class:`AudioDecodeError` when nothing decodes;
    a segment past a truncated file's real end is dropped with a log line.
    """
    try:
        duration = audio_duration(path) if plan.count > 0 else 0.0
    except AudioDecodeError:
        duration = 0.0
    pieces: list[np.ndarray] = []
    last_error: AudioDecodeError | None = None
    for offset, length in plan.spans(duration):
        try:
            pieces.append(audio_load(path, sample_rate=sample_rate, offset=offset, duration=length))
        except AudioDecodeError as error:
            logger.info("%s: segment at %.1f s skipped (%s)", path, offset, error)
            last_error = error
    if not pieces:
        if last_error is not None and duration > 0:
            # The header promised more than is there (a truncated file): read what exists.
            return [audio_load(path, sample_rate=sample_rate)]
        raise last_error or AudioDecodeError(f"{path}: nothing to analyse")
    return pieces
