"""The genre head on frozen tagger vectors: artist folds, the discriminant directions, the held-out test, serving."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from ml.audio.checkpoint import CheckpointError
from ml.audio.genre_head import (
    GenreHeadEmbedder,
    artist_folds,
    discriminant_directions,
    genre_head_cross_validate,
    genre_head_fit,
    genre_head_train,
)
from ml.audio.musicnn import MTT_TAGS
from ml.audio.train import TrainingError
from ml.config import AudioConfig
from ml.errors import EmbedderError
from ml.registry import audio_embedder_build, audio_embedder_dim, trained_model_dir
from tests.support.audio_fixtures import RATE, song


def generated_set(seed: int = 0, *, tracks: int = 96, dim: int = 40) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Vectors where genre lives in 2 of ``dim`` dimensions and each artist adds its own offset in all of them.

    Cosine on the raw vectors is dominated by the artist offsets and noise; a
    head that finds the two genre dimensions should do better on unseen artists.
    """
    rng = np.random.default_rng(seed)
    genres = [("a", "b", "c")[i % 3] for i in range(tracks)]
    artists = [f"artist-{i // 4}" for i in range(tracks)]
    albums = [f"album-{i // 2}" for i in range(tracks)]
    centres = {"a": (1.0, 0.0), "b": (-0.5, 0.87), "c": (-0.5, -0.87)}
    offsets = {name: rng.normal(0, 1.0, dim) for name in sorted(set(artists))}
    vectors = rng.normal(0, 1.0, (tracks, dim))
    for row, (genre, artist) in enumerate(zip(genres, artists)):
        vectors[row] += offsets[artist]
        vectors[row, :2] += 3.0 * np.array(centres[genre])
    return vectors.astype(np.float32), genres, artists, albums


def test_artist_folds_never_share_an_artist_and_are_seeded():
    artists = [f"a{i % 13}" for i in range(60)]
    fold = artist_folds(artists, folds=4, seed=3)
    assert set(fold.tolist()) == {0, 1, 2, 3}
    for name in set(artists):
        assert len({int(f) for f, a in zip(fold, artists) if a == name}) == 1
    np.testing.assert_array_equal(fold, artist_folds(artists, folds=4, seed=3))
    assert not np.array_equal(fold, artist_folds(artists, folds=4, seed=4))
    with pytest.raises(TrainingError, match="at least 4 artists"):
        artist_folds(["x", "y", "z"], folds=4)


def test_discriminant_directions_find_the_genre_dimensions():
    vectors, genres, _, _ = generated_set()
    standard = (vectors - vectors.mean(0)) / vectors.std(0)
    directions = discriminant_directions(standard, genres, shrinkage=0.3)
    assert directions.shape == (40, 2) and directions.dtype == np.float32
    # Most of each direction's weight sits on the two genre dimensions.
    weight = np.linalg.norm(directions[:2], axis=0) / np.linalg.norm(directions, axis=0)
    assert (weight > 0.7).all()
    with pytest.raises(TrainingError, match="at least 2 genres"):
        discriminant_directions(standard, ["a"] * len(genres))


def test_the_head_gives_unit_vectors_deterministically():
    vectors, genres, _, _ = generated_set()
    head = genre_head_fit(vectors, genres, alpha=1.0, seed=0)
    out = head.apply(vectors[:5])
    assert out.shape == (5, 42) and head.dim == 42 and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out, genre_head_fit(vectors, genres, alpha=1.0, seed=0).apply(vectors[:5]))
    # The rotation is orthogonal: it changes no cosine between head vectors.
    np.testing.assert_allclose(head.rotation @ head.rotation.T, np.eye(42), atol=1e-5)


def test_the_held_out_test_beats_the_raw_vectors_on_unseen_artists_and_scores_every_track_once():
    vectors, genres, artists, albums = generated_set()
    result = genre_head_cross_validate(vectors, genres, artists, albums, folds=4, alphas=(0.5, 1.5), seed=0)
    assert [row["fold"] for row in result["per_fold"]] == [0, 1, 2, 3]
    assert sum(row["tracks"] for row in result["per_fold"]) == len(vectors)
    assert sum(row["artists"] for row in result["per_fold"]) == len(set(artists))
    assert all(row["alpha"] in (0.5, 1.5) for row in result["per_fold"])
    head, raw = result["mean"]["genre_head"], result["mean"]["concatenation"]
    assert set(head) == {"genre", "album", "album_all"}
    assert head["genre"]["p@10"] > raw["genre"]["p@10"] + 0.1
    assert result == genre_head_cross_validate(vectors, genres, artists, albums, folds=4, alphas=(0.5, 1.5), seed=0)


def test_a_head_that_loses_is_saved_kept_off_and_not_served(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(48, 20)).astype(np.float32)  # no genre signal at all
    genres = [("a", "b")[i % 2] for i in range(48)]
    artists = [f"artist-{i // 3}" for i in range(48)]
    folder, description = genre_head_train(vectors, genres, artists, tmp_path, base="musicnn-mtt", alphas=(1.0,), version="head-noise")
    assert description["architecture"] == "genre-head" and description["dim"] == 21
    saved = json.loads((folder / "config.json").read_text())
    assert saved["decision"]["serve"] is description["decision"]["serve"]
    if not saved["decision"]["serve"]:
        with pytest.raises(EmbedderError, match="beat the pretrained one"):
            trained_model_dir(AudioConfig(model="trained", models_dir=tmp_path))
    with pytest.raises(TrainingError, match="at least 2 genres"):
        genre_head_train(vectors, ["a"] * 48, artists, tmp_path, base="musicnn-mtt", alphas=(1.0,))


def test_a_served_head_embeds_files_through_the_registry_with_the_taggers_tags(tmp_path):
    path = tmp_path / "song.ogg"
    soundfile.write(str(path), song(8.0, seed=2, sections=2), RATE)
    vectors, genres, artists, _ = generated_set(tracks=48, dim=400)
    models = tmp_path / "models"
    folder, description = genre_head_train(vectors, genres, artists, models, base="musicnn-mtt", folds=3, alphas=(1.0,), version="head-test")
    assert description["decision"]["serve"]  # the generated set's genre signal wins
    config = AudioConfig(model="trained", models_dir=models, segments=2)
    assert trained_model_dir(config) == folder
    try:
        embedder = audio_embedder_build(config)
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")
    assert isinstance(embedder, GenreHeadEmbedder) and embedder.version.startswith("head-test-")
    out, tags = embedder.embed_with_tags([str(path)])
    assert out.shape == (1, audio_embedder_dim(config)) == (1, 402)
    assert np.linalg.norm(out[0]) == pytest.approx(1.0, abs=1e-5)
    assert list(tags[0]) == [f"mtt:{t}" for t in MTT_TAGS]
    np.testing.assert_array_equal(out, embedder.embed([str(path)]))
    # A head fitted on vectors of another size is refused with a clear message.
    other = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**other, "base": "musicnn-mtt+musicnn-msd"}))
    with pytest.raises(EmbedderError, match="fitted on 400-d vectors"):
        audio_embedder_build(config)
