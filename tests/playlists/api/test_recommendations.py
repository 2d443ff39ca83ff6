"""``GET /api/recommendations`` checked against the OpenAPI description the site serves; per-user tokens."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from playlists.accounts.tokens import api_token_authenticate, api_token_create, api_token_revoke
from playlists.catalogue.ingest import library_ingest
from playlists.models import ApiToken, Artist, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(db):
    user = get_user_model().objects.create_user("api-user", password="a-long-password-1")
    return api_token_create(user=user, name="script")[1]


def _get(client, token, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(reverse("api:recommendations"), params, **headers)


def _valid(spec, response):
    """Validates request and response against the served description (raises on any mismatch)."""
    spec.validate_request(DjangoOpenAPIRequest(response.wsgi_request))
    spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
    return response.json()


def test_recommendations_in_spotifys_shape(client, indexed, token, spec):
    seed = indexed["Salt Wind"]
    response = _get(client, token, seed_tracks=str(seed.id), limit=3, target_tempo=95, balance=0.6, diversity=0.2)
    assert response.status_code == 200
    data = _valid(spec, response)
    assert data["seeds"][0] == {**data["seeds"][0], "id": str(seed.id), "type": "TRACK"}
    tracks = data["tracks"]
    assert len(tracks) == 3 and str(seed.id) not in [t["id"] for t in tracks]  # like Spotify, seeds are not repeated
    first = tracks[0]
    assert {"id", "name", "artists", "album", "duration_ms", "external_ids", "external_urls", "uri"} <= set(first)
    named = Track.objects.get(id=int(first["id"]))
    assert first["name"] == named.title and first["artists"][0]["name"] == named.artist.name
    assert first["duration_ms"] == int(named.duration_s * 1000) and first["crossfade"]["explanation"]["why"]
    assert data["crossfade"]["balance"] == 0.6 and data["crossfade"]["limit"] == 3


def test_attribute_filters_artists_and_text_seeds(client, indexed, token, spec):
    for title, tempo in {"Море": 92, "Westward": 100, "rain": 70, "drone": 30}.items():
        indexed[title].spotify = {"tempo": tempo, "energy": 0.5}
        indexed[title].save()
    slow = _valid(spec, _get(client, token, seed_tracks=str(indexed["Neon"].id), limit=10, max_tempo=80, balance=1.0))
    ids = {int(t["id"]) for t in slow["tracks"]}
    assert indexed["Westward"].id not in ids and indexed["Море"].id not in ids and indexed["rain"].id in ids
    assert "only" in " ".join(slow["crossfade"]["messages"])  # fewer than the limit, and said so
    sea = Artist.objects.get(name="Sea Band")
    by_artist = _valid(spec, _get(client, token, seed_artists=str(sea.id), limit=2))
    assert by_artist["seeds"][0]["type"] == "ARTIST" and by_artist["seeds"][0]["name"] == "Sea Band"
    by_text = _valid(spec, _get(client, token, seed_text="salt wind in the rigging, the sea takes us away", limit=2))
    assert by_text["seeds"][0]["type"] == "TEXT" and by_text["tracks"][0]["id"] == str(indexed["Salt Wind"].id)


@pytest.mark.parametrize(
    "params, status, message",
    [
        ({}, 400, "at least one of seed_tracks"),
        ({"seed_tracks": "1,2,3", "seed_artists": "1,2,3"}, 400, "at most 5 seeds"),
        ({"seed_tracks": "x"}, 400, "comma-separated"),
        ({"seed_tracks": "1", "limit": 0}, 400, "limit must be between 1 and 100"),
        ({"seed_tracks": "1", "limit": 101}, 400, "limit must be between 1 and 100"),
        ({"seed_tracks": "1", "min_energy": "lots"}, 400, "min_energy must be a number"),
        ({"seed_tracks": "1", "min_tempo": 140, "max_tempo": 100}, 400, "above max"),
        ({"seed_tracks": "1", "balance": 3}, 400, "balance must be between"),
        ({"seed_tracks": "1", "seed_genres": "polka"}, 400, "unknown genre seed polka"),
        ({"seed_tracks": "1,2,3", "seed_genres": "rock,folk,techno"}, 400, "at most 5 seeds"),
        ({"seed_tracks": "4uLU6hMCjMI75M1A2tKUQC"}, 400, "unknown seed track ids: 4uLU6hMCjMI75M1A2tKUQC"),
        ({"seed_tracks": "spotify:artist:4uLU6hMCjMI75M1A2tKUQC"}, 400, "is not a track"),
        ({"seed_tracks": "1", "colour": "blue"}, 400, "unknown parameter colour"),
        ({"seed_tracks": "424242"}, 400, "unknown seed track"),
    ],
)
def test_errors_look_like_spotifys(client, indexed, token, spec, params, status, message):
    response = client.get(reverse("api:recommendations"), params, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == status
    body = response.json()
    assert body["error"]["status"] == status and message in body["error"]["message"]
    spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))


def test_missing_index_is_503(client, library, index_dir, token, spec):
    library_ingest(library)
    response = _get(client, token, seed_tracks=str(Track.objects.first().id))
    assert response.status_code == 503 and "reindex" in response.json()["error"]["message"]
    spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))


def test_tokens(client, indexed, token, spec):
    seed = str(indexed["Neon"].id)
    assert _get(client, None, seed_tracks=seed).json() == {"error": {"status": 401, "message": "No token provided"}}
    wrong = _get(client, "cf_not-a-token", seed_tracks=seed)
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Invalid access token"
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    basic = client.get(reverse("api:recommendations"), {"seed_tracks": seed}, HTTP_AUTHORIZATION="Basic abc")
    assert basic.status_code == 401
    stored = ApiToken.objects.get()
    assert stored.key_hash != token and token.startswith(stored.prefix) and stored.last_used_at is None
    assert _get(client, token, seed_tracks=seed).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None and api_token_authenticate(token) == stored.user
    api_token_revoke(user=stored.user, token_id=stored.id)
    assert _get(client, token, seed_tracks=seed).status_code == 401
    # A signed-in browser session works without a token.
    client.force_login(stored.user)
    assert _get(client, None, seed_tracks=seed).status_code == 200


def test_token_page_shows_a_new_token_once(client, db):
    user = get_user_model().objects.create_user("tok", password="a-long-password-1")
    client.force_login(user)
    page = client.post(reverse("playlists:api_tokens"), {"name": "laptop"}).content.decode()
    token = ApiToken.objects.get(user=user)
    secret = page.split('<code class="token">')[1].split("</code>")[0]
    assert secret.startswith(token.prefix) and api_token_authenticate(secret) == user
    assert secret not in client.get(reverse("playlists:api_tokens")).content.decode()
    client.post(reverse("playlists:api_tokens"), {"revoke": token.id})
    assert api_token_authenticate(secret) is None


def test_openapi_description_lists_every_spotify_parameter(reader):
    description = reader.get(reverse("api:openapi-json")).json()
    names = {p["name"] for p in description["paths"]["/api/recommendations"]["get"]["parameters"]}
    for attribute in ("acousticness", "danceability", "duration_ms", "energy", "instrumentalness", "key", "liveness", "loudness",
                      "mode", "popularity", "speechiness", "tempo", "time_signature", "valence"):
        assert {f"min_{attribute}", f"max_{attribute}", f"target_{attribute}"} <= names
    assert {"seed_tracks", "seed_artists", "limit", "balance", "diversity", "seed_text"} <= names


def test_the_openapi_check_catches_a_wrong_shape(client, indexed, token, spec):
    import json

    from openapi_core.validation.response.exceptions import InvalidData

    response = _get(client, token, seed_tracks=str(indexed["Neon"].id), limit=2)
    body = response.json()
    del body["tracks"][0]["name"]
    response.content = json.dumps(body).encode()
    with pytest.raises(InvalidData):
        spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))


def _memo_embedders(memo_embedders):
    from playlists import engine

    return {modality: memo_embedders[(modality, engine.embedder_get(modality).version)] for modality in ("audio", "lyrics")}


def test_kept_recommendations_follow_a_new_index_version(client, indexed, token, memo_embedders):
    from playlists import engine
    from playlists.catalogue.reindex import index_rebuild

    seed = str(indexed["Salt Wind"].id)
    first = _get(client, token, seed_tracks=seed, limit=3).json()
    assert _get(client, token, seed_tracks=seed, limit=3).json() == first  # the same question, the kept answer
    assert index_rebuild(full=True, embedders=_memo_embedders(memo_embedders)).published
    version = engine.index_store().current_version()
    assert version != first["crossfade"]["index_version"]
    assert _get(client, token, seed_tracks=seed, limit=3).json()["crossfade"]["index_version"] == version


def test_kept_recommendations_drop_a_track_excluded_since_and_show_fresh_names(client, indexed, token):
    seed = str(indexed["Salt Wind"].id)
    first = _get(client, token, seed_tracks=seed, limit=3).json()["tracks"]
    picked, renamed = int(first[0]["id"]), int(first[1]["id"])
    Track.objects.filter(id=renamed).update(title="Renamed Since")
    Track.objects.filter(id=picked).update(excluded=True)
    again = _get(client, token, seed_tracks=seed, limit=3).json()["tracks"]
    assert picked not in {int(t["id"]) for t in again}
    assert next(t["name"] for t in again if int(t["id"]) == renamed) == "Renamed Since"


def test_kept_recommendations_are_kept_per_user(client, indexed, token):
    from django.core.cache import caches

    from playlists.api.answers import ANSWERS_CACHE

    seed = str(indexed["Salt Wind"].id)
    other = api_token_create(user=get_user_model().objects.create_user("api-other", password="a-long-password-2"), name="script")[1]
    _get(client, token, seed_tracks=seed, limit=3)
    _get(client, other, seed_tracks=seed, limit=3)
    assert len(caches[ANSWERS_CACHE]._cache) == 2  # type: ignore[attr-defined]  # one entry per user, never shared
