"""Cached page fragments ({% fragment %}) stay correct and private: a write shows on the next render, nothing crosses
from one user (or one browser's CSRF token) to another, and a changed row anywhere on the page changes the page."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Album, Artist, Playlist, PlaylistItem, Track
from playlists.taste.services import rating_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def playlist(indexed, user):
    return playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=5), name="Cached")


def _page(client, playlist) -> str:
    response = client.get(reverse("playlists:playlist_detail", args=[playlist.id]))
    assert response.status_code == 200
    return response.content.decode()


def _like_pressed(page: str, track: Track) -> bool:
    """Whether the page's like button for ``track`` says it is liked (aria-pressed)."""
    form = re.search(rf'action="{re.escape(reverse("playlists:track_rate", args=[track.id]))}".*?</form>', page, re.S)
    assert form, f"no rating form for {track.title}"
    like = re.search(r'value="like" class="rate-like"[^>]*aria-pressed="(\w+)"', form.group(0))
    assert like
    return like.group(1) == "true"


def test_a_like_shows_on_the_next_render_of_the_playlist_page(client, playlist, user):
    track = playlist.items.order_by("position").first().track
    assert not _like_pressed(_page(client, playlist), track)
    assert not _like_pressed(_page(client, playlist), track)  # served from the fragment cache now
    rating_set(user=user, track_id=track.id, value=1)
    assert _like_pressed(_page(client, playlist), track)
    rating_set(user=user, track_id=track.id, value=0)
    assert not _like_pressed(_page(client, playlist), track)


def test_edits_and_writes_that_bypass_the_models_show_at_once(client, playlist, user):
    first, second = playlist.items.order_by("position")[:2]
    before = _page(client, playlist)
    assert before.index(f'data-item-id="{first.id}"') < before.index(f'data-item-id="{second.id}"')
    client.post(reverse("playlists:playlist_item_move", args=[playlist.id, first.id]), {"offset": 1})
    moved = _page(client, playlist)
    assert moved.index(f'data-item-id="{second.id}"') < moved.index(f'data-item-id="{first.id}"') and "edited by hand" in moved
    # Bulk updates (an ingest, the admin's actions) set no timestamps; the page still shows them at once.
    Track.objects.filter(id=second.track_id).update(title="A Title Changed Behind The Page")
    Playlist.objects.filter(id=playlist.id).update(name="Renamed in bulk")
    artist = Track.objects.get(id=first.track_id).artist
    Artist.objects.filter(id=artist.id).update(name="An Artist Renamed")
    page = _page(client, playlist)
    assert "A Title Changed Behind The Page" in page and "Renamed in bulk" in page and "An Artist Renamed" in page
    # The album, the track's length (the total in the header) and the item's explanation are in the key too.
    album = Album.objects.create(title="An Album Added Behind The Page", artist=artist)
    Track.objects.filter(id=first.track_id).update(album=album, duration_s=3600)
    PlaylistItem.objects.filter(id=second.id).update(explanation={"tags": ["glockenspiel"]})
    page = _page(client, playlist)
    assert 'data-album="An Album Added Behind The Page"' in page and "both tagged glockenspiel" in page
    Album.objects.filter(id=album.id).update(title="An Album Renamed")
    assert 'data-album="An Album Renamed"' in _page(client, playlist)
    # Rows the item's track no longer has (no album, no artist) are built as absent, not from stale values.
    Track.objects.filter(id=first.track_id).update(album=None, artist=None)
    page = _page(client, playlist)
    assert "An Album Renamed" not in page and "unknown artist" in page


def test_another_users_pages_are_never_served_from_the_first_users_cache(client, indexed, user):
    track = Track.objects.order_by("artist__name", "album__title", "track_number", "title").first()
    rating_set(user=user, track_id=track.id, value=1)
    mine = client.get(reverse("playlists:catalogue")).content.decode()
    assert _like_pressed(mine, track) and "Log out ana" in mine
    other = Client()
    other.force_login(get_user_model().objects.create_user("ben", password="a-long-password-2"))
    theirs = other.get(reverse("playlists:catalogue")).content.decode()
    assert not _like_pressed(theirs, track) and "Log out ben" in theirs and "Log out ana" not in theirs


