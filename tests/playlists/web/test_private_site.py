"""A personal library is private: every page, the audio and the API need a login unless the operator opts in.

The probe browsed anonymously, read lyrics, streamed every file and called
``/api/tracks/<id>/similar``. Every route of the URL map is tried here, so a
route added later is covered without anyone remembering to.
"""
from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from playlists.accounts.tokens import api_token_create

pytestmark = pytest.mark.django_db

#: Open to anyone: logging in, and what the login page itself needs.
OPEN = {"/accounts/login/", "/admin/login/", "/favicon.ico"}
#: Media for a page's elements (a player, an image): 401 instead of a redirect to a login form.
MEDIA = {"/tracks/1/audio", "/tracks/1/picture/x.png"}


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every concrete path of the URL map, with 1 for ints and "x" for strings (admin model pages included)."""
    paths: list[str] = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(pattern.pattern)
        route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
        for name, value in (("<int:", "1"), ("<ref:", "1"), ("<str:", "x"), ("<path:", "x"), ("<slug:", "x")):
            while name in route:
                start = route.index(name)
                route = route[:start] + value + route[route.index(">", start) + 1 :]
        if "(?P<" in route or "(" in route:
            continue  # regex routes (the admin's catch-all and app index) are covered by their concrete siblings
        if isinstance(pattern, URLResolver):
            paths += _routes(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            paths.append("/" + prefix + route)
    return sorted(set(paths))


def test_every_page_redirects_to_the_login_and_every_api_path_answers_401(client, indexed):
    routes = _routes()
    assert "/tracks/1/audio" in routes and "/api/tracks/1/similar" in routes and "/" in routes and len(routes) > 40
    for path in routes:
        if path in OPEN:
            continue
        response = client.get(path)
        if path in MEDIA:
            assert response.status_code == 401 and not hasattr(response, "streaming_content"), path
        elif path == "/api/":
            assert response.status_code == 404 and response.json()["error"]["status"] == 404, "the API's root has no page"
        elif path.startswith("/api/"):
            if response.status_code == 405:  # another method's endpoint: ask with that one
                response = next(r for r in (client.post(path), client.delete(path), client.put(path)) if r.status_code != 405)
            assert response.status_code == 401, path
            assert response.json()["error"]["status"] == 401, path
        elif path.startswith("/rest/"):
            # The Subsonic API answers players in its own envelope: no credentials, no data (an unknown method: 70).
            assert response.status_code in (200, 404) and b'status="failed"' in response.content, path
            assert any(f'<error code="{code}"'.encode() in response.content for code in (10, 40, 70)), (path, response.content[:200])
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), (path, response["Location"])


def test_the_login_page_and_static_files_stay_open(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get("/admin/login/").status_code == 200
    static = client.get("/static/playlists/site.js")
    assert static.status_code == 200


def test_audio_lyrics_and_the_api_need_a_login_but_a_token_or_a_session_opens_them(client, indexed, user):
    track = indexed["Salt Wind"]
    client.logout()
    audio = client.get(reverse("playlists:track_audio", args=[track.id]), HTTP_RANGE="bytes=0-99")
    assert audio.status_code == 401 and not hasattr(audio, "streaming_content")
    page = client.get(reverse("playlists:track_detail", args=[track.id]))
    assert page.status_code == 302 and b"rigging" not in page.content
    similar = client.get(reverse("api:track_similar", args=[track.id]))
    assert similar.status_code == 401 and similar["Content-Type"].startswith("application/json")
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get(reverse("api:track_similar", args=[track.id]), HTTP_AUTHORIZATION="Bearer cf_wrong").status_code == 401

    _, secret = api_token_create(user=user, name="phone")
    with_token = client.get(reverse("api:track_similar", args=[track.id]), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert with_token.status_code == 200 and with_token.json()["results"]
    assert client.get("/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200

    client.force_login(user)
    assert client.get(reverse("playlists:track_detail", args=[track.id])).status_code == 200
    assert client.get(reverse("playlists:track_audio", args=[track.id])).status_code == 200
    assert client.get(reverse("api:track_similar", args=[track.id])).status_code == 200


def test_a_public_site_is_an_explicit_choice(client, indexed, settings):
    settings.CROSSFADE_PUBLIC = True
    track = indexed["Salt Wind"]
    assert client.get(reverse("playlists:catalogue")).status_code == 200
    assert client.get(reverse("playlists:track_detail", args=[track.id])).status_code == 200
    assert client.get(reverse("api:track_similar", args=[track.id])).status_code == 200
    # What acts for a user still needs one.
    assert client.get(reverse("playlists:playlist_new")).status_code == 302
    assert client.post(reverse("api:track_rating", args=[track.id]), {"rating": 1}, content_type="application/json").status_code == 401
