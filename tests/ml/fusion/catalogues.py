"""Synthetic catalogues shared by the index tests."""
from __future__ import annotations

import numpy as np


def clustered_catalogue(rng: np.random.Generator, n: int = 3000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Clustered audio (16-d) and lyrics (24-d) with instrumentals (no lyrics) and lyric-only entries; ids with gaps."""
    ids = np.arange(n, dtype=np.int64) * 3 + 1
    style = rng.integers(0, 40, n)
    audio = rng.standard_normal((40, 16))[style] + 0.4 * rng.standard_normal((n, 16))
    lyrics = rng.standard_normal((40, 24))[(style * 7) % 40] + 0.4 * rng.standard_normal((n, 24))
    has_lyrics = rng.random(n) > 0.2
    has_audio = ~has_lyrics | (rng.random(n) > 0.05)
    return {"audio": (ids[has_audio], audio[has_audio]), "lyrics": (ids[has_lyrics], lyrics[has_lyrics])}
