"""Playlist shapes and taste on the 48-track demo catalogue (six styles): flow, paths, diversity, the taste model.

The catalogue is synthesised, ingested and indexed once for this module
(about a minute and a half on two cores) and removed afterwards.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from ml.playlist.ordering import transitions_total
from ml.playlist.taste import TasteNotReadyError
from ml.playlist.vectors import scores_matrix, vectors_of
from ml.scoring import balance_weights
from playlists import engine
from playlists.generation.build import playlist_build
from playlists.generation.settings import PlaylistSettings
from playlists.models import Album, Artist, Embedding, IngestFailure, Rating, Track
from playlists.taste.selectors import taste_get, taste_recommendations

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory, demo_library):
    from django.conf import settings

    from playlists.catalogue.ingest import library_ingest
    from playlists.catalogue.reindex import index_rebuild

    root = tmp_path_factory.mktemp("demo-playlists")
    previous = settings.CROSSFADE
    settings.CROSSFADE = dataclasses.replace(previous, index_dir=root / "index")
    try:
        with django_db_blocker.unblock():
            library_ingest(demo_library)
            index_rebuild()
            tracks = list(Track.objects.select_related("artist", "album"))
        yield {
            "all": tracks,
            "by_genre": {g: [t for t in tracks if t.genre == g] for g in {t.genre for t in tracks}},
            "root": root,
        }
    finally:
        with django_db_blocker.unblock():
            Embedding.objects.all().delete()
            Track.objects.all().delete()
            Album.objects.all().delete()
            Artist.objects.all().delete()
            IngestFailure.objects.all().delete()
        settings.CROSSFADE = previous


def _hybrid(ids, balance=0.5):
    index = engine.serving().index
    vectors = vectors_of(index, ids)
    return np.nan_to_num(scores_matrix(vectors, vectors, balance_weights(balance)), nan=0.0)


def _ids(built):
    return [item.track_id for item in built.items]


def test_demo_catalogue_is_indexed(demo):
    assert len(demo["all"]) == 48 and len(engine.serving().index) == 48
    assert {len(v) for v in demo["by_genre"].values()} == {8}


# -- flow ----------------------------------------------------------------------
def test_flow_order_beats_the_unordered_list(demo, rng):
    seed = demo["by_genre"]["Techno"][0]
    unordered = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=16, diversity=0.6, order="score"))
    flowing = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=16, diversity=0.6, order="flow"))
    assert sorted(_ids(unordered)) == sorted(_ids(flowing)) and _ids(flowing)[0] == seed.id
    ids = _ids(unordered)
    sim = _hybrid(ids)
    position = {t: n for n, t in enumerate(ids)}
    flow_total = transitions_total(sim, [position[t] for t in _ids(flowing)])
    assert flow_total > transitions_total(sim, list(range(len(ids))))
    shuffled = [transitions_total(sim, [0] + list(1 + rng.permutation(len(ids) - 1))) for _ in range(50)]
    assert flow_total > max(shuffled)


def test_diversity_spreads_the_playlist_over_styles(demo):
    seed = demo["by_genre"]["Rock"][0]
    closest = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=12, diversity=0.0, include_seeds=False))
    varied = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=12, diversity=0.9, include_seeds=False))

    def spread(built):
        sim = _hybrid(_ids(built))
        return float(sim[np.triu_indices(len(sim), 1)].mean())

    assert spread(varied) < spread(closest)
    assert np.mean([i.score for i in closest.items]) > np.mean([i.score for i in varied.items])
    genres = lambda built: len({Track.objects.get(id=i).genre for i in _ids(built)})  # noqa: E731
    assert genres(varied) >= genres(closest)


# -- path --------------------------------------------------------------------
def _toward(target_id, ids, balance=0.5):
    index = engine.serving().index
    target = vectors_of(index, [target_id])
    return np.nan_to_num(scores_matrix(vectors_of(index, ids), target, balance_weights(balance))[:, 0], nan=-1.0)


def test_path_moves_closer_to_the_destination_every_step(demo):
    start, end = demo["by_genre"]["Techno"][0], demo["by_genre"]["Ballad"][0]
    built = playlist_build(PlaylistSettings(path=[start.id, end.id], length=8))
    ids = _ids(built)
    assert ids[0] == start.id and ids[-1] == end.id and len(set(ids)) == len(ids)
    assert len(ids) == 8
    closeness = _toward(end.id, ids)
    assert all(b > a for a, b in zip(closeness[:-1], closeness[1:])), closeness
    middle = built.items[1].explanation
    assert middle["path"]["toward"] == end.title and "step 1" in middle["why"]


def test_path_through_a_waypoint_with_one_track_per_artist(demo):
    start, via, end = demo["by_genre"]["Techno"][0], demo["by_genre"]["Rock"][0], demo["by_genre"]["Ballad"][0]
    built = playlist_build(PlaylistSettings(path=[start.id, via.id, end.id], length=9, max_per_artist=1))
    ids = _ids(built)
    assert ids[0] == start.id and ids[-1] == end.id and via.id in ids and len(set(ids)) == len(ids)
    artists = [Track.objects.get(id=i).artist_id for i in ids]
    assert len(set(artists)) == len(artists)
    cut = ids.index(via.id)
    for segment, target in ((ids[: cut + 1], via.id), (ids[cut:], end.id)):
        closeness = _toward(target, segment)
        assert all(b > a for a, b in zip(closeness[:-1], closeness[1:]))


# -- taste -----------------------------------------------------------------------
@pytest.fixture
def listener(demo):
    user = get_user_model().objects.create_user("listener", password="a-long-password-9")
    techno, ballads = demo["by_genre"]["Techno"], demo["by_genre"]["Ballad"]
    # A planted preference, learned from five of each and checked on the other three.
    for track in techno[:5]:
        Rating.objects.create(user=user, track=track, value=1)
    for track in ballads[:5]:
        Rating.objects.create(user=user, track=track, value=-1)
    return user


def test_taste_needs_five_likes_and_five_dislikes(demo):
    user = get_user_model().objects.create_user("newcomer", password="a-long-password-8")
    for track in demo["by_genre"]["Techno"][:5]:
        Rating.objects.create(user=user, track=track, value=1)
    Rating.objects.create(user=user, track=demo["by_genre"]["Ballad"][0], value=-1)
    with pytest.raises(TasteNotReadyError, match="rate 4 more dislikes"):
        taste_get(user=user)


def test_taste_learns_a_planted_preference(demo, listener):
    model = taste_get(user=listener)
    assert model.likes == 5 and model.dislikes == 5 and model.cv_folds == 5
    assert model.cv_accuracy >= 0.8
    held_out_likes = model.like_probability([t.id for t in demo["by_genre"]["Techno"][5:]])
    held_out_dislikes = model.like_probability([t.id for t in demo["by_genre"]["Ballad"][5:]])
    assert held_out_likes.min() > 0.5 > held_out_dislikes.max()
    _, picks = taste_recommendations(user=listener, limit=48)
    rated = set(Rating.objects.filter(user=listener).values_list("track_id", flat=True))
    assert not rated & {p.track.id for p in picks} and len(picks) == 38
    top = [p.track.genre for p in picks[:3]]
    assert top == ["Techno"] * 3
    assert [p.probability for p in picks] == sorted((p.probability for p in picks), reverse=True)


def test_taste_control_bends_a_playlist(demo, listener):
    seed = demo["by_genre"]["Ballad"][-1]  # not rated
    plain = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=10, include_seeds=False), user=listener)
    bent = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=10, include_seeds=False, taste=1.0), user=listener)
    techno = {t.id for t in demo["by_genre"]["Techno"]}
    ballads = {t.id for t in demo["by_genre"]["Ballad"]}
    score = lambda built: len(techno & set(_ids(built))) - len(ballads & set(_ids(built)))  # noqa: E731
    assert score(bent) > score(plain)
    assert all("taste" in item.explanation for item in bent.items)
    anonymous = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=10, include_seeds=False, taste=1.0))
    assert _ids(anonymous) == _ids(plain) and "signed-in" in " ".join(anonymous.messages)


def test_for_you_page_shows_accuracy_and_probabilities(client, demo, listener):
    from django.urls import reverse

    client.force_login(listener)
    page = client.get(reverse("playlists:for_you")).content.decode()
    assert "Cross-validated accuracy" in page and "over 5 folds" in page
    assert page.count('class="col-score score"') == 38
    first_pick = page.split('class="col-score score">')[1].split("<")[0]
    assert first_pick.endswith("%") and 50 < float(first_pick.rstrip("%")) <= 100
    assert "Make a playlist of these" in page
