from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Album, Artist, Embedding, IngestFailure, Playlist, PlaylistItem, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, library, index_dir):
    library_ingest(library)
    index_rebuild()
    admin = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    playlist_generate(owner=admin, settings=PlaylistSettings(seed_ids=[Track.objects.first().id], length=3))
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", [Artist, Album, Track, Embedding, IngestFailure, Playlist])
def test_every_changelist_and_change_page_loads(admin_client, model):
    changelist = admin_client.get(reverse(f"admin:playlists_{model._meta.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    assert obj is not None
    change = admin_client.get(reverse(f"admin:playlists_{model._meta.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200


def test_track_list_shows_embedding_state_and_filters(admin_client):
    page = admin_client.get(reverse("admin:playlists_track_changelist"))
    assert b"embedded" in page.content and b"nothing to embed" in page.content
    filtered = admin_client.get(reverse("admin:playlists_track_changelist"), {"q": "rigging"})
    assert b"Salt Wind" in filtered.content and b"Neon" not in filtered.content
    failures = admin_client.get(reverse("admin:playlists_ingestfailure_changelist"))
    assert b"empty (0 bytes)" in failures.content


def test_bulk_exclude_action(admin_client):
    ids = list(Track.objects.values_list("id", flat=True)[:2])
    response = admin_client.post(
        reverse("admin:playlists_track_changelist"), {"action": "exclude_from_playlists", "_selected_action": ids}, follow=True
    )
    assert response.status_code == 200 and b"2 tracks excluded" in response.content
    assert Track.objects.filter(excluded=True).count() == 2


def test_reembed_action_clears_state_for_the_next_reindex(admin_client):
    track = Track.objects.get(title="Neon")
    admin_client.post(reverse("admin:playlists_track_changelist"), {"action": "mark_for_reembedding", "_selected_action": [track.id]})
    assert not Embedding.objects.filter(track=track).exists()
    assert index_rebuild().embedded == {"audio": 1, "lyrics": 1}


def test_playlist_items_inline(admin_client):
    playlist = Playlist.objects.first()
    page = admin_client.get(reverse("admin:playlists_playlist_change", args=[playlist.pk]))
    assert page.content.count(b"playlistitem") > 0 and PlaylistItem.objects.filter(playlist=playlist).count() == 3


def test_plays_stars_and_covers_are_shown_read_only(admin_client):
    from playlists.models import AlbumStar, CoverArt, Play
    from playlists.taste.plays import albums_star, play_record

    admin = get_user_model().objects.get(username="root")
    track = Track.objects.exclude(cover=None).first()
    play_record(user=admin, track_id=track.id, client="Symfonium")
    albums_star(user=admin, album_ids=[Album.objects.first().id], starred=True)
    for model in (Play, AlbumStar, CoverArt):
        changelist = admin_client.get(reverse(f"admin:playlists_{model._meta.model_name}_changelist"))
        assert changelist.status_code == 200 and model.objects.exists()
        assert admin_client.get(reverse(f"admin:playlists_{model._meta.model_name}_add")).status_code == 403
    assert b"Symfonium" in admin_client.get(reverse("admin:playlists_play_changelist")).content
