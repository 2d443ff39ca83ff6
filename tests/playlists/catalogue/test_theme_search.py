"""Language per track, and search by theme through the site, the API and the playlist builder."""
from __future__ import annotations

import dataclasses

import pytest
from django.urls import reverse

from ml.config import LyricsConfig
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.catalogue.selectors import track_theme_search
from playlists.errors import SeedError
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Embedding, Playlist, Track

pytestmark = pytest.mark.django_db


def test_ingest_detects_the_language_where_tags_are_silent(library, index_dir):
    library_ingest(library)
    languages = dict(Track.objects.values_list("title", "language"))
    # Tagged: eng (ID3 USLT) and rus (FLAC). Detected: the .lrc, the m4a tag, the cp1251 .txt.
    assert languages["Salt Wind"] == "en" and languages["Море"] == "ru"
    assert languages["Neon"] == "en" and languages["Westward"] == "en" and languages["rain"] == "ru"
    assert languages["drone"] == "zxx"
    assert Track.objects.instrumental().get().title == "drone"


def test_reindex_fills_missing_languages_and_marks_short_lyrics_instrumental(library, index_dir):
    library_ingest(library)
    hand = Track.objects.create(title="By hand", lyrics="Le vent se lève sur la mer\net nous partons loin de la maison\nsans jamais nous retourner")
    short = Track.objects.create(title="Shout", lyrics="Hey! Ho!\nLet's go!")
    summary = index_rebuild()
    assert summary.languages_detected == 2
    hand.refresh_from_db(), short.refresh_from_db()
    assert hand.language == "fr" and short.language == "zxx"
    assert Embedding.objects.get(track=short, modality="lyrics").status == Embedding.Status.EMPTY
    assert index_rebuild().languages_detected == 0


def test_catalogue_shows_instrumental_and_unknown_in_words(client, user, indexed):
    Track.objects.filter(title="Neon").update(language="und")
    html = client.get(reverse("playlists:catalogue")).content.decode()
    assert ">instrumental<" in html and ">unknown<" in html and ">zxx<" not in html


def test_selector_finds_the_lyrics_written_for_a_theme(indexed):
    assert track_theme_search("songs about leaving home", limit=1)[0].track.title == "Westward"
    assert track_theme_search("dancing all night in the city", limit=1)[0].track.title == "Neon"
    sea = [n.track.title for n in track_theme_search("songs about sailing on the sea", limit=2)]
    # The English sea song, and with a multilingual encoder its Russian sister too.
    assert "Salt Wind" in sea and set(sea) <= {"Salt Wind", "Море", "Westward"}
    # The instrumental has no lyrics vector and never comes back.
    assert "drone" not in [n.track.title for n in track_theme_search("anything at all", limit=50)]


def test_excluded_tracks_are_not_found(indexed):
    Track.objects.filter(title="Westward").update(excluded=True)
    assert "Westward" not in [n.track.title for n in track_theme_search("leaving home", limit=10)]


def test_api_answers_json_ranked_by_score(client, user, indexed):
    response = client.get(reverse("api:search_lyrics"), {"q": "songs about leaving home", "limit": 3})
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert data["q"] == "songs about leaving home" and data["limit"] == 3
    # Only tracks whose lyrics clearly say something about the theme come back (here one of the five with lyrics).
    assert [r["title"] for r in data["results"]][0] == "Westward" and 1 <= len(data["results"]) <= 3
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)
    assert {"id", "title", "artist", "language", "url", "score"} <= set(data["results"][0])


@pytest.mark.parametrize(
    "params, message",
    [({}, "q is required"), ({"q": "sea", "limit": "x"}, "limit must be an integer"), ({"q": "sea", "limit": 0}, "between 1 and 100"), ({"q": "x" * 600}, "at most 500")],
)
def test_api_errors_look_like_spotify(client, user, indexed, params, message):
    response = client.get(reverse("api:search_lyrics"), params)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400 and message in response.json()["error"]["message"]


