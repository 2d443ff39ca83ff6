from __future__ import annotations

import numpy as np
import pytest
import soundfile

from ml.audio.baseline import MfccStatsEmbedder
from ml.audio.features import FrontEndConfig, log_mel
from tests.ml.embedder_contract import EmbedderContract
from tests.support.audio_fixtures import RATE, tone


def test_log_mel_shape_follows_the_config():
    config = FrontEndConfig(sample_rate=16000, n_fft=512, hop_length=256, n_mels=96)
    spectrogram = log_mel(np.zeros(16000, dtype=np.float32) + 0.01, config)
    assert spectrogram.shape == (96, 16000 // 256 + 1)
    assert spectrogram.dtype == np.float32


class TestMfccStatsEmbedder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self):
        return MfccStatsEmbedder(max_seconds=10)

    @pytest.fixture(scope="class")
    def items(self, tmp_path_factory):
        folder = tmp_path_factory.mktemp("baseline")
        paths = []
        for i, (freq, beat) in enumerate([(220, 1.0), (440, 2.0), (880, 4.0)]):
            path = folder / f"t{i}.flac"
            soundfile.write(str(path), tone(4.0, freq=freq, beat_hz=beat, seed=i), RATE)
            paths.append(str(path))
        return paths


def test_similar_sounds_are_closer_than_different_ones(tmp_path):
    embedder = MfccStatsEmbedder(max_seconds=10)
    rng = np.random.default_rng(3)
    t = np.arange(RATE * 4) / RATE
    low_a = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.01 * rng.standard_normal(t.size)
    low_b = 0.3 * np.sin(2 * np.pi * 116 * t) + 0.01 * rng.standard_normal(t.size)
    noise = 0.3 * rng.standard_normal(t.size)
    vectors = np.stack([embedder.embed_samples(x.astype(np.float32)) for x in (low_a, low_b, noise)])
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.1


def test_silence_embeds_without_nan(edge_audio):
    vector = MfccStatsEmbedder().embed([str(edge_audio["silence.wav"])])
    assert np.all(np.isfinite(vector))
