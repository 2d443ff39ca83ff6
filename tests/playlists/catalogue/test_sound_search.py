"""Search by sound in words through the API, the theme page and the playlist builder: tracks ranked by their audio tags."""
from __future__ import annotations

import math

import pytest
from django.urls import reverse

from ml.audio.describe import TagTable, sound_query
from playlists import engine
from playlists.errors import ControlError
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.models import Track

pytestmark = pytest.mark.django_db


def _expected(prompt: str, k: int) -> tuple[list[int], list[str]]:
    """The ranking the tracks' stored tags give for ``prompt``, computed from the database, and the tags the prompt matched."""
    table = TagTable.from_tags({t.id: t.audio_tags for t in Track.objects.exclude(audio_tags={})})
    query = sound_query(prompt, engine.sound_vocabulary(), engine.embedder_get("lyrics"), available=table.keys)
    return [int(i) for i in table.search(query, k=k)[0]], query.matched


def test_the_api_ranks_tracks_by_their_tags_and_says_what_matched(client, user, indexed):
    tagged = Track.objects.exclude(audio_tags={}).count()
    assert tagged >= 5  # reindex tagged every track with audio
    response = client.get(reverse("api:search_themes"), {"q": "calm piano", "mode": "sound", "limit": tagged})
    assert response.status_code == 200
    data = response.json()
    assert data["mode"] == "sound" and data["q"] == "calm piano"
    expected_ids, matched = _expected("calm piano", tagged)
    assert [r["id"] for r in data["results"]] == expected_ids
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)
    assert all(r["lyrics"] is None and r["sound"] is not None for r in data["results"])
    # What a track matched are tags of the prompt, and the best track matched something.
    assert data["results"][0]["matched"] and all(set(r["matched"]) <= set(matched) for r in data["results"])
    assert {"piano", "quiet", "soft"} & set(matched)


def test_a_prompt_with_a_theme_and_a_sound_uses_lyrics_for_the_theme(client, user, indexed):
    response = client.get(reverse("api:search_themes"), {"q": "songs about leaving home with piano", "mode": "both", "limit": 10})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) >= 5 and [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    # "leaving home" is matched on lyrics, "piano" on sound; the score is the mean of the two.
    for result in results:
        lyrics = 0.0 if result["lyrics"] is None else result["lyrics"]  # no lyrics: cannot be about leaving home
        assert result["sound"] is not None
        assert result["score"] == pytest.approx((lyrics + math.tanh(result["sound"] / 2)) / 2, abs=1e-3)
    with_lyrics = [r for r in results if r["lyrics"] is not None]
    assert max(with_lyrics, key=lambda r: r["lyrics"])["title"] == "Westward"
    assert all(r["lyrics"] is None for r in results if r["title"] == "drone")


def test_bad_prompts_and_modes_get_clear_errors(client, user, indexed):
    assert client.get(reverse("api:search_themes"), {"q": "", "mode": "sound"}).json()["error"]["status"] == 400
    long = client.get(reverse("api:search_themes"), {"q": "x" * 600, "mode": "sound"})
    assert long.status_code == 400 and "at most 500" in long.json()["error"]["message"]
    assert client.get(reverse("api:search_themes"), {"q": "piano", "mode": "vibes"}).status_code == 400
    with pytest.raises(ControlError, match="lyrics, sound, both"):
        PlaylistSettings(seed_text="piano", seed_text_mode="vibes")


def test_the_theme_page_searches_by_sound(client, user, indexed):
    page = client.get(reverse("playlists:theme_search"), {"q": "calm piano", "mode": "sound"})
    html = page.content.decode()
    expected_ids, _ = _expected("calm piano", 1)
    first = Track.objects.get(id=expected_ids[0])
    assert page.status_code == 200 and first.title in html
    # Each result says, in its own row, which tags the prompt matched.
    row = html[html.index(f">{first.title}</a>") :].split("</tr>", 1)[0]
    assert '<span class="matched">sounds: ' in row
    assert '<option value="sound" selected>' in html


def test_a_sound_prompt_seeds_a_playlist_that_explains_itself(indexed, user):
    settings = PlaylistSettings(seed_ids=[], seed_text="calm piano", seed_text_mode="sound", length=4)
    playlist = playlist_generate(owner=user, settings=settings)
    items = list(playlist.items.order_by("position"))
    expected_ids, matched = _expected("calm piano", 1)
    assert len(items) == 4 and items[0].track_id == expected_ids[0]
    assert playlist.settings["seed_text_mode"] == "sound"
    sound = items[0].explanation["sound"]
    assert sound["matched"] and set(sound["matched"]) <= set(matched)
    assert "matched: " in items[0].explanation["why"]
