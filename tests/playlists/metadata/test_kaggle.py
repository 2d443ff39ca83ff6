from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.errors import KaggleSchemaError
from playlists.metadata.kaggle import SCHEMAS, kaggle_file_import
from playlists.metadata.matching import match_key, text_normalise
from playlists.models import Artist, Embedding, Track

pytestmark = pytest.mark.django_db

BRICE = Path(__file__).resolve().parents[4] / "shared" / "data" / "spotify_recommendation_bricevergnou"
TRACKS_COLUMNS = ["", *SCHEMAS["spotify-tracks"]]


@pytest.fixture
def brice() -> Path:
    if not (BRICE / "data_with_ids.csv").exists():
        pytest.skip(f"the spotify-recommendation data is not at {BRICE}")
    return BRICE


def _features(rng) -> dict:
    return {
        "danceability": round(rng.random(), 3), "energy": round(rng.random(), 3), "key": int(rng.integers(0, 12)), "loudness": -7.5,
        "mode": 1, "speechiness": 0.05, "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.5, "tempo": 120.0, "time_signature": 4,
    }


def _row(rng, *, track_id: str, artists: str, title: str, genre: str = "pop", album: str = "Album", **overrides) -> dict:
    row = {"": 0, "track_id": track_id, "artists": artists, "album_name": album, "track_name": title, "popularity": 40,
           "duration_ms": 201000, "explicit": "False", **_features(rng), "track_genre": genre}
    row.update(overrides)
    return row


