"""Decoding audio files into mono float32 samples at a chosen rate.

libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis/Opus and MP3 and
can seek cheaply; PyAV (FFmpeg) covers the rest (M4A/AAC, odd containers).
Every failure becomes an :class:`~ml.errors.AudioDecodeError` whose message
says what is wrong with the file.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ml.errors import AudioDecodeError

logger = logging.getLogger(__name__)

#: Extensions Crossfade treats as audio when walking a library.
AUDIO_EXTENSIONS: frozenset[str] = frozenset({".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav"})

_MIN_SAMPLES = 32


def audio_load(
    path: str | Path,
    *,
    sample_rate: int,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Decode ``path`` to mono float32 samples at ``sample_rate``.

    Only ``[offset, offset + duration)`` seconds are decoded when given.
    Returns an array of shape ``(n_samples,)`` with values in ``[-1, 1]``.
    Raises :class:`AudioDecodeError` for a missing, empty, truncated or
    non-audio file, or one with no samples in the requested span.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")
    try:
        samples, native_rate = _load_soundfile(path, offset, duration)
    except _Unsupported as first_error:
        try:
            samples, native_rate = _load_pyav(path, offset, duration)
        except _Unsupported as second_error:
            logger.debug("%s: %s", path, first_error)
            raise AudioDecodeError(f"{path}: not a decodable audio file ({second_error})") from None
    if samples.size < _MIN_SAMPLES:
        raise AudioDecodeError(f"{path}: no audio in the requested span (decoded {samples.size} samples)")
    if not np.all(np.isfinite(samples)):
        raise AudioDecodeError(f"{path}: decoded samples contain NaN or infinity")
    if native_rate != sample_rate:
        samples = _resample(samples, native_rate, sample_rate)
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)


def audio_duration(path: str | Path) -> float:
    """Length of ``path`` in seconds, from its header where possible."""
    path = Path(path)
    try:
        import soundfile

        info = soundfile.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return info.frames / info.samplerate
    except Exception:  # noqa: BLE001 - fall through to FFmpeg
        pass
    try:
        import av

        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
    except Exception as error:  # noqa: BLE001
        raise AudioDecodeError(f"{path}: cannot read the duration ({error})") from None
    raise AudioDecodeError(f"{path}: cannot read the duration")


class _Unsupported(Exception):
    """This decoder cannot read the file; another may."""


def _load_soundfile(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            start = int(round(offset * rate))
            if start:
                if handle.seekable():
                    handle.seek(min(start, max(handle.frames, 0)))
                else:
                    handle.read(start)
            frames = -1 if duration is None else int(round(duration * rate))
            block = handle.read(frames, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise _Unsupported(f"libsndfile: {error}") from None
    return block.mean(axis=1), rate


def _load_pyav(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise _Unsupported("ffmpeg: the file has no audio stream")
            stream = streams[0]
            rate = stream.rate or stream.codec_context.sample_rate
            if not rate:
                raise _Unsupported("ffmpeg: the audio stream has no sample rate")
            if offset > 0:
                container.seek(int(offset * 1_000_000), any_frame=False, backward=True)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks: list[np.ndarray] = []
            first_time: float | None = None
            wanted = None if duration is None else int(round(duration * rate))
            have = 0
            for frame in container.decode(stream):
                if first_time is None:
                    first_time = float(frame.time or 0.0)
                for converted in resampler.resample(frame):
                    chunk = converted.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    have += chunk.size
                if wanted is not None and have >= wanted + int(max(0.0, offset - (first_time or 0.0)) * rate):
                    break
    except _Unsupported:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as error:
        raise _Unsupported(f"ffmpeg: {error}") from None
    if not chunks:
        raise _Unsupported("ffmpeg: no audio frames decoded")
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    # A seek lands on a frame boundary at or before the offset: drop the lead-in.
    skip = int(round(max(0.0, offset - (first_time or 0.0)) * rate))
    samples = samples[skip:]
    if wanted is not None:
        samples = samples[:wanted]
    return samples, rate


def _resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(samples, source_rate, target_rate, quality="HQ").astype(np.float32, copy=False)
