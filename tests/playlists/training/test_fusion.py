from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from playlists import engine
from playlists.catalogue.reindex import index_rebuild
from playlists.models import Album, Artist, Embedding, FusionModel, Playlist, Rating, Track
from playlists.training.fusion import fusion_model_train
from playlists.training.selectors import LIKE_PAIR_WINDOW, fusion_signals

pytestmark = pytest.mark.django_db


def _catalogue(rng: np.random.Generator, *, artists: int = 12, per_artist: int = 5) -> list[Track]:
    """Tracks with audio vectors only (embedding rows under the configured model version): genre in 3 of 16 dims."""
    version = engine.embedder_get("audio").version
    centres = np.zeros((3, 16))
    centres[:, :3] = rng.standard_normal((3, 3)) * 2.0
    tracks = []
    for a in range(artists):
        artist = Artist.objects.create(name=f"Artist {a}")
        album = Album.objects.create(title=f"Album {a}", artist=artist)
        offset = rng.standard_normal(16) * 0.5
        for t in range(per_artist):
            track = Track.objects.create(title=f"t{a}-{t}", artist=artist, album=album, genre=f"G{a % 3}; Extra")
            vector = (centres[a % 3] + offset + rng.standard_normal(16) * 0.5).astype("<f4")
            Embedding.objects.create(track=track, modality="audio", status="ok", model_version=version, content_hash=f"h{track.id}", dim=16, vector=vector.tobytes())
            tracks.append(track)
    return tracks


def test_signals_come_from_tags_albums_and_playlist_seeds(rng):
    tracks = _catalogue(rng, artists=3, per_artist=2)
    owner = get_user_model().objects.create_user("u", password="a-long-password-9")
    playlist = Playlist.objects.create(owner=owner, name="p")
    playlist.seeds.set([tracks[0], tracks[3]])
    ids = np.asarray([t.id for t in tracks])
    signals = fusion_signals(ids)
    assert signals.genres[0] == "g0" and signals.genres[2] == "g1"  # primary tag, case-folded
    assert signals.artists[0] == "Artist 0"
    assert signals.albums[0] == signals.albums[1] != signals.albums[2]
    assert signals.playlist_pairs == [(0, 3)]
    assert signals.like_pairs == []


def test_likes_pair_each_like_with_the_same_users_next_likes(rng):
    tracks = _catalogue(rng, artists=4, per_artist=5)
    ids = np.asarray([t.id for t in tracks])
    heavy, light = (get_user_model().objects.create_user(name, password="a-long-password-9") for name in ("heavy", "light"))
    for track in tracks[:15]:  # saved one after another: updated_at follows this order
        Rating.objects.create(user=heavy, track=track, value=Rating.Value.LIKE)
    Rating.objects.create(user=light, track=tracks[15], value=Rating.Value.LIKE)
    Rating.objects.create(user=light, track=tracks[19], value=Rating.Value.LIKE)
    Rating.objects.create(user=light, track=tracks[18], value=Rating.Value.DISLIKE)
    pairs = set(fusion_signals(ids).like_pairs)
    heavy_pairs = {(a, b) for a in range(15) for b in range(a + 1, min(15, a + 1 + LIKE_PAIR_WINDOW))}
    assert pairs == heavy_pairs | {(15, 19)}
    # A window, not every pair: 15 likes give fewer than 15*14/2 pairs; dislikes pair with nothing.
    assert len(heavy_pairs) < 15 * 14 // 2 and not any(18 in pair for pair in pairs)
    # Only the tracks asked about count.
    assert fusion_signals(ids[:2]).like_pairs == [(0, 1)]