def test_api_before_any_index_and_after_an_encoder_switch(client, user, library, index_dir, settings):
    library_ingest(library)
    response = client.get(reverse("api:search_lyrics"), {"q": "sea"})
    assert response.status_code == 503 and "reindex" in response.json()["error"]["message"]
    index_rebuild()
    other = "minilm-l6" if settings.CROSSFADE.lyrics.model != "minilm-l6" else "use-multilingual"
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, lyrics=LyricsConfig(model=other))
    response = client.get(reverse("api:search_lyrics"), {"q": "sea"})
    assert response.status_code == 503 and "run `manage.py reindex`" in response.json()["error"]["message"]


def test_a_multilingual_encoder_finds_lyrics_across_languages(library, index_dir, settings):
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, lyrics=LyricsConfig(model="use-multilingual"))
    library_ingest(library)
    index_rebuild()
    assert Embedding.objects.filter(modality="lyrics", status="ok").first().model_version.startswith("use:")
    russian_prompt = [n.track.title for n in track_theme_search("песни о море", limit=2)]
    assert set(russian_prompt) == {"Salt Wind", "Море"}
    english_prompt = [n.track.title for n in track_theme_search("rain and loneliness in an empty kitchen", limit=1)]
    assert english_prompt == ["rain"]


def test_nonsense_finds_nothing_and_a_word_in_the_lyrics_is_always_found(indexed):
    for nonsense in ("asdfghjkl", "qwerty uiop", "xkcd blorf"):
        assert track_theme_search(nonsense, limit=10) == [], nonsense
    assert track_theme_search("asdfghjkl", limit=10, relevant_only=False)  # the index itself still answers
    # A word the lyrics hold is a match even when the encoder scores it low.
    assert "Neon" in [n.track.title for n in track_theme_search("pavement", limit=10)]


def test_the_theme_page_says_when_nothing_is_about_a_prompt(client, user, indexed):
    page = client.get(reverse("playlists:theme_search"), {"q": "asdfghjkl"}).content.decode()
    assert "No lyrics are about “asdfghjkl”" in page and 'id="theme-results"' not in page


def test_theme_page_has_a_search_box_and_results(client, user, indexed):
    empty = client.get(reverse("playlists:theme_search"))
    assert empty.status_code == 200 and b'name="q"' in empty.content
    page = client.get(reverse("playlists:theme_search"), {"q": "songs about leaving home"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-title="Westward"' in html and 'data-title="Neon"' not in html
    bad = client.get(reverse("playlists:theme_search"), {"q": "y" * 600})
    assert bad.status_code == 200 and "at most 500" in bad.content.decode()
    assert reverse("playlists:theme_search").encode() in client.get(reverse("playlists:catalogue")).content


def test_a_theme_seeds_a_playlist(indexed, user):
    # The prompt is a seed in the lyrics space: the best lyric match leads, and tracks without lyrics cannot be judged.
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[], seed_text="songs about leaving home", length=5))
    items = list(playlist.items.order_by("position"))
    assert items[0].track.title == "Westward" and not any(i.is_seed for i in items)
    assert "drone" not in [i.track.title for i in items]
    assert "leaving home" in playlist.name and playlist.settings["seed_text"] == "songs about leaving home"
    assert items[0].explanation["prompt"]["similarity"] >= items[-1].explanation["prompt"]["similarity"]


def test_a_theme_adds_to_chosen_seeds(indexed, user):
    chosen = indexed["drone"].id
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[chosen], seed_text="leaving home", length=6), name="Mixed")
    items = list(playlist.items.order_by("position"))
    assert items[0].track_id == chosen and items[0].is_seed
    assert "Westward" in [i.track.title for i in items[1:4]] and len({i.track_id for i in items}) == len(items)


def test_nothing_to_seed_is_refused(indexed, user):
    with pytest.raises(SeedError, match="choose at least one seed"):
        playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[], seed_text="   "))


def test_the_builder_takes_a_theme(client, indexed, user):
    form = client.get(reverse("playlists:playlist_new"), {"theme": "песни о море"})
    assert 'value="песни о море"' in form.content.decode()
    response = client.post(reverse("playlists:playlist_new"), {"seed_text": "leaving home", "length": 4, "balance": 0.5})
    assert response.status_code == 302
    playlist = Playlist.objects.get()
    assert playlist.items.count() == 4 and playlist.items.get(position=0).track.title == "Westward"
    none = client.post(reverse("playlists:playlist_new"), {"length": 5, "balance": 0.5})
    assert b"Choose at least one seed track" in none.content
