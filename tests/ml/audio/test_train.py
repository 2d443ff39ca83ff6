"""Training the library CNN on a tiny generated set: the loss falls, the split is by artist, checkpoints round-trip."""
from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest
import soundfile
import torch

from ml.audio.musicnn import MusicnnConfig
from ml.audio.train import TrainConfig, TrainingError, TrainItem, artist_split, audio_cnn_train, contrastive_loss, trained_embedder_build, trained_model_load

RATE = 16000


def _track(kind: str, seed: int, seconds: float = 8.0) -> np.ndarray:
    """Two styles that differ in pitch range and rhythm; every track is its own variation."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    if kind == "low":
        base, bpm = rng.uniform(60, 120), rng.uniform(70, 90)
    else:
        base, bpm = rng.uniform(800, 1600), rng.uniform(150, 180)
    envelope = np.exp(-8 * ((t * bpm / 60) % 1))
    signal = 0.3 * envelope * np.sin(2 * np.pi * base * t * (1 + 0.02 * np.sin(2 * np.pi * 0.3 * t)))
    return (signal + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train-library")
    items = []
    for i in range(12):
        kind = "low" if i % 2 == 0 else "high"
        path = folder / f"t{i:02d}.flac"
        soundfile.write(str(path), _track(kind, seed=i), RATE)
        items.append(TrainItem(path=str(path), artist=f"artist {i % 6}", genre=kind))
    return items


TINY = TrainConfig(
    epochs=6, batch_size=8, learning_rate=3e-3, patience=10, segments_per_track=3, patch_frames=48,
    validation_share=0.34, model=MusicnnConfig(timbral_filters=8, temporal_filters=4, midend_filters=8, backend_units=16, n_tags=1),
)  # fmt: skip


@pytest.fixture(scope="module")
def trained(tiny_library, tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    return audio_cnn_train(tiny_library, out, config=TINY, version="tiny-v1")


def test_training_lowers_the_loss_and_logs_every_epoch(trained):
    losses = [row["train_loss"] for row in trained.history]
    assert len(losses) == 6
    assert np.mean(losses[-2:]) < losses[0]
    with open(trained.folder / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(float(r["val_loss"]) > 0 for r in rows)
    assert (trained.folder / "loss.png").stat().st_size > 1000


def test_validation_artists_are_not_trained_on(trained, tiny_library):
    description = json.loads((trained.folder / "config.json").read_text())
    held = set(description["validation_artists"])
    assert held and held != {item.artist for item in tiny_library}
    assert trained.train_tracks + trained.validation_tracks == len(tiny_library)
    assert description["genres"] == ["high", "low"]


def test_checkpoint_round_trip_gives_the_same_outputs(trained, rng):
    model, description = trained_model_load(trained.folder)
    assert description["version"] == "tiny-v1" and model.config.backend_units == 16
    patches = torch.from_numpy(rng.standard_normal((3, 48, 96)).astype(np.float32) + 2)
    again, _ = trained_model_load(trained.folder)
    with torch.inference_mode():
        np.testing.assert_array_equal(model.features(patches)[0].numpy(), again.features(patches)[0].numpy())


def test_trained_embedder_embeds_through_the_shared_path(trained, tiny_library):
    embedder = trained_embedder_build(trained.folder)
    vectors = embedder.embed([item.path for item in tiny_library[:4]])
    assert vectors.shape == (4, 32) and embedder.version.startswith("trained-cnn-tiny-v1")
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_early_stopping_keeps_the_best_epoch(tiny_library, tmp_path):
    config = dataclasses.replace(TINY, epochs=40, patience=1, learning_rate=3e-2)
    result = audio_cnn_train(tiny_library, tmp_path, config=config, version="impatient")
    assert result.stopped_early and len(result.history) < 40
    best = min(result.history, key=lambda row: row["val_loss"])
    assert result.best_epoch == best["epoch"]


def test_artist_split_never_shares_an_artist():
    items = [TrainItem(path=f"{i}", artist=f"a{i % 5}") for i in range(20)]
    train, validation = artist_split(items, share=0.2, seed=3)
    assert {items[i].artist for i in train}.isdisjoint({items[i].artist for i in validation})
    assert sorted(train + validation) == list(range(20)) and validation
    with pytest.raises(TrainingError, match="two artists"):
        artist_split(items[:1], share=0.2, seed=0)


def test_contrastive_loss_prefers_matching_pairs(rng):
    views = torch.from_numpy(rng.standard_normal((8, 16)).astype(np.float32))
    matched = contrastive_loss(views, views + 0.01, 0.1)
    shuffled = contrastive_loss(views, views.roll(1, dims=0), 0.1)
    assert float(matched) < float(shuffled)


def test_too_few_tracks_is_a_clear_error(tmp_path, tiny_library):
    with pytest.raises(TrainingError, match="at least 4 decodable"):
        audio_cnn_train(tiny_library[:2] + [TrainItem(path=str(tmp_path / "missing.mp3"), artist="x")], tmp_path, config=TINY)


def test_the_registry_builds_the_newest_or_a_named_trained_model(trained):
    from ml.config import AudioConfig
    from ml.errors import EmbedderError
    from ml.registry import audio_embedder_build

    models_dir = trained.folder.parent
    newest = audio_embedder_build(AudioConfig(model="trained", models_dir=models_dir))
    named = audio_embedder_build(AudioConfig(model="trained:tiny-v1", models_dir=models_dir))
    assert named.version.startswith("trained-cnn-tiny-v1") and newest.name == "trained-cnn"
    with pytest.raises(EmbedderError, match="train_audio"):
        audio_embedder_build(AudioConfig(model="trained:nope", models_dir=models_dir))
