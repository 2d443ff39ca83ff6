"""Duplicates in a candidate pool: same name, same file, or the same recording by its sound."""
from __future__ import annotations

import numpy as np

from ml.embedder import l2_normalise
from ml.playlist.duplicates import duplicates_mask


def test_the_best_of_each_duplicate_set_is_kept(rng):
    audio = l2_normalise(rng.standard_normal((5, 8)))
    audio[3] = l2_normalise(audio[1:2] + 1e-4)[0]  # a re-encode of 1
    names = ["a|one", "a|two", "a|one", "b|three", "c|four"]
    hashes = ["h1", "h2", "h3", "h4", "h2"]
    keep = duplicates_mask(
        np.array([0.9, 0.8, 0.7, 0.6, 0.5]), names, hashes, audio, np.ones(5, bool), seen_names=set(), seen_hashes=set()
    )
    # 2 repeats 0's name, 3 sounds like 1, 4 is 1's file under another name.
    assert keep.tolist() == [True, True, False, False, False]


def test_seeds_count_as_already_seen(rng):
    audio = l2_normalise(rng.standard_normal((3, 8)))
    seed_audio = audio[2:3].copy()
    keep = duplicates_mask(
        np.array([0.5, 0.9, 0.1]), ["x|a", "x|b", "x|c"], ["", "", ""], audio, np.ones(3, bool),
        seen_names={"x|a"}, seen_hashes=set(), seed_audio=seed_audio,
    )
    assert keep.tolist() == [False, True, False]


def test_tracks_without_audio_are_judged_by_name_alone():
    keep = duplicates_mask(np.array([1.0, 0.5]), ["x|a", "x|b"], ["", ""], np.zeros((2, 4), np.float32), np.zeros(2, bool), seen_names=set(), seen_hashes=set())
    assert keep.tolist() == [True, True]
