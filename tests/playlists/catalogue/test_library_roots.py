"""Only files inside the library roots are ever stored as a track's audio or served (symlinks resolved).

The attacks a probe made: a staff user points a track's *Audio path* at the
database file in the admin, then anyone downloads it from /tracks/<id>/audio;
a symlink in the music folder points out of it; ``ingest`` is pointed at
a folder outside the library.
"""
from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.library import LibraryPathError, library_path_check, path_in_library
from playlists.models import IngestFailure, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_file(tmp_path_factory):
    """A file outside the library that must never be served (stands for the database, the settings, the secret key)."""
    folder = tmp_path_factory.mktemp("outside")
    path = folder / "crossfade.sqlite3"
    path.write_bytes(b"SQLite format 3\x00 password hashes and session keys")
    return path


@pytest.fixture
def roots(settings, library):
    """The library is the one root; the secret file lies outside it."""
    settings.CROSSFADE_LIBRARY_ROOTS = [library]
    return library


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_superuser("root", password="a-long-password-9")
    client.force_login(staff)
    return client


def test_the_check_resolves_symlinks_and_refuses_what_lies_outside(roots, secret_file):
    inside = roots / "rain.wav"
    assert library_path_check(inside) == inside.resolve()
    (roots / "escape.mp3").symlink_to(secret_file)
    (roots / "sub").mkdir()
    with pytest.raises(LibraryPathError, match="outside the library folders"):
        library_path_check(roots / "escape.mp3")
    with pytest.raises(LibraryPathError, match="outside the library folders"):
        library_path_check(roots / "sub" / ".." / ".." / secret_file.parent.name / secret_file.name)
    with pytest.raises(LibraryPathError, match="outside the library folders"):
        library_path_check(secret_file)
    assert path_in_library(str(secret_file)) is None and path_in_library(str(roots / "escape.mp3")) is None
    assert path_in_library(str(inside)) == inside.resolve()


def test_the_admin_refuses_an_audio_path_outside_the_library(roots, secret_file, staff_client):
    library_ingest(roots)
    track = Track.objects.get(title="Salt Wind")
    before = track.audio_path
    form = staff_client.get(reverse("admin:playlists_track_change", args=[track.id]))
    assert form.status_code == 200
    data = {
        "title": track.title, "artist": track.artist_id or "", "album": track.album_id or "", "genre": track.genre,
        "audio_path": str(secret_file), "audio_format": track.audio_format, "lyrics": track.lyrics, "lyrics_source": track.lyrics_source,
        "lyrics_path": track.lyrics_path, "language": track.language, "spotify_id": "", "isrc": "", "spotify": "{}", "audio_tags": "{}",
        "embeddings-TOTAL_FORMS": "0", "embeddings-INITIAL_FORMS": "0", "embeddings-MIN_NUM_FORMS": "0", "embeddings-MAX_NUM_FORMS": "1000",
    }
    refused = staff_client.post(reverse("admin:playlists_track_change", args=[track.id]), data)
    assert refused.status_code == 200, "the form is shown again with the error, not saved"
    assert "outside the library folders" in refused.content.decode()
    track.refresh_from_db()
    assert track.audio_path == before

    # A symlink inside the library pointing out of it is refused the same way.
    (roots / "escape.mp3").symlink_to(secret_file)
    refused = staff_client.post(reverse("admin:playlists_track_change", args=[track.id]), {**data, "audio_path": str(roots / "escape.mp3")})
    assert "outside the library folders" in refused.content.decode()
    # A file inside the library is accepted and stored resolved.
    shutil.copy(roots / "rain.wav", roots / "rain again.wav")
    accepted = staff_client.post(reverse("admin:playlists_track_change", args=[track.id]), {**data, "audio_path": str(roots / "." / "rain again.wav")})
    assert accepted.status_code == 302, accepted.context["adminform"].form.errors
    track.refresh_from_db()
    assert track.audio_path == str((roots / "rain again.wav").resolve())


def test_a_file_outside_the_library_is_never_served(roots, secret_file, staff_client):
    library_ingest(roots)
    track = Track.objects.get(title="Salt Wind")
    served = staff_client.get(reverse("playlists:track_audio", args=[track.id]))
    assert served.status_code == 200 and served["Content-Type"] == "audio/mpeg"

    # A row pointing outside (written by any means: the shell, an old database) is not served, not even to staff.
    Track.objects.filter(id=track.id).update(audio_path=str(secret_file))
    refused = staff_client.get(reverse("playlists:track_audio", args=[track.id]))
    assert refused.status_code == 404 and b"password" not in b"".join(getattr(refused, "streaming_content", [refused.content]))
    page = staff_client.get(reverse("playlists:track_detail", args=[track.id]))
    assert page.status_code == 200 and b"<audio" not in page.content

    # Nor through a symlink inside the library.
    (roots / "escape.mp3").symlink_to(secret_file)
    Track.objects.filter(id=track.id).update(audio_path=str(roots / "escape.mp3"))
    assert staff_client.get(reverse("playlists:track_audio", args=[track.id]), HTTP_RANGE="bytes=0-15").status_code == 404
    assert staff_client.get(reverse("playlists:track_picture", args=[track.id, "mel"])).status_code == 404


def test_ingest_refuses_a_folder_outside_the_library_and_links_out_of_it(roots, secret_file, tmp_path_factory, capsys):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "music"
    shutil.copytree(roots, elsewhere)
    with pytest.raises(LibraryPathError, match="CROSSFADE_LIBRARY_ROOTS"):
        library_ingest(elsewhere)
    with pytest.raises(CommandError, match="outside the library folders"):
        call_command("ingest", str(elsewhere))
    assert Track.objects.count() == 0

    outside_audio = secret_file.parent / "stolen.wav"
    shutil.copy(roots / "rain.wav", outside_audio)
    (roots / "linked.wav").symlink_to(outside_audio)
    summary = library_ingest(roots)
    assert summary.added == 6 and not Track.objects.filter(audio_path=str(outside_audio)).exists()
    failure = IngestFailure.objects.get(path=str(roots / "linked.wav"))
    assert "outside the library folders" in failure.reason


def test_the_default_roots_are_the_music_folder_and_the_demo_library(tmp_path):
    import subprocess
    import sys

    code = "import django, json; django.setup(); from django.conf import settings; print(json.dumps([str(p) for p in settings.CROSSFADE_LIBRARY_ROOTS]))"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CROSSFADE_"))}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(tmp_path), CROSSFADE_MUSIC_DIR="/srv/music")
    result = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'["/srv/music", "{tmp_path.resolve() / "demo" / "music"}"]'
