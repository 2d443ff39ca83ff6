from __future__ import annotations

import numpy as np
import pytest

from ml.audio.decode import audio_duration, audio_load
from ml.errors import AudioDecodeError


@pytest.mark.parametrize("name", ["tone.wav", "tone.flac", "tone.ogg", "tone.mp3", "tone.opus", "tone.m4a"])
def test_every_container_decodes_to_the_same_length(edge_audio, name):
    samples = audio_load(edge_audio[name], sample_rate=16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    # 3 s at 16 kHz; lossy codecs add encoder padding of a few milliseconds.
    assert abs(samples.size - 48000) < 16000 * 0.05
    assert 0.2 < np.abs(samples).max() <= 1.0


def test_stereo_44k_is_mixed_to_mono_and_resampled(edge_audio):
    samples = audio_load(edge_audio["stereo_44k.flac"], sample_rate=22050)
    assert samples.shape == (44100,)


def test_48k_ogg_is_resampled(edge_audio):
    assert audio_load(edge_audio["mono_48k.ogg"], sample_rate=16000).shape == (32000,)


def test_silence_decodes_as_zeros(edge_audio):
    samples = audio_load(edge_audio["silence.wav"], sample_rate=22050)
    assert samples.size == 44100 and np.abs(samples).max() == 0.0


def test_a_clip_under_one_second_decodes(edge_audio):
    assert audio_load(edge_audio["short.wav"], sample_rate=22050).size == 4410


@pytest.mark.parametrize("name", ["tone.mp3", "tone.m4a", "tone.flac"])
def test_a_span_decodes_only_that_span(edge_audio, name):
    whole = audio_load(edge_audio[name], sample_rate=22050)
    span = audio_load(edge_audio[name], sample_rate=22050, offset=1.0, duration=0.5)
    assert span.size == 11025
    # The span is the same audio as that part of the whole file (codec priming aside).
    best = max(np.corrcoef(span, whole[start : start + span.size])[0, 1] for start in range(22050 - 1200, 22050 + 1200, 16))
    assert best > 0.95


def test_a_truncated_mp3_yields_what_is_there(edge_audio):
    samples = audio_load(edge_audio["truncated.mp3"], sample_rate=22050)
    assert 0 < samples.size < 66150 * 0.6


@pytest.mark.parametrize(
    "name, message",
    [("empty.flac", "empty"), ("not_audio.mp3", "not a decodable audio file"), ("header_only.wav", "no audio")],
)
def test_bad_files_raise_a_clear_error(edge_audio, name, message):
    with pytest.raises(AudioDecodeError, match=message):
        audio_load(edge_audio[name], sample_rate=22050)


def test_a_missing_file_raises(tmp_path):
    with pytest.raises(AudioDecodeError, match="no such file"):
        audio_load(tmp_path / "nope.mp3", sample_rate=22050)


def test_duration_from_the_header(edge_audio):
    assert audio_duration(edge_audio["tone.flac"]) == pytest.approx(3.0, abs=0.01)
    assert audio_duration(edge_audio["tone.m4a"]) == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("name", ["flac_named.mp3", "ogg_named.wav"])
def test_the_content_decides_not_the_extension(edge_audio, name):
    samples = audio_load(edge_audio[name], sample_rate=22050)
    assert abs(samples.size - 66150) < 22050 * 0.05 and 0.2 < np.abs(samples).max() <= 1.0


def test_48k_is_resampled_to_the_requested_rate_without_drift(edge_audio):
    samples = audio_load(edge_audio["mono_48k.ogg"], sample_rate=22050)
    assert samples.shape == (44100,)
    # The 440 Hz tone stays at 440 Hz after resampling.
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 22050 / samples.size - 440.0) < 2.0
