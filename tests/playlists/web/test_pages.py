"""The site's pages without a browser: background jobs, pictures, the map, evaluation and training pages, seed search, ratings."""
from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from playlists.catalogue.reindex import index_rebuild
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Embedding, Job, Rating, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    client.force_login(user)
    return user


def test_reindex_button_runs_a_job_with_progress_and_outcome(indexed, client, staff):
    Embedding.objects.filter(track=indexed["Neon"]).delete()
    page = client.post(reverse("playlists:reindex_start"), follow=True)
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.DONE, job.error
    assert job.outcome["embedded"]["audio"] == 1 and job.outcome["version"]
    assert job.progress_total >= 1 and job.progress_done == job.progress_total and job.started_at and job.finished_at
    assert "Reindex" in page.content.decode()
    status = client.get(reverse("api:task_status", args=[job.id])).json()
    assert status["status"] == "done" and status["finished"] and status["percent"] == 100


def test_with_the_worker_backend_reindex_only_queues(indexed, client, staff, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    Embedding.objects.filter(track=indexed["Neon"]).delete()
    client.post(reverse("playlists:reindex_start"))
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.QUEUED and job.task_result_id
    assert not Embedding.objects.filter(track=indexed["Neon"]).exists()
    # A second click while it waits does not queue the same work twice.
    client.post(reverse("playlists:reindex_start"))
    assert Job.objects.filter(kind="reindex").count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.outcome["embedded"]["audio"] == 1
    assert Embedding.objects.filter(track=indexed["Neon"], modality="audio", status="ok").exists()


def test_a_failing_job_records_its_error(client, staff, index_dir, settings):
    from playlists import engine

    with engine.index_store().lock():
        client.post(reverse("playlists:reindex_start"))
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.FAILED and job.error
    page = client.get(reverse("playlists:job_list")).content.decode()
    assert "failed" in page and job.error.splitlines()[0][:40] in page
    assert "ReindexLockedError" in job.error or "reindex" in job.error.splitlines()[0].lower()


def test_reindex_is_for_staff_only(client, db):
    user = get_user_model().objects.create_user("ann", password="a-long-password-1")
    client.force_login(user)
    response = client.post(reverse("playlists:reindex_start"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Job.objects.exists()


def test_users_see_only_their_own_jobs(client, db):
    ann = get_user_model().objects.create_user("ann", password="a-long-password-1")
    bob = get_user_model().objects.create_user("bob", password="a-long-password-2")
    theirs = Job.objects.create(kind="reindex", label="Bob's job", requested_by=bob)
    client.force_login(ann)
    assert "Bob's job" not in client.get(reverse("playlists:job_list")).content.decode()
    assert client.get(reverse("api:task_status", args=[theirs.id])).status_code == 404


def test_spectrogram_pictures_are_drawn_once_and_cached(indexed, client, user, settings):
    track = indexed["Salt Wind"]
    page = client.get(reverse("playlists:track_detail", args=[track.id])).content.decode()
    for kind in ("mel", "chroma", "mfcc"):
        assert reverse("playlists:track_picture", args=[track.id, kind]) in page
        response = client.get(reverse("playlists:track_picture", args=[track.id, kind]))
        body = b"".join(response.streaming_content)
        assert response.status_code == 200 and response["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    cached = sorted(p.name for p in (settings.CROSSFADE_PICTURES_DIR / "spectrogram").iterdir())
    assert len(cached) == 3 and all(name.startswith(track.content_hash) for name in cached)
    stamp = [(p, p.stat().st_mtime_ns) for p in (settings.CROSSFADE_PICTURES_DIR / "spectrogram").iterdir()]
    client.get(reverse("playlists:track_picture", args=[track.id, "mel"]))
    assert all(p.stat().st_mtime_ns == t for p, t in stamp)


def test_a_picture_of_a_track_without_audio_is_not_found(client, user, db):
    track = Track.objects.create(title="Metadata only")
    assert client.get(reverse("playlists:track_picture", args=[track.id, "mel"])).status_code == 404
    assert client.get(reverse("playlists:track_picture", args=[track.id, "nope"])).status_code == 404


def test_the_map_is_laid_out_once_per_index_version_and_draws_a_playlist(indexed, client, settings):
    user = get_user_model().objects.create_user("ann", password="a-long-password-1")
    client.force_login(user)
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=4, balance=0.5))
    page = client.get(reverse("playlists:catalogue_map"), {"playlist": playlist.id, "colour": "language"}).content.decode()
    job = Job.objects.get(kind="catalogue_map")
    assert job.status == Job.Status.DONE and job.outcome["points"] == Track.objects.count()
    for track in Track.objects.all():
        assert reverse("playlists:track_detail", args=[track.id]) in page
    assert 'class="map-path"' in page and page.count("map-point on-path") == playlist.items.count()
    assert "ru" in page and "instrumental" in page  # the drone has no lyrics: detected as zxx
    cached = list((settings.CROSSFADE_PICTURES_DIR / "map").glob("*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["version"] == job.key
    client.get(reverse("playlists:catalogue_map"), {"colour": "genre"})
    assert Job.objects.filter(kind="catalogue_map").count() == 1


def test_the_map_without_an_index_says_what_to_do(client, user, index_dir):
    page = client.get(reverse("playlists:catalogue_map")).content.decode()
    assert "There is no index yet" in page and not Job.objects.exists()


def test_with_the_worker_backend_the_map_page_shows_progress(indexed, client, user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page = client.get(reverse("playlists:catalogue_map")).content.decode()
    assert "being laid out in the background" in page and "data-job-url" in page
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    page = client.get(reverse("playlists:catalogue_map")).content.decode()
    assert "map-point" in page


def test_evaluation_page_shows_the_newest_report(client, user, settings, tmp_path, db):
    settings.CROSSFADE_EVALUATION_REPORT = tmp_path
    assert "None yet" in client.get(reverse("playlists:evaluation")).content.decode()
    report = {
        "ks": [5, 10],
        "counts": {"tracks": 40, "labels": 4, "groups": 10},
        "methods": {"audio:mfcc-stats": {"p@5": 0.41, "p@10": 0.38, "n": 40}, "baseline:random": {"p@5": 0.25, "p@10": 0.24, "n": 40}, "lyrics:minilm-l6": {"p@5": 0.6, "p@10": None, "n": 12}},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    page = client.get(reverse("playlists:evaluation")).content.decode()
    assert "p@10 by method" in page and "audio:mfcc-stats" in page and "0.38" in page and "–" in page
    # Bars in a 360-pixel track: p@10 = 0.38 of a possible 1.0.
    assert 'width="136.8"' in page and 'width="86.4"' in page
    (tmp_path / "broken.json").write_text("{not json")
    assert "not a readable report" in client.get(reverse("playlists:evaluation")).content.decode()


def test_models_page_draws_training_curves(client, user, settings, tmp_path, db):
    settings.CROSSFADE_MODELS_DIR = tmp_path
    assert "None yet" in client.get(reverse("playlists:models")).content.decode()
    run = tmp_path / "audio" / "v1"
    run.mkdir(parents=True)
    (run / "training.csv").write_text("epoch,train_loss,val_loss\n1,0.9,1.0\n2,0.6,0.8\n3,0.4,0.7\n")
    (tmp_path / "fusion" / "v2").mkdir(parents=True)
    (tmp_path / "fusion" / "v2" / "curve.csv").write_text("nothing\n")
    page = client.get(reverse("playlists:models")).content.decode()
    assert "train_loss" in page and "val_loss" in page and page.count("<polyline") == 2
    assert "needs a step or epoch column" in page


def test_seed_search_answers_json(indexed, client, user):
    answer = client.get(reverse("api:track_search"), {"q": "sea band"}).json()
    assert {r["title"] for r in answer["results"]} == {"Salt Wind", "Море"}
    assert client.get(reverse("api:track_search"), {"q": ""}).json()["results"] == []
    assert client.get(reverse("api:track_search"), {"q": "x" * 201}).status_code == 400


def test_rating_in_the_background_answers_json(indexed, client):
    user = get_user_model().objects.create_user("ann", password="a-long-password-1")
    client.force_login(user)
    track = indexed["Neon"]
    url = reverse("api:track_rating", args=[track.id])
    assert client.post(url, {"rating": 1}, content_type="application/json").json() == {"track": track.id, "rating": 1}
    assert Rating.objects.get(user=user, track=track).value == 1
    page = client.get(reverse("playlists:catalogue")).content.decode()
    assert 'aria-label="Like Neon" aria-pressed="true"' in page
    assert client.post(url, {"rating": 0}, content_type="application/json").json()["rating"] == 0
    assert not Rating.objects.filter(user=user).exists()


def test_admin_lists_index_versions_with_model_versions(indexed, client, staff):
    index_rebuild(full=True)
    page = client.get(reverse("admin_index_versions")).content.decode()
    assert page.count('class="index-version"') == 2 and "serving" in page
    from playlists import engine

    assert engine.embedder_get("audio").version in page and engine.embedder_get("lyrics").version in page
    assert "Crossfade control room" in client.get(reverse("admin:index")).content.decode()


def test_admin_reembed_now_and_job_list(indexed, client, staff):
    neon = indexed["Neon"]
    page = client.post(reverse("admin:playlists_track_changelist"), {"action": "reembed_now", "_selected_action": [neon.id]}, follow=True)
    assert "embeddings cleared" in page.content.decode()
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.DONE and job.outcome["embedded"]["audio"] == 1
    listing = client.get(reverse("admin:playlists_job_changelist")).content.decode()
    assert "Reindex after re-embedding selected tracks" in listing
