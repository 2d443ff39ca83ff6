from __future__ import annotations

import os
import shutil

import pytest
from django.core.management import call_command

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.library import LibraryReadError
from playlists.models import IngestFailure, Track
from tests.playlists.conftest import RAIN_RU_CP1251, SEA_EN, SEA_RU

pytestmark = pytest.mark.django_db


def _track(title: str) -> Track:
    return Track.objects.select_related("artist", "album").get(title=title)


def test_tags_lyrics_and_durations_from_every_format(library):
    summary = library_ingest(library)
    assert (summary.scanned, summary.added, summary.failed) == (9, 6, 3)

    salt = _track("Salt Wind")
    assert (salt.artist.name, salt.album.title, salt.genre, salt.track_number) == ("Sea Band", "Harbour", "Folk", 1)
    assert salt.lyrics == SEA_EN and salt.lyrics_source == "tag" and salt.language == "en"
    assert salt.audio_format == "mp3" and salt.duration_s == pytest.approx(6.0, abs=0.1)
    assert len(salt.content_hash) == 64

    sea = _track("Море")
    assert sea.lyrics == SEA_RU and sea.lyrics_source == "tag" and sea.language == "ru" and sea.album == salt.album

    neon = _track("Neon")
    assert neon.lyrics_source == "lrc" and neon.lyrics_path.endswith("Neon.lrc") and "dance until the dawn" in neon.lyrics
    assert neon.year == 2024 and neon.genre == "Techno"

    westward = _track("Westward")
    assert westward.lyrics_source == "tag" and "mother's kitchen" in westward.lyrics and westward.audio_format == "m4a"

    rain = _track("rain")  # no tags: the title falls back to the file name
    assert rain.lyrics == RAIN_RU_CP1251 and rain.lyrics_source == "txt"
    assert rain.artist.name == "Unknown artist"

    assert _track("drone").lyrics == ""


def test_bad_files_are_recorded_with_their_reason_and_the_run_goes_on(library):
    summary = library_ingest(library)
    reasons = dict(IngestFailure.objects.values_list("path", "reason"))
    # The broken cover.jpg beside the loose files is recorded too (the tracks are in, without its picture).
    assert "not a readable picture" in reasons.pop(str(library / "cover.jpg"))
    assert set(reasons) == {str(library / name) for name in ("corrupt.mp3", "empty.ogg", "notes.mp3")}
    assert "empty (0 bytes)" in reasons[str(library / "empty.ogg")]
    assert "not a readable audio file" in reasons[str(library / "notes.mp3")]
    assert reasons[str(library / "corrupt.mp3")]
    assert Track.objects.count() == 6
    assert {path for path, _ in summary.failures} == set(reasons)


def test_rerun_skips_unchanged_files(library):
    library_ingest(library)
    before = {t.id: t.updated_at for t in Track.objects.all()}
    summary = library_ingest(library)
    assert (summary.unchanged, summary.added, summary.updated) == (6, 0, 0)
    assert {t.id: t.updated_at for t in Track.objects.all()} == before


def test_an_edited_file_is_read_again(library):
    library_ingest(library)
    path = library / "City" / "Neon.ogg"
    from mutagen.oggvorbis import OggVorbis

    ogg = OggVorbis(path)
    ogg["title"] = "Neon (remix)"
    ogg.save()
    os.utime(path, (1_900_000_000, 1_900_000_000))
    summary = library_ingest(library)
    assert summary.updated == 1
    assert Track.objects.filter(title="Neon (remix)").exists() and not Track.objects.filter(title="Neon").exists()


def test_a_moved_file_keeps_its_track(library):
    library_ingest(library)
    track_id = _track("drone").id
    (library / "Ambient").mkdir()
    shutil.move(library / "drone.flac", library / "Ambient" / "drone.flac")
    summary = library_ingest(library)
    assert summary.moved == 1 and summary.added == 0
    moved = Track.objects.get(id=track_id)
    assert moved.audio_path == str(library / "Ambient" / "drone.flac")


def test_a_fixed_file_clears_its_failure(library, edge_audio):
    library_ingest(library)
    shutil.copy(edge_audio["tone.ogg"], library / "empty.ogg")
    library_ingest(library)
    assert not IngestFailure.objects.filter(path=str(library / "empty.ogg")).exists()
    assert Track.objects.filter(audio_path=str(library / "empty.ogg")).exists()


def test_unreadable_lyrics_file_keeps_the_track_and_tells_the_operator(library):
    (library / "drone.txt").write_bytes(bytes(range(256)) * 8)
    library_ingest(library)
    assert _track("drone").lyrics == ""
    assert "binary" in IngestFailure.objects.get(path=f"{library / 'drone.flac'} (lyrics)").reason


def test_not_a_folder(tmp_path):
    with pytest.raises(LibraryReadError, match="is not a folder"):
        library_ingest(tmp_path / "nowhere")


def test_command_prints_a_summary_and_failures(library, capsys):
    call_command("ingest", str(library), verbosity=1)
    out = capsys.readouterr().out
    assert "9 files: 6 added" in out and "3 failed" in out and "empty.ogg" in out


def test_dry_run_writes_nothing(library, capsys):
    call_command("ingest", str(library), "--dry-run", verbosity=1)
    assert Track.objects.count() == 0 and IngestFailure.objects.count() == 0
    assert "Would ingest 9 files: 6 added" in capsys.readouterr().out
