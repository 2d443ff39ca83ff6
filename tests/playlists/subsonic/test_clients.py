"""Real Subsonic client libraries nobody here wrote (py-opensonic, py-sonic) against a live Crossfade server on 127.0.0.1.

Both ways of logging in each (API key and md5 token for py-opensonic; token
and ``enc:`` password for py-sonic), then browse artist -> album -> song,
search, stream bytes and a range, cover art, lyrics, make / change / delete a
playlist, star and scrobble, and ask for similar songs and a sonic path; what
comes back is checked against the catalogue and the hybrid model's own answer.
"""
from __future__ import annotations

import asyncio
import io
from urllib.parse import urlsplit

import pytest
from PIL import Image

from playlists.catalogue import selectors
from playlists.models import Play, Playlist, Rating, Track
from tests.playlists.subsonic.conftest import PASSWORD

libopensonic = pytest.importorskip("libopensonic")
libsonic = pytest.importorskip("libsonic")

pytestmark = pytest.mark.django_db(transaction=True)


def _server(live_server) -> tuple[str, int]:
    parts = urlsplit(live_server.url)
    return f"{parts.scheme}://{parts.hostname}", int(parts.port)


async def _opensonic_session(connection, indexed, expected) -> None:
    """``expected``: the hybrid model's own nearest tracks of Salt Wind (read before, outside the event loop)."""
    assert await connection.ping()
    extensions = {e.name for e in await connection.get_open_subsonic_extensions()}
    assert {"apiKeyAuthentication", "songLyrics", "sonicSimilarity"} <= extensions
    artists = await connection.get_artists()
    by_name = {a.name: a for group in artists.index for a in group.artist}
    assert set(by_name) == {"Night Shift", "Road Band", "Sea Band", "Unknown artist"}
    sea = await connection.get_artist(by_name["Sea Band"].id)
    album = await connection.get_album(sea.album[0].id)
    assert album.name == "Harbour" and [s.title for s in album.song] == ["Salt Wind", "Море"]
    salt = album.song[0]
    assert (await connection.get_song(salt.id)).duration == round(indexed["Salt Wind"].duration_s)
    found = await connection.search3("westward")
    assert [s.title for s in found.song] == ["Westward"]
    # Stream the whole file and a range of it.
    whole = await connection.stream(salt.id)
    data = await whole.read()
    assert data == open(indexed["Salt Wind"].audio_path, "rb").read()
    part = await connection.stream(salt.id, byte_range="bytes=10-19")
    assert part.status == 206 and await part.read() == data[10:20]
    art = await connection.get_cover_art(salt.cover_art, size=40)
    with Image.open(io.BytesIO(await art.read())) as picture:
        assert picture.size == (40, 40)
    westward = found.song[0]
    lyrics = await connection.get_lyrics_by_song_id(westward.id)
    assert lyrics[0].synced and lyrics[0].line[0].start == 1000 and lyrics[0].line[0].value == "I left my mother's kitchen"
    # Playlists: make, change, read, delete.
    assert await connection.create_playlist(name="From a phone", song_ids=[salt.id, westward.id])
    made = next(p for p in await connection.get_playlists() if p.name == "From a phone")
    assert await connection.update_playlist(made.id, name="Renamed", song_ids_to_add=[album.song[1].id], song_indices_to_remove=[0])
    shown = await connection.get_playlist(made.id)
    assert shown.name == "Renamed" and [e.title for e in shown.entry] == ["Westward", "Море"]
    # Star and scrobble.
    assert await connection.star(sids=[westward.id])
    assert [s.title for s in (await connection.get_starred2()).song] == ["Westward"]
    assert await connection.scrobble(westward.id)
    assert await connection.scrobble(salt.id, submission=False)
    assert [e.title for e in await connection.get_now_playing()] == ["Salt Wind"]
    # Similarity: the hybrid model's neighbours, in order, with normalised scores; a path from one song to another.
    similar = await connection.get_similar_songs2(salt.id, count=4)
    assert [s.id for s in similar] == [f"tr-{n.track.id}" for n in expected]
    matches = await connection.get_sonic_similar_tracks(salt.id, count=4)
    assert [m.entry.id for m in matches] == [s.id for s in similar]
    assert [round(m.similarity, 4) for m in matches] == [round((1 + n.score) / 2, 4) for n in expected]
    neon = f"tr-{indexed['Neon'].id}"
    path = await connection.find_sonic_path(salt.id, neon, count=4)
    assert path[0].entry.id == salt.id and path[-1].entry.id == neon
    top = await connection.get_top_songs("Road Band")
    assert [s.title for s in top] == ["Westward"]
    assert await connection.delete_playlist(made.id)


