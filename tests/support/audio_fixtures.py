"""Generates the edge-case audio files the tests use (run it to look at them).

    python -m tests.support.audio_fixtures OUT_DIR

Everything is synthesised here, so nothing binary is committed: silence, a
0.2 s clip, stereo, 44.1 and 48 kHz, each container Crossfade reads, a
truncated file, a file that is not audio, a 0-byte file.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile

RATE = 22050


def tone(seconds: float, *, rate: int = RATE, freq: float = 440.0, seed: int = 0, beat_hz: float = 2.0) -> np.ndarray:
    """A pulsing tone with a little noise: float32 ``(n,)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * beat_hz * t) ** 2
    signal = 0.3 * envelope * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    return signal.astype(np.float32)


def song(seconds: float, *, rate: int = RATE, seed: int = 0, sections: int = 4) -> np.ndarray:
    """A music-like signal that changes every ``seconds / sections``: bass, chords and noise-burst drums, float32 ``(n,)``.

    Sharp transients make an MP3 encoder lean on its bit reservoir (as real
    music does), and each section has its own key and tempo, so a segment
    read from the wrong place, or a misdecoded frame, shows.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n, dtype=np.float64) / rate
    out = np.zeros(n)
    bounds = np.linspace(0, n, sections + 1).astype(int)
    for start, stop in zip(bounds[:-1], bounds[1:]):
        local = t[start:stop] - t[start]
        beat = 60.0 / rng.uniform(80, 160)
        root = rng.uniform(55, 110)
        phase = (local % beat) / beat
        part = 0.25 * np.sin(2 * np.pi * root * local) * np.exp(-3 * phase)
        for ratio in (4.0, 5.04, 6.0):
            part += 0.05 * np.sin(2 * np.pi * root * ratio * local)
        part += 0.3 * rng.standard_normal(local.size) * np.exp(-40 * ((local % (beat / 2)) / beat))
        out[start:stop] = part
    return np.clip(out, -1, 1).astype(np.float32)


def write_m4a(path: Path, samples: np.ndarray, rate: int) -> None:
    import av

    with av.open(str(path), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        frame_size = 1024
        for start in range(0, samples.size, frame_size):
            block = samples[start : start + frame_size][None, :]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def edge_cases_write(folder: Path) -> dict[str, Path]:
    """Write every edge case into ``folder``; returns name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def add(name: str, samples: np.ndarray, rate: int = RATE, **kwargs) -> None:
        path = folder / name
        soundfile.write(str(path), samples, rate, **kwargs)
        files[name] = path

    add("tone.wav", tone(3.0))
    add("tone.flac", tone(3.0))
    add("tone.ogg", tone(3.0))
    add("tone.mp3", tone(3.0))
    add("tone.opus", tone(3.0, rate=48000), 48000, format="OGG", subtype="OPUS")
    add("silence.wav", np.zeros(RATE * 2, dtype=np.float32))
    add("short.wav", tone(0.2))
    add("stereo_44k.flac", np.stack([tone(2.0, rate=44100), tone(2.0, rate=44100, freq=660.0)], axis=1), 44100)
    add("mono_48k.ogg", tone(2.0, rate=48000), 48000)
    write_m4a(folder / "tone.m4a", tone(3.0), RATE)
    files["tone.m4a"] = folder / "tone.m4a"
    full = files["tone.mp3"].read_bytes()
    (folder / "truncated.mp3").write_bytes(full[: len(full) // 3])
    files["truncated.mp3"] = folder / "truncated.mp3"
    (folder / "not_audio.mp3").write_bytes(b"%PDF-1.4\n" + np.random.default_rng(1).bytes(4000))
    files["not_audio.mp3"] = folder / "not_audio.mp3"
    # Real audio under the wrong name: FLAC bytes called .mp3, Ogg Vorbis called .wav.
    (folder / "flac_named.mp3").write_bytes(files["tone.flac"].read_bytes())
    files["flac_named.mp3"] = folder / "flac_named.mp3"
    (folder / "ogg_named.wav").write_bytes(files["tone.ogg"].read_bytes())
    files["ogg_named.wav"] = folder / "ogg_named.wav"
    (folder / "empty.flac").write_bytes(b"")
    files["empty.flac"] = folder / "empty.flac"
    # A WAV header promising audio followed by nothing a decoder can use.
    (folder / "header_only.wav").write_bytes(files["tone.wav"].read_bytes()[:44])
    files["header_only.wav"] = folder / "header_only.wav"
    return files


if __name__ == "__main__":
    for name, path in edge_cases_write(Path(sys.argv[1] if len(sys.argv) > 1 else "edge-cases")).items():
        print(f"{name}\t{path}")
