"""The classic baseline: statistics of MFCCs, chroma, spectral contrast and rhythm.

This is the feature set of the early genre-classification literature
(Tzanetakis & Cook 2002 and its descendants). It is Crossfade's first audio
embedder and the yardstick every learned audio model must beat.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ml.audio.decode import audio_duration, audio_load
from ml.audio.features import FrontEndConfig, mel_from_power, power_spectrogram
from ml.embedder import l2_normalise
from ml.errors import AudioDecodeError

logger = logging.getLogger(__name__)

_N_MFCC = 20
# Feature blocks and their sizes, in output order. Each block is scaled to unit
# length before concatenation so that no block drowns the others just because
# its units are larger (MFCC 0 is in the hundreds, chroma below 1).
_BLOCKS: tuple[tuple[str, int], ...] = (
    ("mfcc_mean", _N_MFCC),
    ("mfcc_std", _N_MFCC),
    ("mfcc_delta_std", _N_MFCC),
    ("chroma_mean", 12),
    ("chroma_std", 12),
    ("contrast_mean", 7),
    ("contrast_std", 7),
    ("rhythm", 4),
)
#: Dimension of the baseline's vectors.
MFCC_STATS_DIM = sum(size for _, size in _BLOCKS)


class MfccStatsEmbedder:
    """Baseline audio embedder: a track becomes the statistics of its frame features.

    ``embed(paths)`` returns float32 ``(len(paths), dim)`` with L2-normalised rows.
    At most ``max_seconds`` from the middle of each file are analysed.
    """

    name = "mfcc-stats"

    def __init__(self, *, sample_rate: int = 22050, max_seconds: float = 60.0) -> None:
        self.front_end = FrontEndConfig(sample_rate=sample_rate, n_fft=2048, hop_length=512, n_mels=96)
        self.max_seconds = float(max_seconds)
        self.dim = MFCC_STATS_DIM
        self.version = f"mfcc-stats-v1-sr{sample_rate}-{int(self.max_seconds)}s"

    def embed(self, items: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(items), self.dim), dtype=np.float32)
        for row, path in enumerate(items):
            vectors[row] = self.embed_samples(self._load(Path(path)))
        return vectors

    def embed_samples(self, samples: np.ndarray) -> np.ndarray:
        """Feature vector of mono ``samples`` at the embedder's rate: float32 ``(dim,)``, unit length."""
        import librosa

        config = self.front_end
        power = power_spectrogram(samples, config)
        mel_db = librosa.power_to_db(mel_from_power(power, config), ref=1.0, top_db=80.0)
        mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=_N_MFCC)
        mfcc_delta = librosa.feature.delta(mfcc, mode="nearest") if mfcc.shape[1] >= 3 else np.zeros_like(mfcc)
        chroma = librosa.feature.chroma_stft(S=power, sr=config.sample_rate, n_fft=config.n_fft, tuning=0.0)
        contrast = librosa.feature.spectral_contrast(S=np.sqrt(power), sr=config.sample_rate, n_fft=config.n_fft)
        onset = librosa.onset.onset_strength(S=mel_db, sr=config.sample_rate)
        tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=config.sample_rate, hop_length=config.hop_length))[0])
        # Pulse clarity: how periodic the onsets are, beyond the tempo value itself.
        autocorr = librosa.autocorrelate(onset - onset.mean())
        pulse = float(autocorr[1:].max() / autocorr[0]) if autocorr.size > 1 and autocorr[0] > 0 else 0.0
        blocks = {
            "mfcc_mean": mfcc.mean(axis=1),
            "mfcc_std": mfcc.std(axis=1),
            "mfcc_delta_std": mfcc_delta.std(axis=1),
            "chroma_mean": chroma.mean(axis=1),
            "chroma_std": chroma.std(axis=1),
            "contrast_mean": contrast.mean(axis=1),
            "contrast_std": contrast.std(axis=1),
            "rhythm": np.array([np.log2(max(tempo, 30.0) / 120.0), pulse, onset.mean(), onset.std()]),
        }
        parts = [l2_normalise(np.asarray(blocks[name], dtype=np.float32)[None, :])[0] for name, _ in _BLOCKS]
        return l2_normalise(np.concatenate(parts)[None, :])[0]

    def _load(self, path: Path) -> np.ndarray:
        try:
            total = audio_duration(path)
        except AudioDecodeError:
            total = 0.0
        offset = max(0.0, (total - self.max_seconds) / 2.0) if total else 0.0
        return audio_load(path, sample_rate=self.front_end.sample_rate, offset=offset, duration=self.max_seconds)
