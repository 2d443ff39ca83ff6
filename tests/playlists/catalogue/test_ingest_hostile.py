"""Hostile names and tags never stop an ingest: each problem is one recorded failure and the walk goes on.

What a probe found: a file name that is not UTF-8 (``a\\xff.mp3``) raised
UnicodeEncodeError and a symlink loop RuntimeError outside the per-file guard,
so the run stopped, later files were never read and nothing was recorded; a
200,000-character title went into the database as it was.
"""
from __future__ import annotations

import os
import shutil

import pytest
from django.core.management import call_command
from mutagen.id3 import ID3, TIT2, TPE1

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.library import TAG_LIMITS
from playlists.models import IngestFailure, Track

pytestmark = pytest.mark.django_db


def _bytes_name(folder, name: bytes) -> bytes:
    return os.fsencode(folder) + b"/" + name


def test_a_name_that_is_not_utf8_and_a_symlink_loop_are_recorded_and_later_files_still_come_in(library):
    # Sorted first, so everything after them is only ingested if the walk goes on.
    bad_name = _bytes_name(library, b"a\xff.mp3")
    shutil.copyfile(os.fsencode(library / "Sea Band" / "Harbour" / "01 Salt Wind.mp3"), bad_name)
    os.symlink(b"a-loop.mp3", _bytes_name(library, b"a-loop.mp3"))
    (library / "b-loop-1.flac").symlink_to(library / "b-loop-2.flac")
    (library / "b-loop-2.flac").symlink_to(library / "b-loop-1.flac")
    (library / "zz-last.flac").write_bytes((library / "drone.flac").read_bytes())

    summary = library_ingest(library)

    assert summary.added == 7, "the six tracks of the library and zz-last.flac, after the bad names"
    assert Track.objects.filter(title="zz-last").exists()
    reasons = dict(IngestFailure.objects.values_list("path", "reason"))
    shown = os.fsencode(library).decode() + "/a\\xff.mp3"
    assert "not valid UTF-8" in reasons[shown] and "rename" in reasons[shown]
    assert "symlink loop" in reasons[str(library / "a-loop.mp3")]
    assert "symlink loop" in reasons[str(library / "b-loop-1.flac")] and "symlink loop" in reasons[str(library / "b-loop-2.flac")]
    assert summary.failed == 3 + 4 and {path for path, _ in summary.failures} == set(reasons)


def test_the_command_reports_hostile_names_instead_of_stopping(library, capsys):
    shutil.copyfile(os.fsencode(library / "rain.wav"), _bytes_name(library, b"caf\xe9.wav"))
    call_command("ingest", str(library))
    out = capsys.readouterr().out
    assert "Ingested 10 files: 6 added" in out and "caf\\xe9.wav: " in out and "not valid UTF-8" in out


def test_overlong_tags_are_cut_with_a_warning(library):
    path = library / "Sea Band" / "Harbour" / "01 Salt Wind.mp3"
    tags = ID3(path)
    tags.add(TIT2(encoding=3, text="Wind" * 50_000))
    tags.add(TPE1(encoding=3, text="Band" * 1000))
    tags.save(path)

    summary = library_ingest(library)

    track = Track.objects.get(audio_path=str(path))
    assert len(track.title) == TAG_LIMITS["title"] and track.title.startswith("WindWind")
    assert len(track.artist.name) == TAG_LIMITS["artist"]
    warnings = [warning for where, warning in summary.warnings if where == str(path)]
    assert any("title tag has 200,000 characters; kept the first 500" in w for w in warnings)
    assert "kept the first 300" in IngestFailure.objects.get(path=f"{path} (lyrics)").reason
