from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ml.errors import EmbedderError
from playlists import engine
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.models import Embedding, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(library, index_dir):
    library_ingest(library)
    return library


def _states(modality: str) -> dict[str, str]:
    return dict(Embedding.objects.filter(modality=modality).values_list("track__title", "status"))


def test_first_reindex_embeds_everything_and_publishes(catalogue):
    summary = index_rebuild()
    assert summary.published and summary.version
    assert summary.embedded == {"audio": 6, "lyrics": 5}
    assert summary.indexed == {"audio": 6, "lyrics": 5}
    assert _states("lyrics")["drone"] == "empty"  # instrumental: marked, not embedded as noise
    row = Embedding.objects.get(track__title="Salt Wind", modality="audio")
    vector = np.frombuffer(row.vector, dtype="<f4")
    assert row.dim == vector.size and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    meta = engine.index_store().meta(summary.version)
    assert meta["counts"] == {"audio": 6, "lyrics": 5} and meta["modalities"]["lyrics"]["dim"] == engine.embedder_get("lyrics").dim


def test_second_reindex_embeds_nothing_and_keeps_the_version(catalogue):
    first = index_rebuild()
    second = index_rebuild()
    assert second.embedded == {} and not second.published and second.version == first.version


def test_changed_lyrics_reembed_only_that_track(catalogue):
    index_rebuild()
    before = {(e.track_id, e.modality): e.updated_at for e in Embedding.objects.all()}
    track = Track.objects.get(title="drone")
    track.lyrics = "Snow on the mountain, silent and white\nwe climb through the winter into the night"
    track.save()
    summary = index_rebuild()
    assert summary.embedded == {"lyrics": 1} and summary.published
    changed = {(e.track_id, e.modality) for e in Embedding.objects.all() if e.updated_at != before.get((e.track_id, e.modality))}
    assert changed == {(track.id, "lyrics")}
    assert track.id in engine.serving().index.indexes["lyrics"]


def test_a_new_model_version_reembeds_that_modality(catalogue):
    index_rebuild()

    class Renamed:
        """The real audio embedder under a new version name, as after a model upgrade."""

        def __init__(self, inner):
            self.inner, self.name, self.dim = inner, inner.name, inner.dim
            self.version = inner.version + "-next"

        def embed(self, items):
            return self.inner.embed(items)

    summary = index_rebuild(embedders={"audio": Renamed(engine.embedder_get("audio"))})
    assert summary.embedded == {"audio": 6}
    assert set(Embedding.objects.filter(modality="audio").values_list("model_version", flat=True)) == {engine.embedder_get("audio").version + "-next"}


def test_full_reembeds_everything(catalogue):
    index_rebuild()
    summary = index_rebuild(full=True)
    assert summary.embedded == {"audio": 6, "lyrics": 5} and summary.published


def test_a_file_broken_after_ingest_fails_alone_and_is_recorded(catalogue):
    (catalogue / "rain.wav").write_bytes(b"RIFF" + b"\x00" * 10)
    summary = index_rebuild()
    assert summary.failed == {"audio": 1} and summary.embedded["audio"] == 5
    row = Embedding.objects.get(track__title="rain", modality="audio")
    assert row.status == "failed" and "rain.wav" in row.error
    assert summary.indexed["audio"] == 5
    # Failures are not retried on every run, only with --full.
    assert index_rebuild().failed == {}
    assert index_rebuild(full=True).failed == {"audio": 1}


def test_removed_tracks_leave_the_index(catalogue):
    first = index_rebuild()
    Track.objects.filter(title="Neon").delete()
    second = index_rebuild()
    assert second.published and second.version != first.version
    assert len(engine.serving().index) == 5


def test_an_embedder_that_cannot_load_keeps_the_previous_index(catalogue, capsys):
    first = index_rebuild()

    class Broken:
        name, version, dim = "broken", "broken-v1", 8

        def embed(self, items):
            raise EmbedderError("model weights are missing")

    summary = index_rebuild(embedders={"lyrics": Broken()})
    # Every lyrics track fails with the reason; audio is unaffected and the index still serves audio.
    assert summary.failed == {"lyrics": 5}
    assert all("weights are missing" in reason for _, modality, reason in summary.errors if modality == "lyrics")
    assert engine.serving().index is not None and first.version != summary.version


def test_command_reports_and_refuses_while_locked(catalogue, capsys):
    call_command("reindex", verbosity=1)
    out = capsys.readouterr().out
    assert "Embedded audio 6, lyrics 5" in out and "published" in out
    with engine.index_store().lock():
        with pytest.raises(CommandError, match="another reindex is running"):
            call_command("reindex", verbosity=0)


def test_the_update_or_rebuild_decision_is_recorded(catalogue):
    index_rebuild()
    Track.objects.filter(title="Neon").delete()
    summary = index_rebuild()
    # Two of six tracks' vectors change: past 20 % the whiteners are refitted by a full build.
    assert summary.published and summary.update_note == "full build: 2 changes in a catalogue of 5 (more than 20%)"
    assert len(engine.serving().index) == 5
    assert index_rebuild(full=True).update_note == ""


def test_a_reindex_interrupted_while_writing_leaves_the_previous_version(catalogue, monkeypatch):
    from ml.fusion.hybrid import HybridIndex

    first = index_rebuild()
    serving = engine.serving().index
    Track.objects.filter(title="Neon").delete()
    real_save = HybridIndex.save

    def save_then_interrupt(self, folder):
        real_save(self, folder)  # the new version is fully written into staging...
        raise KeyboardInterrupt  # ...and the process is stopped before the switch

    monkeypatch.setattr(HybridIndex, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        index_rebuild()
    store = engine.index_store()
    assert store.current_version() == first.version and store.versions() == [first.version]
    assert not list(store.root.glob(".staging-*"))
    assert engine.serving().index is serving and len(serving) == 6
    # The lock was released: the next reindex runs and switches.
    monkeypatch.setattr(HybridIndex, "save", real_save)
    assert index_rebuild().published and len(engine.serving().index) == 5
