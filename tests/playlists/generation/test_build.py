"""Playlist generation on the small tagged library: every seed kind, their mix, every control, dedupe."""
from __future__ import annotations

import shutil

import pytest
import soundfile
from mutagen.id3 import ID3, TALB, TIT2, TPE1

from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.errors import ControlError, SeedError, UploadError
from playlists.generation.build import playlist_build
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.generation.uploads import upload_analyse
from playlists.metadata.matching import normalised_key
from playlists.models import Artist, Playlist, Track

pytestmark = pytest.mark.django_db


def _ids(built):
    return [item.track_id for item in built.items]


def _build(**kwargs):
    return playlist_build(PlaylistSettings(**kwargs))


def _file_chunks(path):
    return [path.read_bytes()]


# -- seeds ---------------------------------------------------------------------
def test_track_seeds_come_first_then_the_closest(indexed):
    built = _build(seed_ids=[indexed["Salt Wind"].id], length=4, balance=0.5)
    assert _ids(built)[0] == indexed["Salt Wind"].id and built.items[0].is_seed
    scores = [item.score for item in built.items[1:]]
    assert len(built.items) == 4 and scores == sorted(scores, reverse=True)


def test_artist_seed_uses_the_artists_tracks(indexed):
    sea = Artist.objects.get(name="Sea Band")
    built = _build(seed_artist_ids=[sea.id], length=3, balance=0.5)
    # No seed track is placed; the artist's own tracks are the closest to themselves.
    assert {indexed["Salt Wind"].id, indexed["Море"].id} <= set(_ids(built)[:2])
    assert not any(item.is_seed for item in built.items)
    with pytest.raises(SeedError, match="unknown seed artist"):
        _build(seed_artist_ids=[987654])


def test_text_prompt_seed_matches_lyrics(indexed):
    built = _build(seed_text="the sea wind in the rigging of a ship leaving the harbour", length=3)
    assert _ids(built)[0] == indexed["Salt Wind"].id
    # A prompt lives in lyrics space: the instrumental cannot be compared with it.
    assert indexed["drone"].id not in _ids(built)
    why = built.items[0].explanation
    others = [item.explanation["prompt"]["similarity"] for item in built.items[1:]]
    assert why["prompt"]["similarity"] > max(others) and why["prompt"]["similarity"] > 0 and "matches" in why["why"]


def test_uploaded_audio_seed_is_analysed_not_catalogued(indexed):
    before = Track.objects.count()
    neon = indexed["Neon"]
    upload = upload_analyse("my clip.ogg", _file_chunks(__import__("pathlib").Path(neon.audio_path)))
    assert Track.objects.count() == before and len(upload["vector"]) > 10
    built = _build(seed_audio=[upload], length=3, balance=0.5)
    assert _ids(built)[0] == neon.id  # the same recording is the nearest
    assert built.items[0].explanation["audio"] > 0.99


def test_uploads_that_are_not_audio_get_clear_messages(indexed, edge_audio, settings):
    with pytest.raises(UploadError, match="not audio Crossfade can read") as refused:
        upload_analyse("song.mp3", _file_chunks(edge_audio["not_audio.mp3"]))
    # The decoder's own words (a temporary path, an errno) stay in the log.
    assert "/tmp" not in str(refused.value) and "Errno" not in str(refused.value) and "crossfade-upload" not in str(refused.value)
    with pytest.raises(UploadError, match="not an audio file type"):
        upload_analyse("notes.txt", [b"hello"])
    with pytest.raises(UploadError, match="empty"):
        upload_analyse("empty.flac", [b""])
    settings.CROSSFADE_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(UploadError, match="upload limit"):
        upload_analyse("big.wav", _file_chunks(edge_audio["tone.wav"]))
    with pytest.raises(UploadError, match="limited to"):
        upload_analyse("big.wav", [], size=5000)


def test_seed_kinds_combine(indexed):
    neon = indexed["Neon"]
    upload = upload_analyse("clip.ogg", _file_chunks(__import__("pathlib").Path(neon.audio_path)))
    sea = Artist.objects.get(name="Sea Band")
    built = _build(
        seed_ids=[indexed["Westward"].id], seed_artist_ids=[sea.id], seed_text="rain on the roof, alone in the kitchen",
        seed_audio=[upload], length=6, balance=0.5,
    )
    ids = _ids(built)
    assert ids[0] == indexed["Westward"].id and len(ids) == 6 and len(set(ids)) == 6
    assert built.name.startswith("Like Westward + 3")
    assert neon.id in ids  # pulled in by the uploaded copy of itself
    assert all("prompt" in item.explanation for item in built.items if not item.is_seed and Track.objects.get(id=item.track_id).lyrics)
    # Each seed kind moves the result: drop the upload and Neon falls back.
    without = _build(seed_ids=[indexed["Westward"].id], seed_artist_ids=[sea.id], seed_text="rain on the roof, alone in the kitchen", length=6)
    rank_with = ids.index(neon.id)
    rank_without = _ids(without).index(neon.id) if neon.id in _ids(without) else 99
    assert rank_with < rank_without


