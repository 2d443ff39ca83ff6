"""enrich_spotify against a fake Spotify on 127.0.0.1 that checks every request against the OpenAPI description."""
from __future__ import annotations

import base64
import logging
import socket
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from playlists.metadata.matching import match_score
from playlists.metadata.spotify.client import SpotifyApi
from playlists.metadata.spotify.enrich import tracks_spotify_enrich
from playlists.metadata.spotify.source import source_track
from playlists.models import Artist, SpotifyCacheEntry, SpotifyLookup, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(fake_spotify):
    """Five catalogue tracks and the Spotify tracks some of them are."""
    sea, night, rain, nobody = (Artist.objects.create(name=n) for n in ("Sea Band", "Night Shift", "Rain Collective", "Nobody"))
    remote = {
        "salt": fake_spotify.track_add("Salt Wind - 2011 Remaster", ["Sea Band"], album="Harbour", isrc="FRZ011100001", popularity=31, release_date="2011-05-02"),
        "neon": fake_spotify.track_add("Neon", ["Night Shift", "Guest"], album="City", duration_ms=181_000),
        "decoy": fake_spotify.track_add("Neon Lights", ["Other Band"], album="Elsewhere"),
        "rain": fake_spotify.track_add("Rain on Me (Extended Club Version)", ["Rain Collective 2"], duration_ms=420_000),
        "kaggle": fake_spotify.track_add("JOKER", ["Rapper"], album="Cards", id="0HkoTr9t0f6MeqGoUS3E3e"),
    }
    local = {
        "salt": Track.objects.create(title="Salt Wind", artist=sea, isrc="FRZ011100001", audio_path="/m/salt.mp3"),
        "neon": Track.objects.create(title="Neon", artist=night, duration_s=180.0, audio_path="/m/neon.ogg"),
        "rain": Track.objects.create(title="Rain", artist=rain, duration_s=100.0, audio_path="/m/rain.wav"),
        "missing": Track.objects.create(title="Unknown Song", artist=nobody, audio_path="/m/unknown.flac"),
        "kaggle": Track.objects.create(title="JOKER", spotify_id="0HkoTr9t0f6MeqGoUS3E3e"),
    }
    return local, remote


def _api(waits: list[float]) -> SpotifyApi:
    # The sleep is injected so the tests can read the waits instead of timing them.
    return SpotifyApi.for_app(sleep=waits.append)


def test_match_score_prefers_the_right_title_artist_and_length():
    item = {"name": "Neon", "artists": [{"name": "Night Shift"}], "duration_ms": 181_000}
    assert match_score(source_track(item), title="Neon", artist="Night Shift", duration_s=180) == 1.0
    assert match_score(source_track(item), title="Neon", artist="Night Shift feat. X", duration_s=180) == 1.0
    assert match_score(source_track({**item, "name": "Neon Lights"}), title="Neon", artist="Night Shift", duration_s=180) < 0.9
    assert match_score(source_track({**item, "artists": [{"name": "Other"}]}), title="Neon", artist="Night Shift", duration_s=180) < 0.8


def test_enrich_finds_by_id_isrc_and_search_and_records_misses(catalogue, fake_spotify):
    local, remote = catalogue
    out = StringIO()
    call_command("enrich_spotify", stdout=out, stderr=StringIO())
    assert "Looked up 5 tracks: 3 found (1 by id, 1 by isrc, 1 by search), 2 without a good match, 0 failed" in out.getvalue()
    salt = Track.objects.get(id=local["salt"].id)
    assert salt.spotify_id == remote["salt"].id
    meta = salt.spotify["web_api"]
    assert meta["album_art"].endswith("-640") and meta["release_date"] == "2011-05-02" and meta["popularity"] == 31
    assert meta["external_url"] == f"https://open.spotify.com/track/{remote['salt'].id}"
    assert salt.spotify_lookup.method == "isrc"
    neon = Track.objects.get(id=local["neon"].id)
    assert neon.spotify_id == remote["neon"].id and neon.spotify_lookup.score >= 0.8
    assert "popularity" not in neon.spotify["web_api"]  # gone for new apps: stored when present, never required
    assert Track.objects.get(id=local["kaggle"].id).spotify_lookup.method == "id"
    rain = SpotifyLookup.objects.get(track=local["rain"])
    assert rain.status == "not_found" and 0 < rain.score < 0.8 and Track.objects.get(id=local["rain"].id).spotify_id == ""
    assert SpotifyLookup.objects.get(track=local["missing"]).status == "not_found"
    searches = fake_spotify.calls("GET", "/v1/search")
    assert {r.query["limit"][0] for r in searches} == {"10"} and any(r.query["q"] == ["isrc:FRZ011100001"] for r in searches)


def test_a_second_run_skips_finished_tracks_and_force_uses_the_cache(catalogue, fake_spotify):
    def api_calls() -> int:
        return len([r for r in fake_spotify.requests if r.path.startswith("/v1/")])

    tracks_spotify_enrich()
    calls = api_calls()
    again = tracks_spotify_enrich()
    assert (again.considered, again.already) == (0, 5) and len(fake_spotify.requests) == calls + 1
    searches = len(fake_spotify.calls("GET", "/v1/search"))
    forced = tracks_spotify_enrich(force=True)
    # Found tracks are now fetched by their id (two new calls); every search answer came from the cache.
    assert (forced.found, forced.by_method) == (3, {"id": 3})
    assert len(fake_spotify.calls("GET", "/v1/search")) == searches and api_calls() == calls + 2
    assert tracks_spotify_enrich(force=True).found == 3 and api_calls() == calls + 2
    assert SpotifyCacheEntry.objects.count() == 7
    tracks_spotify_enrich(force=True, use_cache=False)
    assert len(fake_spotify.calls("GET", "/v1/search")) == searches + 2


