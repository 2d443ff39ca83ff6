""""Save to Spotify", the whole flow: button, PKCE authorisation at the fake accounts service, callback, export."""
from __future__ import annotations

import logging
import socket
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from playlists.models import Artist, Playlist, PlaylistItem, SpotifyAccount, SpotifyExport, Track

pytestmark = pytest.mark.django_db


def _playlist(owner, tracks: list[Track], name: str = "Sea songs") -> Playlist:
    playlist = Playlist.objects.create(owner=owner, name=name, length=len(tracks))
    PlaylistItem.objects.bulk_create([PlaylistItem(playlist=playlist, track=t, position=i, is_seed=i == 0) for i, t in enumerate(tracks)])
    return playlist


@pytest.fixture
def playlist(user, fake_spotify):
    """Three tracks with Spotify ids, one Spotify has under its name, one it does not have."""
    band = Artist.objects.create(name="Sea Band")
    tracks = []
    for n in range(3):
        remote = fake_spotify.track_add(f"Wave {n}", ["Sea Band"])
        tracks.append(Track.objects.create(title=f"Wave {n}", artist=band, spotify_id=remote.id))
    fake_spotify.track_add("Harbour Lights", ["Sea Band"], duration_ms=200_000)
    tracks.append(Track.objects.create(title="Harbour Lights", artist=band, duration_s=200.0, audio_path="/m/harbour.mp3"))
    tracks.append(Track.objects.create(title="Home Recording", artist=band, audio_path="/m/home.mp3"))
    return _playlist(user, tracks)


def _authorise(client, fake_spotify, playlist, *, tamper_state: bool = False):
    """Press the button, let the (fake) Spotify consent page answer, follow the redirect back."""
    start = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]))
    assert start.status_code == 302 and start["Location"].startswith(fake_spotify.url + "/authorize?")
    sent = dict(parse_qsl(urlsplit(start["Location"]).query))
    assert sent["code_challenge_method"] == "S256" and "playlist-modify-private" in sent["scope"] and len(sent["state"]) >= 32
    assert "verifier" not in start["Location"] and sent["redirect_uri"] == "http://testserver/spotify/callback"
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    query = dict(parse_qsl(back.query))
    if tamper_state:
        query["state"] = "someone-elses-state"
    return client.get(back.path, query, follow=True)


def test_the_whole_flow_creates_the_playlist_and_lists_skipped_tracks(client, user, playlist, fake_spotify, caplog):
    caplog.set_level(logging.DEBUG)
    page = _authorise(client, fake_spotify, playlist)
    html = page.content.decode()
    assert page.status_code == 200 and "Connected to Spotify as Test Listener" in html
    assert "Saved “Sea songs” to Spotify: 4 tracks; 1 not on Spotify." in html
    export = SpotifyExport.objects.get()
    assert export.status == "partial" and export.added == 4 and export.skipped == ["Sea Band – Home Recording"]
    assert "open on Spotify" in html and export.spotify_url in html and "not on Spotify: Sea Band – Home Recording" in html
    remote = fake_spotify.playlists[export.spotify_playlist_id]
    harbour = Track.objects.get(title="Harbour Lights")
    assert remote["name"] == "Sea songs" and remote["public"] is False
    assert remote["items"] == [f"spotify:track:{t.spotify_id}" for t in Track.objects.filter(title__startswith="Wave").order_by("title")] + [f"spotify:track:{harbour.spotify_id}"]
    assert harbour.spotify_id  # looked up with the user's token, and kept
    account = SpotifyAccount.objects.get(user=user)
    assert account.spotify_user_id == "listener1" and account.refresh_token and account.expires_at > timezone.now()
    token_grants = [r.body for r in fake_spotify.requests if r.path == "/api/token"]
    assert len(token_grants) == 1 and "code_verifier=" in token_grants[0] and "grant_type=authorization_code" in token_grants[0]
    secrets = [account.access_token, account.refresh_token, token_grants[0].split("code_verifier=")[1].split("&")[0]]
    assert caplog.records and not [s for s in secrets if s in caplog.text]


def test_items_go_in_batches_of_at_most_100(client, user, fake_spotify):
    band = Artist.objects.create(name="Many")
    tracks = [Track.objects.create(title=f"T{n}", artist=band, spotify_id=fake_spotify.track_add(f"T{n}", ["Many"]).id) for n in range(250)]
    playlist = _playlist(user, tracks, name="Long one")
    _authorise(client, fake_spotify, playlist)
    posts = fake_spotify.calls("POST", "/v1/playlists/")
    assert [len(p.body["uris"]) for p in posts] == [100, 100, 50]
    export = SpotifyExport.objects.get()
    assert export.status == "done" and fake_spotify.playlists[export.spotify_playlist_id]["items"] == [f"spotify:track:{t.spotify_id}" for t in tracks]


def test_a_connected_user_saves_again_without_authorising_and_expired_tokens_are_refreshed(client, user, playlist, fake_spotify):
    _authorise(client, fake_spotify, playlist)
    account = SpotifyAccount.objects.get(user=user)
    first_token = account.access_token
    fake_spotify.tokens_expire()  # Spotify no longer accepts the token although our clock says it is valid: 401, refresh, retry
    again = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]), follow=True)
    assert "Saved “Sea songs” to Spotify" in again.content.decode()
    account.refresh_from_db()
    assert account.access_token != first_token
    assert [r.status for r in fake_spotify.requests if r.path == "/v1/me/playlists"] == [201, 401, 201]
    grants = [r.body for r in fake_spotify.requests if r.path == "/api/token"]
    assert "grant_type=refresh_token" in grants[-1]

    SpotifyAccount.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=5))
    client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]))
    assert SpotifyExport.objects.first().status == "partial"
    assert len([r for r in fake_spotify.requests if r.path == "/api/token"]) == 3  # refreshed before calling, no 401
    assert SpotifyAccount.objects.get(user=user).expires_at > timezone.now()


