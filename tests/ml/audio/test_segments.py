"""Segment sampling: where segments fall, and that only they are decoded."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from ml.audio.decode import audio_load
from ml.audio.segments import SegmentPlan, segments_load
from ml.errors import AudioDecodeError
from tests.support.audio_fixtures import RATE


def test_segments_spread_over_the_track_inside_its_margins():
    spans = SegmentPlan(count=4, seconds=3.0, margin=0.05).spans(240.0)
    offsets = [offset for offset, _ in spans]
    assert len(spans) == 4 and all(length == 3.0 for _, length in spans)
    assert offsets == sorted(offsets)
    assert offsets[0] >= 12.0 and offsets[-1] + 3.0 <= 228.0
    gaps = np.diff(offsets)
    np.testing.assert_allclose(gaps, gaps[0], atol=1e-3)  # evenly spaced


@pytest.mark.parametrize("duration", [0.0, 2.0, 12.0])
def test_short_or_unknown_tracks_are_analysed_whole(duration):
    assert SegmentPlan(count=4, seconds=3.0).spans(duration) == [(0.0, None)]


def test_count_zero_means_the_whole_track():
    assert SegmentPlan(count=0).spans(600.0) == [(0.0, None)]


def test_segments_never_overlap_even_when_barely_fitting():
    spans = SegmentPlan(count=4, seconds=3.0, margin=0.2).spans(12.5)
    ends = [offset + length for offset, length in spans]
    assert all(ends[i] <= spans[i + 1][0] + 1e-6 for i in range(3))


def test_segments_load_decodes_the_planned_spans(tmp_path):
    # A sweep: every moment of the file sounds different, so a wrong seek shows.
    t = np.arange(RATE * 40) / RATE
    sweep = (0.3 * np.sin(2 * np.pi * (100 + 20 * t) * t)).astype(np.float32)
    path = tmp_path / "sweep.flac"
    soundfile.write(str(path), sweep, RATE)
    plan = SegmentPlan(count=3, seconds=2.0)
    pieces = segments_load(path, sample_rate=RATE, plan=plan)
    assert [p.size for p in pieces] == [2 * RATE] * 3
    whole = audio_load(path, sample_rate=RATE)
    for (offset, _), piece in zip(plan.spans(40.0), pieces):
        start = int(round(offset * RATE))
        np.testing.assert_allclose(piece, whole[start : start + piece.size], atol=1e-4)


def test_a_truncated_file_still_yields_audio(edge_audio):
    pieces = segments_load(edge_audio["truncated.mp3"], sample_rate=16000, plan=SegmentPlan(count=2, seconds=0.5))
    assert pieces and all(p.size > 0 for p in pieces)


def test_a_file_that_is_not_audio_raises(edge_audio):
    with pytest.raises(AudioDecodeError):
        segments_load(edge_audio["not_audio.mp3"], sample_rate=16000, plan=SegmentPlan())
