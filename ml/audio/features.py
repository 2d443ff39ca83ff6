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
    #: How mel power becomes the model input: ``"db"`` (10·log10, the
    #: baseline's) or ``"log10-c10000"``, log10(1 + 10000·mel), the
    #: compression musicnn was trained with.
    compression: str = "db"
    #: Round mel power to float16 before compressing, as musicnn's training
    #: data was stored; keeps a pretrained model's inputs bit-faithful.
    float16_mel: bool = False


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
    """Compressed mel spectrogram, shape ``(n_mels, n_frames)``, float32.

    Decibels for ``compression="db"``; log10(1 + 10000·mel) for
    ``"log10-c10000"``.
    """
    mel = mel_from_power(power_spectrogram(samples, config), config)
    return mel_compress(mel, config)


def mel_compress(mel: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """Apply the config's compression to mel power of any shape; float32 of the same shape."""
    if config.float16_mel:
        mel = mel.astype(np.float16)
    if config.compression == "db":
        import librosa

        return librosa.power_to_db(mel.astype(np.float32), ref=1.0, top_db=None).astype(np.float32)
    if config.compression == "log10-c10000":
        return np.log10(10000.0 * mel.astype(np.float32) + 1.0).astype(np.float32)
    raise ValueError(f"unknown mel compression {config.compression!r}; use 'db' or 'log10-c10000'")


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