def test_no_seed_at_all_is_an_error(indexed):
    with pytest.raises(SeedError, match="at least one seed"):
        _build(length=5)
    with pytest.raises(SeedError, match="at most 5"):
        _build(seed_ids=[t.id for t in indexed.values()])


# -- controls ------------------------------------------------------------------
def test_length_balance_and_leaving_out_seeds(indexed):
    seed = indexed["Salt Wind"].id
    assert len(_build(seed_ids=[seed], length=3).items) == 3
    by_sound = _ids(_build(seed_ids=[seed], length=6, balance=1.0, include_seeds=False))
    by_words = _ids(_build(seed_ids=[seed], length=6, balance=0.0, include_seeds=False))
    assert seed not in by_sound and by_sound != by_words
    assert indexed["drone"].id in by_sound and indexed["drone"].id not in by_words
    with pytest.raises(ControlError, match="1 to 200"):
        _build(seed_ids=[seed], length=0)
    with pytest.raises(ControlError, match="balance"):
        _build(seed_ids=[seed], balance=1.5)
    with pytest.raises(ControlError, match="diversity"):
        _build(seed_ids=[seed], diversity=-0.1)


def test_max_per_artist(indexed):
    # "Unknown artist" holds two tracks (rain, drone) and Sea Band two.
    capped = _build(seed_ids=[indexed["Neon"].id], length=6, balance=1.0, max_per_artist=1)
    artists = [Track.objects.get(id=i).artist_id for i in _ids(capped)]
    assert len(artists) == len(set(artists)) == 4
    assert "per artist" in " ".join(capped.messages)


def test_exclude_artists_albums_genres_explicit(indexed):
    seed = indexed["Neon"].id
    everything = set(_ids(_build(seed_ids=[seed], length=6, balance=1.0)))
    assert len(everything) == 6
    assert not {indexed["Salt Wind"].id, indexed["Море"].id} & set(_ids(_build(seed_ids=[seed], length=6, balance=1.0, exclude_artists=["sea band"])))
    assert not {indexed["Salt Wind"].id, indexed["Море"].id} & set(_ids(_build(seed_ids=[seed], length=6, balance=1.0, exclude_albums=["Harbour"])))
    assert indexed["Westward"].id not in _ids(_build(seed_ids=[seed], length=6, balance=1.0, exclude_genres=["rock"]))
    westward = indexed["Westward"]
    westward.spotify = {"explicit": True}
    westward.save()
    assert westward.id not in _ids(_build(seed_ids=[seed], length=6, balance=1.0, exclude_explicit=True))
    assert westward.id in _ids(_build(seed_ids=[seed], length=6, balance=1.0))


def test_language_filter_keeps_instrumentals(indexed):
    ids = _ids(_build(seed_ids=[indexed["Neon"].id], length=6, balance=1.0, languages=["ru"]))
    assert indexed["Море"].id in ids and indexed["drone"].id in ids
    assert indexed["Salt Wind"].id not in ids and indexed["Westward"].id not in ids


def test_attribute_ranges_and_targets(indexed):
    tempos = {"Salt Wind": 90, "Море": 92, "Westward": 100, "rain": 70, "drone": 30}
    for title, tempo in tempos.items():
        indexed[title].spotify = {"tempo": tempo, "energy": tempo / 100}
        indexed[title].save()
    seed = indexed["Neon"].id  # Neon has no tempo: a seed is never filtered
    ranged = _ids(_build(seed_ids=[seed], length=6, balance=1.0, attributes={"tempo": {"min": 85, "max": 95}}))
    assert set(ranged) == {seed, indexed["Salt Wind"].id, indexed["Море"].id}
    by_energy = _ids(_build(seed_ids=[seed], length=6, balance=1.0, attributes={"energy": {"max": 0.75}}))
    assert indexed["Westward"].id not in by_energy and indexed["rain"].id in by_energy
    targeted = _build(seed_ids=[seed], length=2, balance=1.0, attributes={"tempo": {"target": 30}}, include_seeds=False)
    assert _ids(targeted)[0] == indexed["drone"].id
    slow_first = _ids(_build(seed_ids=[seed], length=6, balance=1.0, attributes={"tempo": {"target": 70}}, include_seeds=False))
    assert slow_first.index(indexed["rain"].id) < slow_first.index(indexed["Westward"].id)
    with pytest.raises(ControlError, match="unknown attribute"):
        _build(seed_ids=[seed], attributes={"groove": {"min": 1}})
    with pytest.raises(ControlError, match="above max"):
        _build(seed_ids=[seed], attributes={"tempo": {"min": 130, "max": 100}})