def test_train_fusion_records_both_numbers_and_the_decision(rng, settings, tmp_path):
    settings.CROSSFADE_DATA_DIR = tmp_path
    _catalogue(rng)
    out = io.StringIO()
    call_command("train_fusion", "--epochs", "60", "--dim", "8", "--held-out", "0.34", "--seed", "2", stdout=out, stderr=io.StringIO())
    row = FusionModel.objects.get()
    assert row.baseline_score is not None and row.learned_score is not None
    assert row.is_default == (row.learned_score > row.baseline_score)
    assert row.decision and row.metric == "p@5" and row.test_artists == 4
    folder = Path(row.path)
    assert folder.parent == tmp_path / "models" / "fusion" and (folder / "model.safetensors").is_file()
    assert f"weighted {row.baseline_score}" in out.getvalue()
    # Shown in the admin.
    admin = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    from django.test import Client

    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:playlists_fusionmodel_changelist"))
    assert page.status_code == 200 and row.version in page.content.decode()


def test_dry_run_stores_nothing(rng, settings, tmp_path):
    settings.CROSSFADE_DATA_DIR = tmp_path
    _catalogue(rng)
    from ml.fusion.learned import FusionTrainConfig

    summary = fusion_model_train(config=FusionTrainConfig(epochs=5, dim=4), dry_run=True)
    assert summary.baseline is not None and not FusionModel.objects.exists() and not (tmp_path / "models").exists()


def test_train_fusion_without_embeddings_is_a_clear_error(settings, tmp_path):
    settings.CROSSFADE_DATA_DIR = tmp_path
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no embeddings"):
        call_command("train_fusion", stdout=io.StringIO(), stderr=io.StringIO())


def test_reindex_serves_the_default_fusion_model_and_drops_it_when_switched_off(indexed, settings, tmp_path):
    settings.CROSSFADE_DATA_DIR = tmp_path
    from ml.fusion.learned import FusionTrainConfig

    first = engine.index_store().current_version()
    # The tiny library shares no genre across artists: a user's playlist seeds give the positive pairs.
    owner = get_user_model().objects.create_user("u", password="a-long-password-9")
    Playlist.objects.create(owner=owner, name="mix").seeds.set(Track.objects.all())
    Rating.objects.create(user=owner, track=Track.objects.first(), value=Rating.Value.LIKE)
    Rating.objects.create(user=owner, track=Track.objects.last(), value=Rating.Value.LIKE)
    summary = fusion_model_train(config=FusionTrainConfig(epochs=5, dim=4, held_out=0.5))
    assert summary.signals["playlist_pairs"] > 0 and summary.signals["like_pairs"] == 1
    row = FusionModel.objects.get(version=summary.version)
    FusionModel.objects.filter(pk=row.pk).update(is_default=True)  # serve it whatever the tiny library decided
    result = index_rebuild()
    assert result.published and result.version != first
    served = engine.serving().index
    assert served.fusion_version == row.version
    assert {index.dim for index in served.indexes.values()} == {4}
    assert engine.index_store().meta(result.version)["fusion"] == row.version
    track = next(iter(indexed.values()))
    ids, _ = served.similar([track.id], k=3, balance=0.5)
    assert track.id not in ids and len(ids) > 0
    # Unchanged catalogue and model: nothing to do.
    assert not index_rebuild().published
    FusionModel.objects.update(is_default=False)
    back = index_rebuild()
    assert back.published and engine.serving().index.fusion_version == ""


def test_export_manifest_writes_genre_labels_and_artist_groups(indexed, tmp_path):
    from ml.evaluate import manifest_read

    out = io.StringIO()
    call_command("export_manifest", str(tmp_path / "m.csv"), stdout=out)
    rows = manifest_read(tmp_path / "m.csv")
    tagged = Track.objects.exclude(genre="")
    assert len(rows) == tagged.count() > 0
    by_id = {r.track_id: r for r in rows}
    for track in tagged:
        row = by_id[str(track.id)]
        assert row.label == track.genres[0] and row.group == track.artist.name
        assert row.audio_path == Path(track.audio_path)
        assert (row.lyrics or "") == track.lyrics
    untagged = Track.objects.filter(genre="").count()
    assert (f"{untagged} tracks without a genre tag" in out.getvalue()) == (untagged > 0)
    call_command("export_manifest", str(tmp_path / "dry.csv"), "--dry-run", stdout=io.StringIO())
    assert not (tmp_path / "dry.csv").exists()
