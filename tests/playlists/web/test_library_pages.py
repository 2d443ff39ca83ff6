"""Artist and album pages, sorting, instant mixes and the seed search over the API, saving a queue, jobs that fail
with a message, Spotify only where it is set up, and the pages' markup the strict Content-Security-Policy needs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playlists.errors import ControlError
from playlists.jobs.runner import job_run, job_start
from playlists.jobs.tasks import spotify_enrich_job_task
from playlists.models import Album, Artist, Job, Playlist, Track

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[3] / "playlists" / "web" / "templates"


def test_artist_and_album_pages_list_their_tracks_with_play_and_mix(client, indexed, user):
    sea = Artist.objects.get(name="Sea Band")
    page = client.get(reverse("playlists:artist_detail", args=[sea.id])).content.decode()
    assert "<h1>Sea Band</h1>" in page and page.count("data-track-id=") == 2 and "Harbour" in page
    assert f'data-mix="/api/mix?artist={sea.id}"' in page and "Instant mix from Salt Wind" in page
    harbour = Album.objects.get(title="Harbour")
    page = client.get(reverse("playlists:album_detail", args=[harbour.id])).content.decode()
    assert "<h1>Harbour</h1>" in page and page.index("Salt Wind") < page.index("Море")  # track-number order
    assert client.get(reverse("playlists:artist_detail", args=[999_999])).status_code == 404
    assert client.get(reverse("playlists:album_detail", args=[999_999])).status_code == 404


def test_the_catalogue_sorts_by_a_column_both_ways(client, indexed, user):
    def titles(sort: str) -> list[str]:
        html = client.get(reverse("playlists:catalogue"), {"sort": sort}).content.decode()
        return re.findall(r'<tr data-track-id="\d+"[^>]* data-title="([^"]*)"', html)

    assert titles("title") == sorted(titles("title"), key=lambda t: (t != t.lower(), t)) or titles("title") == sorted(titles("title"))
    assert titles("-title") == list(reversed(titles("title")))
    assert titles("length") == [t.title for t in Track.objects.order_by("duration_s", "title")]
    html = client.get(reverse("playlists:catalogue"), {"sort": "title"}).content.decode()
    assert 'aria-sort="ascending"' in html and "?sort=-title" in html
    assert titles("bogus") == [t.title for t in Track.objects.order_by("artist__name", "album__title", "track_number", "title")]


def test_instant_mix_api_answers_a_queue(client, indexed, user):
    answer = client.get(reverse("api:mix"), {"track": indexed["Neon"].id, "limit": 4}).json()
    assert answer["name"] == "Mix of Neon" and len(answer["tracks"]) == 4 and answer["tracks"][0]["title"] == "Neon"
    first = answer["tracks"][0]
    assert first["audio_url"] == reverse("playlists:track_audio", args=[indexed["Neon"].id]) and first["why"]
    assert client.get(reverse("api:mix"), {"track": 999_999}).json()["error"]["status"] == 404
    assert client.get(reverse("api:mix")).json()["error"]["status"] == 400
    client.logout()
    assert client.get(reverse("api:mix"), {"track": indexed["Neon"].id}).status_code == 401


def test_seed_search_finds_artists_too(client, indexed, user):
    answer = client.get(reverse("api:track_search"), {"q": "band"}).json()
    assert {a["name"] for a in answer["artists"]} == {"Sea Band", "Road Band"}
    assert answer["artists"][0]["name"] == "Sea Band"  # more tracks first


def test_saving_the_queue_makes_a_playlist(client, indexed, user):
    ids = [indexed["Neon"].id, indexed["rain"].id]
    response = client.post(reverse("playlists:playlist_from_queue"), {"tracks": ",".join(map(str, ids)), "name": "Mix of Neon"})
    playlist = Playlist.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("playlists:playlist_detail", args=[playlist.id])
    assert playlist.name == "Mix of Neon" and [i.track_id for i in playlist.items.all()] == ids
    assert "saved from your queue" in client.get(response["Location"]).content.decode()
    assert client.post(reverse("playlists:playlist_from_queue"), {"tracks": ""}, follow=True).status_code == 200
    assert Playlist.objects.count() == 1


def test_a_failed_job_keeps_a_message_and_the_log_the_traceback(db, caplog):
    job = Job.objects.create(kind="test", label="Expected failure")
    with pytest.raises(ControlError):
        job_run(job.id, lambda report: (_ for _ in ()).throw(ControlError("the library folder is missing")))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "the library folder is missing"
    crash = Job.objects.create(kind="test", label="Unexpected failure")
    with pytest.raises(KeyError):
        job_run(crash.id, lambda report: {}["missing"])
    crash.refresh_from_db()
    assert crash.error == "stopped by an unexpected error (KeyError); the details are in the server log"
    assert "Traceback" not in crash.error and any("Traceback" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_the_spotify_lookup_fails_with_a_message_and_is_not_offered_without_credentials(client, indexed, settings):
    settings.SPOTIFY_CLIENT_ID = settings.SPOTIFY_CLIENT_SECRET = ""
    root = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    client.force_login(root)
    job = job_start(spotify_enrich_job_task, kind="spotify_enrich", label="Spotify lookup", user=root, args=([indexed["Neon"].id],))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "SPOTIFY_CLIENT_ID" in job.error and "Traceback" not in job.error
    tasks = client.get(reverse("playlists:job_list")).content.decode()
    assert "SPOTIFY_CLIENT_ID" in tasks and "Traceback" not in tasks
    assert re.search(r'<progress max="(\d+)" value="0"', tasks)  # a failed job's bar is not full
    actions = client.get(reverse("admin:playlists_track_changelist")).content.decode()
    assert "Exclude from playlists" in actions and "Look up on Spotify" not in actions
    settings.SPOTIFY_CLIENT_ID, settings.SPOTIFY_CLIENT_SECRET = "id", "secret"
    assert "Look up on Spotify" in client.get(reverse("admin:playlists_track_changelist")).content.decode()


def test_the_pages_have_no_inline_script_handler_or_style():
    """The serving side adds a strict Content-Security-Policy: every script is a static file, bound by data-* attributes."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
        if "admin/" not in str(template.relative_to(TEMPLATES)) and re.search(r'\sstyle="', text):
            offenders.append(f"{template.relative_to(TEMPLATES)} (style attribute)")
    assert offenders == []


def test_the_page_shell_loads_htmx_from_this_site(client, user):
    html = client.get(reverse("playlists:catalogue")).content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js" defer></script>', html)
    assert 'hx-boost="true"' in html and 'id="page" hx-history-elt' in html
    assert html.index('id="page"') < html.index('id="player"') and "http" not in re.sub(r"https?://(127\.0\.0\.1|localhost|testserver|htmx\.org)", "", html.split("<body")[0])
    assert client.get("/static/django_htmx/htmx-2.min.js").status_code == 200


def test_an_unknown_page_is_the_site_own_not_found_page(client, db, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b'id="page"' in response.content and b"Not found" in response.content
