"""spotipy, unchanged but for its ``prefix``, against a live Crossfade: tracks, artists, search, genre seeds and recommendations
by Spotify ids, URIs and genres; the same endpoints checked against the served OpenAPI description; Spotify's error shape."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from playlists.accounts.tokens import api_token_create
from playlists.models import Artist

spotipy = pytest.importorskip("spotipy")

SALT_WIND_SPOTIFY = "4uLU6hMCjMI75M1A2tKUQC"
SEA_BAND_SPOTIFY = "0OdUWJ0sBjDrqHygGUXeCF"


@pytest.fixture
def spotify_ids(indexed):
    salt = indexed["Salt Wind"]
    salt.spotify_id = SALT_WIND_SPOTIFY
    salt.save()
    Artist.objects.filter(id=salt.artist_id).update(spotify_id=SEA_BAND_SPOTIFY)
    return indexed


@pytest.fixture
def token(db):
    return api_token_create(user=get_user_model().objects.create_user("spotipy", password="a-long-password-1"), name="spotipy")[1]


@pytest.mark.django_db(transaction=True)
def test_spotipy_drives_every_spotify_compatible_call(live_server, spotify_ids, token):
    sp = spotipy.Spotify(auth=token, requests_timeout=10, retries=0)
    sp.prefix = f"{live_server.url}/api/"
    salt = spotify_ids["Salt Wind"]
    track = sp.track(SALT_WIND_SPOTIFY)
    assert track["id"] == str(salt.id) and track["name"] == "Salt Wind" and track["artists"][0]["name"] == "Sea Band"
    assert track["external_urls"]["spotify"].endswith(SALT_WIND_SPOTIFY) and track["album"]["name"] == "Harbour"
    assert track["album"]["images"][0]["url"].endswith("?size=640")
    assert sp.track(f"spotify:track:{SALT_WIND_SPOTIFY}")["id"] == str(salt.id) and sp.track(str(salt.id))["name"] == "Salt Wind"
    several = sp.tracks([SALT_WIND_SPOTIFY, str(spotify_ids["Neon"].id), "0000000000000000000000"])["tracks"]
    assert [t and t["name"] for t in several] == ["Salt Wind", "Neon", None]
    artist = sp.artist(SEA_BAND_SPOTIFY)
    assert artist["name"] == "Sea Band" and artist["genres"] == ["Folk"] and artist["type"] == "artist"
    assert sp.artist(f"spotify:artist:{SEA_BAND_SPOTIFY}")["id"] == str(salt.artist_id)
    found = sp.search("salt wind", type="track,artist", limit=5)
    assert [t["name"] for t in found["tracks"]["items"]] == ["Salt Wind"] and found["artists"]["total"] == 0
    assert [a["name"] for a in sp.search("band", type="artist")["artists"]["items"]] == ["Road Band", "Sea Band"]
    assert sp.recommendation_genre_seeds()["genres"] == ["folk", "rock", "techno"]
    by_spotify_id = sp.recommendations(seed_tracks=[SALT_WIND_SPOTIFY], limit=3)
    assert by_spotify_id["seeds"][0]["id"] == str(salt.id) and len(by_spotify_id["tracks"]) == 3
    assert str(salt.id) not in [t["id"] for t in by_spotify_id["tracks"]]
    by_genre = sp.recommendations(seed_genres=["folk"], limit=2)
    assert by_genre["seeds"][0] == {**by_genre["seeds"][0], "id": "folk", "type": "GENRE"} and len(by_genre["tracks"]) == 2
    by_artist = sp.recommendations(seed_artists=[f"spotify:artist:{SEA_BAND_SPOTIFY}"], limit=2)
    assert by_artist["seeds"][0]["name"] == "Sea Band"
    with pytest.raises(spotipy.SpotifyException) as missing:
        sp.track("0000000000000000000000")
    assert missing.value.http_status == 404 and "Non existing id" in missing.value.msg
    with pytest.raises(spotipy.SpotifyException) as unknown:
        sp.recommendations(seed_genres=["polka"])
    assert unknown.value.http_status == 400 and "available-genre-seeds" in unknown.value.msg
    anonymous = spotipy.Spotify(auth="cf_wrong", requests_timeout=10, retries=0)
    anonymous.prefix = sp.prefix
    with pytest.raises(spotipy.SpotifyException) as refused:
        anonymous.track(SALT_WIND_SPOTIFY)
    assert refused.value.http_status == 401


@pytest.mark.django_db
def test_the_new_endpoints_answer_what_the_openapi_description_says(client, spotify_ids, token, spec):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    salt = spotify_ids["Salt Wind"]
    for url, params, status in [
        (f"/api/tracks/{SALT_WIND_SPOTIFY}", {}, 200),
        (f"/api/tracks/{salt.id}", {}, 200),
        ("/api/tracks", {"ids": f"{salt.id},{SALT_WIND_SPOTIFY},0000000000000000000000"}, 200),
        (f"/api/artists/{salt.artist_id}", {}, 200),
        ("/api/search", {"q": "sea", "type": "track,artist"}, 200),
        ("/api/recommendations/available-genre-seeds", {}, 200),
        ("/api/recommendations", {"seed_tracks": f"spotify:track:{SALT_WIND_SPOTIFY}", "seed_genres": "rock", "limit": 2}, 200),
        ("/api/tracks/0000000000000000000000", {}, 404),
        ("/api/tracks", {"ids": "not an id!"}, 400),
        ("/api/search", {"q": "x", "type": "playlist"}, 400),
        ("/api/search", {"q": "x"}, 400),
    ]:
        response = client.get(url, params, **headers)
        assert response.status_code == status, (url, response.content[:300])
        spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
        if status >= 400:
            assert set(response.json()) == {"error"} and response.json()["error"]["status"] == status
    assert client.get(f"/api/tracks/{salt.id}").status_code == 401
    # The routes that were there before are untouched: search, similar and rating keep their paths.
    assert client.get("/api/tracks/search", {"q": "sea"}, **headers).json()["results"][0]["title"] in ("Salt Wind", "Море")
    assert client.get(f"/api/tracks/{salt.id}/similar", {"limit": 2}, **headers).status_code == 200
    assert client.get("/api/tracks/xyz", **headers).status_code == 404
