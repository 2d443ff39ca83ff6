"""manage.py train_audio on the test library: a dry run, a short real run, and reindexing with the result."""
from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command

from playlists import engine
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.models import Embedding

pytestmark = pytest.mark.django_db


@pytest.fixture
def models_dir(settings, tmp_path, index_dir):
    folder = tmp_path / "models"
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, audio=dataclasses.replace(settings.CROSSFADE.audio, models_dir=folder))
    return folder


def test_dry_run_trains_nothing(library, models_dir, capsys):
    library_ingest(library)
    call_command("train_audio", "--dry-run", verbosity=1)
    out = capsys.readouterr().out
    assert "6 tracks by" in out and "Dry run" in out
    assert not models_dir.exists()


def test_train_then_reindex_with_the_trained_model(library, models_dir, settings, capsys):
    library_ingest(library)
    call_command("train_audio", "--epochs", "2", "--batch-size", "4", verbosity=1)
    out = capsys.readouterr().out
    assert "Trained cnn-" in out and "CROSSFADE_AUDIO_MODEL=trained:" in out
    (folder,) = list(models_dir.iterdir())
    assert {"model.safetensors", "config.json", "history.csv", "loss.png"} <= {p.name for p in folder.iterdir()}
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, audio=dataclasses.replace(settings.CROSSFADE.audio, model="trained"))
    summary = index_rebuild()
    assert summary.embedded["audio"] == 6
    versions = set(Embedding.objects.filter(modality="audio").values_list("model_version", flat=True))
    assert versions == {engine.embedder_get("audio").version} and folder.name in versions.pop()


def test_a_genre_head_is_tested_on_held_out_artists_and_saved_with_its_decision(library, models_dir, capsys):
    import json

    library_ingest(library)
    call_command("train_audio", "--genre-head", "--base", "musicnn-mtt", "--folds", "2", verbosity=1)
    out = capsys.readouterr().out
    assert "Genre head genre-head-" in out and "held-out artist folds" in out
    (folder,) = list(models_dir.iterdir())
    assert {"head.npz", "config.json"} <= {p.name for p in folder.iterdir()}
    description = json.loads((folder / "config.json").read_text())
    assert description["architecture"] == "genre-head" and description["base"] == "musicnn-mtt"
    assert description["dim"] == 400 + len(description["genres"]) - 1
    assert isinstance(description["decision"]["serve"], bool) and len(description["held_out"]["per_fold"]) == 2
