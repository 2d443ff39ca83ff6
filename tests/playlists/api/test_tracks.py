from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from playlists.catalogue.ingest import library_ingest
from playlists.models import Track

pytestmark = pytest.mark.django_db


def _similar(client, track_id, **params):
    return client.get(reverse("api:track_similar", args=[track_id]), params)


def test_similar_returns_json_ranked_by_score(client, user, indexed):
    response = _similar(client, indexed["Salt Wind"].id, limit=3, balance=0.5)
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert data["track"]["title"] == "Salt Wind" and data["balance"] == 0.5 and data["limit"] == 3
    results = data["results"]
    assert len(results) == 3
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {"id", "title", "artist", "album", "duration_ms", "score", "url"} <= set(results[0])
    assert indexed["Salt Wind"].id not in [r["id"] for r in results]


def test_similar_reads_only_what_it_answers(client, user, indexed):
    """The answer's tracks are read without their Spotify JSON and audio tags, and without the catalogue's sort, in a fixed number of queries."""
    seed = indexed["Salt Wind"].id
    _similar(client, seed, limit=5)  # the session, the index snapshot and the kept answer are warm from here on
    with CaptureQueriesContext(connection) as few:
        assert _similar(client, seed, limit=2).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert _similar(client, seed, limit=8).status_code == 200
    assert len(many) == len(few)
    track_reads = [q["sql"] for q in many.captured_queries if 'FROM "playlists_track"' in q["sql"] and "excluded" not in q["sql"].split("WHERE")[-1]]
    assert len(track_reads) == 2  # the seed, then its neighbours in one query
    for sql in track_reads:
        assert '"playlists_track"."spotify"' not in sql and '"playlists_track"."audio_tags"' not in sql
        assert "ORDER BY" not in sql or 'ORDER BY "playlists_track"."id"' in sql


def test_balance_changes_the_answer(client, user, indexed):
    seed = indexed["Salt Wind"].id
    by_sound = [r["id"] for r in _similar(client, seed, limit=5, balance=1.0).json()["results"]]
    by_words = [r["id"] for r in _similar(client, seed, limit=5, balance=0.0).json()["results"]]
    assert by_sound != by_words
    # Lyrics only: the instrumental has nothing to compare and is left out.
    assert indexed["drone"].id in by_sound and indexed["drone"].id not in by_words


@pytest.mark.parametrize(
    "params, message",
    [({"limit": "x"}, "limit must be an integer"), ({"limit": 0}, "between 1 and 100"), ({"balance": 2}, "balance must be")],
)
def test_bad_parameters_get_spotify_style_errors(client, user, indexed, params, message):
    response = _similar(client, indexed["Neon"].id, **params)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400 and message in response.json()["error"]["message"]


def test_unknown_track_and_missing_index(client, user, library, index_dir):
    assert _similar(client, 99999).status_code == 404
    library_ingest(library)
    response = _similar(client, Track.objects.first().id)
    assert response.status_code == 503 and "reindex" in response.json()["error"]["message"]
