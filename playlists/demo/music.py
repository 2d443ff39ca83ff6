"""Synthesised demo music library for Crossfade.

This module writes a small but realistic music library to disk so that the
project can be tried out (and tested) without anybody's private collection:

* 48 tracks in six clearly different styles (techno, piano ballad, rock,
  ambient drone, folk waltz, chiptune), synthesised with vectorised numpy at
  22 050 Hz mono, 20 to 30 seconds each;
* written as MP3, Ogg Vorbis and FLAC with soundfile, plus two WAV files and
  two AAC ``.m4a`` files (encoded with PyAV);
* tagged with mutagen (title, artist, album, genre, track number, year,
  language) and carrying original lyrics in English or Russian, either inside
  the tags or in ``.lrc`` / ``.txt`` sidecar files (the latter in UTF-8,
  cp1251 or UTF-16 with BOM, as found in real collections).

Everything is deterministic for a given seed: the same seed gives the same
catalogue, lyrics and decoded audio samples.

It is plain library code and deliberately does not import Django.

All audio arrays in this module are mono ``float64`` (``float32`` only when
handed to the encoders) with shape ``(n_samples,)`` at :data:`SAMPLE_RATE`.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import signal

from ml.progress import Progress

if TYPE_CHECKING:
    from mutagen.id3 import ID3, Frame

logger = logging.getLogger(__name__)

__all__ = ["DemoTrack", "SAMPLE_RATE", "STYLES", "demo_library_write"]

#: Sample rate of every file in the demo library, in Hz.
SAMPLE_RATE = 22050
SR = SAMPLE_RATE

#: Peak level every track is normalised to before encoding (about -1.9 dBFS),
#: leaving headroom for the overshoot of lossy codecs.
_PEAK = 0.8


@dataclass(frozen=True)
class DemoTrack:
    """One audio file of the demo library, as written by :func:`demo_library_write`."""

    path: Path  # the audio file written
    title: str
    artist: str
    album: str
    genre: str  # the style's genre tag as written to the file, e.g. "Techno"
    style: str  # internal style key, e.g. "techno"
    language: str | None  # "en", "ru" or None for instrumentals
    lyrics: str | None  # the plain lyrics text (without timestamps) or None
    lyrics_location: str | None  # "tag", "lrc", "txt" or None


# ---------------------------------------------------------------------------
# Music theory
# ---------------------------------------------------------------------------

_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}

# Chord progressions as scale degrees (0 = tonic) of the chord roots.
_PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 5, 4), (0, 5, 3, 4), (0, 2, 5, 6)),
    "major": ((0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 4), (5, 3, 0, 4), (0, 1, 3, 4)),
    "lydian": ((0, 1, 0, 1), (0, 1, 4, 0), (0, 5, 1, 0)),
}


@dataclass
class _Song:
    """Musical frame of one track: tempo, metre, key and the chord of every bar."""

    rng: np.random.Generator
    bpm: float
    beats_per_bar: int
    n_bars: int
    tonic: int  # MIDI note of the key's root in octave 3 (45..56)
    scale: tuple[int, ...]
    chords: list[int]  # chord root as scale degree, one per bar: shape (n_bars,)
    tail: float  # seconds of release/reverb tail after the last bar
    _cache: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict)

    @property
    def spb(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.bpm

    @property
    def n_beats(self) -> int:
        return self.n_bars * self.beats_per_bar

    @property
    def n(self) -> int:
        """Total number of samples of the track."""
        return int(round((self.n_beats * self.spb + self.tail) * SR))

    def at(self, beat: float) -> int:
        """Sample index of a (fractional) beat position."""
        return int(round(beat * self.spb * SR))

    def samples(self, beats: float) -> int:
        """Length in samples of a duration given in beats."""
        return max(1, int(round(beats * self.spb * SR)))

    def midi(self, degree: int, octave: int = 0) -> int:
        """MIDI note of a scale degree (may be negative or above 6) relative to the tonic."""
        return self.tonic + 12 * (octave + degree // 7) + self.scale[degree % 7]

    def chord(self, root: int, octave: int = 0, tones: Sequence[int] = (0, 2, 4)) -> list[int]:
        """MIDI notes of the diatonic chord built on scale degree ``root``."""
        return [self.midi(root + t, octave) for t in tones]

    def memo(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        """Returns the cached note rendering for ``key``, rendering it with ``make()`` on first use."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def chord_at(self, beat: float) -> int:
        bar = min(int(beat // self.beats_per_bar), self.n_bars - 1)
        return self.chords[bar]


def _hz(midi: float | np.ndarray) -> float | np.ndarray:
    """Frequency in Hz of a (possibly fractional) MIDI note number."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def _make_song(rng: np.random.Generator, style: str) -> _Song:
    """Draws tempo, key, mode, progression and length for one track of ``style``."""
    spec = STYLES[style]
    bpm = float(rng.integers(spec.bpm[0], spec.bpm[1] + 1))
    mode = spec.modes[int(rng.integers(len(spec.modes)))]
    scale = _SCALES[mode]
    progs = _PROGRESSIONS[mode]
    prog = progs[int(rng.integers(len(progs)))]
    bars_per_chord = spec.bars_per_chord[int(rng.integers(len(spec.bars_per_chord)))]
    bar_s = spec.beats_per_bar * 60.0 / bpm
    target = rng.uniform(22.0, 28.0)
    n_bars = max(2, int(round((target - spec.tail) / bar_s)))
    while n_bars * bar_s + spec.tail < 20.5:
        n_bars += 1
    while n_bars * bar_s + spec.tail > 29.5:
        n_bars -= 1
    chords = [prog[(b // bars_per_chord) % len(prog)] for b in range(n_bars)]
    chords[-1] = 0  # end on the tonic
    tonic = 45 + int(rng.integers(0, 12))
    return _Song(rng, bpm, spec.beats_per_bar, n_bars, tonic, scale, chords, spec.tail)


def _melody(
    song: _Song,
    *,
    steps_per_beat: int,
    density: float,
    lo: int,
    hi: int,
    start_bar: int = 0,
    end_bar: int | None = None,
    phrase_bars: int = 2,
    legato: float = 0.9,
    max_beats: float = 2.0,
) -> list[tuple[float, float, int]]:
    """Generates a melody line over the song's chords.

    The rhythm is built from two seeded motifs arranged AABA so that phrases
    repeat; pitches move stepwise in scale degrees ``lo..hi`` (relative to the
    tonic) and land on chord tones on the beats.

    Returns a list of ``(start_beat, duration_beats, midi_note)``.
    """
    rng = song.rng
    bpb = song.beats_per_bar
    end_bar = song.n_bars if end_bar is None else end_bar
    steps = phrase_bars * bpb * steps_per_beat
    pos = np.arange(steps)
    strong = pos % steps_per_beat == 0
    motifs = []
    for _ in range(2):
        prob = np.where(strong, min(0.95, density + 0.35), density * 0.55)
        mask = rng.random(steps) < prob
        mask[0] = True
        mask[-steps_per_beat:] = False  # phrase ends on a long note
        motifs.append(np.flatnonzero(mask))
    form = (0, 0, 1, 0)
    onsets: list[tuple[float, float]] = []  # (beat, phrase end beat)
    for k, bar in enumerate(range(start_bar, end_bar, phrase_bars)):
        base = bar * bpb
        phrase_end: float = min(end_bar, bar + phrase_bars) * bpb
        for st in motifs[form[k % 4]]:
            beat: float = base + st / steps_per_beat
            if beat < phrase_end - 1e-9:
                onsets.append((beat, phrase_end))
    notes: list[tuple[float, float, int]] = []
    centre = (lo + hi) // 2
    prev = centre
    for i, (beat, phrase_end) in enumerate(onsets):
        chord = song.chord_at(beat)
        on_beat = abs(beat - round(beat)) < 1e-9
        if on_beat or rng.random() < 0.3:
            cands = np.array([d for d in range(lo, hi + 1) if (d - chord) % 7 in (0, 2, 4)])
            dist = np.abs(cands - prev)
            w = np.exp(-np.abs(dist - 2.0) / 1.5)  # prefer moving by a third, allow repeats and leaps
            deg = int(rng.choice(cands, p=w / w.sum()))
        else:
            step = int(rng.choice([-2, -1, 1, 2], p=[0.15, 0.35, 0.35, 0.15]))
            if prev > centre + 3:
                step = -abs(step)
            elif prev < centre - 3:
                step = abs(step)
            deg = int(np.clip(prev + step, lo, hi))
        prev = deg
        nxt = onsets[i + 1][0] if i + 1 < len(onsets) and onsets[i + 1][1] == phrase_end else phrase_end
        dur = min(nxt - beat, max_beats) * legato
        notes.append((float(beat), float(dur), song.midi(deg)))
    return notes


# ---------------------------------------------------------------------------
# DSP building blocks (all vectorised numpy / scipy)
# ---------------------------------------------------------------------------


def _t(n: int) -> np.ndarray:
    """Time axis in seconds, shape ``(n,)``."""
    return np.arange(n) / SR


def _adsr(n: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """Piecewise-linear ADSR envelope of shape ``(n,)``; the release ends at sample ``n``.

    Notes shorter than attack + decay + release get all three phases shrunk
    proportionally, so every envelope ends at zero (no clicks).
    """
    scale = min(1.0, n / max(1.0, (attack + decay + release) * SR))
    a = max(1, int(attack * scale * SR))
    d = max(1, int(decay * scale * SR))
    r = max(1, int(release * scale * SR))
    hold = max(a + d, n - r)
    return np.interp(np.arange(n), [0, a, a + d, hold, hold + r], [0.0, 1.0, sustain, sustain, 0.0])


def _phase(freq: float | np.ndarray, n: int, phase0: float = 0.0) -> tuple[np.ndarray, float | np.ndarray]:
    """Oscillator phase in cycles (wrapped to [0, 1)), shape ``(n,)``, and the per-sample increment."""
    inc: float | np.ndarray
    if np.ndim(freq) == 0:
        inc = float(freq) / SR
        ph = np.arange(n, dtype=float)
        ph *= inc
    else:
        per_sample = np.asarray(freq, dtype=float)[:n] / SR
        ph = np.cumsum(per_sample)
        ph -= per_sample[0]
        inc = per_sample
    ph += phase0
    ph -= np.floor(ph)
    return ph, inc


def _blep(ph: np.ndarray, dt: float | np.ndarray) -> np.ndarray:
    """PolyBLEP correction, shape ``(n,)``, that removes most aliasing of a naive sawtooth."""
    dt = np.broadcast_to(np.asarray(dt, dtype=float), ph.shape)
    out = np.zeros_like(ph)
    m = ph < dt
    x = ph[m] / dt[m]
    out[m] = x + x - x * x - 1.0
    m = ph > 1.0 - dt
    x = (ph[m] - 1.0) / dt[m]
    out[m] = x * x + x + x + 1.0
    return out


def _saw(freq: float | np.ndarray, n: int, phase0: float = 0.0) -> np.ndarray:
    """Band-limited sawtooth in [-1, 1], shape ``(n,)``; ``freq`` scalar or shape ``(n,)``."""
    ph, dt = _phase(freq, n, phase0)
    saw: np.ndarray = 2.0 * ph - 1.0 - _blep(ph, dt)
    return saw


def _pulse(freq: float | np.ndarray, n: int, duty: float = 0.5, phase0: float = 0.0) -> np.ndarray:
    """Band-limited pulse wave with the given duty cycle, zero mean, shape ``(n,)``."""
    ph, dt = _phase(freq, n, phase0)
    ph2 = (ph + duty) % 1.0
    pulse: np.ndarray = (2.0 * ph - _blep(ph, dt)) - (2.0 * ph2 - _blep(ph2, dt))
    return pulse


def _tri(freq: float | np.ndarray, n: int) -> np.ndarray:
    """Triangle wave in [-1, 1], shape ``(n,)``."""
    ph, _ = _phase(freq, n)
    return 1.0 - 4.0 * np.abs(ph - 0.5)


def _sine(freq: float | np.ndarray, n: int, phase0: float = 0.0) -> np.ndarray:
    """Sine wave, shape ``(n,)``; ``freq`` scalar or shape ``(n,)``."""
    ph, _ = _phase(freq, n, phase0)
    return np.sin(2.0 * np.pi * ph)


@lru_cache(maxsize=256)
def _sos(kind: str, cutoff: float | tuple[float, float], order: int) -> np.ndarray:
    nyq = SR / 2.0
    if isinstance(cutoff, tuple):
        wn: float | list[float] = [min(c / nyq, 0.99) for c in cutoff]
    else:
        wn = min(cutoff / nyq, 0.99)
    sos: np.ndarray = signal.butter(order, wn, btype=kind, output="sos")
    return sos


def _lp(x: np.ndarray, fc: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass, shape preserved."""
    filtered: np.ndarray = signal.sosfilt(_sos("lowpass", float(round(fc)), order), x)
    return filtered


def _hp(x: np.ndarray, fc: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass, shape preserved."""
    filtered: np.ndarray = signal.sosfilt(_sos("highpass", float(round(fc)), order), x)
    return filtered


def _bp(x: np.ndarray, lo: float, hi: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass, shape preserved."""
    filtered: np.ndarray = signal.sosfilt(_sos("bandpass", (float(round(lo)), float(round(hi))), order), x)
    return filtered


def _place(buf: np.ndarray, start: int, sig: np.ndarray, gain: float = 1.0) -> None:
    """Adds ``sig`` (shape ``(m,)``) into ``buf`` (shape ``(n,)``) at ``start``, cropping at the end."""
    if start >= len(buf) or start < 0:
        return
    end = min(len(buf), start + len(sig))
    buf[start:end] += gain * sig[: end - start]


def _hits(n: int, positions: Sequence[int], velocities: Sequence[float], sample: np.ndarray) -> np.ndarray:
    """Renders a drum part: ``sample`` (shape ``(m,)``) placed at every position; shape ``(n,)``."""
    out = np.zeros(n)
    for pos, vel in zip(positions, velocities):
        _place(out, int(pos), sample, float(vel))
    return out


def _echo(x: np.ndarray, delay: float, feedback: float, repeats: int = 4) -> np.ndarray:
    """Feed-forward multi-tap echo, shape ``(n,)`` preserved."""
    y = x.copy()
    d = int(delay * SR)
    for k in range(1, repeats + 1):
        if k * d >= len(x):
            break
        y[k * d :] += feedback**k * x[: len(x) - k * d]
    return y


def _reverb(x: np.ndarray, rng: np.random.Generator, rt60: float, wet: float, damp: float = 4000.0) -> np.ndarray:
    """Convolution reverb with an exponentially decaying noise impulse response; shape ``(n,)`` preserved."""
    m = int(rt60 * SR)
    t = _t(m)
    ir = _lp(rng.standard_normal(m), damp) * np.exp(-6.91 * t / rt60)
    ir[: int(0.012 * SR)] *= np.linspace(0.0, 1.0, int(0.012 * SR))  # short pre-delay smear
    ir /= np.sqrt(np.sum(ir**2))
    tail = signal.oaconvolve(x, ir)[: len(x)]
    mix: np.ndarray = (1.0 - wet) * x + wet * tail
    return mix


def _norm(x: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Scales ``x`` to the given peak absolute value (no-op on silence)."""
    p = float(np.max(np.abs(x))) if len(x) else 0.0
    return x * (peak / p) if p > 1e-12 else x


def _fades(x: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    """Applies a linear fade-in and a raised-cosine fade-out, shape ``(n,)`` preserved."""
    y = x.copy()
    a = max(1, int(fade_in * SR))
    y[:a] *= np.linspace(0.0, 1.0, a)
    b = max(1, int(fade_out * SR))
    y[-b:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, b)))
    return y


# --- instruments ------------------------------------------------------------


def _kick(rng: np.random.Generator, f_start: float, f_end: float, dur: float, click: float = 0.25) -> np.ndarray:
    """Sine kick drum with a fast pitch sweep, shape ``(int(dur*SR),)``, peak 1."""
    n = int(dur * SR)
    t = _t(n)
    f = f_end + (f_start - f_end) * np.exp(-t / 0.028)
    body = np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t / (dur * 0.3))
    clk = _lp(rng.standard_normal(n), 5000.0) * np.exp(-t / 0.003) * click
    return _norm(body + clk)


def _noise_hit(rng: np.random.Generator, dur: float, tau: float, lo: float | None, hi: float | None) -> np.ndarray:
    """Filtered noise burst with exponential decay, shape ``(int(dur*SR),)``, peak 1."""
    n = int(dur * SR)
    x = rng.standard_normal(n)
    if lo is not None and hi is not None:
        x = _bp(x, lo, hi)
    elif lo is not None:
        x = _hp(x, lo, order=4)
    elif hi is not None:
        x = _lp(x, hi)
    return _norm(x * np.exp(-_t(n) / tau))


def _snare(rng: np.random.Generator, tone: float = 185.0) -> np.ndarray:
    """Snare drum (tuned body plus band-passed noise), peak 1."""
    n = int(0.3 * SR)
    t = _t(n)
    body = np.sin(2 * np.pi * tone * t) * np.exp(-t / 0.045)
    rattle = _bp(rng.standard_normal(n), 1200.0, 9000.0) * np.exp(-t / 0.085)
    return _norm(0.7 * body + _norm(rattle))


def _clap(rng: np.random.Generator) -> np.ndarray:
    """Hand clap: three short noise bursts then a tail, band-passed, peak 1."""
    n = int(0.25 * SR)
    t = _t(n)
    env = np.exp(-t / 0.06)
    for k in range(3):
        d = t - k * 0.011
        env += np.where(d >= 0, np.exp(-np.maximum(d, 0) / 0.004), 0.0)
    return _norm(_bp(rng.standard_normal(n), 900.0, 3200.0) * env)


_TABLE = 4096


@lru_cache(maxsize=32)
def _piano_tables(n_part: int) -> tuple[np.ndarray, np.ndarray]:
    """Single-cycle wavetables, shape ``(_TABLE,)`` each: a bright attack and a mellow body spectrum."""
    k = np.arange(1, n_part + 1)[:, None]
    ph = np.arange(_TABLE)[None, :] / _TABLE
    offsets = np.linspace(0.0, 1.7, n_part)[:, None]  # fixed partial phases
    bright = np.sum(k**-1.0 * np.sin(2 * np.pi * (k * ph + offsets)), axis=0)
    warm = np.sum(k**-2.4 * np.sin(2 * np.pi * (k * ph + offsets)), axis=0)
    return _norm(bright), _norm(warm)


def _piano(song: _Song, midi: int, dur: float, vel: float) -> np.ndarray:
    """Piano-like tone: a bright, fast-decaying spectrum over a mellow, slowly decaying one.

    Two wavetable voices (the second detuned by a few cents for the beating of
    piano unisons), a hammer click and a damper at ``dur`` seconds.  Returns
    shape ``(int((dur + 0.3) * SR),)``; cached on the song per (note, length,
    velocity).
    """
    key = ("piano", midi, round(dur, 2), round(vel, 2))
    if key in song._cache:
        return song._cache[key]
    f0 = float(_hz(midi))
    n = int((dur + 0.3) * SR)
    t = _t(n)
    bright, warm = _piano_tables(int(max(1, min(12, 0.45 * SR / f0))))
    ph1, _ = _phase(f0, n)
    ph2, _ = _phase(f0 * 1.0012, n, 0.3)
    i1 = (ph1 * _TABLE).astype(np.intp)
    i2 = (ph2 * _TABLE).astype(np.intp)
    tau = float(np.clip(2.4 * (220.0 / f0) ** 0.6, 0.5, 4.5))
    x: np.ndarray = (0.3 * np.exp(-t / tau)) * (warm[i1] + warm[i2])
    k = min(n, int(7.0 * 0.12 * tau * SR))  # the bright attack has decayed by 60 dB after this
    x[:k] += (0.35 + 0.4 * vel) * np.exp(-t[:k] / (0.12 * tau)) * bright[i1[:k]]
    h = min(n, int(0.01 * SR))
    x[:h] += 0.05 * vel * _lp(song.rng.standard_normal(h), 3000.0) * np.exp(-t[:h] / 0.003)  # hammer
    a = min(n, int(0.002 * SR))
    x[:a] *= np.linspace(0.0, 1.0, a)
    d = min(n, int(dur * SR))
    x[d:] *= np.exp(-(t[d:] - t[d]) / 0.07)  # damper
    x *= vel
    song._cache[key] = x
    return x


def _pluck(song: _Song, midi: int, dur: float, bright: float, t60: float) -> np.ndarray:
    """Karplus-Strong plucked string, shape ``(int((dur + 0.08) * SR),)``.

    The delay line is processed one period (block of N samples) at a time, so
    the recursion ``y[n] = g * ((1 - a) y[n-N] + a y[n-N-1])`` runs as numpy
    slices; ``a`` adds the fractional part of the period for accurate tuning.
    """
    key = ("pluck", midi, round(dur, 2), round(bright, 2), round(t60, 2))
    if key in song._cache:
        return song._cache[key]
    f0 = float(_hz(midi))
    period = SR / f0
    big_n = int(period)
    a = period - big_n
    n = int((dur + 0.08) * SR)
    g = 10.0 ** (-3.0 / (t60 * f0))
    exc = song.rng.uniform(-1.0, 1.0, big_n)
    b = 1.0 - bright
    exc = signal.lfilter([1.0 - b], [1.0, -b], exc)  # softer pluck: low-passed excitation
    exc -= exc.mean()
    y = np.zeros(n + 1)  # y[0] is a zero sample "before" the note
    y[1 : min(n, big_n) + 1] = exc[: min(n, big_n)]
    for s in range(big_n + 1, n + 1, big_n):
        e = min(n + 1, s + big_n)
        y[s:e] = g * ((1.0 - a) * y[s - big_n : e - big_n] + a * y[s - big_n - 1 : e - big_n - 1])
    x = y[1:]
    t = _t(n)
    x = x * np.where(t > dur, np.exp(-(t - dur) / 0.02), 1.0)
    x = _norm(x)
    song._cache[key] = x
    return x


def _vibrato_saw(song: _Song, midi: int, dur: float, depth: float, attack: float = 0.01) -> np.ndarray:
    """Sawtooth lead with delayed vibrato and ADSR, shape ``(song.samples(dur),)``."""
    ln = song.samples(dur)
    t = _t(ln)
    vib = 1.0 + depth * np.sin(2 * np.pi * 5.6 * t) * np.minimum(1.0, t / 0.3)
    note: np.ndarray = _saw(float(_hz(midi)) * vib, ln) * _adsr(ln, attack, 0.1, 0.85, 0.06)
    return note


def _supersaw(freq: float, n: int, rng: np.random.Generator, voices: int = 3, cents: float = 8.0) -> np.ndarray:
    """Detuned stack of sawtooth oscillators, shape ``(n,)``, roughly unit RMS/peak."""
    detune = np.linspace(-cents, cents, voices) if voices > 1 else np.zeros(1)
    out = np.zeros(n)
    for c in detune:
        out += _saw(freq * 2.0 ** (c / 1200.0), n, phase0=float(rng.random()))
    return out / voices


# ---------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------


def _render_techno(song: _Song) -> np.ndarray:
    """Four-on-the-floor techno: kick, off-beat hats, claps, saw bass, chord stabs, arpeggio.

    Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    beats = range(song.n_beats)
    intro = int(rng.integers(1, 3))  # bars without kick
    drop = int(rng.integers(song.n_bars // 2, max(song.n_bars // 2 + 1, song.n_bars - 2)))
    kick_beats = [b for b in beats if b // bpb >= intro and b // bpb != drop]
    kick = _hits(n, [song.at(b) for b in kick_beats], [1.0] * len(kick_beats),
                 _kick(rng, rng.uniform(140, 175), rng.uniform(44, 52), 0.32))
    hat_pos = [song.at(b + 0.5) for b in beats]
    hat_vel = [1.0] * len(hat_pos)
    if rng.random() < 0.7:
        for b in beats:
            for off in (0.25, 0.75):
                hat_pos.append(song.at(b + off))
                hat_vel.append(float(rng.uniform(0.2, 0.4)))
    hats = _hits(n, hat_pos, hat_vel, _noise_hit(rng, 0.06, rng.uniform(0.008, 0.016), 7000.0, None))
    clap_beats = [b for b in beats if b % bpb in (1, 3) and b // bpb >= intro]
    claps = _hits(n, [song.at(b) for b in clap_beats], [1.0] * len(clap_beats), _clap(rng))
    if rng.random() < 0.4:
        claps *= 0.0  # some tracks are kick-and-hats only
    drums = 0.95 * kick + 0.22 * hats + 0.3 * claps

    # Saw bass: off-beat or rolling 16ths on the chord root.
    bass = np.zeros(n)
    pattern = (0.5,) if rng.random() < 0.5 else (0.25, 0.5, 0.75)
    note_len = song.samples(0.22)
    for b in beats:
        root = song.midi(song.chord_at(b), -1)
        for off in pattern:
            seg = song.memo(("bass", root), lambda: _supersaw(float(_hz(root)), note_len, rng, voices=2, cents=6.0)
                            * _adsr(note_len, 0.003, 0.08, 0.5, 0.03))
            _place(bass, song.at(b + off), seg)
    bass = np.tanh(2.0 * _lp(bass, rng.uniform(500, 900), order=4))

    # Minor chord stabs with a dotted-eighth echo.
    stabs = np.zeros(n)
    stab_offs = [(0.75,), (0.5, 2.5), (1.5, 3.0), (0.75, 2.75)][int(rng.integers(4))]
    stab_len = song.samples(0.35)
    for bar in range(intro, song.n_bars):
        for off in stab_offs:
            beat = bar * bpb + off
            c = song.chord_at(beat)
            seg = song.memo(("stab", c), lambda: sum(_supersaw(float(_hz(m)), stab_len, rng, voices=2, cents=10.0)
                                                     for m in song.chord(c, 0))
                            * _adsr(stab_len, 0.004, 0.12, 0.25, 0.08))
            _place(stabs, song.at(beat), seg)
    stabs = _echo(_lp(stabs, rng.uniform(1400, 2600)), 0.75 * song.spb, 0.35, 3)

    # 16th-note arpeggio in the second half.
    arp = np.zeros(n)
    step_len = song.samples(0.22)
    start = song.n_bars // 2
    for i, beat in enumerate(np.arange(start * bpb, song.n_beats, 0.25)):
        tones = song.chord(song.chord_at(beat), 1, (0, 2, 4, 7))
        m = tones[i % len(tones)]
        seg = song.memo(("arp", m), lambda: _pulse(float(_hz(m)), step_len, 0.3)
                        * _adsr(step_len, 0.002, 0.06, 0.2, 0.03))
        _place(arp, song.at(beat), seg)
    arp = _lp(arp, 3200.0)

    mix = drums + 0.36 * bass + 0.3 * stabs + 0.12 * arp
    return mix


def _render_piano_ballad(song: _Song) -> np.ndarray:
    """Slow piano ballad: bass note and pedalled broken-chord left hand, melody right hand, reverb.

    Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    out = np.zeros(n)
    # broken-chord figures, in scale degrees above the bass note
    arp_shapes = [(4, 7, 9, 11, 9, 7, 4), (4, 7, 11, 9, 7, 9, 4), (7, 9, 11, 14, 11, 9, 7)]
    shape = arp_shapes[int(rng.integers(len(arp_shapes)))]
    for bar in range(song.n_bars):
        c = song.chords[bar]
        b0 = bar * bpb
        last = bar == song.n_bars - 1
        hold = 4.0 if last else 2.0
        out_seg = _piano(song, song.midi(c, -1), hold * song.spb, 0.75)
        _place(out, song.at(b0), out_seg)
        if last:
            for m in song.chord(c, 0, (0, 2, 4, 7)):
                _place(out, song.at(b0 + 0.5), _piano(song, m, 3.5 * song.spb, 0.45))
            continue
        for i, d in enumerate(shape):
            beat = b0 + 0.5 * (i + 1)
            pedal = b0 + bpb + 0.25 - beat  # sustain pedal: the chord rings until the next bar
            m = song.midi(c + d, -1)
            _place(out, song.at(beat), _piano(song, m, pedal * song.spb, 0.38 + 0.05 * (i % 2 == 0)))
    lead = _melody(song, steps_per_beat=2, density=0.45, lo=7, hi=14, start_bar=1,
                   end_bar=song.n_bars - 1, phrase_bars=2, max_beats=3.0)
    for beat, dur, m in lead:
        vel = 0.85 if abs(beat - round(beat)) < 1e-9 else 0.7
        _place(out, song.at(beat), _piano(song, m, dur * song.spb, vel), 1.1)
    return _reverb(out, rng, rt60=2.2, wet=0.3, damp=3500.0)


def _power_chord(song: _Song, notes: Sequence[int], dur: float) -> np.ndarray:
    """Clean (pre-distortion) power chord; palm-muted and darker when shorter than a beat.

    Returns shape ``(song.samples(dur),)``.
    """
    m_len = song.samples(dur)
    muted = dur < 1.0
    seg = sum((_supersaw(float(_hz(m)), m_len, song.rng, voices=2, cents=5.0) for m in notes), np.zeros(m_len))
    env = _adsr(m_len, 0.003, 0.09 if muted else 0.4, 0.35 if muted else 0.8, 0.02 if muted else 0.3)
    if muted:
        seg = _lp(seg, 1400.0)
    chord: np.ndarray = seg * env
    return chord


def _render_rock(song: _Song) -> np.ndarray:
    """Rock band: kick/snare backbeat, hats and crashes, distorted power chords, bass, lead.

    Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    beats = range(song.n_beats)
    kick_offs = [(0.0, 2.0), (0.0, 2.0, 2.5), (0.0, 1.5, 2.0)][int(rng.integers(3))]
    kicks = [song.at(bar * bpb + o) for bar in range(song.n_bars) for o in kick_offs]
    snares = [song.at(b) for b in beats if b % bpb in (1, 3)]
    hats = [song.at(b + o) for b in beats for o in (0.0, 0.5)]
    hat_vel = [1.0 if i % 2 == 0 else 0.6 for i in range(len(hats))]
    crash_bars = [b for b in range(song.n_bars) if b % 4 == 0]
    drums = (0.9 * _hits(n, kicks, [1.0] * len(kicks), _kick(rng, rng.uniform(110, 130), 50.0, 0.25, 0.4))
             + 0.75 * _hits(n, snares, [1.0] * len(snares), _snare(rng, rng.uniform(170, 210)))
             + 0.16 * _hits(n, hats, hat_vel, _noise_hit(rng, 0.12, 0.03, 6000.0, None))
             + 0.22 * _hits(n, [song.at(b * bpb) for b in crash_bars], [1.0] * len(crash_bars),
                            _noise_hit(rng, 1.6, 0.45, 4000.0, None)))

    # Power chords (root, fifth, octave), palm-muted eighths or sustained, then distortion.
    gtr = np.zeros(n)
    style = int(rng.integers(3))
    for bar in range(song.n_bars):
        root = song.midi(song.chords[bar], 0)
        while root > 57:
            root -= 12
        notes = (root, root + 7, root + 12)
        last = bar == song.n_bars - 1
        if last or (style == 2 and bar % 2 == 0):
            events = [(0.0, float(bpb), 1.0)]
        elif style == 1:
            events = [(0.0, 1.0, 1.0)] + [(1.0 + 0.5 * k, 0.45, 0.8) for k in range(2 * (bpb - 1))]
        else:
            events = [(0.5 * k, 0.45, 1.0 if k % 4 == 0 else 0.75) for k in range(2 * bpb)]
        for off, dur, vel in events:
            seg = song.memo(("gtr", root, dur), lambda: _power_chord(song, notes, dur))
            _place(gtr, song.at(bar * bpb + off), seg, vel)
    drive = float(rng.uniform(5.0, 9.0))
    gtr = _lp(_hp(np.tanh(drive * _norm(gtr)) / np.tanh(drive), 90.0), rng.uniform(3000, 4200), order=4)

    bass = np.zeros(n)
    bl = song.samples(0.48)
    for b in beats:
        for off in (0.0, 0.5):
            m = song.midi(song.chord_at(b), -1)
            seg = song.memo(("bass", m), lambda: _saw(float(_hz(m)), bl) * _adsr(bl, 0.004, 0.1, 0.7, 0.04))
            _place(bass, song.at(b + off), seg)
    bass = _lp(bass, 600.0, order=4)

    lead = np.zeros(n)
    for beat, dur, m in _melody(song, steps_per_beat=2, density=0.5, lo=7, hi=14, start_bar=2,
                                phrase_bars=2, max_beats=2.0):
        seg = song.memo(("lead", m, round(dur, 3)), lambda: _vibrato_saw(song, m, dur, 0.004))
        _place(lead, song.at(beat), seg)
    lead = _lp(np.tanh(2.5 * lead), 2600.0)
    lead = _reverb(lead, rng, rt60=1.2, wet=0.25)

    return drums + 0.36 * gtr + 0.32 * bass + 0.26 * lead


def _bell(f: float) -> np.ndarray:
    """Inharmonic bell/glass tone with a long decay, shape ``(int(3.5 * SR),)``."""
    t = _t(int(3.5 * SR))
    x = (np.sin(2 * np.pi * f * t) * np.exp(-t / 1.6)
         + 0.35 * np.sin(2 * np.pi * f * 2.76 * t) * np.exp(-t / 0.6)
         + 0.15 * np.sin(2 * np.pi * f * 5.4 * t) * np.exp(-t / 0.25))
    return x * np.minimum(1.0, t / 0.004)


def _render_ambient(song: _Song) -> np.ndarray:
    """Ambient drone: slowly filtered detuned pads, a low drone, sparse bells, long reverb.

    No percussion.  Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    t = _t(n)
    pads = np.zeros(n)
    bars_per_chord = 2
    voicing = [(0, 2, 4, 7), (0, 4, 7, 9), (0, 2, 4, 8)][int(rng.integers(3))]
    for bar in range(0, song.n_bars, bars_per_chord):
        c = song.chords[bar]
        start = song.at(bar * bpb) - (int(1.0 * SR) if bar else 0)
        length = song.samples(bars_per_chord * bpb) + int(3.5 * SR)
        env = _adsr(length, 2.5, 0.5, 0.85, 3.0)
        seg = sum(_supersaw(float(_hz(m)), length, rng, voices=2, cents=9.0) for m in song.chord(c, 0, voicing))
        _place(pads, max(0, start), seg * env)
    lfo = 0.5 + 0.5 * np.sin(2 * np.pi * t / rng.uniform(9.0, 14.0) + rng.uniform(0, 2 * np.pi))
    pads = _lp(pads, 500.0) * (1.0 - lfo) + 0.6 * _lp(pads, 2200.0) * lfo

    root = float(_hz(song.midi(0, -1)))
    trem = 0.75 + 0.25 * np.sin(2 * np.pi * t / rng.uniform(5.0, 8.0))
    drone = (_sine(root, n) + 0.4 * _sine(root * 1.5, n) + 0.25 * _sine(root * 2.002, n)) * trem
    drone *= np.minimum(1.0, t / 3.0)

    bells = np.zeros(n)
    pos = rng.uniform(1.0, 4.0)
    end = n / SR - song.tail - 1.0
    while pos < end:
        beat = pos / song.spb
        deg = song.chord_at(beat) + int(rng.choice([0, 2, 4, 7, 9]))
        seg = song.memo(("bell", song.midi(deg, 2)), lambda: _bell(float(_hz(song.midi(deg, 2)))))
        _place(bells, int(pos * SR), seg, float(rng.uniform(0.4, 1.0)))
        pos += rng.uniform(1.5, 4.0)

    mix = 0.5 * _norm(pads) + 0.22 * _norm(drone) + 0.3 * _norm(bells)
    return _reverb(mix, rng, rt60=5.0, wet=0.55, damp=2500.0)


def _render_folk_waltz(song: _Song) -> np.ndarray:
    """Folk waltz in 3/4: plucked "oom-pah-pah" bass and chords, fiddle or mandolin melody.

    Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    acc = np.zeros(n)
    for bar in range(song.n_bars):
        c = song.chords[bar]
        b0 = bar * bpb
        bass_m = song.midi(c if bar % 2 == 0 else c + 4, -1)
        _place(acc, song.at(b0), _pluck(song, bass_m, 0.95 * song.spb, 0.45, 1.6), 1.0)
        for offset in (1, 2):
            for k, m in enumerate(song.chord(c, 0)):
                seg = _pluck(song, m, 0.6 * song.spb, 0.6, 1.0)
                _place(acc, song.at(b0 + offset) + int(k * 0.012 * SR), seg, 0.45)
    drum_beats = [bar * bpb for bar in range(song.n_bars)]
    thump = _kick(rng, 120.0, 70.0, 0.2, 0.05)
    tamb = _noise_hit(rng, 0.1, 0.025, 5000.0, None)
    perc = (_hits(n, [song.at(b) for b in drum_beats], [1.0] * len(drum_beats), thump)
            + 0.25 * _hits(n, [song.at(bar * bpb + k) for bar in range(song.n_bars) for k in (1, 2)],
                           [1.0] * (2 * song.n_bars), tamb))

    lead = np.zeros(n)
    notes = _melody(song, steps_per_beat=2, density=0.5, lo=7, hi=15, start_bar=1,
                    end_bar=song.n_bars - 1, phrase_bars=2, max_beats=3.0)
    fiddle = rng.random() < 0.5
    for beat, dur, m in notes:
        if fiddle:
            seg = song.memo(("fiddle", m, round(dur, 3)),
                            lambda: _bp(_vibrato_saw(song, m, dur, 0.006, attack=0.05), 400.0, 3500.0))
            _place(lead, song.at(beat), seg, 0.9)
        else:
            _place(lead, song.at(beat), _pluck(song, m, dur * song.spb, 0.85, 1.2), 1.0)

    mix = 0.55 * _norm(acc) + 0.25 * _norm(perc) + 0.5 * _norm(lead)
    return _reverb(mix, rng, rt60=1.3, wet=0.2)


def _chip_note(midi: int, ln: int, duty: float) -> np.ndarray:
    """Pulse-wave lead note with delayed vibrato, shape ``(ln,)``."""
    lt = _t(ln)
    vib = 2.0 ** (0.25 * np.sin(2 * np.pi * 6.0 * lt) * (lt > 0.15) / 12.0)
    note: np.ndarray = _pulse(float(_hz(midi)) * vib, ln, duty) * _adsr(ln, 0.002, 0.05, 0.7, 0.02)
    return note


def _render_chiptune(song: _Song) -> np.ndarray:
    """8-bit chiptune: pulse-wave lead, fast chord arpeggio, triangle bass, noise drums.

    Returns the mix, shape ``(song.n,)``.
    """
    rng, n, bpb = song.rng, song.n, song.beats_per_bar
    t = _t(n)
    # Arpeggio: one continuous pulse whose pitch steps through the chord every 1/30 s.
    tick = SR // 30
    sample_beat = np.arange(n) / (song.spb * SR)
    bar = np.minimum(sample_beat // bpb, song.n_bars - 1).astype(int)
    roots = np.asarray(song.chords)[bar]
    tones = np.stack([np.asarray([song.midi(int(r) + o, 0) for r in range(7)]) for o in (0, 2, 4)])
    idx = (np.arange(n) // tick) % 3
    arp_midi = tones[idx, roots % 7] + 12 * (roots // 7)
    gate = ((sample_beat % 0.5) < 0.38).astype(float)
    arp = _pulse(_hz(arp_midi), n, 0.5) * gate * (sample_beat < song.n_beats)

    lead = np.zeros(n)
    duty = float(rng.choice([0.125, 0.25]))
    for beat, dur, m in _melody(song, steps_per_beat=4, density=0.45, lo=7, hi=16, start_bar=1,
                                phrase_bars=2, legato=0.85, max_beats=2.0):
        seg = song.memo(("chip", m, round(dur, 3)), lambda: _chip_note(m + 12, song.samples(dur), duty))
        _place(lead, song.at(beat), seg)

    bass = np.zeros(n)
    bl = song.samples(0.4)
    for b in range(song.n_beats):
        for k, off in enumerate((0.0, 0.5)):
            m = song.midi(song.chord_at(b), -1) + (12 if k else 0)
            seg = song.memo(("tri", m), lambda: _tri(float(_hz(m)), bl) * _adsr(bl, 0.002, 0.02, 0.9, 0.01))
            _place(bass, song.at(b + off), seg)

    beats = range(song.n_beats)
    kick_len = int(0.09 * SR)
    kt = _t(kick_len)
    kick = _pulse(90.0 + 200.0 * np.exp(-kt / 0.015), kick_len, 0.5) * np.exp(-kt / 0.03)
    noise = np.round(rng.uniform(-1, 1, int(0.15 * SR)) * 7) / 7  # coarse 4-bit noise
    snare = noise * np.exp(-_t(len(noise)) / 0.05)
    hat = noise[: int(0.03 * SR)] * np.exp(-_t(int(0.03 * SR)) / 0.008)
    kick_pos = [song.at(b) for b in beats if b % 2 == 0] + [song.at(b + 0.5) for b in beats if b % 4 == 2]
    drums = (_hits(n, kick_pos, [1.0] * len(kick_pos), kick)
             + 0.8 * _hits(n, [song.at(b) for b in beats if b % 2 == 1], [1.0] * (song.n_beats // 2), snare)
             + 0.3 * _hits(n, [song.at(b + 0.5) for b in beats], [1.0] * song.n_beats, hat))
    drums *= (t > song.spb * bpb * 0.99)  # drums enter after one bar

    mix: np.ndarray = 0.3 * lead + 0.07 * arp + 0.26 * bass + 0.45 * drums
    return mix


@dataclass(frozen=True)
class _StyleSpec:
    genre: str
    bpm: tuple[int, int]
    beats_per_bar: int
    modes: tuple[str, ...]
    bars_per_chord: tuple[int, ...]
    tail: float
    render: Callable[[_Song], np.ndarray]


#: The styles of the demo library, keyed by internal style name.
STYLES: dict[str, _StyleSpec] = {
    "techno": _StyleSpec("Techno", (125, 132), 4, ("minor",), (2,), 1.0, _render_techno),
    "piano_ballad": _StyleSpec("Ballad", (60, 72), 4, ("minor", "major"), (1,), 2.5, _render_piano_ballad),
    "rock": _StyleSpec("Rock", (110, 140), 4, ("minor", "major"), (1, 2), 1.2, _render_rock),
    "ambient": _StyleSpec("Ambient", (52, 62), 4, ("major", "minor", "lydian"), (2,), 4.0, _render_ambient),
    "folk_waltz": _StyleSpec("Folk", (90, 110), 3, ("major",), (1, 2), 1.5, _render_folk_waltz),
    "chiptune": _StyleSpec("Chiptune", (140, 170), 4, ("major", "minor"), (1, 2), 0.6, _render_chiptune),
}


def _synthesise(style: str, rng: np.random.Generator) -> tuple[np.ndarray, _Song]:
    """Renders one track of ``style``: float32 samples of shape ``(n,)`` peaking at ``_PEAK``."""
    song = _make_song(rng, style)
    mix = STYLES[style].render(song)
    mix = _hp(mix, 25.0)
    fade_in = 0.05 if style != "ambient" else 0.6
    mix = _norm(_fades(mix, fade_in, min(2.0, song.tail + 0.8)))
    crest = 1.0 / max(float(np.sqrt(np.mean(mix**2))), 1e-9)
    if crest > 8.0:  # very peaky mixes (plucks, sparse drums): gentle soft-clip limiting
        mix = np.tanh(2.0 * mix) / np.tanh(2.0)
    return _norm(mix, _PEAK).astype(np.float32), song


# ---------------------------------------------------------------------------
# Lyrics (original texts written for this demo)
# ---------------------------------------------------------------------------

# Per theme and language: choruses (each with the song title it gives) and a pool
# of rhyming couplets from which the verses are drawn.
_LYRICS: dict[str, dict[str, dict[str, list[Any]]]] = {
    "road": {
        "en": {
            "choruses": [
                ("Gravel and Gold", ["Gravel and gold beneath the wheels,", "the town is shrinking in the glass,",
                                     "I'm trading home for open fields,", "and every signpost lets me pass."]),
                ("Mile Marker Zero", ["Mile marker zero, the engine is warm,",
                                      "my mother's kitchen window fading in the storm,",
                                      "nothing in my pocket but a map and a song,",
                                      "the road out of town is a hundred years long."]),
                ("Westbound Lights", ["Westbound lights on the interstate,", "I packed my life in a cardboard crate,",
                                      "don't wait up and don't lock the door,", "I'm not the kid I was before."]),
                ("Leaving Willow Street", ["Goodbye to Willow Street,", "goodbye to the old front gate,",
                                           "the highway hums beneath my feet,", "and the future will not wait."]),
            ],
            "couplets": [
                ("I left a note beside the kettle on the stove,", "said I'd write from every city where I go."),
                ("The station clock was ticking slower than my heart,",
                 "the conductor called the towns where all the journeys start."),
                ("My father shook my hand and didn't say a word,",
                 "but in his eyes the whole long goodbye was heard."),
                ("Through the wheat and past the silos gray,", "my thumb is pointing the other way."),
                ("Motel signs are buzzing blue at half past three,", "a stranger's radio is singing back to me."),
                ("I count the telephone poles like beads upon a string,",
                 "each one a promise of the life the miles will bring."),
                ("The dust of every county settles on my boots,", "I'm a tree that finally pulled up all its roots."),
                ("My little sister waved until the final bend,", "she asked me if the road would ever end."),
            ],
        },
        "ru": {
            "choruses": [
                ("Дорога на север", ["Дорога на север, и ветер в лицо,", "за мной остаётся родное крыльцо,",
                                     "колёса стучат про далёкие дни,", "и где-то за лесом мигают огни."]),
                ("Последний автобус", ["Последний автобус уходит в туман,",
                                       "в кармане билет, а в руке — чемодан,",
                                       "прощай, мой посёлок, прощай, тишина,",
                                       "дорога длинна, но она мне нужна."]),
                ("Сто вёрст", ["Сто вёрст до рассвета, сто вёрст до мечты,", "а дома остались сирень и мосты,",
                               "я в окна вагона смотрю без конца,", "и ветер стирает слезу у лица."]),
            ],
            "couplets": [
                ("Мама у калитки долго мне махала,", "а потом ладонью слёзы вытирала."),
                ("Я собрал рубашки, книги и гитару,", "и оставил ключ под лавкой у амбара."),
                ("Поезд пахнет чаем, углём и дорогой,", "проводница дремлет у дверей немного."),
                ("За окном берёзы, станции, поля,", "и совсем другая, новая земля."),
                ("Я звоню домой из автомата на вокзале,", "говорю, что всё в порядке, как и обещали."),
                ("Фонари на трассе пролетают мимо,", "и судьба моя летит неудержимо."),
            ],
        },
    },
    "sea": {
        "en": {
            "choruses": [
                ("Salt on the Rigging", ["Hoist the sail and let her run,", "salt on the rigging, wind and sun,",
                                         "the harbour fades, the gulls go home,",
                                         "and we belong to the open foam."]),
                ("Keeper of the Flame", ["Oh, lighthouse keeper, keep the flame,", "the sea keeps calling out my name,",
                                         "through the swell and the silver spray,",
                                         "guide my little boat home today."]),
                ("Tidewater", ["Tidewater, carry me far,", "follow the wake of the evening star,",
                               "the anchor's up and the sails are wide,", "I'll ride the turning of the tide."]),
                ("Blue Horizon Line", ["Over the blue horizon line,", "the ocean's wide and the ocean's mine,",
                                       "waves on the bow and gulls in the air,",
                                       "the sea will take me anywhere."]),
            ],
            "couplets": [
                ("We untied the ropes before the dawn,",
                 "the fishing town still sleeping with its lanterns on."),
                ("The captain hums an old tune at the wheel,", "the deck is rolling and the waves are real."),
                ("My hands are rough from hauling the wet lines,", "I read the weather in the clouds like signs."),
                ("Dolphins racing underneath the bow,", "the shore is just a rumour now."),
                ("At night the stars are sewn into the sails,", "the sailors trade their half-remembered tales."),
                ("A storm is rolling in from the south,", "with thunder on its lips and salt in its mouth."),
                ("The compass needle trembles toward the north,", "and every wave is pushing us further forth."),
                ("I wrote your name upon a bottle's note,", "and sent it drifting from the little boat."),
            ],
        },
        "ru": {
            "choruses": [
                ("Над волной", ["Поднимем парус над волной,", "пусть ветер гонит нас домой,",
                                "а море шепчет: «Не спеши,", "я колыбель твоей души»."]),
                ("Маяк", ["Гори, маяк, сквозь ночь и шторм,", "веди меня в знакомый порт,",
                          "пусть волны бьют в усталый борт,", "я всё равно вернусь домой."]),
                ("Синяя вода", ["Синяя вода, синяя вода,", "унеси меня, не знаю куда,",
                                "там, где горизонт касается небес,", "там, где море дышит, полное чудес."]),
            ],
            "couplets": [
                ("Мы отдали швартовы на рассвете,", "и спал ещё посёлок в сером свете."),
                ("Старый капитан молчит у штурвала,", "ему и моря вместо слов хватало."),
                ("Сети тяжелы от рыбы и воды,", "и волны смыли на песке наши следы."),
                ("Дельфины мчатся рядом с нашим судном,", "и этот день не кажется нам трудным."),
                ("Ночью звёзды падают в волну,", "и я пою тихонько про одну."),
                ("Шторм идёт с востока, гром гремит,", "но наш корабль крепко сбит."),
            ],
        },
    },
    "night": {
        "en": {
            "choruses": [
                ("Neon Heartbeat", ["Neon heartbeat, city lights,", "we're dancing through the Friday night,",
                                    "the bass is shaking every wall,", "tonight we're never tired at all."]),
                ("Downtown Static", ["Downtown static in my veins,", "taxis gliding through the lanes,",
                                     "move your body, lose the time,", "the city's rhythm, yours and mine."]),
                ("After Midnight", ["After midnight the streets come alive,",
                                    "under the bridges the dancers arrive,",
                                    "lights on the river are flashing in blue,",
                                    "spin me around, I'm dancing with you."]),
                ("Rooftop Lights", ["Up on the rooftop the skyline glows,", "the beat goes on and nobody knows",
                                    "how long the night and how bright the day,",
                                    "we'll dance the whole city away."]),
            ],
            "couplets": [
                ("Elevator music fading into bass,", "a thousand windows glitter on your face."),
                ("The subway rumbles underneath the floor,", "the bouncer nods and opens up the door."),
                ("Strobe lights cut the darkness into frames,", "nobody here remembers any names."),
                ("We share a taxi to the other side of town,", "the driver's radio is turned way down."),
                ("Sweat and glitter on the concrete floor,", "the DJ drops the beat and we scream for more."),
                ("The billboards flicker with a sleepless glow,", "and traffic lights are blinking down below."),
                ("Four in the morning and the diner's still bright,", "we eat on the curb in the orange light."),
                ("Headphones on, I cross the avenue alone,", "the city hums in rhythm with my own."),
            ],
        },
        "ru": {
            "choruses": [
                ("Ночной город", ["Ночной город не спит, огни горят,", "мы танцуем до утра, не глядя назад,",
                                  "бас стучит в груди, как второе сердце,", "и от этого ритма никуда не деться."]),
                ("Неон", ["Неон горит на мокром асфальте,", "гремит в подвале ночной танцпол,",
                          "о завтрашнем дне не вспоминайте,", "сегодня весь город на танцы пошёл."]),
                ("До рассвета", ["Танцуй со мной до рассвета,", "пока не погасли огни,",
                                 "а песня ещё не допета,", "и мы в этом мире одни."]),
            ],
            "couplets": [
                ("Метро закрылось, мы идём пешком", "по улицам, блестящим под дождём."),
                ("Охранник кивнул и открыл нам дверь,", "и не было грусти, и нет теперь."),
                ("Стробоскоп рисует нас на стенах,", "и музыка бежит по нашим венам."),
                ("Таксист включает радио погромче,", "и город за окном всё ярче, звонче."),
                ("В четыре утра мы сидим на бордюре", "и смеёмся, как дети, назло любой буре."),
                ("Рекламный экран мигает над крышей,", "и сердце стучит всё громче и выше."),
            ],
        },
    },
    "rain": {
        "en": {
            "choruses": [
                ("Letters in the Rain", ["And the rain keeps writing on the window pane",
                                         "all the things I should have said, again and again,",
                                         "you took the summer when you walked away",
                                         "and left me standing in the gray."]),
                ("Umbrella for One", ["Now it's an umbrella for one,", "no more shelter, no more sun,",
                                      "the puddles hold your reflection still,",
                                      "I loved you once and I always will."]),
                ("Gray November", ["Gray November, cold and slow,", "where did all our promises go?",
                                   "The rain is washing your name from the street,",
                                   "but I still hear the sound of your feet."]),
                ("Wet Pavement", ["Streetlamps on the wet pavement shine,", "your coat no longer next to mine,",
                                  "the gutters sing a broken tune", "of a love that ended much too soon."]),
            ],
            "couplets": [
                ("Your coffee cup is still beside the sink,", "I leave it there, it's harder than you think."),
                ("The taxi took you down the shining street,", "the wipers keeping time like a heartbeat."),
                ("I found your scarf behind the bedroom door,", "it smells of rain and of the year before."),
                ("The phone stays quiet on the kitchen chair,", "I set two plates and no one's sitting there."),
                ("The clouds came in the day you said goodbye,", "and since that day they've never left the sky."),
                ("I walk the park where we would walk in May,", "the benches empty and the roses gray."),
                ("I hear the thunder rolling far away,", "it sounds like all the things you didn't say."),
                ("The gutters overflow with what we were,", "and every drop remembers how it was with her."),
            ],
        },
        "ru": {
            "choruses": [
                ("Дождь за окном", ["А дождь за окном всё идёт и идёт,", "и память о нас по стеклу стечёт,",
                                    "ты больше не позвонишь, не придёшь,", "остался лишь этот холодный дождь."]),
                ("Зонт на одного", ["Теперь у меня зонт на одного,", "и в сердце не осталось ничего,",
                                    "лишь лужи отражают фонари", "и шепчут мне: «Не плачь, не говори»."]),
                ("Осенние письма", ["Я пишу тебе письма, их смывает дождём,",
                                    "мы когда-то мечтали о будущем вдвоём,",
                                    "а теперь только осень и мокрый перрон",
                                    "и любви нашей тихий прощальный звон."]),
            ],
            "couplets": [
                ("Твоя чашка стоит у окна до сих пор,", "и с тобою веду я немой разговор."),
                ("Ты ушла под зонтом по мокрой мостовой", "и даже не махнула на прощание рукой."),
                ("Я нашёл твой шарф в прихожей на крючке,", "он пахнет дождём и августом в руке."),
                ("Телефон молчит, и в комнате темно,", "лишь капли барабанят в старое окно."),
                ("Мы гуляли в парке, где теперь так пусто,", "и на сердце так же мокро и так грустно."),
                ("Гром гремит вдали, как будто говорит", "всё то, о чём твоё молчание молчит."),
            ],
        },
    },
    "winter": {
        "en": {
            "choruses": [
                ("White Summit", ["High on the white summit the wind is a blade,",
                                  "the snow covers over the tracks that we made,",
                                  "the peaks are on fire in the cold morning sun,",
                                  "and up in the silence my heart's on the run."]),
                ("Frost on the Pines", ["Frost on the pines and smoke from the chimney,",
                                        "the valley asleep under blankets of white,",
                                        "the mountain is calling, the mountain is calling,",
                                        "come climb with me into the long winter night."]),
                ("Avalanche Moon", ["Under the avalanche moon", "the glaciers hum an ancient tune,",
                                    "pack the rope and light the flame,", "the mountain knows us each by name."]),
                ("Snowbound", ["Snowbound in a cabin on the ridge,", "the river frozen underneath the bridge,",
                               "we melt the snow to make our tea,", "just the winter, the wind and me."]),
            ],
            "couplets": [
                ("We strapped our boots before the break of day,", "the stars still burning on the icy way."),
                ("The pass is narrow and the drop is deep,", "the old guide says the mountain doesn't sleep."),
                ("Our breath is hanging in the frozen air,", "the wolves are singing somewhere over there."),
                ("The fire crackles in the stone-walled hut,", "the storm is banging on the door we shut."),
                ("Snowflakes gather on your woollen hat,", "we share the bread and talk of this and that."),
                ("The glacier groans beneath the morning light,", "the world below is small and far and white."),
                ("We ski down slopes where no one's been before,", "the powder flying and the valley's roar."),
                ("The spruce trees bow beneath the heavy snow,", "and every path is buried deep below."),
            ],
        },
        "ru": {
            "choruses": [
                ("Белые горы", ["Белые горы, седые вершины,", "ветер поёт над замёрзшей долиной,",
                                "в горы уходим, оставив тревоги,", "снег заметает пустые дороги."]),
                ("Метель", ["Метель, метель, кружи над перевалом,", "укрой тропинки белым покрывалом,",
                            "гори, огонь, в избушке до утра,", "пока не стихнут вьюга и ветра."]),
                ("Снежный перевал", ["Снежный перевал, ледяная высь,", "сердце, не робей, выше поднимись,",
                                     "там, где облака тают в синеве,", "звёзды, словно иней, светят в тишине."]),
            ],
            "couplets": [
                ("Мы вышли затемно, пока ещё звезда", "горела над тропой, как будто изо льда."),
                ("Скрипит под сапогами свежий снег,", "и кажется, что замер целый век."),
                ("В избушке печка, чайник и огонь,", "согрей мне, друг, замёрзшую ладонь."),
                ("Ель под снегом клонится к земле,", "и дым из труб качается во мгле."),
                ("Ледник трещит под утренним лучом,", "а мы идём, и нам всё нипочём."),
                ("Дыхание застыло в тишине,", "и волки где-то воют в стороне."),
            ],
        },
    },
    "friends": {
        "en": {
            "choruses": [
                ("Summer of Us", ["This is the summer of us,", "riding our bikes past the end of the bus,",
                                  "laughing so loud that the whole street can hear,",
                                  "friends like we are don't come every year."]),
                ("Bonfire Friends", ["Gather round the bonfire, friends of mine,",
                                     "the sparks fly up and the stars align,",
                                     "whatever happens, whatever may come,", "we'll always have this summer sun."]),
                ("Lemonade Days", ["Lemonade days and firefly nights,",
                                   "jumping in the river from the railway heights,",
                                   "you and me and the whole old crew,", "the sky is big and the summer's new."]),
                ("Best of Friends", ["Hey, my best of friends,", "the summer never ends",
                                     "as long as we're together here,", "the sun is shining, the sky is clear."]),
            ],
            "couplets": [
                ("We packed the car with guitars and tents", "and pooled together our last few cents."),
                ("The lake was cold and the sand was gold,", "we swore we'd never, ever get old."),
                ("Tommy burned the burgers on the grill,", "we laughed so hard we're laughing still."),
                ("We climbed the water tower after dark", "and painted our names like a question mark."),
                ("The ice cream melted down our wrists,", "the days went by like golden mists."),
                ("When Anna cried we held her tight", "and talked with her till morning light."),
                ("A hundred photos, blurry and bright,", "of sunburned faces and a kite in flight."),
                ("Whatever roads we take next fall,", "I'll keep this summer, keep it all."),
            ],
        },
        "ru": {
            "choruses": [
                ("Лето с друзьями", ["Лето, друзья и гитара у костра,", "мы будем петь и смеяться до утра,",
                                     "пусть говорят, что детство не вернуть,",
                                     "оно всегда с тобой, куда бы ни лежал твой путь."]),
                ("Наша компания", ["Эй, наша компания, шумная, смешная,", "солнце в ладонях и речка голубая,",
                                   "сколько бы лет ни прошло, ни промчалось,",
                                   "помнить мы будем, как лето смеялось."]),
                ("Велосипеды", ["Велосипеды, пыльные дороги,", "загар на плечах и босые ноги,",
                                "мы мчимся наперегонки с ветрами,", "и лето, как друг, всегда рядом с нами."]),
            ],
            "couplets": [
                ("Мы взяли палатки, котелок и мяч", "и уехали за город, подальше от неудач."),
                ("Вода в реке холодная, как лёд,", "но Витька первым прыгает вперёд."),
                ("Печём картошку, дым и комары,", "и нет на свете лучше той поры."),
                ("Мы лезли на крышу смотреть закат,", "и каждый из нас был безмерно богат."),
                ("Когда мне было плохо, вы пришли", "и всю печаль мою с собой унесли."),
                ("Пусть осенью разъедемся мы вновь,", "но дружба — это тоже, брат, любовь."),
            ],
        },
    },
}

_INSTRUMENTAL_TITLES: dict[str, list[str]] = {
    "techno": ["Substation", "Concrete Pulse", "Low Frequency Ghost", "Relay Nine", "Sodium Lamps"],
    "piano_ballad": ["Nocturne for an Empty Room", "Quiet Hours", "Dust on the Keys"],
    "ambient": ["Slow Weather", "Tidal Rooms", "Lichen", "Breathing Glass", "Far Field", "Salt Marsh at Dawn",
                "Aurora Hum", "Still Water Choir", "Polar Static", "Cloud Archive"],
    "folk_waltz": ["Harvest Reel", "Cobblestone Waltz", "The Miller's Yard"],
    "chiptune": ["Overworld Dawn", "Boss Room", "Save Point", "Extra Life", "Warp Zone Blues"],
}

def _compose_lyrics(chorus: list[str], couplets: list[tuple[str, str]]) -> str:
    """Assembles verse / chorus / verse / chorus lyrics (16 sung lines plus section markers).

    The markers are the usual English ``[Verse 1]`` / ``[Chorus]`` / ``[Verse 2]``
    in both languages, as on most lyrics sites.
    """
    v1, ch, v2 = "[Verse 1]", "[Chorus]", "[Verse 2]"
    verse1 = [line for pair in couplets[:2] for line in pair]
    verse2 = [line for pair in couplets[2:4] for line in pair]
    blocks = [[v1, *verse1], [ch, *chorus], [v2, *verse2], [ch, *chorus]]
    return "\n\n".join("\n".join(b) for b in blocks)


# ---------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------

# (style, artist, album, year, language, tracks); a track is (theme or None, lyrics place)
# where the lyrics place is "tag", "lrc", "txt-utf8", "txt-cp1251" or "txt-utf16".
_CATALOGUE: list[tuple[str, str, str, int, str | None, list[tuple[str | None, str | None]]]] = [
    ("techno", "Voltage Orchard", "Grid After Midnight", 2021, "en",
     [("night", "tag"), ("rain", "lrc"), (None, None)]),
    ("techno", "Станция Полночь", "Бетонный пульс", 2020, "ru",
     [("night", "tag"), ("road", "tag"), (None, None)]),
    ("techno", "Kessel Drift", "Relay Stations", 2022, "en",
     [("road", "txt-utf8"), (None, None)]),
    ("piano_ballad", "Marlowe Finch", "Letters in the Rain", 2018, "en",
     [("rain", "tag"), ("rain", "lrc"), ("sea", "tag")]),
    ("piano_ballad", "Вера Ольховская", "Тихая гавань", 2019, "ru",
     [("rain", "tag"), ("winter", "txt-cp1251"), ("sea", "tag")]),
    ("piano_ballad", "Lantern & Lowe", "Small Hours", 2023, "en",
     [("winter", "tag"), (None, None)]),
    ("rock", "The Rusted Compass", "Mile Marker Zero", 2017, "en",
     [("road", "tag"), ("road", "tag"), ("friends", "tag")]),
    ("rock", "Ржавый Маяк", "Дорога на север", 2016, "ru",
     [("road", "tag"), ("night", "lrc"), ("rain", "tag")]),
    ("rock", "Hollow Pines", "Static Summer", 2022, "en",
     [("friends", "tag"), ("night", "txt-utf8")]),
    ("ambient", "Glass Tundra", "Slow Weather", 2020, None,
     [(None, None), (None, None), (None, None), (None, None)]),
    ("ambient", "Driftmere", "Tidal Rooms", 2021, None,
     [(None, None), (None, None), (None, None), (None, None)]),
    ("folk_waltz", "Juniper Wren", "Waltz for the Ferryman", 2019, "en",
     [("sea", "tag"), ("sea", "lrc"), ("friends", "tag")]),
    ("folk_waltz", "Ольха и Ветер", "Зимняя ярмарка", 2018, "ru",
     [("winter", "tag"), ("road", "tag"), ("friends", "tag")]),
    ("folk_waltz", "Tobias Hale & the Larks", "Low Hills", 2015, "en",
     [("winter", "tag"), (None, None)]),
    ("chiptune", "Pixel Heron", "Cartridge Summer", 2022, "en",
     [("friends", "lrc"), ("sea", "tag"), (None, None)]),
    ("chiptune", "Байтовая Лиса", "Зимний уровень", 2023, "ru",
     [("winter", "txt-utf16"), ("night", "tag"), (None, None)]),
    ("chiptune", "Tiny Comet", "Overworld", 2021, "en",
     [("night", "tag"), (None, None)]),
]

# Format overrides by (artist, track number); every other file cycles mp3 / ogg / flac.
_FORMAT_OVERRIDES = {
    ("Glass Tundra", 2): "wav",
    ("Hollow Pines", 1): "wav",
    ("Marlowe Finch", 1): "m4a",
    ("Pixel Heron", 2): "m4a",
}
_CYCLE = ("mp3", "ogg", "flac")


@dataclass(frozen=True)
class _Plan:
    """Everything about one track except its audio."""

    index: int
    style: str
    artist: str
    album: str
    year: int
    track_no: int
    track_total: int
    title: str
    language: str | None
    lyrics: str | None
    place: str | None  # "tag", "lrc", "txt-utf8", "txt-cp1251", "txt-utf16" or None
    fmt: str
    relpath: Path


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def _safe_name(name: str) -> str:
    """Filesystem-safe version of a title/artist/album (Cyrillic kept)."""
    return _UNSAFE.sub("-", name).strip().rstrip(".") or "untitled"


def _plan(seed: int) -> list[_Plan]:
    """Builds the deterministic catalogue (titles, lyrics, formats, paths) for ``seed``."""
    rng = np.random.default_rng([seed, 0x1A1])
    chorus_order: dict[tuple[str, str], list[int]] = {}
    instr_order: dict[str, list[int]] = {}
    used_chorus: dict[tuple[str, str], int] = {}
    used_instr: dict[str, int] = {}
    plans: list[_Plan] = []
    index = 0
    for style, artist, album, year, lang, tracks in _CATALOGUE:
        for no, (theme, place) in enumerate(tracks, start=1):
            lyrics: str | None = None
            language: str | None = None
            if theme is None:
                if style not in instr_order:
                    instr_order[style] = list(rng.permutation(len(_INSTRUMENTAL_TITLES[style])))
                k = used_instr.get(style, 0)
                used_instr[style] = k + 1
                title = _INSTRUMENTAL_TITLES[style][instr_order[style][k]]
            else:
                assert lang is not None
                language = lang
                pool = _LYRICS[theme][lang]
                key = (theme, lang)
                if key not in chorus_order:
                    chorus_order[key] = list(rng.permutation(len(pool["choruses"])))
                k = used_chorus.get(key, 0)
                used_chorus[key] = k + 1
                title, chorus = pool["choruses"][chorus_order[key][k]]
                picks = rng.choice(len(pool["couplets"]), size=4, replace=False)
                lyrics = _compose_lyrics(chorus, [pool["couplets"][int(i)] for i in picks])
            fmt = _FORMAT_OVERRIDES.get((artist, no), _CYCLE[index % len(_CYCLE)])
            rel = Path(_safe_name(artist)) / _safe_name(album) / f"{no:02d} - {_safe_name(title)}.{fmt}"
            plans.append(_Plan(index, style, artist, album, year, no, len(tracks), title, language,
                               lyrics, place, fmt, rel))
            index += 1
    return plans


# ---------------------------------------------------------------------------
# Writing and tagging
# ---------------------------------------------------------------------------


def _write_audio(path: Path, audio: np.ndarray, fmt: str) -> None:
    """Encodes mono samples of shape ``(n,)`` to ``path`` in ``fmt``."""
    import soundfile as sf

    if fmt == "mp3":
        sf.write(path, audio, SR, format="MP3", subtype="MPEG_LAYER_III",
                 bitrate_mode="VARIABLE", compression_level=0.8)
    elif fmt == "ogg":
        sf.write(path, audio, SR, format="OGG", subtype="VORBIS")
    elif fmt == "flac":
        sf.write(path, audio, SR, format="FLAC", subtype="PCM_16")
    elif fmt == "wav":
        sf.write(path, audio, SR, format="WAV", subtype="PCM_16")
    elif fmt == "m4a":
        _write_m4a(path, audio)
    else:  # pragma: no cover - guarded by the catalogue
        raise ValueError(f"unknown format {fmt!r}")


def _write_m4a(path: Path, audio: np.ndarray) -> None:
    """Encodes mono samples of shape ``(n,)`` as AAC in an MP4 container with PyAV."""
    import av

    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=SR)
        stream.layout = "mono"
        stream.bit_rate = 96_000
        frame_size = 1024
        pts = 0
        for start in range(0, len(audio), frame_size):
            chunk = np.ascontiguousarray(audio[start : start + frame_size], dtype=np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = SR
            frame.pts = pts
            frame.time_base = Fraction(1, SR)
            pts += chunk.shape[1]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


_ISO639_2 = {"en": "eng", "ru": "rus"}


def _tag(path: Path, plan: _Plan) -> None:
    """Writes title/artist/album/genre/track/year/language (and lyrics if they live in the tag).

    mutagen's file and frame classes carry no annotations: the calls into them are untyped.
    """
    genre = STYLES[plan.style].genre
    lyrics_in_tag = plan.lyrics if plan.place == "tag" else None
    if plan.fmt in ("mp3", "wav"):
        from mutagen import id3

        wave = None
        if plan.fmt == "mp3":
            tags = id3.ID3()  # type: ignore[no-untyped-call]
        else:
            from mutagen.wave import WAVE

            wave = WAVE(path)  # type: ignore[no-untyped-call]
            if wave.tags is None:
                wave.add_tags()  # type: ignore[no-untyped-call]
            tags = wave.tags  # type: ignore[assignment]  # mutagen declares FileType.tags as None
        _id3_add(tags, id3.TIT2, text=plan.title)
        _id3_add(tags, id3.TPE1, text=plan.artist)
        _id3_add(tags, id3.TALB, text=plan.album)
        _id3_add(tags, id3.TCON, text=genre)
        _id3_add(tags, id3.TRCK, text=f"{plan.track_no}/{plan.track_total}")
        _id3_add(tags, id3.TDRC, text=str(plan.year))
        if plan.language:
            _id3_add(tags, id3.TLAN, text=_ISO639_2[plan.language])
        if lyrics_in_tag:
            _id3_add(tags, id3.USLT, lang=_ISO639_2[plan.language or "en"], desc="", text=lyrics_in_tag)
        if wave is None:
            tags.save(path, v2_version=4)
        else:
            wave.save()
    elif plan.fmt in ("ogg", "flac"):
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis

        vorbis = OggVorbis(path) if plan.fmt == "ogg" else FLAC(path)  # type: ignore[no-untyped-call]
        if vorbis.tags is None:
            vorbis.add_tags()  # type: ignore[no-untyped-call]
        vorbis["TITLE"] = plan.title
        vorbis["ARTIST"] = plan.artist
        vorbis["ALBUM"] = plan.album
        vorbis["GENRE"] = genre
        vorbis["TRACKNUMBER"] = str(plan.track_no)
        vorbis["TRACKTOTAL"] = str(plan.track_total)
        vorbis["DATE"] = str(plan.year)
        if plan.language:
            vorbis["LANGUAGE"] = plan.language
        if lyrics_in_tag:
            vorbis["LYRICS"] = lyrics_in_tag
        vorbis.save()
    elif plan.fmt == "m4a":
        from mutagen.mp4 import MP4, MP4FreeForm

        mp4 = MP4(path)  # type: ignore[no-untyped-call]
        if mp4.tags is None:
            mp4.add_tags()  # type: ignore[no-untyped-call]
        mp4["\xa9nam"] = [plan.title]
        mp4["\xa9ART"] = [plan.artist]
        mp4["\xa9alb"] = [plan.album]
        mp4["\xa9gen"] = [genre]
        mp4["trkn"] = [(plan.track_no, plan.track_total)]
        mp4["\xa9day"] = [str(plan.year)]
        if plan.language:
            mp4["----:com.apple.iTunes:LANGUAGE"] = [MP4FreeForm(plan.language.encode("ascii"))]  # type: ignore[no-untyped-call]
        if lyrics_in_tag:
            mp4["\xa9lyr"] = [lyrics_in_tag]
        mp4.save()  # type: ignore[no-untyped-call]


def _id3_add(tags: ID3, frame: type[Frame], **fields: str) -> None:
    """Adds one UTF-8 ID3 frame of class ``frame`` (``TIT2``, ``USLT``...) with ``fields``."""
    from mutagen.id3 import Encoding

    tags.add(frame(encoding=Encoding.UTF8, **fields))  # type: ignore[no-untyped-call]


def _lrc_text(plan: _Plan, duration: float, song: _Song) -> str:
    """Synchronised LRC for the plan's lyrics; every lyrics line (markers and blanks too) gets a timestamp."""
    assert plan.lyrics is not None
    lines = plan.lyrics.split("\n")
    start = min(2 * song.beats_per_bar * song.spb, 4.0)
    end = duration - song.tail - 1.0
    step = (end - start) / len(lines)
    out = [f"[ar:{plan.artist}]", f"[ti:{plan.title}]", f"[al:{plan.album}]",
           f"[length:{int(duration) // 60:02d}:{int(duration) % 60:02d}]", "[by:Crossfade demo library]", ""]
    for i, line in enumerate(lines):
        cs = int(round((start + i * step) * 100))
        out.append(f"[{cs // 6000:02d}:{(cs // 100) % 60:02d}.{cs % 100:02d}]{line}")
    return "\n".join(out) + "\n"


def _write_sidecar(audio_path: Path, plan: _Plan, duration: float, song: _Song) -> None:
    """Writes the ``.lrc`` / ``.txt`` lyrics file next to the audio file, in the planned encoding."""
    assert plan.lyrics is not None and plan.place is not None
    if plan.place == "lrc":
        audio_path.with_suffix(".lrc").write_bytes(_lrc_text(plan, duration, song).encode("utf-8"))
        return
    text = plan.lyrics + "\n"
    if plan.place == "txt-utf8":
        data = text.encode("utf-8")
    elif plan.place == "txt-cp1251":
        data = text.replace("\n", "\r\n").encode("cp1251")
    elif plan.place == "txt-utf16":
        data = codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")
    else:  # pragma: no cover - guarded by the catalogue
        raise ValueError(plan.place)
    audio_path.with_suffix(".txt").write_bytes(data)


def _location(place: str | None) -> str | None:
    if place is None:
        return None
    return "txt" if place.startswith("txt") else place


def _write_track(target: Path, plan: _Plan, seed: int) -> DemoTrack:
    """Synthesises, encodes and tags one planned track (plus its lyrics sidecar)."""
    rng = np.random.default_rng([seed, plan.index, 0x5EED])
    audio, song = _synthesise(plan.style, rng)
    path = target / plan.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_audio(path, audio, plan.fmt)
    _tag(path, plan)
    if plan.place not in (None, "tag"):
        _write_sidecar(path, plan, len(audio) / SR, song)
    logger.debug("demo track written: %s (%.1f s, %d bpm)", path, len(audio) / SR, song.bpm)
    return DemoTrack(
        path=path, title=plan.title, artist=plan.artist, album=plan.album,
        genre=STYLES[plan.style].genre, style=plan.style, language=plan.language,
        lyrics=plan.lyrics, lyrics_location=_location(plan.place),
    )


def demo_library_write(
    target: Path, *, seed: int = 7, progress: Progress | None = None
) -> list[DemoTrack]:
    """Writes the whole demo library below `target` (created if missing) and returns its tracks.

    Files are laid out as ``target/<Artist>/<Album>/<NN> - <Title>.<ext>``;
    lyrics sidecars share the audio file's stem.  ``progress(done, total)`` is
    called (from the calling thread) after each file.  The same ``seed`` always
    gives the same catalogue, lyrics and decoded audio: every track draws from
    its own generator seeded by ``(seed, track index)``, so the worker threads
    used to overlap synthesis and encoding cannot change the result.  The
    returned list is in catalogue order.
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    plans = _plan(seed)
    total = len(plans)
    started = time.perf_counter()
    results: list[DemoTrack | None] = [None] * total
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-music") as pool:
        futures = {pool.submit(_write_track, target, plan, seed): plan.index for plan in plans}
        try:
            for done, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if progress is not None:
                    progress(done, total)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    logger.info("demo library: %d tracks written to %s in %.1f s", total, target,
                time.perf_counter() - started)
    return [t for t in results if t is not None]


@dataclass(frozen=True)
class DemoAlbum:
    """One album folder of the demo library."""

    style: str
    artist: str
    album: str
    year: int
    folder: Path  # relative to the library's root


def demo_albums() -> list[DemoAlbum]:
    """The albums of the demo library, in catalogue order (the same for every seed)."""
    return [
        DemoAlbum(style, artist, album, year, Path(_safe_name(artist)) / _safe_name(album))
        for style, artist, album, year, _lang, _tracks in _CATALOGUE
    ]