def _write(path: Path, rows: list[dict], columns: list[str] = TRACKS_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _id(n: int) -> str:
    return f"{n:022d}".replace("0", "A")


def test_normalisation_ignores_case_accents_versions_and_featured_artists():
    assert text_normalise("Beyoncé – HALO (Remastered 2011)") == "beyonce halo"
    assert text_normalise("Halo - Live at Wembley") == "halo"
    assert match_key("Sea Band feat. Someone", "Salt Wind!") == match_key("sea band;Other", "salt wind")
    assert match_key("A", "Home") != match_key("A", "Homeward")


def test_the_recommendation_set_creates_metadata_only_tracks_then_matches_them_by_id(brice):
    first = kaggle_file_import(brice / "data_with_ids.csv")
    assert (first.schema, first.rows, first.created, first.matched, first.rejected) == ("spotify-recommendation", 195, 195, 0, 0)
    tracks = Track.objects.filter(spotify__source="kaggle:spotify-recommendation")
    assert tracks.count() == 195 and not tracks.exclude(audio_path=None).exists()
    joker = Track.objects.get(spotify_id="0HkoTr9t0f6MeqGoUS3E3e")
    assert joker.title == "JOKER" and joker.spotify["liked"] == 1 and joker.spotify["features"]["tempo"] == 151.329
    assert joker.duration_s == pytest.approx(247.178)
    assert sum(t.spotify["liked"] for t in tracks) == 100

    snapshot = list(Track.objects.order_by("id").values_list("id", "title", "spotify_id", "spotify", "updated_at"))
    second = kaggle_file_import(brice / "data_with_ids.csv")
    assert (second.matched, second.created, second.updated, second.matched_by) == (195, 0, 0, {"spotify_id": 195})
    assert list(Track.objects.order_by("id").values_list("id", "title", "spotify_id", "spotify", "updated_at")) == snapshot


def test_the_recommendation_file_without_ids_is_refused_naming_the_missing_columns(brice):
    with pytest.raises(KaggleSchemaError) as caught:
        kaggle_file_import(brice / "data.csv")
    assert "track_id, track_name" in str(caught.value) and "data_with_ids.csv" in str(caught.value)
    with pytest.raises(CommandError, match="lacks the columns track_id, track_name"):
        call_command("import_kaggle", str(brice / "data.csv"))
    assert Track.objects.count() == 0


def test_an_unknown_file_names_every_missing_column(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("track_id,track_name,artists\nx,y,z\n")
    with pytest.raises(KaggleSchemaError) as caught:
        kaggle_file_import(path)
    message = str(caught.value)
    assert "spotify-tracks" in message and "album_name, popularity, duration_ms" in message
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(KaggleSchemaError):
        kaggle_file_import(path)
    with pytest.raises(KaggleSchemaError, match="cannot read"):
        kaggle_file_import(tmp_path / "missing.csv")


def test_tracks_dataset_matches_by_id_then_artist_and_title_and_rejects_bad_rows_by_line(tmp_path, rng):
    sea = Artist.objects.create(name="Sea Band")
    by_name = Track.objects.create(title="Salt Wind", artist=sea, audio_path="/music/salt.mp3", genre="")
    by_id = Track.objects.create(title="Something else entirely", artist=sea, audio_path="/music/b.mp3", spotify_id=_id(2))
    other_recording = Track.objects.create(title="Harbour", artist=sea, audio_path="/music/h.mp3", spotify_id=_id(9))
    rows = [
        _row(rng, track_id=_id(1), artists="SEA BAND;Guest", title="Salt Wind (2011 Remaster)", genre="folk"),  # line 2
        _row(rng, track_id=_id(2), artists="Whoever", title="Different title", genre="rock"),  # line 3
        _row(rng, track_id=_id(3), artists="Sea Band", title="Harbour"),  # line 4: name matches a track tied to another id
        _row(rng, track_id=_id(4), artists="Nouveau Groupe", title="Chanson\nsur deux lignes", genre="chanson"),  # lines 5-6
        _row(rng, track_id="not-an-id", artists="X", title="Y"),  # line 7
        _row(rng, track_id=_id(5), artists="X", title="Y", energy="loud"),  # line 8
        _row(rng, track_id=_id(6), artists="X", title="Y", danceability="1.7"),  # line 9
        _row(rng, track_id=_id(7), artists="", title="Y"),  # line 10
        _row(rng, track_id=_id(4), artists="Nouveau Groupe", title="Chanson\nsur deux lignes", genre="french"),  # line 11: same id, another genre
    ]
    path = _write(tmp_path / "dataset.csv", rows)
    dry = kaggle_file_import(path, dry_run=True)
    assert (dry.matched, dry.created, dry.rejected) == (2, 2, 4) and Track.objects.count() == 3

    summary = kaggle_file_import(path)
    assert summary.schema == "spotify-tracks"
    assert (summary.rows, summary.matched, summary.created, summary.rejected) == (9, 2, 2, 4)
    assert summary.matched_by == {"artist_title": 1, "spotify_id": 1}
    assert summary.rejections == [
        (7, "track_id 'not-an-id' is not a 22-character Spotify id"),
        (8, "energy is not a number: 'loud'"),
        (9, "danceability 1.7 is outside 0..1"),
        (10, "artists is empty"),
    ]
    by_name.refresh_from_db()
    assert by_name.spotify_id == _id(1) and by_name.title == "Salt Wind" and by_name.genre == "folk"
    assert by_name.spotify["popularity"] == 40 and by_name.spotify["artists"] == ["SEA BAND", "Guest"]
    by_id.refresh_from_db()
    assert by_id.title == "Something else entirely" and by_id.spotify["source"] == "kaggle:spotify-tracks"
    other_recording.refresh_from_db()
    assert other_recording.spotify_id == _id(9)
    created = Track.objects.get(spotify_id=_id(4))
    assert created.audio_path is None and created.artist.name == "Nouveau Groupe" and created.album.title == "Album"
    assert created.title == "Chanson\nsur deux lignes" and created.genres == ["chanson", "french"]
    assert Track.objects.get(spotify_id=_id(3)).audio_path is None

    again = kaggle_file_import(path)
    assert (again.matched, again.created, again.updated) == (4, 0, 0)
    assert Track.objects.count() == 5


def test_the_command_reports_counts_and_rejected_lines(tmp_path, rng):
    path = _write(tmp_path / "d.csv", [_row(rng, track_id=_id(1), artists="A", title="B"), _row(rng, track_id="bad", artists="A", title="C")])
    out = StringIO()
    call_command("import_kaggle", str(path), "--dry-run", stdout=out, stderr=StringIO())
    assert "Would import 2 rows (spotify-tracks): 0 matched, 1 created" in out.getvalue() and "1 rejected" in out.getvalue()
    assert "line 3: track_id 'bad' is not a 22-character Spotify id" in out.getvalue()
    assert Track.objects.count() == 0
    out = StringIO()
    call_command("import_kaggle", str(path), stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("Imported 2 rows") and Track.objects.count() == 1


def test_metadata_only_tracks_work_in_catalogue_api_and_reindex(client, user, library, index_dir, tmp_path, rng):
    library_ingest(library)
    path = _write(tmp_path / "d.csv", [_row(rng, track_id=_id(1), artists="Kaggle Artist", title="Only Metadata", genre="synth-pop")])
    kaggle_file_import(path)
    summary = index_rebuild()
    track = Track.objects.get(spotify_id=_id(1))
    assert summary.published and summary.indexed["audio"] == 6
    assert not Embedding.objects.filter(track=track, status=Embedding.Status.OK).exists()
    listing = client.get(reverse("playlists:catalogue"), {"genre": "synth-pop"})
    assert b"Only Metadata" in listing.content and b"1 track" in listing.content
    page = client.get(reverse("playlists:track_detail", args=[track.id]))
    assert page.status_code == 200 and b"No audio file for this track." in page.content
    api = client.get(reverse("api:track_similar", args=[track.id]))
    assert api.status_code == 503 and "not indexed" in api.json()["error"]["message"]
