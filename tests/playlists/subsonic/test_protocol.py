"""The Subsonic API through Django's test client: every JSON answer checked against the OpenSubsonic spec's schemas,
XML and JSONP, the authentication mechanisms and their error codes, ids, media, lyrics, playlists, annotation, similarity."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from playlists.catalogue import selectors
from playlists.models import AlbumStar, NowPlaying, Play, Playlist, Rating, Track
from tests.playlists.conftest import COVER_COLOURS
from tests.playlists.subsonic.conftest import PASSWORD, token_auth

pytestmark = pytest.mark.django_db
NS = "{http://subsonic.org/restapi}"


def _sid(track: Track) -> str:
    return f"tr-{track.id}"


def test_browsing_artist_album_song_in_the_spec_s_shapes(subsonic, indexed):
    assert subsonic("ping")["type"] == "crossfade" and subsonic("ping")["openSubsonic"] is True
    assert {e["name"] for e in subsonic("getOpenSubsonicExtensions", auth={})["openSubsonicExtensions"]} >= {"apiKeyAuthentication", "songLyrics", "sonicSimilarity", "formPost"}
    index = subsonic("getArtists")["artists"]["index"]
    names = [a["name"] for group in index for a in group["artist"]]
    assert names == ["Night Shift", "Road Band", "Sea Band", "Unknown artist"]
    sea = next(a for group in index for a in group["artist"] if a["name"] == "Sea Band")
    artist = subsonic("getArtist", id=sea["id"])["artist"]
    assert [a["name"] for a in artist["album"]] == ["Harbour"] and artist["albumCount"] == 1
    album = subsonic("getAlbum", id=artist["album"][0]["id"])["album"]
    assert [s["title"] for s in album["song"]] == ["Salt Wind", "Море"] and album["songCount"] == 2
    assert album["coverArt"] == album["id"]
    song = subsonic("getSong", id=album["song"][0]["id"])["song"]
    salt = indexed["Salt Wind"]
    assert song["id"] == _sid(salt) and song["duration"] == round(salt.duration_s) and song["suffix"] == "mp3" and song["contentType"] == "audio/mpeg"
    assert song["path"] == "Sea Band/Harbour/01 Salt Wind.mp3" and str(salt.audio_path) not in str(song)  # never the server's folders
    assert song["albumId"] == album["id"] and song["artistId"] == sea["id"] and song["coverArt"] == song["id"]
    # Tracks without an album sit in their artist's unknown album, so every track is reachable.
    night = next(a for group in index for a in group["artist"] if a["name"] == "Night Shift")
    loose = subsonic("getArtist", id=night["id"])["artist"]["album"][0]
    assert loose["name"] == "Unknown album" and [s["title"] for s in subsonic("getAlbum", id=loose["id"])["album"]["song"]] == ["Neon"]
    # Folder-style browsing (DSub and the like) reaches the same songs.
    indexes = subsonic("getIndexes")["indexes"]
    assert [a["name"] for group in indexes["index"] for a in group["artist"]] == names
    directory = subsonic("getMusicDirectory", id=sea["id"])["directory"]
    assert directory["child"][0]["isDir"] is True
    assert [c["title"] for c in subsonic("getMusicDirectory", id=directory["child"][0]["id"])["directory"]["child"]] == ["Salt Wind", "Море"]
    unchanged = subsonic("getIndexes", ifModifiedSince=indexes["lastModified"])["indexes"]
    assert "index" not in unchanged


def test_lists_genres_random_and_search(subsonic, indexed):
    genres = {g["value"]: g for g in subsonic("getGenres")["genres"]["genre"]}
    assert genres["Folk"]["songCount"] == 2 and genres["Folk"]["albumCount"] == 1 and set(genres) == {"Folk", "Rock", "Techno"}
    assert [s["title"] for s in subsonic("getSongsByGenre", genre="folk")["songsByGenre"]["song"]] == ["Salt Wind", "Море"]
    for kind in ("random", "newest", "alphabeticalByName", "alphabeticalByArtist", "frequent", "recent", "starred", "highest"):
        subsonic("getAlbumList2", type=kind, size=50)
        subsonic("getAlbumList", type=kind)
    names = [a["name"] for a in subsonic("getAlbumList2", type="alphabeticalByName", size=50)["albumList2"]["album"]]
    assert names[0] == "Harbour" and len(names) == 4
    assert len(subsonic("getAlbumList2", type="alphabeticalByName", size=2, offset=1)["albumList2"]["album"]) == 2
    assert [a["name"] for a in subsonic("getAlbumList2", type="byGenre", genre="Folk")["albumList2"]["album"]] == ["Harbour"]
    assert [a["year"] for a in subsonic("getAlbumList2", type="byYear", fromYear=2030, toYear=2000)["albumList2"]["album"]] == [2024]
    assert subsonic("getAlbumList2", ok=False, type="byYear")["error"]["code"] == 10
    assert subsonic("getAlbumList2", ok=False, type="mostAwesome")["error"]["code"] == 0
    assert len(subsonic("getRandomSongs", size=3)["randomSongs"]["song"]) == 3
    assert {s["title"] for s in subsonic("getRandomSongs", size=10, genre="Folk")["randomSongs"]["song"]} == {"Salt Wind", "Море"}
    found = subsonic("search3", query="sea")["searchResult3"]
    assert [a["name"] for a in found["artist"]] == ["Sea Band"] and {s["title"] for s in found["song"]} == {"Salt Wind", "Море"}
    everything = subsonic("search3", query='""', songCount=100)["searchResult3"]  # an empty query lists everything (offline sync)
    assert len(everything["song"]) == 6 and len(everything["album"]) == 4
    assert subsonic("search2", query="westward")["searchResult2"]["song"][0]["title"] == "Westward"


def test_xml_by_default_jsonp_with_a_callback(client, listener, indexed):
    response = client.get("/rest/getGenres.view", token_auth())
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{NS}subsonic-response" and root.get("status") == "ok" and root.get("openSubsonic") == "true" and root.get("type") == "crossfade"
    genres = {g.text: g.get("songCount") for g in root.iter(f"{NS}genre")}
    assert genres == {"Folk": "2", "Rock": "1", "Techno": "1"}
    song = ElementTree.fromstring(client.get("/rest/getSong", {**token_auth(), "id": _sid(indexed["Море"])}).content).find(f"{NS}song")
    assert song.get("title") == "Море" and song.get("isDir") == "false" and song.find(f"{NS}genres").get("name") == "Folk"
    failed = ElementTree.fromstring(client.get("/rest/getSong", {**token_auth(), "id": "nope"}).content)
    assert failed.get("status") == "failed" and failed.find(f"{NS}error").get("code") == "70"
    jsonp = client.get("/rest/ping", {**token_auth(), "f": "jsonp", "callback": "cb.done"})
    assert jsonp["Content-Type"].startswith("application/javascript") and jsonp.content.decode().startswith('cb.done({"subsonic-response":')
    hostile = client.get("/rest/ping", {**token_auth(), "f": "jsonp", "callback": "alert(1)//"})
    assert hostile.json()["subsonic-response"]["error"]["code"] == 10 and b"alert" not in hostile.content


@pytest.mark.parametrize(
    "auth, code",
    [
        ({}, 10),
        ({"u": "ana"}, 10),
        ({"u": "ana", "p": "wrong"}, 40),
        ({"u": "ana", "p": "a-long-password-1"}, 40),  # the site's password is never a Subsonic password
        ({"u": "nobody", "p": PASSWORD}, 40),
        ({"u": "ana", "p": "enc:zz"}, 40),
        ({"u": "ana", "t": "0" * 32, "s": "abc"}, 40),
        ({"u": "ana", "t": "0" * 32}, 10),
        ({"u": "ana", "p": PASSWORD, "t": "0" * 32, "s": "abc"}, 43),
        ({"apiKey": "cf_not-a-key"}, 44),
        ({"apiKey": "KEY", "u": "ana"}, 43),
        ({**token_auth(), "v": "2.0.0"}, 30),
        ({**token_auth(), "v": "0.9.0"}, 20),
    ],
)
def test_wrong_credentials_give_the_spec_s_codes(subsonic, api_key, auth, code):
    auth = {k: (api_key if v == "KEY" else v) for k, v in auth.items()}
    assert subsonic("ping", ok=False, auth=auth)["error"]["code"] == code


def test_every_way_to_authenticate(subsonic, api_key, listener):
    assert subsonic("ping", auth={"u": "ana", "p": PASSWORD})["status"] == "ok"
    assert subsonic("ping", auth={"u": "ana", "p": "enc:" + PASSWORD.encode().hex()})["status"] == "ok"
    assert subsonic("ping", auth={"apiKey": api_key})["status"] == "ok"
    assert subsonic("getUser", auth={"apiKey": api_key}, username="ana")["user"]["username"] == "ana"
    assert subsonic("ping", post=True)["status"] == "ok"  # formPost
    listener.is_active = False
    listener.save()
    assert subsonic("ping", ok=False, auth={"apiKey": api_key})["error"]["code"] == 44
    assert subsonic("ping", ok=False)["error"]["code"] == 40


def test_bad_ids_missing_parameters_and_unknown_methods(subsonic, indexed, client):
    for method, params in [("getSong", {"id": "tr-999999"}), ("getSong", {"id": "al-1"}), ("getSong", {"id": "12; drop"}), ("getAlbum", {"id": "al-999"}),
                           ("getArtist", {"id": "ar-x"}), ("getPlaylist", {"id": "pl-5"}), ("stream", {"id": "tr-0"}), ("getCoverArt", {"id": "zz"}),
                           ("getSimilarSongs2", {"id": "pl-1"}), ("star", {"id": "tr-424242"}), ("scrobble", {"id": "tr-424242"})]:
        assert subsonic(method, ok=False, **params)["error"]["code"] == 70, method
    for method in ("getSong", "getAlbum", "getArtist", "stream", "getCoverArt", "getLyricsBySongId", "getSimilarSongs", "findSonicPath", "getSongsByGenre", "star"):
        assert subsonic(method, ok=False)["error"]["code"] == 10, method
    assert subsonic("getRandomSongs", ok=False, size="lots")["error"]["code"] == 0
    unknown = subsonic.raw("jukeboxControl")
    assert unknown.status_code == 404 and unknown.json()["subsonic-response"]["error"]["code"] == 70


def test_a_crash_is_code_0_without_a_traceback(subsonic, indexed, monkeypatch):
    from playlists.subsonic import browsing

    def broken(*args, **kwargs):
        raise RuntimeError("secret path /srv/music")

    monkeypatch.setattr(browsing.browse, "genre_counts", broken)
    error = subsonic("getGenres", ok=False)["error"]
    assert error["code"] == 0 and "secret" not in error["message"]


def test_stream_download_ranges_and_cover_art(subsonic, indexed, client):
    salt = indexed["Salt Wind"]
    whole = subsonic.raw("stream", id=_sid(salt), format="raw", maxBitRate=128)
    data = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and data == open(salt.audio_path, "rb").read() and whole["Content-Type"] == "audio/mpeg"
    part = subsonic.raw("stream", id=_sid(salt), HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and b"".join(part.streaming_content) == data[100:200] and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    download = subsonic.raw("download", id=_sid(salt))
    assert download["Content-Disposition"].startswith("attachment") and b"".join(download.streaming_content) == data
    art = subsonic.raw("getCoverArt", id=_sid(salt), size=50)
    assert art.status_code == 200 and art["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(art.streaming_content))) as picture:
        assert picture.size == (50, 50)
        red = picture.convert("RGB").getpixel((49, 49))
        assert abs(red[0] - COVER_COLOURS["Salt Wind"][0]) < 20
    album = subsonic("getSong", id=_sid(salt))["song"]["albumId"]
    assert subsonic.raw("getCoverArt", id=album).status_code == 200
    assert subsonic.raw("getCoverArt", id=f"ar-{salt.artist_id}").status_code == 200
    assert subsonic("getCoverArt", ok=False, id=_sid(indexed["drone"]))["error"]["code"] == 70


def test_lyrics_plain_and_synced(subsonic, indexed):
    synced = subsonic("getLyricsBySongId", id=_sid(indexed["Westward"]))["lyricsList"]["structuredLyrics"][0]
    assert synced["synced"] is True and synced["line"][0] == {"start": 1000, "value": "I left my mother's kitchen"} and synced["line"][3]["start"] == 10000
    plain = subsonic("getLyricsBySongId", id=_sid(indexed["Salt Wind"]))["lyricsList"]["structuredLyrics"][0]
    assert plain["synced"] is False and plain["lang"] == "en" and plain["line"][1] == {"value": "The harbour lights are fading"}
    assert subsonic("getLyricsBySongId", id=_sid(indexed["drone"]))["lyricsList"].get("structuredLyrics", []) == []
    by_name = subsonic("getLyrics", artist="sea band", title="salt wind")["lyrics"]
    assert by_name["title"] == "Salt Wind" and "Salt wind in the rigging" in by_name["value"]
    assert subsonic("getLyrics", artist="Nobody", title="Nothing")["lyrics"]["value"] == ""


def test_playlists_made_changed_and_deleted_from_a_player(subsonic, indexed, listener):
    songs = [_sid(indexed[t]) for t in ("Neon", "Westward", "rain")]
    made = subsonic("createPlaylist", name="Drive", songId=songs)["playlist"]
    assert [e["title"] for e in made["entry"]] == ["Neon", "Westward", "rain"] and made["owner"] == "ana" and made["songCount"] == 3
    playlist = Playlist.objects.get(owner=listener)
    assert list(playlist.items.values_list("track__title", flat=True)) == ["Neon", "Westward", "rain"]
    subsonic("updatePlaylist", post=True, playlistId=made["id"], name="Night drive", comment="for the road", songIdToAdd=[_sid(indexed["drone"])], songIndexToRemove=[0])
    shown = subsonic("getPlaylist", id=made["id"])["playlist"]
    assert shown["name"] == "Night drive" and shown["comment"] == "for the road" and [e["title"] for e in shown["entry"]] == ["Westward", "rain", "drone"]
    assert subsonic("updatePlaylist", ok=False, playlistId=made["id"], songIndexToRemove=[7])["error"]["code"] == 0
    replaced = subsonic("createPlaylist", playlistId=made["id"], songId=[_sid(indexed["Море"])])["playlist"]
    assert [e["title"] for e in replaced["entry"]] == ["Море"]
    assert [p["name"] for p in subsonic("getPlaylists")["playlists"]["playlist"]] == ["Night drive"]
    # Someone else's playlists are not there, and not reachable.
    other = get_user_model().objects.create_user("bo", password="x-long-password-2")
    theirs = Playlist.objects.create(owner=other, name="Private")
    assert subsonic("getPlaylist", ok=False, id=f"pl-{theirs.id}")["error"]["code"] == 70
    assert subsonic("deletePlaylist", ok=False, id=f"pl-{theirs.id}")["error"]["code"] == 70
    assert subsonic("getPlaylists", ok=False, username="bo")["error"]["code"] == 50
    subsonic("deletePlaylist", id=made["id"])
    assert not Playlist.objects.filter(owner=listener).exists()


def test_stars_ratings_scrobbles_and_now_playing(subsonic, indexed, listener):
    neon, salt = indexed["Neon"], indexed["Salt Wind"]
    subsonic("star", id=[_sid(neon), f"al-{salt.album_id}"], artistId=f"ar-{salt.artist_id}")
    assert Rating.objects.get(user=listener, track=neon).value == Rating.Value.LIKE  # a star is a like
    assert AlbumStar.objects.filter(user=listener, album_id=salt.album_id).exists()
    starred = subsonic("getStarred2")["starred2"]
    assert [s["title"] for s in starred["song"]] == ["Neon"] and [a["name"] for a in starred["album"]] == ["Harbour"] and [a["name"] for a in starred["artist"]] == ["Sea Band"]
    assert subsonic("getSong", id=_sid(neon))["song"]["starred"]
    assert [a["name"] for a in subsonic("getAlbumList2", type="starred")["albumList2"]["album"]] == ["Harbour"]
    subsonic("getStarred")
    subsonic("unstar", id=_sid(neon), albumId=f"al-{salt.album_id}")
    assert not Rating.objects.filter(user=listener, track=neon).exists() and not AlbumStar.objects.exists()
    subsonic("setRating", id=_sid(salt), rating=5)
    assert Rating.objects.get(user=listener, track=salt).value == 1 and subsonic("getSong", id=_sid(salt))["song"]["userRating"] == 5
    subsonic("setRating", id=_sid(salt), rating=3)
    rating = Rating.objects.get(user=listener, track=salt)
    assert rating.value == Rating.Value.NEITHER and rating.stars == 3 and "starred" not in subsonic("getSong", id=_sid(salt))["song"]
    subsonic("setRating", id=_sid(salt), rating=1)
    assert Rating.objects.get(user=listener, track=salt).value == Rating.Value.DISLIKE
    subsonic("setRating", id=_sid(salt), rating=0)
    assert Rating.objects.get(user=listener, track=salt).stars is None  # the dislike stays, the stars go
    assert subsonic("setRating", ok=False, id=_sid(salt), rating=6)["error"]["code"] == 0
    assert subsonic("setRating", ok=False, id=f"al-{salt.album_id}", rating=4)["error"]["code"] == 0
    # Scrobbles: a now-playing notice, then plays (a repeated report of the same listen counts once).
    subsonic("scrobble", id=_sid(neon), submission="false")
    entry = subsonic("getNowPlaying")["nowPlaying"]["entry"][0]
    assert entry["title"] == "Neon" and entry["username"] == "ana" and entry["minutesAgo"] == 0
    subsonic("scrobble", id=[_sid(neon), _sid(salt)], time=["1700000000000", "1700000300000"])
    subsonic("scrobble", id=_sid(neon), time="1700000000000", submission="True")
    subsonic("scrobble", id=_sid(neon))
    assert Play.objects.filter(user=listener, track=neon).count() == 2 and Play.objects.filter(track=salt).count() == 1
    assert not NowPlaying.objects.exists()
    song = subsonic("getSong", id=_sid(neon))["song"]
    assert song["playCount"] == 2 and song["played"]
    assert [a["name"] for a in subsonic("getAlbumList2", type="frequent")["albumList2"]["album"]][:1] == ["Unknown album"]
    assert subsonic("scrobble", ok=False, id=_sid(neon), time="soon")["error"]["code"] == 0


def test_similar_songs_are_the_hybrid_model_s_answer(subsonic, indexed, settings):
    salt = indexed["Salt Wind"]
    expected = [f"tr-{n.track.id}" for n in selectors.track_similar(salt.id, limit=4, balance=settings.CROSSFADE.default_balance)]
    for method, key in (("getSimilarSongs", "similarSongs"), ("getSimilarSongs2", "similarSongs2")):
        assert [s["id"] for s in subsonic(method, id=_sid(salt), count=4)[key]["song"]] == expected
    sound_only = [f"tr-{n.track.id}" for n in selectors.track_similar(salt.id, limit=4, balance=1.0)]
    assert [s["id"] for s in subsonic("getSimilarSongs2", id=_sid(salt), count=4, balance=1)["similarSongs2"]["song"]] == sound_only
    by_album = subsonic("getSimilarSongs2", id=f"al-{salt.album_id}", count=3)["similarSongs2"]["song"]
    by_artist = subsonic("getSimilarSongs2", id=f"ar-{salt.artist_id}", count=3)["similarSongs2"]["song"]
    assert len(by_album) == 3 and len(by_artist) == 3 and _sid(salt) not in [s["id"] for s in by_album]
    matches = subsonic("getSonicSimilarTracks", id=_sid(salt), count=4)["sonicMatch"]
    neighbours = selectors.track_similar(salt.id, limit=4, balance=settings.CROSSFADE.default_balance)
    assert [m["entry"]["id"] for m in matches] == expected
    assert [m["similarity"] for m in matches] == [pytest.approx((1 + n.score) / 2, abs=1e-5) for n in neighbours]
    assert all(0 <= m["similarity"] <= 1 for m in matches) and matches[0]["similarity"] >= matches[-1]["similarity"]
    path = subsonic("findSonicPath", startSongId=_sid(salt), endSongId=_sid(indexed["Neon"]), count=4)["sonicMatch"]
    assert path[0]["entry"]["id"] == _sid(salt) and path[-1]["entry"]["id"] == _sid(indexed["Neon"]) and path[0]["similarity"] == 1.0
    assert 2 <= len(path) <= 4
    assert subsonic("findSonicPath", ok=False, startSongId=_sid(salt), endSongId=_sid(salt))["error"]["code"] == 0
    assert subsonic("getArtistInfo2", id=f"ar-{salt.artist_id}")["artistInfo2"]["similarArtist"] is not None


def test_top_songs_are_the_most_played_then_the_most_typical(subsonic, indexed, listener):
    salt, sea = indexed["Salt Wind"], indexed["Море"]
    first = [s["title"] for s in subsonic("getTopSongs", artist="Sea Band")["topSongs"]["song"]]
    assert sorted(first) == ["Salt Wind", "Море"]
    least_typical = first[-1]
    subsonic("scrobble", id=_sid(indexed[least_typical]))
    assert [s["title"] for s in subsonic("getTopSongs", id=f"ar-{salt.artist_id}")["topSongs"]["song"]][0] == least_typical
    assert subsonic("getTopSongs", artist="Nobody")["topSongs"].get("song", []) == []
    assert {salt.id, sea.id}


def test_plays_and_stars_feed_the_taste_model(subsonic, indexed, listener):
    from playlists.taste.selectors import play_signal, taste_get

    subsonic("scrobble", id=[_sid(indexed["Neon"])] * 1)
    assert set(play_signal(user=listener)) == {indexed["Neon"].id}
    subsonic("star", id=_sid(indexed["Salt Wind"]))
    with pytest.raises(Exception, match="likes"):
        taste_get(user=listener)  # 2 positives (a play, a star) and no dislikes are not enough yet
    assert play_signal(user=listener)[indexed["Neon"].id] > 0


def test_the_spec_check_catches_a_wrong_shape(subsonic, indexed, client):
    from tests.playlists.subsonic.conftest import token_auth
    from tests.support.opensubsonic import answer_check

    body = client.get("/rest/getSong", {**token_auth(), "f": "json", "id": _sid(indexed["Neon"])}).json()
    answer_check("getSong", body)
    del body["subsonic-response"]["song"]["title"]
    with pytest.raises(AssertionError, match="title"):
        answer_check("getSong", body)
