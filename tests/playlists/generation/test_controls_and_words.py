"""Every control changes the playlist or says why it could not; flow keeps the best matches first; explanations in words; instant mixes."""
from __future__ import annotations

import re

import pytest

from playlists.errors import IndexNotReadyError, SeedError, UnknownSeedError
from playlists.generation.build import playlist_build
from playlists.generation.explain import explanation_text
from playlists.generation.mix import mix_build
from playlists.generation.settings import PlaylistSettings
from playlists.keep.services import playlist_create_from_queue
from playlists.models import Album, Artist, Track

pytestmark = pytest.mark.django_db


def test_an_attribute_no_track_has_says_so_and_a_partial_one_says_how_many_it_judged(indexed):
    neon = indexed["Neon"]
    built = playlist_build(PlaylistSettings(seed_ids=[neon.id], length=4, attributes={"tempo": {"min": 200}}))
    assert len(built.items) == 4  # nothing could be filtered...
    assert any(note.startswith("min tempo changed nothing: none of the 5 candidate tracks has a tempo value") for note in built.messages)  # ...and it says so
    Track.objects.filter(id=indexed["Westward"].id).update(spotify={"tempo": 90})
    built = playlist_build(PlaylistSettings(seed_ids=[neon.id], length=4, attributes={"tempo": {"max": 120, "target": 100}}))
    assert any("max tempo and target tempo judged only the 1 of 5 candidate tracks" in note for note in built.messages)
    # Every track has a length (from its file): nothing to say.
    assert not playlist_build(PlaylistSettings(seed_ids=[neon.id], length=4, attributes={"duration_ms": {"target": 6000}})).messages


def test_flow_keeps_the_strongest_matches_in_front(indexed):
    seed = indexed["Salt Wind"].id
    by_score = playlist_build(PlaylistSettings(seed_ids=[seed], length=6, order="score"))
    flow = playlist_build(PlaylistSettings(seed_ids=[seed], length=6, order="flow"))
    assert {i.track_id for i in flow.items} == {i.track_id for i in by_score.items} and flow.items[0].track_id == seed
    best_three = {i.track_id for i in by_score.items[1:4]}
    assert {i.track_id for i in flow.items[1:4]} == best_three


def test_explanations_are_words_and_say_theme_only_with_a_theme():
    text = explanation_text({"audio": 0.91, "lyrics": 0.41, "words": ["rain", "night"], "tags": ["guitar"], "taste": 0.8})
    assert text == "very close in sound · very similar lyrics: rain, night · both tagged guitar · fits your taste"
    assert explanation_text({"audio": -0.55}) == "a looser match, to fill the playlist"
    assert explanation_text({"audio": 0.4, "words": ["home"]}) == "a similar sound · shares the words home"
    assert "theme" not in explanation_text({"audio": 0.7, "lyrics": 0.1, "words": ["road"]})
    themed = explanation_text({"lyrics": 0.25, "prompt": {"text": "rain and thunder", "similarity": 0.23}, "theme": ["rain", "thunder"]})
    assert themed == "similar lyrics · matches your theme “rain and thunder” closely: rain, thunder"
    assert explanation_text({"prompt": {"text": "the sea", "similarity": 0.02}, "theme": ["waves"]}) == "similar themes: waves"
    assert explanation_text({"path": {"step": 2, "toward": "rain", "similarity": 0.5}, "audio": 0.65}) == "step 2 on the way to rain · close in sound"
    assert explanation_text({"seed": True, "why": "seed"}) == "one of your seeds"
    assert explanation_text({"seed": True, "why": "destination"}) == "where the path ends"
    # Playlists saved before the change stored shared seed words under "theme": without a prompt they are words, not a theme.
    assert explanation_text({"audio": 0.1, "theme": ["tune"]}) == "shares the words tune"
    for info in ({"audio": 0.33, "lyrics": -0.2, "taste": 0.5}, {"lyrics": 0.99}, {"prompt": {"text": "x", "similarity": 0.5}}):
        assert not re.search(r"\d", explanation_text(info))


def test_built_explanations_never_show_a_number(indexed):
    built = playlist_build(PlaylistSettings(seed_ids=[indexed["Neon"].id], seed_text="dancing in the city at night", length=6))
    for item in built.items:
        assert item.explanation["why"] and not re.search(r"\d", item.explanation["why"]), item.explanation["why"]


def test_a_track_mix_starts_with_the_track_and_flows_on(indexed):
    neon = indexed["Neon"]
    made = mix_build(track_id=neon.id, length=5)
    assert made.name == "Mix of Neon" and made.built.items[0].track_id == neon.id and len(made.built.items) == 5
    assert all(item.explanation.get("why") for item in made.built.items)


def test_artist_and_album_mixes(indexed):
    sea = Artist.objects.get(name="Sea Band")
    made = mix_build(artist_id=sea.id, length=4)
    assert made.name == "Mix of Sea Band" and len(made.built.items) == 4
    harbour = Album.objects.get(title="Harbour")
    made = mix_build(album_id=harbour.id, length=4)
    assert made.name == "Mix of Harbour" and len(made.built.items) == 4 and not any(i.is_seed for i in made.built.items)


def test_a_mix_of_nothing_or_of_something_unknown_is_refused(indexed):
    with pytest.raises(SeedError, match="one track, one artist or one album"):
        mix_build()
    with pytest.raises(SeedError):
        mix_build(track_id=indexed["Neon"].id, artist_id=1)
    with pytest.raises(UnknownSeedError, match="no track with id 999999"):
        mix_build(track_id=999_999)
    lonely = Track.objects.create(title="Not indexed yet")
    with pytest.raises(IndexNotReadyError, match="not indexed yet"):
        mix_build(track_id=lonely.id)


def test_a_saved_queue_is_a_playlist_in_the_queue_order(indexed, user):
    ids = [indexed["rain"].id, indexed["Neon"].id, 999_999, indexed["Salt Wind"].id, indexed["Neon"].id]
    playlist = playlist_create_from_queue(owner=user, name="  ", track_ids=ids)
    assert playlist.name == "Saved queue" and [i.track_id for i in playlist.items.all()] == [indexed["rain"].id, indexed["Neon"].id, indexed["Salt Wind"].id]
    assert playlist.settings["seed_ids"] == [indexed["rain"].id, indexed["Neon"].id, indexed["Salt Wind"].id]
    assert PlaylistSettings.from_json(playlist.settings).length == 3  # it can be regenerated like any other
