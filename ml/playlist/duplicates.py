"""Duplicates in a candidate pool: the same song under another name (a remaster, a live take) or the same recording."""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np

#: Audio cosine (standardised space) above which two files count as the same recording.
DUPLICATE_AUDIO = 0.995


def duplicates_mask(
    relevance: np.ndarray,
    names: Sequence[Hashable],
    hashes: Sequence[str],
    audio: np.ndarray | None,
    audio_present: np.ndarray | None,
    *,
    seen_names: set[Hashable],
    seen_hashes: set[str],
    seed_audio: np.ndarray | None = None,
    threshold: float = DUPLICATE_AUDIO,
) -> np.ndarray:
    """False for a candidate that repeats a seed or a more relevant candidate: bool ``(c,)``.

    Candidates are visited best first (``relevance`` float ``(c,)``); one
    repeats another when its normalised name (``names``) or file hash
    (``hashes``, "" for none) was seen, or its audio vector (``audio``
    float32 ``(c, dim)``, unit, with ``audio_present``) is within
    ``threshold`` cosine of a seed's (``seed_audio`` ``(s, dim)``) or a kept
    candidate's. ``seen_names`` and ``seen_hashes`` start with the seeds'
    and are extended with what is kept.
    """
    keep = np.ones(len(names), bool)
    kept_rows: list[int] = []
    for i in np.argsort(-np.asarray(relevance), kind="stable"):
        duplicate = names[i] in seen_names or bool(hashes[i] and hashes[i] in seen_hashes)
        if not duplicate and audio is not None and audio_present is not None and audio_present[i]:
            if seed_audio is not None and seed_audio.shape[0]:
                duplicate = bool((seed_audio @ audio[i] >= threshold).any())
            if not duplicate and kept_rows:
                others = [r for r in kept_rows if audio_present[r]]
                duplicate = bool(others) and bool((audio[others] @ audio[i] >= threshold).any())
        if duplicate:
            keep[i] = False
            continue
        seen_names.add(names[i])
        if hashes[i]:
            seen_hashes.add(hashes[i])
        kept_rows.append(int(i))
    return keep