def test_a_refused_refresh_asks_to_connect_again(client, user, playlist, fake_spotify):
    _authorise(client, fake_spotify, playlist)
    fake_spotify.refresh_tokens.clear()
    fake_spotify.tokens_expire()
    page = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]), follow=True)
    assert "connect again" in page.content.decode() and SpotifyExport.objects.first().status == "failed"


def test_a_state_mismatch_is_refused_before_any_token_exchange(client, user, playlist, fake_spotify):
    page = _authorise(client, fake_spotify, playlist, tamper_state=True)
    assert "state mismatch" in page.content.decode()
    assert not [r for r in fake_spotify.requests if r.path == "/api/token"] and not SpotifyAccount.objects.exists()


def test_a_declined_authorisation_saves_nothing(client, user, playlist, fake_spotify):
    fake_spotify.deny_authorization = True
    page = _authorise(client, fake_spotify, playlist)
    assert "did not authorise Crossfade (access_denied)" in page.content.decode()
    assert not SpotifyExport.objects.exists() and not fake_spotify.playlists


def test_a_rate_limit_while_adding_is_waited_out(client, user, playlist, fake_spotify):
    fake_spotify.fault("/v1/playlists/", status=429, retry_after="1")
    _authorise(client, fake_spotify, playlist)
    export = SpotifyExport.objects.get()
    assert export.status == "partial" and export.added == 4
    assert [r.status for r in fake_spotify.calls("POST", "/v1/playlists/")] == [429, 201]


def test_server_errors_that_persist_fail_the_export_with_a_message(client, user, playlist, fake_spotify):
    fake_spotify.fault("/v1/me/playlists", status=500, times=3)
    page = _authorise(client, fake_spotify, playlist)
    html = page.content.decode()
    assert "Could not save to Spotify: Spotify is unavailable for creating the playlist: server error 500" in html
    assert SpotifyExport.objects.get().status == "failed" and not fake_spotify.playlists
    assert "Spotify: failed" in client.get(reverse("playlists:playlist_detail", args=[playlist.id])).content.decode()


def test_a_failure_after_creating_says_how_much_was_added(client, user, fake_spotify):
    band = Artist.objects.create(name="Many")
    tracks = [Track.objects.create(title=f"T{n}", artist=band, spotify_id=fake_spotify.track_add(f"T{n}", ["Many"]).id) for n in range(150)]
    playlist = _playlist(user, tracks)
    fake_spotify.fault("/v1/playlists/", malformed=True, times=3, after=1)  # the first batch goes in, the second never does
    page = _authorise(client, fake_spotify, playlist)
    export = SpotifyExport.objects.get()
    assert export.status == "failed" and export.added == 100 and len(fake_spotify.playlists[export.spotify_playlist_id]["items"]) == 100
    assert "malformed data" in export.error and "(100 of 150 tracks were added to the playlist on Spotify)" in page.content.decode()


def test_a_slow_accounts_service_times_out_with_a_message(client, user, playlist, fake_spotify):
    fake_spotify.fault("/api/token", delay=1.5)
    page = _authorise(client, fake_spotify, playlist)
    assert "Could not connect to Spotify: Spotify&#x27;s accounts service did not answer within 1 s" in page.content.decode()
    assert not SpotifyAccount.objects.exists()


def test_an_unreachable_api_fails_the_export_and_the_page_still_works(client, user, playlist, fake_spotify, settings):
    _authorise(client, fake_spotify, playlist)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.SPOTIFY_API_URL = f"http://127.0.0.1:{probe.getsockname()[1]}/v1/"
    page = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]), follow=True)
    assert page.status_code == 200 and "cannot connect" in page.content.decode()
    assert SpotifyExport.objects.first().status == "failed"


def test_without_a_client_id_the_button_explains(client, user, playlist, settings):
    settings.SPOTIFY_CLIENT_ID = ""
    page = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]), follow=True)
    assert "the operator must set SPOTIFY_CLIENT_ID" in page.content.decode()


def test_someone_elses_playlist_is_not_found(client, user, fake_spotify):
    other = get_user_model().objects.create_user("bo", password="a-long-password-2")
    theirs = _playlist(other, [Track.objects.create(title="X")])
    assert client.post(reverse("playlists:playlist_spotify_save", args=[theirs.id])).status_code == 404
    assert client.get(reverse("playlists:playlist_detail", args=[theirs.id])).status_code == 404


def test_with_the_worker_backend_the_request_only_queues_the_export(client, user, playlist, fake_spotify, settings):
    from django.core.management import call_command

    _authorise(client, fake_spotify, playlist)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    creates_before = len(fake_spotify.calls("POST", "/v1/me/playlists"))
    page = client.post(reverse("playlists:playlist_spotify_save", args=[playlist.id]), follow=True)
    assert "Saving to Spotify; this page shows the outcome when it is done." in page.content.decode()
    queued = SpotifyExport.objects.order_by("-id").first()
    assert queued.status == "pending" and len(fake_spotify.calls("POST", "/v1/me/playlists")) == creates_before
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    queued.refresh_from_db()
    assert queued.status == "partial" and queued.added == 4
    assert len(fake_spotify.calls("POST", "/v1/me/playlists")) == creates_before + 1
