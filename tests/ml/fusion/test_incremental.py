from __future__ import annotations

import numpy as np

from ml.fusion.hybrid import HybridIndex
from ml.fusion.incremental import index_update_try


def _vectors(rng, n):
    ids = np.arange(n, dtype=np.int64) + 1
    return {"audio": (ids, rng.standard_normal((n, 8)).astype(np.float32)), "lyrics": (ids[: n - 10], rng.standard_normal((n - 10, 12)).astype(np.float32))}


def test_a_small_change_is_applied_in_place(rng, tmp_path):
    vectors = _vectors(rng, 300)
    HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}).save(tmp_path / "v1")
    audio_ids, audio = vectors["audio"]
    lyrics_ids, lyrics = vectors["lyrics"]
    audio = audio.copy()
    audio[5] += 1.0  # re-embedded
    changed = {
        "audio": (np.append(audio_ids[1:], 999), np.vstack([audio[1:], rng.standard_normal((1, 8))]).astype(np.float32)),
        "lyrics": (lyrics_ids[1:], lyrics[1:]),
    }
    index, note = index_update_try(tmp_path / "v1", changed, {"audio": "a", "lyrics": "l"})
    assert index is not None and note.startswith("updated in place")
    assert 1 not in index and 999 in index
    rebuilt_from_scratch = HybridIndex.build(changed, {})
    # The update keeps the old whiteners, so it compares with the stored vectors, not a refit.
    np.testing.assert_allclose(index.indexes["audio"].vectors([6]), index.standardisers["audio"].apply(audio[5:6]), atol=1e-6)
    assert set(index.track_ids()) == set(rebuilt_from_scratch.track_ids())


def test_a_model_change_or_a_large_change_asks_for_a_full_build(rng, tmp_path):
    vectors = _vectors(rng, 300)
    HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}).save(tmp_path / "v1")
    index, note = index_update_try(tmp_path / "v1", vectors, {"audio": "a2", "lyrics": "l"})
    assert index is None and "run reindex" in note
    half = {m: (ids[::2], raw[::2]) for m, (ids, raw) in vectors.items()}
    index, note = index_update_try(tmp_path / "v1", half, {"audio": "a", "lyrics": "l"})
    assert index is None and "more than 20%" in note
