"""Keeping playlists: rename, reorder, remove, regenerate, delete; exports; the builder's controls; ratings pages."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from playlists.errors import ControlError
from playlists.generation.services import playlist_generate, playlist_regenerate
from playlists.generation.settings import PlaylistSettings
from playlists.keep.export import XSPF_NS, playlist_export
from playlists.keep.services import playlist_item_move, playlist_item_remove, playlist_rename, playlist_reorder
from playlists.models import Artist, Playlist, Rating, Track
from playlists.taste.services import rating_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def playlist(indexed, user):
    return playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=5, balance=0.7, diversity=0.2, exclude_genres=["techno"]))


def _track_ids(playlist):
    return list(playlist.items.order_by("position").values_list("track_id", flat=True))


# -- services ------------------------------------------------------------------
def test_rename_reorder_remove(playlist):
    playlist_rename(playlist, name="  Sea and road ")
    assert Playlist.objects.get(id=playlist.id).name == "Sea and road"
    with pytest.raises(ControlError, match="needs a name"):
        playlist_rename(playlist, name="   ")
    items = list(playlist.items.order_by("position"))
    reversed_ids = [i.id for i in reversed(items)]
    playlist_reorder(playlist, item_ids=reversed_ids)
    assert list(playlist.items.order_by("position").values_list("id", flat=True)) == reversed_ids
    with pytest.raises(ControlError, match="exactly once"):
        playlist_reorder(playlist, item_ids=reversed_ids[:-1])
    playlist_item_move(playlist, item_id=reversed_ids[0], offset=2)
    assert list(playlist.items.order_by("position").values_list("id", flat=True)) == [reversed_ids[1], reversed_ids[2], reversed_ids[0], *reversed_ids[3:]]
    playlist_item_remove(playlist, item_id=reversed_ids[1])
    assert list(playlist.items.order_by("position").values_list("position", flat=True)) == [0, 1, 2, 3]
    assert reversed_ids[1] not in playlist.items.values_list("id", flat=True)


def test_regenerate_uses_the_stored_settings(playlist, indexed):
    before = _track_ids(playlist)
    playlist_rename(playlist, name="Kept name")
    playlist.items.all().delete()
    again = playlist_regenerate(Playlist.objects.get(id=playlist.id))
    assert again.id == playlist.id and again.name == "Kept name"
    assert _track_ids(again) == before
    assert indexed["Neon"].id not in _track_ids(again)  # the genre filter came back with the settings
    changed = playlist_regenerate(again, length=3)
    assert len(_track_ids(changed)) == 3 and changed.settings["exclude_genres"] == ["techno"]


# -- exports -------------------------------------------------------------------
def test_m3u8_points_at_the_files_relative_to_the_music_folder(playlist, library, settings):
    settings.CROSSFADE_MUSIC_DIR = library
    text, content_type, filename = playlist_export(playlist, fmt="m3u8")
    assert content_type.startswith("audio/x-mpegurl") and filename.endswith(".m3u8")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if line and not line.startswith("#")]
    infos = [line for line in lines if line.startswith("#EXTINF:")]
    expected = [Path(Track.objects.get(id=t).audio_path) for t in _track_ids(playlist)]
    assert len(entries) == len(infos) == len(expected)
    for entry, info, path in zip(entries, infos, expected):
        assert not Path(entry).is_absolute()
        assert (library / entry).resolve() == path.resolve() and (library / entry).is_file()
        seconds, _, label = info[len("#EXTINF:") :].partition(",")
        assert int(seconds) > 0 and label
    assert "Sea Band - Salt Wind" in infos[0]


def test_m3u8_keeps_absolute_paths_outside_the_music_folder(playlist, tmp_path, settings):
    settings.CROSSFADE_MUSIC_DIR = tmp_path / "elsewhere"
    text, _, _ = playlist_export(playlist, fmt="m3u8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(Path(e).is_absolute() and Path(e).is_file() for e in entries)


def test_xspf_parses_and_locates_every_file(playlist, library, settings, tmp_path):
    for music_dir in (library, tmp_path / "elsewhere"):
        settings.CROSSFADE_MUSIC_DIR = music_dir
        text, content_type, _ = playlist_export(playlist, fmt="xspf")
        root = ElementTree.fromstring(text.encode("utf-8"))
        ns = {"x": XSPF_NS}
        assert root.tag == f"{{{XSPF_NS}}}playlist" and root.get("version") == "1"
        assert root.find("x:title", ns).text == playlist.name
        tracks = root.findall("x:trackList/x:track", ns)
        expected = [Track.objects.get(id=t) for t in _track_ids(playlist)]
        assert len(tracks) == len(expected)
        for node, track in zip(tracks, expected):
            location = urlparse(node.find("x:location", ns).text)
            path = Path(unquote(location.path)) if location.scheme == "file" else music_dir / unquote(location.path)
            assert path.resolve() == Path(track.audio_path).resolve()
            assert node.find("x:title", ns).text == track.title
            assert int(node.find("x:duration", ns).text) == int(round(track.duration_s * 1000))


def test_json_export_has_tracks_settings_and_explanations(playlist, library, settings):
    settings.CROSSFADE_MUSIC_DIR = library
    data = json.loads(playlist_export(playlist, fmt="json")[0])
    assert data["name"] == playlist.name and data["settings"]["exclude_genres"] == ["techno"]
    assert [t["id"] for t in data["tracks"]] == _track_ids(playlist)
    assert data["tracks"][0]["is_seed"] and data["tracks"][1]["explanation"]["why"]
    assert all((library / t["path"]).is_file() for t in data["tracks"])


# -- web -------------------------------------------------------------------------
def test_builder_takes_every_control_and_an_uploaded_file(client, indexed, user):
    neon = indexed["Neon"]
    with open(neon.audio_path, "rb") as upload:
        response = client.post(
            reverse("playlists:playlist_new"),
            {
                "seeds": [indexed["Westward"].id], "seed_artists": [Artist.objects.get(name="Sea Band").id],
                "seed_text": "rain on the window", "seed_file": upload, "length": 5, "balance": 0.5, "diversity": 0.3,
                "max_per_artist": 2, "exclude_albums": "Nowhere", "languages": "en, ru", "order": "flow", "min_tempo": "", "name": "Mixed",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    playlist = Playlist.objects.get(owner=user, name="Mixed")
    assert playlist.settings["seed_text"] == "rain on the window" and playlist.settings["seed_audio"][0]["name"] == "Neon.ogg"
    assert playlist.settings["order"] == "flow" and playlist.settings["languages"] == ["en", "ru"]
    assert Track.objects.count() == 6  # the upload was not catalogued
    page = client.get(response["Location"]).content.decode()
    whys = re.findall(r'<span class="why">([^<]*)</span>', page)
    assert len(whys) == 5 and all(whys) and not any(re.search(r"\d", why) for why in whys), whys
    assert "M3U8" in page and "Regenerate" in page


def test_builder_explains_bad_input(client, indexed, user, edge_audio):
    nothing = client.post(reverse("playlists:playlist_new"), {"length": 5, "balance": 0.5})
    assert b"Choose at least one seed track" in nothing.content
    with open(edge_audio["not_audio.mp3"], "rb") as upload:
        bad = client.post(reverse("playlists:playlist_new"), {"seed_file": upload, "length": 5, "balance": 0.5})
    assert bad.status_code == 200 and "not audio Crossfade can read" in bad.content.decode() and "Choose at least one" not in bad.content.decode()
    six = client.post(reverse("playlists:playlist_new"), {"seeds": list(Track.objects.values_list("id", flat=True)), "length": 5, "balance": 0.5}).content.decode()
    assert "Choose at most 5 seed tracks" in six and "Choose at least one" not in six
    bad_attribute = client.post(reverse("playlists:playlist_new"), {"seeds": [indexed["Neon"].id], "length": 5, "balance": 0.5, "min_tempo": "fast"})
    assert b"min tempo must be a number" in bad_attribute.content
    too_few = client.post(reverse("playlists:playlist_new"), {"seeds": [indexed["Neon"].id], "length": 9, "balance": 0.5, "exclude_genres": "folk, rock"}, follow=True)
    assert "only" in too_few.content.decode() and "of 9 tracks" in too_few.content.decode()
    assert Playlist.objects.filter(owner=user).count() == 1


def test_playlist_pages_edit_export_and_delete(client, playlist, library, settings):
    settings.CROSSFADE_MUSIC_DIR = library
    detail = reverse("playlists:playlist_detail", args=[playlist.id])
    assert client.post(reverse("playlists:playlist_rename", args=[playlist.id]), {"name": "Renamed"}).status_code == 302
    first, second = list(playlist.items.order_by("position"))[:2]
    client.post(reverse("playlists:playlist_item_move", args=[playlist.id, first.id]), {"offset": 1})
    assert list(playlist.items.order_by("position"))[:2] == [second, first]
    client.post(reverse("playlists:playlist_item_remove", args=[playlist.id, second.id]))
    assert playlist.items.count() == 4
    playlist.refresh_from_db()
    assert playlist.edited_at is not None
    # Hand edits are not thrown away without asking: the box must be ticked.
    refused = client.post(reverse("playlists:playlist_regenerate", args=[playlist.id]), follow=True).content.decode()
    assert "replace those edits" in refused and playlist.items.count() == 4
    client.post(reverse("playlists:playlist_regenerate", args=[playlist.id]), {"replace_edits": "1"})
    assert playlist.items.count() == 5
    playlist.refresh_from_db()
    assert playlist.edited_at is None
    download = client.get(reverse("playlists:playlist_download", args=[playlist.id, "m3u8"]))
    assert download.status_code == 200 and download["Content-Disposition"] == 'attachment; filename="Renamed.m3u8"'
    assert download.content.decode().startswith("#EXTM3U")
    assert client.get(reverse("playlists:playlist_download", args=[playlist.id, "pls"])).status_code == 404
    page = client.get(detail).content.decode()
    assert "Renamed" in page and page.count('class="why"') == 5 and "Save to Spotify" not in page  # Spotify is not set up here
    other = get_user_model().objects.create_user("other", password="a-long-password-2")
    client.force_login(other)
    assert client.post(reverse("playlists:playlist_delete", args=[playlist.id])).status_code == 404
    assert client.get(reverse("playlists:playlist_download", args=[playlist.id, "json"])).status_code == 404
    client.force_login(playlist.owner)
    assert client.post(reverse("playlists:playlist_delete", args=[playlist.id])).status_code == 302
    assert not Playlist.objects.filter(id=playlist.id).exists()


def test_like_dislike_buttons_and_for_you_says_what_it_needs(client, indexed, user):
    track = indexed["Neon"]
    page = client.get(reverse("playlists:track_detail", args=[track.id])).content.decode()
    assert 'name="rating" value="like"' in page
    client.post(reverse("playlists:track_rate", args=[track.id]), {"rating": "like"})
    assert Rating.objects.get(user=user, track=track).value == 1
    client.post(reverse("playlists:track_rate", args=[track.id]), {"rating": "dislike"})
    assert Rating.objects.get(user=user, track=track).value == -1
    client.post(reverse("playlists:track_rate", args=[track.id]), {"rating": "clear"})
    assert not Rating.objects.filter(user=user).exists()
    rating_set(user=user, track_id=indexed["Westward"].id, value=1)
    for_you = client.get(reverse("playlists:for_you")).content.decode()
    assert "at least 5 likes and 5 dislikes" in for_you and "you have 1 and 0" in for_you


def test_adjusting_a_playlist_changes_only_what_was_moved(client, indexed):
    from django.contrib.auth import get_user_model

    from playlists.generation.services import playlist_generate

    owner = get_user_model().objects.create_user("adjuster", password="a-long-password-7")
    client.force_login(owner)
    playlist = playlist_generate(owner=owner, settings=PlaylistSettings(seed_ids=[indexed["Salt Wind"].id], length=5, balance=0.5, diversity=0.2, order="flow"))
    page = client.get(reverse("playlists:playlist_detail", args=[playlist.id])).content.decode()
    assert "adjust and regenerate" in page and 'name="diversity"' in page and 'value="0.2"' in page
    response = client.post(reverse("playlists:playlist_regenerate", args=[playlist.id]), {"length": 3, "balance": 1.0, "diversity": 0.2, "max_per_artist": "", "order": "flow"}, follow=True)
    playlist.refresh_from_db()
    assert playlist.settings["length"] == 3 and playlist.settings["balance"] == 1.0
    assert playlist.settings["seed_ids"] == [indexed["Salt Wind"].id] and playlist.settings["order"] == "flow" and playlist.settings["diversity"] == 0.2
    assert playlist.items.count() == 3 and "every other setting kept" in response.content.decode()
    bad = client.post(reverse("playlists:playlist_regenerate", args=[playlist.id]), {"balance": 7}, follow=True)
    assert "Could not regenerate" in bad.content.decode()
    playlist.refresh_from_db()
    assert playlist.settings["balance"] == 1.0