def test_429_retry_after_is_honoured(catalogue, fake_spotify):
    fake_spotify.fault("/v1/search", status=429, retry_after="1")
    waits: list[float] = []
    summary = tracks_spotify_enrich([catalogue[0]["neon"].id], api=_api(waits))
    assert summary.found == 1 and waits == [1.0]
    assert [r.status for r in fake_spotify.calls("GET", "/v1/search")] == [429, 200]


def test_a_long_rate_limit_stops_the_run_and_the_next_run_resumes(catalogue, fake_spotify):
    fake_spotify.fault("/v1/", status=429, retry_after="3600")
    out = StringIO()
    call_command("enrich_spotify", stdout=out, stderr=StringIO())
    assert "Stopped early: Spotify rate-limited" in out.getvalue() and "asks to wait 3600 s" in out.getvalue()
    assert "4 tracks are left for the next run" in out.getvalue()
    assert SpotifyLookup.objects.get().status == "failed"
    resumed = tracks_spotify_enrich()
    assert resumed.considered == 5 and resumed.found == 3 and not resumed.stopped


def test_server_errors_are_retried_with_backoff(catalogue, fake_spotify):
    fake_spotify.fault("/v1/search", status=500, times=2)
    waits: list[float] = []
    summary = tracks_spotify_enrich([catalogue[0]["neon"].id], api=_api(waits))
    assert summary.found == 1 and waits == [0.01, 0.02]


def test_an_outage_stops_after_three_tracks_and_the_site_keeps_working(catalogue, fake_spotify, client, user):
    fake_spotify.fault("/v1/", status=503, times=1000)
    summary = tracks_spotify_enrich()
    assert summary.failed == 3 and "looks unavailable" in summary.stopped and "server error 503" in summary.stopped
    assert SpotifyLookup.objects.filter(status="failed").count() == 3
    assert "after 3 attempts" in SpotifyLookup.objects.first().error
    assert client.get(reverse("playlists:catalogue")).status_code == 200


def test_a_slow_server_times_out(catalogue, fake_spotify):
    fake_spotify.fault("/v1/search", delay=1.5, times=3)
    summary = tracks_spotify_enrich([catalogue[0]["neon"].id])
    assert summary.failed == 1 and "no answer within 1 s" in summary.errors[0][2]


def test_malformed_answers_are_retried_then_reported(catalogue, fake_spotify):
    fake_spotify.fault("/v1/search", malformed=True, times=1)
    assert tracks_spotify_enrich([catalogue[0]["neon"].id]).found == 1
    fake_spotify.fault("/v1/search", malformed=True, times=3)
    summary = tracks_spotify_enrich([catalogue[0]["rain"].id])
    assert summary.failed == 1 and "malformed data (not JSON)" in summary.errors[0][2]


def test_an_unreachable_server_is_reported(catalogue, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings.SPOTIFY_API_URL, settings.SPOTIFY_ACCOUNTS_URL = closed + "/v1/", closed
    summary = tracks_spotify_enrich()
    assert summary.failed == 3 and "cannot connect" in summary.stopped


def test_an_expired_app_token_is_replaced_once(catalogue, fake_spotify):
    api = SpotifyApi.for_app()
    tracks_spotify_enrich([catalogue[0]["neon"].id], api=api)
    fake_spotify.tokens_expire()
    summary = tracks_spotify_enrich([catalogue[0]["salt"].id], api=api)
    assert summary.found == 1
    assert [r.status for r in fake_spotify.requests if r.path == "/api/token"] == [200, 200]
    assert 401 in [r.status for r in fake_spotify.requests]


def test_refused_credentials_stop_the_run_and_no_secret_is_logged(catalogue, fake_spotify, settings, caplog):
    caplog.set_level(logging.DEBUG)
    fake_spotify.fault("/v1/search", status=500, times=1)
    tracks_spotify_enrich([catalogue[0]["neon"].id])
    settings.SPOTIFY_CLIENT_SECRET = "a-wrong-secret-value"
    summary = tracks_spotify_enrich()
    assert "refused the credentials" in summary.stopped and summary.failed == 1
    basic = base64.b64encode(f"{fake_spotify.CLIENT_ID}:{fake_spotify.CLIENT_SECRET}".encode()).decode()
    secrets = [fake_spotify.CLIENT_SECRET, "a-wrong-secret-value", basic, *fake_spotify.access_tokens]
    assert caplog.records and not [s for s in secrets if s in caplog.text]


def test_without_credentials_the_command_says_what_to_set(settings):
    settings.SPOTIFY_CLIENT_ID = ""
    with pytest.raises(CommandError, match="set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"):
        call_command("enrich_spotify")


def test_admin_action_looks_up_selected_tracks(catalogue, fake_spotify, client):
    admin = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    client.force_login(admin)
    neon = catalogue[0]["neon"]
    page = client.post(reverse("admin:playlists_track_changelist"), {"action": "spotify_lookup", "_selected_action": [neon.id]}, follow=True)
    assert page.status_code == 200 and b"1 found" in page.content
    assert Track.objects.get(id=neon.id).spotify_id == catalogue[1]["neon"].id
    assert SpotifyLookup.objects.count() == 1
