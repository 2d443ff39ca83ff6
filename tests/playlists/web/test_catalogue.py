from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playlists.catalogue.ingest import library_ingest
from playlists.errors import SeedError
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Playlist, Track

pytestmark = pytest.mark.django_db


def test_the_database_is_the_one_database_url_names():
    import os

    from django.db import connection

    wanted = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == wanted


def test_catalogue_lists_searches_and_filters(client, user, indexed):
    page = client.get(reverse("playlists:catalogue"))
    assert page.status_code == 200 and b"Salt Wind" in page.content and b"6 tracks" in page.content
    by_lyrics = client.get(reverse("playlists:catalogue"), {"q": "rigging"})
    assert b"Salt Wind" in by_lyrics.content and b"Neon" not in by_lyrics.content
    by_artist = client.get(reverse("playlists:catalogue"), {"q": "night shift"})
    assert b"Neon" in by_artist.content and b"Salt Wind" not in by_artist.content
    instrumental = client.get(reverse("playlists:catalogue"), {"lyrics": "without"})
    assert b"drone" in instrumental.content and b"Neon" not in instrumental.content
    russian = client.get(reverse("playlists:catalogue"), {"language": "ru"})
    assert "Море".encode() in russian.content and b"Salt Wind" not in russian.content
    genre = client.get(reverse("playlists:catalogue"), {"genre": "Techno"})
    assert b"Neon" in genre.content and b"Westward" not in genre.content


def test_catalogue_paginates(client, user, indexed, settings):
    import playlists.web.views.catalogue as views

    views.PAGE_SIZE, original = 4, views.PAGE_SIZE
    try:
        first = client.get(reverse("playlists:catalogue"))
        second = client.get(reverse("playlists:catalogue"), {"page": 2})
    finally:
        views.PAGE_SIZE = original
    assert b"Page 1 of 2" in first.content and b"Page 2 of 2" in second.content


def test_track_page_shows_metadata_lyrics_player_and_neighbours(client, user, indexed):
    track = indexed["Neon"]
    page = client.get(reverse("playlists:track_detail", args=[track.id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Night Shift" in html and "we dance until the dawn" in html and "[00:01.00]" not in html
    assert f'data-src="/tracks/{track.id}/audio"' in html  # the site's one player plays it
    assert html.count("data-track-id=") == 1 + 5  # the track itself and its five neighbours
    assert "from .lrc file" in html


def test_track_page_without_index_says_so(client, user, library, index_dir):
    library_ingest(library)
    page = client.get(reverse("playlists:track_detail", args=[Track.objects.first().id]))
    assert page.status_code == 200 and b"run `manage.py reindex`" in page.content


def test_audio_streams_with_range_requests(client, user, indexed):
    track = indexed["Salt Wind"]
    url = reverse("playlists:track_audio", args=[track.id])
    whole = client.get(url)
    body = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and whole["Content-Type"] == "audio/mpeg" and whole["Accept-Ranges"] == "bytes"
    assert len(body) == track.file_size
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{track.file_size}"
    assert b"".join(part.streaming_content) == body[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == body[-50:]
    open_ended = client.get(url, HTTP_RANGE=f"bytes={track.file_size - 10}-")
    assert b"".join(open_ended.streaming_content) == body[-10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={track.file_size + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{track.file_size}"
    assert client.get(reverse("playlists:track_audio", args=[999999])).status_code == 404


def test_playlist_builder_requires_login(client, indexed):
    response = client.get(reverse("playlists:playlist_new"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_login_page_and_logging_in(client, indexed):
    get_user_model().objects.create_user("ben", password="a-long-password-2")
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "ben", "password": "a-long-password-2"})
    assert response.status_code == 302
    assert b"Log out ben" in client.get(reverse("playlists:catalogue")).content


def test_build_a_playlist_from_seeds(client, indexed, user):
    seeds = [indexed["Salt Wind"].id, indexed["Neon"].id]
    form = client.get(reverse("playlists:playlist_new"), {"seed": seeds[0], "q": "neon"})
    assert form.status_code == 200 and b"Salt Wind" in form.content and b"Neon" in form.content
    response = client.post(reverse("playlists:playlist_new"), {"seeds": seeds, "length": 5, "balance": 0.7, "name": "Evening"})
    assert response.status_code == 302
    playlist = Playlist.objects.get(owner=user)
    assert playlist.name == "Evening" and playlist.balance == 0.7 and playlist.index_version
    items = list(playlist.items.order_by("position"))
    assert [i.track_id for i in items[:2]] == seeds and all(i.is_seed for i in items[:2])
    assert len(items) == 5 and len({i.track_id for i in items}) == 5
    scores = [i.score for i in items[2:]]
    assert scores == sorted(scores, reverse=True)
    page = client.get(response["Location"])
    assert b"Evening" in page.content and page.content.count(b"data-src=") == 5 and b"<audio" not in page.content
    assert b"Evening" in client.get(reverse("playlists:playlist_list")).content


def test_builder_shows_errors_instead_of_failing(client, indexed, user):
    none = client.post(reverse("playlists:playlist_new"), {"length": 5, "balance": 0.5})
    assert none.status_code == 200 and b"Choose at least one seed track" in none.content
    ids = [t.id for t in indexed.values()]
    too_many = client.post(reverse("playlists:playlist_new"), {"seeds": ids, "length": 5, "balance": 0.5})
    assert b"at most 5" in too_many.content
    bad_balance = client.post(reverse("playlists:playlist_new"), {"seeds": ids[:1], "length": 5, "balance": 3})
    assert bad_balance.status_code == 200 and Playlist.objects.count() == 0


def test_users_see_only_their_own_playlists(client, indexed, user):
    other = get_user_model().objects.create_user("cy", password="a-long-password-3")
    theirs = playlist_generate(owner=other, settings=PlaylistSettings(seed_ids=[indexed["Neon"].id], length=3))
    assert client.get(reverse("playlists:playlist_detail", args=[theirs.id])).status_code == 404
    assert theirs.name.encode() not in client.get(reverse("playlists:playlist_list")).content


def test_playlist_length_and_excluded_tracks(indexed, user):
    indexed["Westward"].excluded = True
    indexed["Westward"].save()
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=20, balance=1.0))
    ids = list(playlist.items.values_list("track_id", flat=True))
    assert indexed["Westward"].id not in ids
    assert len(ids) == 5  # a short catalogue gives a shorter playlist, not an error
    with pytest.raises(SeedError, match="unknown seed"):
        playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[424242], length=5))
