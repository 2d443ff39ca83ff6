"""The whole-track sampling study on a synthetic long file: the grid analysis and where each plan samples."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from bench.sampling import grid_analyse, plan_names, plan_rows
from ml.audio.checkpoint import CheckpointError
from ml.audio.segments import SegmentPlan
from tests.support.audio_fixtures import RATE, song


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 100 s track of four sections analysed by musicnn-mtt on the study's half-patch grid."""
    from ml.audio.taggers import pretrained_embedder_build

    path = tmp_path_factory.mktemp("long") / "long.ogg"
    samples = song(100.0, seed=3, sections=4)
    with soundfile.SoundFile(str(path), "w", samplerate=RATE, channels=1, format="OGG", subtype="VORBIS") as handle:
        for start in range(0, len(samples), 65536):  # libsndfile's Vorbis encoder crashes on one long write
            handle.write(samples[start : start + 65536])
    try:
        embedder = pretrained_embedder_build("musicnn-mtt")
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")
    return grid_analyse(embedder, str(path))


def test_the_grid_covers_the_whole_track_every_half_patch(grid):
    starts, features, duration = grid
    assert duration == pytest.approx(100.0, abs=0.01)
    assert len(features) == 1 and features[0].shape == (len(starts), 200)
    steps = np.diff(starts)
    patch = 187 * 256 / 16000  # musicnn's 187-frame patch at hop 256, 16 kHz: 2.992 s
    assert np.allclose(steps, steps[0]) and steps[0] == pytest.approx(patch / 2, abs=0.01)
    assert starts[-1] + patch <= duration + 0.05 and starts[-1] + patch + steps[0] > duration - 0.05


def test_each_plan_samples_where_it_says(grid):
    starts, features, duration = grid
    for name in plan_names():
        rows = plan_rows(name, starts, features, duration)
        assert rows.size and np.all(np.diff(rows) > 0) and rows.max() < len(starts), name
    # Evenly spread segments skipping the margins land on the grid patch nearest each planned offset.
    spans = SegmentPlan(count=4, seconds=3.0, margin=0.1).spans(duration)
    rows = plan_rows("even-4-m0.1", starts, features, duration)
    assert np.abs(starts[rows] - [offset for offset, _ in spans]).max() <= 0.75
    assert starts[rows].min() >= 0.1 * duration - 0.75
    assert plan_rows("whole", starts, features, duration).size == (len(starts) + 1) // 2
    # Novelty picks patches unlike each other: farther apart on average than the most typical ones.
    joined = features[0].astype(np.float32)

    def spread(picked: np.ndarray) -> float:
        chosen = joined[picked]
        return float(np.mean([np.linalg.norm(a - b) for i, a in enumerate(chosen) for b in chosen[i + 1 :]]))

    assert spread(plan_rows("novel-4", starts, features, duration)) > spread(plan_rows("typical-4", starts, features, duration))
    np.testing.assert_array_equal(plan_rows("random-4", starts, features, duration), plan_rows("random-4", starts, features, duration))
