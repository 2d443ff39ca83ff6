"""``manage.py playlist``: dry runs, saving for a user, exports, and clear errors."""
from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from playlists.models import Playlist

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("playlist", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_and_saves_nothing(indexed):
    out = _run("--track", str(indexed["Salt Wind"].id), "--length", "4", "--dry-run", "--exclude-genre", "techno")
    assert "4 tracks" in out and "seed" in out and "Neon" not in out
    assert Playlist.objects.count() == 0


def test_saves_for_a_user_and_exports(indexed, library, settings, tmp_path):
    get_user_model().objects.create_user("cli", password="a-long-password-1")
    settings.CROSSFADE_MUSIC_DIR = library
    target = tmp_path / "out.m3u8"
    out = _run("--artist", "Sea Band", "--text", "rain on the roof", "--file", indexed["Neon"].audio_path, "--length", "5",
               "--user", "cli", "--name", "From the shell", "--export", "m3u8", "--out", str(target), "--min", "tempo=10")
    playlist = Playlist.objects.get(name="From the shell")
    assert "saved as playlist" in out and playlist.items.count() == 5
    entries = [line for line in target.read_text().splitlines() if line and not line.startswith("#")]
    assert len(entries) == 5 and all((library / e).is_file() for e in entries)
    assert playlist.settings["seed_audio"][0]["name"] == Path(indexed["Neon"].audio_path).name


def test_path_and_errors(indexed):
    out = _run("--path", str(indexed["Neon"].id), str(indexed["Salt Wind"].id), "--length", "4", "--dry-run", "--balance", "1")
    assert "Neon" in out.splitlines()[1] and "Salt Wind" in out
    with pytest.raises(CommandError, match="--user NAME"):
        _run("--track", str(indexed["Neon"].id))
    with pytest.raises(CommandError, match="no artist named"):
        _run("--artist", "Nobody", "--dry-run")
    with pytest.raises(CommandError, match="NAME=NUMBER"):
        _run("--track", str(indexed["Neon"].id), "--min", "tempo", "--dry-run")
    with pytest.raises(CommandError, match="at least one seed"):
        _run("--dry-run")
