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
    # libsndfile's MP3 decoder (mpg123) cannot seek cleanly: the frames after a
    # seek lack their bit reservoir, decode wrong, and mpg123 prints
    # "part2_3_length ... too large" to the terminal. FFmpeg seeks MP3 with a
    # pre-roll instead (_load_pyav); from the start, libsndfile is faster.
    first, second = (_load_pyav, _load_soundfile) if offset > 0 and _looks_like_mp3(path) else (_load_soundfile, _load_pyav)
    try:
        samples, native_rate = first(path, offset, duration)
    except _Unsupported as first_error:
        try:
            samples, native_rate = second(path, offset, duration)
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


def _looks_like_mp3(path: Path) -> bool:
    """An ``.mp3`` name, an ID3 tag or an MPEG audio frame header at the start of the file."""
    if path.suffix.lower() == ".mp3":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(3)
    except OSError:
        return False
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2)


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


#: Seconds decoded before a seek target and thrown away. MP3 frames borrow
#: bits from the frames before them (the bit reservoir, up to 511 bytes, a few
#: frames at low bit rates): the first frames after a seek cannot be decoded
#: correctly, so decoding starts this much earlier and those frames are dropped.
SEEK_PREROLL_S = 0.5


def _load_pyav(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Decode with FFmpeg: seek ``SEEK_PREROLL_S`` before ``offset``, place every frame by its timestamp.

    Sample positions count from the stream's first sample (its ``start_time``,
    which includes an MP3's encoder delay), so a seek lands on the same
    samples a decode from the start gives. FFmpeg's own log stays off (PyAV's
    default), so nothing reaches the terminal.
    """
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
            time_base = stream.time_base
            origin = float(stream.start_time * time_base) if stream.start_time is not None and time_base else 0.0
            seek_to = offset - SEEK_PREROLL_S
            if seek_to > 0:
                if time_base:
                    container.seek(int((origin + seek_to) / time_base), stream=stream, any_frame=False, backward=True)
                else:
                    container.seek(int((origin + seek_to) * 1_000_000), any_frame=False, backward=True)
            # Planar float in the stream's own layout, averaged here: FFmpeg's own
            # stereo-to-mono downmix is (L + R) / sqrt(2), 1.41 times louder than the
            # channel mean libsndfile's path gives, and the two paths must agree.
            resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
            start = int(round(offset * rate))
            stop = None if duration is None else start + int(round(duration * rate))
            chunks: list[np.ndarray] = []
            position: int | None = None  # sample index of the next decoded sample
            for frame in container.decode(stream):
                if frame.time is not None:
                    position = int(round((float(frame.time) - origin) * rate))
                elif position is None:
                    position = 0
                for converted in resampler.resample(frame):
                    chunk = converted.to_ndarray().mean(axis=0)
                    first = max(start - position, 0)
                    last = chunk.size if stop is None else min(chunk.size, stop - position)
                    if last > first:
                        chunks.append(chunk[first:last])
                    position += chunk.size
                if stop is not None and position is not None and position >= stop:
                    break
    except _Unsupported:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as error:
        raise _Unsupported(f"ffmpeg: {error}") from None
    if not chunks:
        raise _Unsupported("ffmpeg: no audio frames decoded")
    return np.concatenate(chunks).astype(np.float32, copy=False), rate


def _resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(samples, source_rate, target_rate, quality="HQ").astype(np.float32, copy=False)
