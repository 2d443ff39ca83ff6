"""The fake Spotify itself: it must refuse what the real API's description refuses, or the other tests prove nothing."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from tests.support.spotify_fake import SPEC_PATH, FakeSpotify


@pytest.fixture(scope="module")
def fake():
    if not SPEC_PATH.exists():
        pytest.skip(f"the Spotify OpenAPI description is not at {SPEC_PATH}")
    server = FakeSpotify().start()
    yield server
    server.stop()


def _app_token(fake: FakeSpotify) -> str:
    basic = base64.b64encode(f"{fake.CLIENT_ID}:{fake.CLIENT_SECRET}".encode()).decode()
    answer = requests.post(fake.url + "/api/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}, timeout=5)
    assert answer.status_code == 200
    return answer.json()["access_token"]


def test_requests_outside_the_description_are_refused_and_recorded(fake):
    fake.violations.clear()
    headers = {"Authorization": f"Bearer {_app_token(fake)}"}
    too_many = requests.get(fake.api_url + "search", params={"q": "x", "type": "track", "limit": 50}, headers=headers, timeout=5)
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]["message"]
    bare_array = requests.post(fake.api_url + "playlists/abc/items", json=["spotify:track:x"], headers=headers, timeout=5)
    assert bare_array.status_code == 400 and "is not of type 'object'" in bare_array.json()["error"]["message"]
    no_name = requests.post(fake.api_url + "me/playlists", json={"public": False}, headers=headers, timeout=5)
    assert no_name.status_code == 400 and "'name' is a required property" in no_name.json()["error"]["message"]
    trailing = requests.get(fake.api_url + "me/", headers=headers, timeout=5)
    assert trailing.status_code == 400
    assert len(fake.violations) == 4
    fake.violations.clear()


def test_its_own_answers_are_checked_too(fake, monkeypatch):
    track = fake.track_add("Song", ["Band"])
    monkeypatch.setattr(fake, "track_object", lambda t: {"id": 5, "name": ["not", "a", "string"]})
    answer = requests.get(fake.api_url + f"tracks/{track.id}", headers={"Authorization": f"Bearer {_app_token(fake)}"}, timeout=5)
    assert answer.status_code == 500 and fake.violations and fake.violations[0].startswith("answer to GET")
    fake.violations.clear()


def test_tokens_and_pkce_are_checked(fake):
    assert requests.get(fake.api_url + "me", timeout=5).status_code == 401
    app = {"Authorization": f"Bearer {_app_token(fake)}"}
    assert requests.get(fake.api_url + "me", headers=app, timeout=5).status_code == 401  # client credentials carry no user
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {"client_id": fake.CLIENT_ID, "response_type": "code", "redirect_uri": "http://127.0.0.1/cb", "code_challenge_method": "S256", "code_challenge": challenge, "state": "s1"}
    back = requests.get(fake.url + "/authorize?" + urlencode(params), allow_redirects=False, timeout=5)
    code = dict(parse_qsl(urlsplit(back.headers["Location"]).query))["code"]
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/cb", "client_id": fake.CLIENT_ID}
    wrong = requests.post(fake.url + "/api/token", data={**grant, "code_verifier": "w" * 64}, timeout=5)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    back = requests.get(fake.url + "/authorize?" + urlencode(params), allow_redirects=False, timeout=5)
    grant["code"] = dict(parse_qsl(urlsplit(back.headers["Location"]).query))["code"]
    right = requests.post(fake.url + "/api/token", data={**grant, "code_verifier": verifier}, timeout=5)
    assert right.status_code == 200 and right.json()["refresh_token"]
    me = requests.get(fake.api_url + "me", headers={"Authorization": f"Bearer {right.json()['access_token']}"}, timeout=5)
    assert me.status_code == 200 and me.json()["id"] == "listener1"
    assert fake.violations == []