def test_a_filter_leaving_too_few_tracks_gives_a_shorter_playlist_and_a_message(indexed):
    built = _build(seed_ids=[indexed["Neon"].id], length=10, balance=1.0, exclude_genres=["folk", "rock"])
    assert 1 <= len(built.items) < 10
    message = " ".join(built.messages)
    assert f"only {len(built.items)} of 10 tracks" in message and "excluded genres" in message


# -- dedupe ----------------------------------------------------------------------
@pytest.fixture
def with_duplicates(library, index_dir):
    # The same song re-released: Sea Band's "Salt Wind" on a best-of, remastered, with other audio.
    best_of = library / "Sea Band" / "Best Of"
    best_of.mkdir()
    remaster = best_of / "Salt Wind (2020 Remaster).mp3"
    shutil.copy(library / "Westward.m4a", best_of / "tmp.m4a")
    samples, rate = soundfile.read(str(library / "drone.flac"), dtype="float32")
    soundfile.write(str(remaster), samples[::-1].copy(), rate)
    (best_of / "tmp.m4a").unlink()
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Salt Wind (2020 Remaster)"))
    tags.add(TPE1(encoding=3, text="The Sea Band"))
    tags.add(TALB(encoding=3, text="Best Of"))
    tags.save(remaster)
    # The same recording twice: Neon decoded and stored again as FLAC under another name.
    samples, rate = soundfile.read(str(library / "City" / "Neon.ogg"), dtype="float32")
    soundfile.write(str(library / "City" / "neon copy.flac"), samples, rate)
    library_ingest(library)
    index_rebuild()
    return {t.title: t for t in Track.objects.select_related("artist")}


def test_normalised_key_collapses_versions():
    assert normalised_key("The Sea Band", "Salt Wind (2020 Remaster)") == normalised_key("Sea Band", "Salt Wind")
    assert normalised_key("Sea Band", "Salt Wind - Live at Home") == normalised_key("sea band", "SALT WIND")
    assert normalised_key("Sea Band", "Salt Wind feat. Ana") == normalised_key("Sea Band", "Salt Wind")
    assert normalised_key("Sea Band", "Salt Wind") != normalised_key("Sea Band", "Salt Winds")


def test_dedupe_by_name_and_by_audio(with_duplicates):
    tracks = with_duplicates
    remaster, copy = tracks["Salt Wind (2020 Remaster)"].id, tracks["neon copy"].id
    salt, neon = tracks["Salt Wind"].id, tracks["Neon"].id
    loose = _ids(_build(seed_ids=[tracks["Westward"].id], length=8, balance=1.0, dedupe=False))
    assert {remaster, copy, salt, neon} <= set(loose)
    deduped = _build(seed_ids=[tracks["Westward"].id], length=8, balance=1.0)
    ids = _ids(deduped)
    assert len({salt, remaster} & set(ids)) == 1 and len({neon, copy} & set(ids)) == 1
    assert "duplicates" in " ".join(deduped.messages)
    # A duplicate of a seed never follows it.
    assert copy not in _ids(_build(seed_ids=[neon], length=8, balance=1.0))


# -- the service -----------------------------------------------------------------
def test_playlist_generate_saves_settings_and_explanations(indexed, user):
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=4, balance=0.5, diversity=0.3, max_per_artist=2, order="flow"))
    stored = Playlist.objects.get(id=playlist.id)
    assert stored.settings["diversity"] == 0.3 and stored.settings["max_per_artist"] == 2 and stored.settings["order"] == "flow"
    items = list(stored.items.order_by("position"))
    assert items[0].explanation["why"] == "one of your seeds"
    assert all("audio" in i.explanation and i.explanation["why"] for i in items[1:])
    assert not any(ch.isdigit() for i in items for ch in i.explanation["why"])  # words, never numbers
    assert PlaylistSettings.from_json(stored.settings).to_json() == stored.settings
