from __future__ import annotations

import numpy as np
import pytest

from ml.fusion.hybrid import HybridIndex
from ml.fusion.learned import FusionData, FusionError, FusionModel, FusionTrainConfig, artist_split, codes, fusion_fit_and_judge, fusion_select
from ml.whitening import ProjectedWhitener, whitener_fit

GENRES = 4
ARTISTS = 24
TRACKS_PER_ARTIST = 6


def _catalogue(rng: np.random.Generator, *, signal: float, noise: float, signal_dims: int, genres: int = GENRES) -> tuple[dict, list[str], list[str], list[str]]:
    """Raw vectors whose genre lives in the first ``signal_dims`` dimensions, plus artist/album/noise elsewhere."""
    n = ARTISTS * TRACKS_PER_ARTIST
    artist = np.repeat(np.arange(ARTISTS), TRACKS_PER_ARTIST)
    genre = artist % genres
    album = artist * 2 + (np.arange(n) % 2)
    raw = {}
    for modality, dim in (("audio", 24), ("lyrics", 32)):
        centres = np.zeros((genres, dim))
        centres[:, :signal_dims] = rng.standard_normal((genres, signal_dims)) * signal
        artist_offsets = rng.standard_normal((ARTISTS, dim)) * noise
        vectors = centres[genre] + artist_offsets[artist] + rng.standard_normal((n, dim)) * noise
        raw[modality] = vectors.astype(np.float32)
    lyrics_present = rng.random(n) > 0.2  # some instrumentals
    labels = [f"g{g}" for g in genre]
    groups = [f"artist{a}" for a in artist]
    albums = [f"album{a}" for a in album]
    whitened = {}
    for modality, vectors in raw.items():
        present = lyrics_present if modality == "lyrics" else np.ones(n, dtype=bool)
        out = np.zeros_like(vectors)
        out[present] = whitener_fit(vectors[present]).apply(vectors[present])
        whitened[modality] = (out, present)
    return {"raw": raw, "whitened": whitened, "lyrics_present": lyrics_present}, labels, groups, albums


CONFIG = FusionTrainConfig(dim=8, epochs=150, learning_rate=0.03, temperature=0.3, held_out=0.34, k=5, seed=3)


def test_learned_fusion_becomes_the_default_when_it_beats_the_weighted_baseline(rng):
    # Genre lives in 3 of 24/32 dimensions, swamped by artist and track noise everywhere:
    # whitening cannot find it, a projection trained on genre/album pairs can.
    catalogue, labels, groups, albums = _catalogue(rng, signal=2.0, noise=0.5, signal_dims=3)
    data = FusionData(catalogue["whitened"], labels, groups, [codes(labels), codes(albums)])
    decision = fusion_fit_and_judge(data, CONFIG, version="test-better")
    assert decision.baseline is not None and decision.learned is not None
    assert decision.learned > decision.baseline + 0.1, decision.reason
    assert decision.is_default
    assert decision.model.info["is_default"] is True
    assert decision.model.info["baseline"] == decision.baseline and decision.model.info["learned"] == decision.learned
    # The held-out artists never took part in training.
    test = artist_split(groups, held_out=CONFIG.held_out, seed=CONFIG.seed)
    assert decision.test_tracks == int(test.sum()) and decision.train_tracks == len(groups) - int(test.sum())


def test_likes_alone_teach_the_projection(rng):
    # No tags or albums to learn from: listeners who each like one genre across artists
    # (each like paired with the next 8, as the catalogue pairs them) carry the signal;
    # genre is only the held-out label.
    catalogue, labels, groups, _ = _catalogue(rng, signal=2.0, noise=0.5, signal_dims=3)
    genre = np.asarray([int(label[1:]) for label in labels])
    pairs = []
    for listener in range(2 * GENRES):
        liked = rng.permutation(np.flatnonzero(genre == listener % GENRES))
        pairs.extend((a, b) for i, a in enumerate(liked) for b in liked[i + 1 : i + 9])
    untagged = [np.full(len(labels), -1, np.int64)]
    data = FusionData(catalogue["whitened"], labels, groups, untagged, np.asarray(pairs, dtype=np.int64))
    decision = fusion_fit_and_judge(data, CONFIG, version="test-likes")
    assert decision.learned > decision.baseline + 0.1, decision.reason
    # The same listeners liking at random teach nothing that generalises.
    shuffled = rng.permutation(len(labels))[np.asarray(pairs)]
    noise = fusion_fit_and_judge(FusionData(catalogue["whitened"], labels, groups, untagged, shuffled), CONFIG, version="test-noise")
    assert noise.learned < decision.learned


