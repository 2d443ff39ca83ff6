"""Stored embeddings streamed into an index build: in chunks, the database read once, the same index as from memory."""
from __future__ import annotations

import numpy as np
import pytest

from ml.embedder import l2_normalise
from ml.errors import VectorIndexError
from ml.fusion.hybrid import HybridIndex
from playlists.catalogue.selectors import StoredVectors, embedding_digest, embedding_sources, embedding_vectors
from playlists.models import Embedding, Track

pytestmark = pytest.mark.django_db

VERSIONS = {"audio": "synthetic-audio-v1", "lyrics": "synthetic-lyrics-v1"}


@pytest.fixture
def stored(rng):
    tracks = Track.objects.bulk_create([Track(title=f"t{n}") for n in range(700)])
    vectors = {"audio": l2_normalise(rng.standard_normal((700, 24))), "lyrics": l2_normalise(rng.standard_normal((700, 16)))}
    rows = []
    for modality, matrix in vectors.items():
        for track, vector in zip(tracks, matrix):
            if modality == "lyrics" and track.id % 5 == 0:
                rows.append(Embedding(track=track, modality=modality, status="empty", model_version=VERSIONS[modality], content_hash=""))
                continue
            rows.append(Embedding(track=track, modality=modality, status="ok", model_version=VERSIONS[modality], content_hash=f"h{track.id}", dim=vector.size, vector=vector.astype("<f4").tobytes()))
    # A track embedded by another model version is not part of this build.
    other = Track.objects.create(title="old")
    rows.append(Embedding(track=other, modality="audio", status="ok", model_version="an-old-model", content_hash="x", dim=3, vector=np.ones(3, "<f4").tobytes()))
    Embedding.objects.bulk_create(rows)
    return {t.id: i for i, t in enumerate(tracks)}, vectors


def test_chunks_read_the_database_once_and_the_spill_afterwards(stored, tmp_path, django_assert_max_num_queries):
    positions, vectors = stored
    source = StoredVectors("audio", VERSIONS["audio"], spill_dir=tmp_path)
    assert source.count == 700 and source.dim == 24
    first = list(source.chunks(128))
    assert [ids.size for ids, _ in first] == [128] * 5 + [60]
    with django_assert_max_num_queries(0):
        second = list(source.chunks(128))
    for (ids_a, a), (ids_b, b) in zip(first, second):
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_array_equal(a, b)
    ids = np.concatenate([ids for ids, _ in first])
    assert np.all(np.diff(ids) > 0)
    np.testing.assert_allclose(np.concatenate([v for _, v in first]), vectors["audio"][[positions[int(i)] for i in ids]])
    spills = list(tmp_path.glob(".vectors-audio-*"))
    assert len(spills) == 1
    source.close()
    assert not spills[0].exists()


def test_a_catalogue_that_changes_while_it_is_read_stops_the_build(stored, tmp_path):
    source = StoredVectors("lyrics", VERSIONS["lyrics"], spill_dir=tmp_path)
    Embedding.objects.filter(modality="lyrics", status="ok").order_by("-track_id")[:1].get().delete()
    with pytest.raises(VectorIndexError, match="catalogue changed while the index was built"):
        list(source.chunks(100))
    assert not list(tmp_path.glob(".vectors-*"))  # nothing half-written is kept


def test_a_streamed_build_from_the_database_equals_a_build_from_memory(stored, tmp_path):
    in_memory, digest = embedding_vectors(VERSIONS)
    assert digest == embedding_digest(VERSIONS)
    assert {m: ids.size for m, (ids, _) in in_memory.items()} == {"audio": 700, "lyrics": 560}
    sources = embedding_sources(VERSIONS, spill_dir=tmp_path)
    streamed = HybridIndex.build_streamed(sources, VERSIONS, chunk=64, spill_dir=tmp_path)
    for source in sources.values():
        source.close()
    from_memory = HybridIndex.build(in_memory, VERSIONS)
    for modality in ("audio", "lyrics"):
        ids = from_memory.indexes[modality].ids()
        np.testing.assert_array_equal(ids, streamed.indexes[modality].ids())
        np.testing.assert_array_equal(from_memory.indexes[modality].vectors(ids), streamed.indexes[modality].vectors(ids))
    seed = int(from_memory.track_ids()[10])
    np.testing.assert_array_equal(from_memory.similar([seed], k=10, balance=0.5)[0], streamed.similar([seed], k=10, balance=0.5)[0])


def test_chunks_do_not_depend_on_how_many_rows_the_database_hands_over_at_a_time(stored, tmp_path, monkeypatch):
    import playlists.catalogue.selectors as selectors

    positions, vectors = stored
    expected = [(ids, v) for ids, v in StoredVectors("audio", VERSIONS["audio"], spill_dir=tmp_path / "a").chunks(300)]
    monkeypatch.setattr(selectors, "DATABASE_FETCH_ROWS", 7)
    fetched_small = list(StoredVectors("audio", VERSIONS["audio"], spill_dir=tmp_path / "b").chunks(300))
    assert [ids.size for ids, _ in fetched_small] == [300, 300, 100]
    for (ids_a, a), (ids_b, b) in zip(expected, fetched_small):
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_array_equal(a, b)
    ids = np.concatenate([ids for ids, _ in fetched_small])
    np.testing.assert_array_equal(np.concatenate([v for _, v in fetched_small]), vectors["audio"][[positions[int(i)] for i in ids]].astype(np.float32))


def test_a_stored_vector_of_another_dimension_stops_the_build(stored, tmp_path):
    row = Embedding.objects.filter(modality="audio", status="ok", model_version=VERSIONS["audio"]).order_by("-track_id").first()
    Embedding.objects.filter(id=row.id).update(vector=np.ones(23, "<f4").tobytes())
    with pytest.raises(VectorIndexError, match="other dimensions than 24"):
        list(StoredVectors("audio", VERSIONS["audio"], spill_dir=tmp_path).chunks(100))
    assert not list(tmp_path.glob(".vectors-*"))
