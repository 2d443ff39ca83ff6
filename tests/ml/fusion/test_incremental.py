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


def test_stale_fast_scan_entries_count_toward_the_next_full_build(rng, tmp_path):
    # The million-track codec, scaled down: removed tracks stay in the fast-scan lists as tombstones.
    fastscan = {"nlist": 8, "nprobe": 8, "codec": "PQfs", "oversample": 3}
    vectors = _vectors(rng, 400)
    names = {"audio": "a", "lyrics": "l"}
    HybridIndex.build(vectors, names, backend="ivf", overrides=fastscan).save(tmp_path / "v1")
    # 30 of 400 tracks gone: 60 changes (each leaves both modalities), 15 %.
    first = {m: (ids[30:], raw[30:]) for m, (ids, raw) in vectors.items()}
    index, note = index_update_try(tmp_path / "v1", first, names, backend="ivf", overrides=fastscan)
    assert index is not None and note.startswith("updated in place")
    assert len(index.fused) - len(index) == 30 and not any(int(i) in index for i in range(1, 31))
    for seed in index.track_ids()[:20]:
        assert not set(index.similar([int(seed)], k=30, balance=0.5)[0]) & set(range(1, 31))
    index.save(tmp_path / "v2")
    # Another 60 changes in 340 tracks would be fine on their own; with the 30 tombstones they are over 20 %.
    second = {m: (ids[30:], raw[30:]) for m, (ids, raw) in first.items()}
    index, note = index_update_try(tmp_path / "v2", second, names, backend="ivf", overrides=fastscan)
    assert index is None and "60 changes plus 30 stale candidate entries" in note
    # A codec the catalogue no longer calls for is a full build too.
    index, note = index_update_try(tmp_path / "v2", first, names, backend="ivf", overrides={**fastscan, "codec": "SQ8"})
    assert index is None and "SQ8 candidate codes" in note
