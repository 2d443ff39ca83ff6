"""The log-mel front end every audio model shares.

One code path for training and inference: a model names a
:class:`FrontEndConfig` and calls :func:`log_mel` (or
:func:`power_spectrogram` then :func:`mel_from_power`) on decoded samples.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class FrontEndConfig:
    """STFT and mel-filterbank settings of one audio model."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 96
    fmin: float = 0.0
    fmax: float | None = None


def power_spectrogram(samples: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """Power STFT of mono ``samples`` (shape ``(n_samples,)``).

    Returns float32 of shape ``(1 + n_fft // 2, n_frames)``.
    """
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < config.n_fft:
        samples = np.pad(samples, (0, config.n_fft - samples.size))
    spectrum = librosa.stft(samples, n_fft=config.n_fft, hop_length=config.hop_length, center=True)
    return (np.abs(spectrum) ** 2).astype(np.float32)


def mel_from_power(power: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """Mel power spectrogram, shape ``(n_mels, n_frames)``, from a power STFT."""
    return (_mel_basis(config) @ power).astype(np.float32)


def log_mel(samples: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """Log-mel spectrogram in decibels, shape ``(n_mels, n_frames)``, float32."""
    import librosa

    mel = mel_from_power(power_spectrogram(samples, config), config)
    return librosa.power_to_db(mel, ref=1.0, top_db=None).astype(np.float32)


@lru_cache(maxsize=8)
def _mel_basis(config: FrontEndConfig) -> np.ndarray:
    import librosa

    return librosa.filters.mel(
        sr=config.sample_rate,
        n_fft=config.n_fft,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
    ).astype(np.float32)