def test_py_opensonic_with_an_api_key_and_with_a_token(live_server, indexed, api_key, listener, settings):
    host, port = _server(live_server)
    by_key = libopensonic.AsyncConnection(host, api_key=api_key, port=port, app_name="crossfade-tests")

    async def session() -> None:
        try:
            await _opensonic_session(by_key, indexed, expected)
        finally:
            await by_key.cleanup()

    expected = selectors.track_similar(indexed["Salt Wind"].id, limit=4, balance=settings.CROSSFADE.default_balance)
    asyncio.run(session())
    assert Rating.objects.get(user=listener).track.title == "Westward" and Play.objects.filter(user=listener).count() == 1
    assert not Playlist.objects.exists()

    async def token_session() -> None:
        by_token = libopensonic.AsyncConnection(host, username="ana", password=PASSWORD, port=port, use_get=True, use_views=False)
        assert await by_token.ping()
        assert [g.value for g in await by_token.get_genres()] == ["Folk", "Rock", "Techno"]
        wrong = libopensonic.AsyncConnection(host, username="ana", password="not it", port=port)
        try:
            with pytest.raises(libopensonic.errors.CredentialError):
                await wrong.ping()
            with pytest.raises(libopensonic.errors.DataNotFoundError):
                await by_token.get_song("tr-424242")
        finally:
            await by_token.cleanup()
            await wrong.cleanup()

    asyncio.run(token_session())


def test_py_sonic_with_a_token_and_with_an_encoded_password(live_server, indexed, listener):
    host, port = _server(live_server)
    for legacy in (False, True):
        connection = libsonic.Connection(host, "ana", PASSWORD, port=port, serverPath="/rest", appName="py-sonic-tests", legacyAuth=legacy)
        assert connection.ping()
        artists = connection.getArtists()["artists"]["index"]
        road = next(a for group in artists for a in group["artist"] if a["name"] == "Road Band")
        album = connection.getArtist(road["id"])["artist"]["album"][0]
        songs = connection.getAlbum(album["id"])["album"]["song"]
        assert [s["title"] for s in songs] == ["Westward"]
        westward = songs[0]
        assert connection.search3("sea band")["searchResult3"]["artist"][0]["name"] == "Sea Band"
        assert connection.stream(westward["id"]).read() == open(indexed["Westward"].audio_path, "rb").read()
        assert connection.download(westward["id"]).read()[:4] == open(indexed["Westward"].audio_path, "rb").read()[:4]
        assert connection.getCoverArt(westward["coverArt"], size=20).read()[:3] == b"\xff\xd8\xff"  # a JPEG
        assert "road goes ever westward" in connection.getLyrics(artist="Road Band", title="Westward")["lyrics"]["value"]
        created = connection.createPlaylist(name="py-sonic", songIds=[westward["id"]])
        assert created["status"] == "ok"
        playlist = next(p for p in connection.getPlaylists()["playlists"]["playlist"] if p["name"] == "py-sonic")
        assert connection.updatePlaylist(playlist["id"], songIdsToAdd=[westward["id"]])["status"] == "ok"
        assert [e["title"] for e in connection.getPlaylist(playlist["id"])["playlist"]["entry"]] == ["Westward", "Westward"]
        assert connection.deletePlaylist(playlist["id"])["status"] == "ok"
        assert connection.star(sids=[westward["id"]])["status"] == "ok"
        assert connection.setRating(westward["id"], 2)["status"] == "ok"
        assert Rating.objects.get(user=listener, track=indexed["Westward"]).value == Rating.Value.DISLIKE
        assert connection.scrobble(westward["id"], listenTime=1_700_000_000 + legacy)["status"] == "ok"
        similar = connection.getSimilarSongs(westward["id"], count=3)["similarSongs"]["song"]
        assert len(similar) == 3 and westward["id"] not in [s["id"] for s in similar]
        assert all(Track.objects.filter(id=int(s["id"][3:])).exists() for s in similar)
        with pytest.raises(libsonic.errors.DataNotFoundError):
            connection.getAlbum("al-999999")
    assert Play.objects.filter(user=listener).count() == 2
    wrong = libsonic.Connection(host, "ana", "a-long-password-1", port=port, serverPath="/rest")
    with pytest.raises(libsonic.errors.CredentialError):
        wrong.getGenres()
