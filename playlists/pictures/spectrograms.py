"""Spectrogram pictures of a track (log-mel, chroma, MFCC), drawn once with matplotlib's Agg canvas and cached on disk."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import librosa
import numpy as np
from django.conf import settings
from matplotlib.figure import Figure

from ml.audio.decode import audio_load
from ml.audio.features import FrontEndConfig, log_mel, power_spectrogram
from ml.errors import MLError
from playlists.catalogue.library import path_in_library
from playlists.models import Track
from playlists.pictures.files import PictureError, pictures_dir, write_atomically

logger = logging.getLogger(__name__)

SPECTROGRAM_KINDS = {"mel": "Log-mel spectrogram", "chroma": "Chroma", "mfcc": "MFCC"}
# Bumped when the rendering changes, so cached images are redrawn.
PICTURE_VERSION = 1
FRONT_END = FrontEndConfig(sample_rate=22050, n_fft=2048, hop_length=512, n_mels=96)


def spectrogram_path(track: Track, kind: str) -> Path:
    if kind not in SPECTROGRAM_KINDS:
        raise PictureError(f"no picture kind {kind!r}; one of {', '.join(SPECTROGRAM_KINDS)}")
    identity = track.content_hash or f"track{track.id}"
    return pictures_dir() / "spectrogram" / f"{identity}-{kind}-v{PICTURE_VERSION}.png"


def spectrogram_png(track: Track, kind: str) -> Path:
    """The cached PNG of ``track``'s ``kind`` picture, drawn on first use (about a second for a minute of audio)."""
    path = spectrogram_path(track, kind)
    if path.is_file():
        return path
    audio = path_in_library(track.audio_path)
    if audio is None:
        raise PictureError("this track has no audio file in the library")
    seconds = settings.CROSSFADE.audio.max_seconds
    try:
        samples = audio_load(audio, sample_rate=FRONT_END.sample_rate, duration=seconds)
    except MLError as error:
        raise PictureError(f"the audio could not be read: {error}") from None
    write_atomically(path, _render(samples, kind))
    return path


def _render(samples: np.ndarray, kind: str) -> bytes:
    """PNG bytes of the ``kind`` picture of mono float32 ``samples`` ``(n,)``."""
    frames_per_second = FRONT_END.sample_rate / FRONT_END.hop_length
    if kind == "mel":
        image = log_mel(samples, FRONT_END)  # (n_mels, frames), dB
        image = np.maximum(image, image.max() - 80.0)
        ylabel, yticks = "mel band", None
    elif kind == "chroma":
        image = librosa.feature.chroma_stft(S=power_spectrogram(samples, FRONT_END), sr=FRONT_END.sample_rate)  # (12, frames)
        ylabel, yticks = "pitch class", ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]
    else:
        image = librosa.feature.mfcc(S=log_mel(samples, FRONT_END), n_mfcc=20)  # (20, frames)
        ylabel, yticks = "coefficient", None
    figure = Figure(figsize=(8, 2.6), dpi=100)
    axes = figure.add_axes((0.08, 0.17, 0.9, 0.78))
    axes.imshow(image, origin="lower", aspect="auto", cmap="magma", extent=(0, image.shape[1] / frames_per_second, -0.5, image.shape[0] - 0.5), interpolation="nearest")
    axes.set_xlabel("seconds")
    axes.set_ylabel(ylabel)
    if yticks:
        axes.set_yticks(range(12), yticks, fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
