"""One error envelope for everything under /api/, and an OpenAPI description generated for every JSON endpoint."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playlists.accounts.tokens import api_token_create

pytestmark = pytest.mark.django_db


def _envelope(response, status):
    assert response.status_code == status and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status and body["error"]["message"]
    return body["error"]["message"]


def test_unknown_api_paths_and_methods_answer_json(client):
    assert "No such API endpoint: /api/nowhere" in _envelope(client.get("/api/nowhere"), 404)
    assert "No such API endpoint" in _envelope(client.get("/api/tracks/abc/similar"), 404)
    assert _envelope(client.post("/api/tracks/search"), 405)


def test_auth_failures_share_the_envelope(client):
    assert _envelope(client.get(reverse("api:task_status", args=[1])), 401) == "No token provided"
    assert _envelope(client.get(reverse("api:tokens")), 401) == "No token provided"
    assert _envelope(client.post(reverse("api:track_rating", args=[1]), {"rating": 1}, content_type="application/json"), 401)


def test_a_crash_inside_an_endpoint_is_a_json_500_without_a_traceback(client, user, index_dir, monkeypatch):
    from playlists.catalogue import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("secret path /srv/crossfade/data")

    monkeypatch.setattr(selectors, "track_list", broken)
    response = client.get(reverse("api:track_search"), {"q": "anything"})
    message = _envelope(response, 500)
    assert "secret" not in message and "Traceback" not in response.content.decode()


def test_tokens_through_the_api(client):
    user = get_user_model().objects.create_user("scripter", password="a-long-password-1")
    client.force_login(user)
    made = client.post(reverse("api:token_create"), {"name": "cron"}, content_type="application/json")
    assert made.status_code == 201 and made.json()["secret"].startswith(made.json()["prefix"])
    listed = client.get(reverse("api:tokens")).json()
    assert [t["name"] for t in listed] == ["cron"] and "secret" not in listed[0]
    client.logout()
    secret = made.json()["secret"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert [t["id"] for t in client.get(reverse("api:tokens"), **headers).json()] == [made.json()["id"]]
    assert client.delete(reverse("api:token_revoke", args=[made.json()["id"]]), **headers).status_code == 204
    assert _envelope(client.get(reverse("api:tokens"), **headers), 401) == "Invalid access token"
    other = api_token_create(user=get_user_model().objects.create_user("x", password="a-long-password-2"))[1]
    assert _envelope(client.delete(reverse("api:token_revoke", args=[made.json()["id"]]), HTTP_AUTHORIZATION=f"Bearer {other}"), 404)


def test_the_description_covers_every_json_endpoint_and_its_errors(client, user):
    description = client.get(reverse("api:openapi-json")).json()
    paths = description["paths"]
    for path in ("/api/recommendations", "/api/tracks/{track_id}/similar", "/api/tracks/search", "/api/tracks/{track_id}/rating",
                 "/api/search/lyrics", "/api/tasks/{job_id}", "/api/map/points", "/api/tokens", "/api/tokens/{token_id}"):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "400" in responses and responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut"), (method, path)
    schemes = description["components"]["securitySchemes"]
    assert {"PersonalToken", "SignedIn"} <= set(schemes)


def test_session_writes_need_the_csrf_token(indexed):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.create_user("ann", password="a-long-password-1"))
    url = reverse("api:track_rating", args=[indexed["Neon"].id])
    assert _envelope(browser.post(url, {"rating": 1}, content_type="application/json"), 403)
    browser.get(reverse("playlists:catalogue"))
    token = browser.cookies["csrftoken"].value
    assert browser.post(url, {"rating": 1}, content_type="application/json", HTTP_X_CSRFTOKEN=token).json()["rating"] == 1
