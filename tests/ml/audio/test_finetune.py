"""Fine-tuning the pretrained tagger on a small generated library: the split, the saved model, the held-out decision."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import soundfile

from ml.audio.checkpoint import CheckpointError
from ml.audio.finetune import FineTuneConfig, FineTuneItem, artists_split, audio_finetune, serve_decision
from ml.audio.musicnn import MTT_TAGS
from ml.audio.train import TrainingError
from ml.config import AudioConfig
from ml.errors import EmbedderError
from ml.registry import audio_embedder_build, audio_embedder_dim, trained_model_dir
from tests.support.audio_fixtures import RATE, song

GENRES = {"calm": (0.3, 70.0), "busy": (1.0, 170.0)}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """12 short tracks by 6 artists in two audibly different genres (quiet and slow vs loud and busy)."""
    folder = tmp_path_factory.mktemp("finetune-library")
    items = []
    for index in range(12):
        genre = "calm" if index % 2 == 0 else "busy"
        gain, _ = GENRES[genre]
        samples = song(12.0, seed=index, sections=2) * gain
        if genre == "calm":
            samples = np.convolve(samples, np.ones(30) / 30, mode="same").astype(np.float32)  # dull and soft
        path = folder / f"t{index:02d}.ogg"
        soundfile.write(str(path), samples, RATE)
        items.append(FineTuneItem(str(path), artist=f"artist-{index // 2}", genre=genre, album=f"album-{index // 2}"))
    return items


@pytest.fixture(scope="module")
def tuned(library, tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetuned-models")
    config = FineTuneConfig(base="musicnn-mtt", epochs=2, batch_size=4, segments_per_track=2, segment_seconds=3.5, validation_share=0.2, test_share=0.3, k=3, patience=5)
    try:
        return folder, audio_finetune(library, folder, config=config, version="ft-test")
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


def test_artists_are_split_three_ways_without_sharing_an_artist():
    artists = [f"a{i // 3}" for i in range(30)]
    side = artists_split(artists, validation=0.2, test=0.2, seed=1)
    assert set(side) == {0, 1, 2}
    for name in set(artists):
        assert len({int(s) for s, a in zip(side, artists) if a == name}) == 1
    np.testing.assert_array_equal(side, artists_split(artists, validation=0.2, test=0.2, seed=1))  # seeded
    with pytest.raises(TrainingError, match="at least 3 artists"):
        artists_split(["a", "a", "b"], validation=0.2, test=0.2, seed=0)


def test_a_fine_tuned_model_is_saved_with_its_decision_and_embeds_with_tags(tuned, library):
    folder, result = tuned
    description = json.loads((result.folder / "config.json").read_text())
    assert description["architecture"] == "finetuned" and description["base"] == "musicnn-mtt"
    assert description["labels"] == "genre" and description["genres"] == ["busy", "calm"]
    assert set(result.decision) >= {"pretrained", "fine_tuned", "serve", "reason", "serve_margin"} and isinstance(result.decision["serve"], bool)
    decision = result.decision
    if result.best_epoch > 0 and decision["pretrained"] is not None and decision["fine_tuned"] is not None:
        # The run's own decision follows the margin, not a bare "better".
        assert decision["serve"] == (round(decision["fine_tuned"] - decision["pretrained"], 9) > decision["serve_margin"])
    assert result.train_tracks + result.validation_tracks + result.test_tracks == len(library)
    config = AudioConfig(model="trained:ft-test", models_dir=folder, segments=2)
    embedder = audio_embedder_build(config)
    vectors, tags = embedder.embed_with_tags([library[0].path])
    assert vectors.shape == (1, audio_embedder_dim(config)) == (1, 400)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    # Distillation keeps the tags the tagger's own.
    assert list(tags[0]) == [f"mtt:{t}" for t in MTT_TAGS] and all(0.0 <= p <= 1.0 for p in tags[0].values())
    np.testing.assert_array_equal(vectors, embedder.embed([library[0].path]))


def test_only_a_model_that_won_on_held_out_artists_is_served(tuned, tmp_path):
    folder, result = tuned
    config = AudioConfig(model="trained", models_dir=folder)
    if result.decision["serve"]:
        assert trained_model_dir(config) == result.folder
    else:
        with pytest.raises(EmbedderError, match="beat the pretrained one"):
            trained_model_dir(config)
    # A model that lost is never picked by "trained", whatever its age.
    loser = tmp_path / "ft-loser"
    loser.mkdir()
    description = json.loads((result.folder / "config.json").read_text())
    description["decision"] = {**description["decision"], "serve": False}
    (loser / "config.json").write_text(json.dumps(description))
    with pytest.raises(EmbedderError, match="beat the pretrained one"):
        trained_model_dir(AudioConfig(model="trained", models_dir=tmp_path))
    winner = tmp_path / "ft-winner"
    winner.mkdir()
    (winner / "config.json").write_text(json.dumps({**description, "decision": {**description["decision"], "serve": True}}))
    assert trained_model_dir(AudioConfig(model="trained", models_dir=tmp_path)) == winner


def test_a_model_served_before_the_margin_is_judged_again_by_it(tmp_path):
    """A fine-tuned model whose decision predates the serve margin keeps "served" only if its recorded lead clears the margin today."""
    config = AudioConfig(model="trained", models_dir=tmp_path)
    old_rule = {"metric": "genre p@10", "pretrained": 0.5731, "fine_tuned": 0.5821, "serve": True, "reason": "served"}
    narrow = tmp_path / "ft-narrow"
    narrow.mkdir()
    (narrow / "config.json").write_text(json.dumps({"architecture": "finetuned", "decision": old_rule}))
    with pytest.raises(EmbedderError, match="beat the pretrained one"):
        trained_model_dir(config)
    # A decision taken under the margin rule is what that rule said.
    (narrow / "config.json").write_text(json.dumps({"architecture": "finetuned", "decision": {**old_rule, "serve_margin": 0.0}}))
    assert trained_model_dir(config) == narrow
    # A clear lead under the old rule still serves.
    clear = tmp_path / "ft-clear"
    clear.mkdir()
    (clear / "config.json").write_text(json.dumps({"architecture": "finetuned", "decision": {**old_rule, "fine_tuned": 0.6100}}))
    os.utime(clear / "config.json", (time.time() + 5, time.time() + 5))
    (narrow / "config.json").write_text(json.dumps({"architecture": "finetuned", "decision": old_rule}))
    os.utime(narrow / "config.json", (time.time() + 10, time.time() + 10))
    assert trained_model_dir(config) == clear
    # Without its two scores an old "served" cannot be judged, and is kept off.
    (clear / "config.json").write_text(json.dumps({"architecture": "finetuned", "decision": {"serve": True}}))
    with pytest.raises(EmbedderError, match="beat the pretrained one"):
        trained_model_dir(config)


def test_a_lead_within_the_test_sets_noise_keeps_the_pretrained_model():
    # The Emotify run of docs/evaluation.md: 0.582 against 0.573 on its own 67 test tracks, behind on another held-out set.
    serve, reason = serve_decision(0.573, 0.582, margin=FineTuneConfig().serve_margin, metric="genre p@10")
    assert not serve and "kept off" in reason and "0.5820" in reason
    serve, reason = serve_decision(0.573, 0.600, margin=0.02, metric="genre p@10")
    assert serve and reason.endswith("served")
    assert not serve_decision(0.6, 0.6, margin=0.0, metric="genre p@10")[0]  # a tie never replaces the pretrained model
    assert not serve_decision(0.58, 0.60, margin=0.02, metric="genre p@10")[0]  # exactly the margin: kept off, whatever float error says


def test_fine_tuning_needs_a_pretrained_musicnn_base(library, tmp_path):
    with pytest.raises(TrainingError, match="pretrained musicnn"):
        audio_finetune(library, tmp_path, config=FineTuneConfig(base="mfcc-stats"))
