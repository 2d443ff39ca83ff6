"""Segment sampling: where segments fall, and that only they are decoded."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from ml.audio.decode import audio_load
from ml.audio.segments import SegmentPlan, segments_load
from ml.errors import AudioDecodeError
from tests.support.audio_fixtures import RATE, song


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


@pytest.fixture(scope="module")
def long_mp3s(tmp_path_factory):
    """90-second MP3s as the demo writes them (libsndfile, variable bit rate): 22.05 kHz mono and 44.1 kHz stereo."""
    folder = tmp_path_factory.mktemp("long-mp3")
    files = {}
    for name, rate, channels in (("mono_22k.mp3", 22050, 1), ("stereo_44k.mp3", 44100, 2)):
        samples = song(90.0, rate=rate, seed=rate)
        if channels == 2:
            samples = np.stack([samples, np.roll(samples, 300)], axis=1)
        with soundfile.SoundFile(
            str(folder / name), "w", samplerate=rate, channels=channels, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.8, bitrate_mode="VARIABLE"
        ) as handle:
            for start in range(0, len(samples), 65536):
                handle.write(samples[start : start + 65536])
        files[name] = folder / name
    return files


@pytest.mark.parametrize(("name", "rate"), [("mono_22k.mp3", 22050), ("stereo_44k.mp3", 44100)])
def test_mp3_segments_seek_without_decoder_noise_or_misread_frames(long_mp3s, capfd, name, rate):
    path = long_mp3s[name]
    plan = SegmentPlan(count=8, seconds=3.0)
    capfd.readouterr()
    pieces = segments_load(path, sample_rate=rate, plan=plan)
    # libmpg123 prints "part2_3_length ... too large" on a bad seek, straight to the process's stderr.
    assert capfd.readouterr().err == ""
    whole = audio_load(path, sample_rate=rate)
    assert len(pieces) == 8
    for (offset, _), piece in zip(plan.spans(90.0), pieces):
        start = int(round(offset * rate))
        assert piece.size == 3 * rate
        # Every sample as a decode from the start gives it: no frame after the seek is misread.
        np.testing.assert_allclose(piece, whole[start : start + piece.size], atol=1e-5)
