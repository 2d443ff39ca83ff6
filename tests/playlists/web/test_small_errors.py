"""Small 500s and leaks the probe found, each now a clear message or a 4xx.

- ``regenerate`` with ``length=abc``;
- ``/static/..%2f..%2fconfig%2fsettings.py`` (a 500 from the development server's static handler);
- an upload that does not decode named the server's temporary copy (``/tmp/crossfade-upload-…``);
- a full disk during ``reindex`` printed a raw traceback.
"""
from __future__ import annotations

import errno
import io
import wsgiref.util

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.urls import reverse

from playlists import engine
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Playlist

pytestmark = pytest.mark.django_db


@pytest.fixture
def playlist(indexed, user):
    return playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=4))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"length": "abc"}, "length: Enter a whole number."),
        ({"length": "1e9"}, "length: Enter a whole number."),
        ({"length": "99999999999999999999"}, "length: Ensure this value is less than or equal to"),
        ({"balance": "abc"}, "balance: Enter a number."),
        ({"balance": "nan"}, "balance"),
        ({"length": "0"}, "a playlist has 1 to 200 tracks, not 0"),
        ({"max_per_artist": "-3"}, "at most K tracks per artist needs K >= 1"),
        ({"order": "sideways"}, "order"),
    ],
)
def test_regenerate_with_bad_values_says_what_is_wrong(client, playlist, fields, message):
    response = client.post(reverse("playlists:playlist_regenerate", args=[playlist.id]), fields, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(text.startswith("Could not regenerate") and message in text for text in shown), shown
    assert Playlist.objects.get(id=playlist.id).items.count() == 4, "the playlist is kept as it was"


def _wsgi_status(application, path: str) -> str:
    environ: dict[str, object] = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO()}
    wsgiref.util.setup_testing_defaults(environ)
    status: list[str] = []
    body = application(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(body)
    return status[0]


@pytest.mark.parametrize("path", ["/static/..%2f..%2fconfig%2fsettings.py", "/static/../../config/settings.py", "/static/playlists/..%2f..%2f..%2f..%2fmanage.py"])
def test_a_static_path_out_of_the_static_folders_is_a_404_on_both_servers(client, settings, path):
    from urllib.parse import unquote

    answer = client.get(unquote(path))
    assert answer.status_code == 404 and b"SECRET_KEY" not in answer.content
    # The development server (make dev): runserver's own handler, as `manage.py runserver` builds it, with DEBUG on.
    settings.DEBUG = True
    runserver = load_command_class(get_commands()["runserver"], "runserver")
    options = vars(runserver.create_parser("manage.py", "runserver").parse_args([]))
    status = _wsgi_status(runserver.get_handler(**options), unquote(path))
    assert status.startswith(("404", "400")), status


def test_an_upload_that_does_not_decode_never_shows_a_server_path(client, indexed, user):
    upload = SimpleUploadedFile("my song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00garbage" * 500, content_type="audio/mpeg")
    page = client.post(reverse("playlists:playlist_new"), {"seed_file": upload, "length": 5, "balance": 0.5})
    text = page.content.decode()
    assert page.status_code == 200 and "my song.mp3" in text and "is not audio Crossfade can read" in text
    assert "crossfade-upload-" not in text and "/tmp" not in text and "upload.mp3" not in text


def test_a_full_disk_during_reindex_is_a_message_and_the_previous_index_keeps_serving(indexed, library, monkeypatch):
    import shutil

    from ml.fusion.hybrid import HybridIndex
    from playlists.catalogue.ingest import library_ingest

    before = engine.index_store().current_version()
    shutil.copy(library / "drone.flac", library / "drone again.flac")  # a new track, so a new version is written
    library_ingest(library)

    def disk_full(self, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "audio" / "vectors.npy"))

    monkeypatch.setattr(HybridIndex, "save", disk_full)
    with pytest.raises(CommandError) as raised:
        call_command("reindex", verbosity=0)
    message = str(raised.value)
    assert "No space left on device" in message and "previous index keeps serving" in message and "free some space" in message
    assert engine.index_store().current_version() == before and not list(engine.index_store().root.glob(".staging-*"))