def test_learned_fusion_is_kept_off_when_it_is_not_better(rng):
    # Two genres far apart in every dimension: the baseline is already perfect, nothing can be strictly better.
    catalogue, labels, groups, albums = _catalogue(rng, signal=6.0, noise=0.05, signal_dims=24, genres=2)
    data = FusionData(catalogue["whitened"], labels, groups, [codes(labels), codes(albums)])
    decision = fusion_fit_and_judge(data, CONFIG, version="test-worse")
    assert decision.baseline == pytest.approx(1.0)
    assert decision.learned is not None and decision.learned <= decision.baseline
    assert not decision.is_default
    assert "kept off" in decision.reason


def test_selection_rule_needs_both_numbers_and_strict_improvement():
    assert fusion_select(0.5, 0.6)[0] is True
    assert fusion_select(0.5, 0.5)[0] is False
    assert fusion_select(0.5, 0.4)[0] is False
    assert fusion_select(None, 0.9)[0] is False
    assert fusion_select(0.5, None)[0] is False


def test_training_without_positive_pairs_is_refused(rng):
    catalogue, labels, groups, _ = _catalogue(rng, signal=1.0, noise=1.0, signal_dims=3)
    no_signal = [np.full(len(labels), -1, np.int64)]
    with pytest.raises(FusionError, match="no positive pairs"):
        fusion_fit_and_judge(FusionData(catalogue["whitened"], labels, groups, no_signal), CONFIG)


def test_one_artist_cannot_be_split():
    with pytest.raises(FusionError, match="at least 2 artists"):
        artist_split(["a", "a", "a"], held_out=0.3, seed=0)


def test_model_round_trip_and_serving_in_the_learned_space(rng, tmp_path):
    catalogue, labels, groups, albums = _catalogue(rng, signal=2.0, noise=0.5, signal_dims=3)
    data = FusionData(catalogue["whitened"], labels, groups, [codes(labels), codes(albums)])
    decision = fusion_fit_and_judge(data, FusionTrainConfig(dim=8, epochs=20, held_out=0.34, seed=1), version="v-roundtrip")
    folder = decision.model.save(tmp_path / "fusion" / "v-roundtrip")
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    loaded = FusionModel.load(folder)
    assert loaded.version == "v-roundtrip" and loaded.dim == 8
    for modality, projection in decision.model.projections.items():
        np.testing.assert_array_equal(loaded.projections[modality], projection)
    assert loaded.info["decision"] == decision.reason

    ids = np.arange(1, len(labels) + 1, dtype=np.int64)
    present = catalogue["lyrics_present"]
    vectors = {"audio": (ids, catalogue["raw"]["audio"]), "lyrics": (ids[present], catalogue["raw"]["lyrics"][present])}
    index = HybridIndex.build(vectors, {"audio": "a", "lyrics": "l"}, fusion=loaded)
    assert {m: i.dim for m, i in index.indexes.items()} == {"audio": 8, "lyrics": 8}
    assert index.fusion_version == "v-roundtrip"
    assert isinstance(index.standardisers["audio"], ProjectedWhitener)
    index.save(tmp_path / "index")
    again = HybridIndex.load(tmp_path / "index")
    assert again.fusion_version == "v-roundtrip"
    # Raw query vectors go through whitening + projection, exactly as the catalogue did.
    found, _ = again.query({"audio": catalogue["raw"]["audio"][0]}, k=3, balance=1.0)
    assert found[0] == ids[0]
    expected, _ = index.similar([int(ids[5])], k=10, balance=0.5)
    served, _ = again.similar([int(ids[5])], k=10, balance=0.5)
    np.testing.assert_array_equal(expected, served)


def test_a_damaged_model_folder_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FusionError, match="not a readable fusion model"):
        FusionModel.load(tmp_path)