def test_a_visitor_of_a_public_site_never_gets_a_signed_in_users_rows(client, indexed, user, settings):
    settings.CROSSFADE_PUBLIC = True
    signed_in = client.get(reverse("playlists:catalogue")).content.decode()
    assert 'class="rate-like"' in signed_in and "mix-button" in signed_in
    visitor = Client().get(reverse("playlists:catalogue"))
    assert visitor.status_code == 200
    page = visitor.content.decode()
    assert indexed["Salt Wind"].title in page and 'class="rate-like"' not in page and "mix-button" not in page and "Log out" not in page


def test_a_page_from_the_cache_carries_this_browsers_own_csrf_token(playlist, user):
    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for browser in browsers:
        browser.force_login(user)
        page = _page(browser, playlist)
        found = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        assert len(found) == 1 and "slot" not in next(iter(found))
        tokens.append(found.pop())
    assert tokens[0] != tokens[1]
    # The second browser got the first one's cached body: its forms still post with its own token.
    track = playlist.items.order_by("position").first().track
    answer = browsers[1].post(reverse("playlists:track_rate", args=[track.id]), {"rating": "like", "csrfmiddlewaretoken": tokens[1]})
    assert answer.status_code == 302 and _like_pressed(_page(browsers[1], playlist), track)


def test_the_header_follows_the_user_and_the_page(client, indexed, user):
    catalogue = client.get(reverse("playlists:catalogue")).content.decode()
    assert 'href="/admin/"' not in catalogue and re.search(r'href="/"\s+aria-current="page"', catalogue)
    user.is_staff = True
    user.save()
    assert 'href="/admin/"' in client.get(reverse("playlists:catalogue")).content.decode()
    themes = client.get(reverse("playlists:theme_search")).content.decode()
    assert re.search(rf'href="{reverse("playlists:theme_search")}"\s+aria-current="page"', themes) and not re.search(r'href="/"\s+aria-current="page"', themes)


def test_the_catalogue_follows_the_search_and_the_rows(client, indexed, user):
    track = indexed["Salt Wind"]
    first = client.get(reverse("playlists:catalogue"), {"q": "salt"}).content.decode()
    assert track.title in first
    assert track.title not in client.get(reverse("playlists:catalogue"), {"q": "neon"}).content.decode()
    Artist.objects.filter(id=track.artist_id).update(name="The Band Renamed")
    assert "The Band Renamed" in client.get(reverse("playlists:catalogue"), {"q": "salt"}).content.decode()
    Track.objects.filter(id=track.id).update(title="Salt Wind (remastered)")
    assert "Salt Wind (remastered)" in client.get(reverse("playlists:catalogue"), {"q": "salt"}).content.decode()


def test_the_playlist_page_reads_its_rows_in_a_fixed_number_of_queries(client, indexed, user, django_assert_max_num_queries, django_assert_num_queries):
    # The page's selector leaves the tracks' lyrics, Spotify metadata and audio tags unread (the rows never show them):
    # a template that starts showing one would read it once per row, and this count would grow with the playlist.
    short = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=3), name="Short")
    long = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=8), name="Long")
    assert long.items.count() > short.items.count()
    assert client.get(reverse("playlists:catalogue")).status_code == 200  # the session's first request; not counted
    with django_assert_max_num_queries(12) as rendered:
        _page(client, short)
    with django_assert_num_queries(len(rendered)):
        _page(client, long)
    # Served again from the cache it runs the same queries: the key's one read of the items is also what a
    # render builds them from, so a page never shows rows other than the ones its key was made from.
    with django_assert_num_queries(len(rendered)) as served:
        _page(client, long)
    for queries in (rendered, served):
        assert sum('FROM "playlists_playlistitem"' in query["sql"] for query in queries.captured_queries) == 1
