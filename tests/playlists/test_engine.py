"""The serving snapshot: one immutable view of the index version per request, verified when it is published."""
from __future__ import annotations

import threading

import pytest

from playlists import engine
from playlists.catalogue.reindex import index_rebuild
from playlists.engine import BoundedCache
from playlists.errors import IndexNotReadyError
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings

pytestmark = pytest.mark.django_db


def test_no_snapshot_before_the_first_build(index_dir):
    assert engine.serving() is None
    with pytest.raises(IndexNotReadyError, match="reindex"):
        engine.serving_or_raise()


def test_the_snapshot_is_reused_until_a_new_version_is_published(indexed):
    first = engine.serving()
    assert first is not None and engine.serving() is first
    assert first.version == engine.index_store().current_version()
    assert dict(first.model_versions) == {m: engine.embedder_get(m).version for m in first.index.indexes}
    summary = index_rebuild(full=True)
    second = engine.serving()
    assert summary.published and second is not first and second.version == summary.version
    # The old snapshot is untouched: a request holding it finishes on the version it started with.
    assert first.version != second.version and len(first.index) == len(second.index)


def test_caches_belong_to_their_version(indexed):
    first = engine.serving()
    first.prompts.get(("model", "rain"), lambda: "cached")
    assert len(first.prompts) == 1
    assert index_rebuild(full=True).published
    assert len(engine.serving().prompts) == 0


def test_a_playlist_records_the_version_that_built_it(indexed, user):
    playlist = playlist_generate(owner=user, settings=PlaylistSettings(seed_ids=[indexed["Neon"].id], length=3))
    assert playlist.index_version == engine.serving().version


def test_the_bounded_cache_makes_each_value_once_under_concurrency():
    cache: BoundedCache[int] = BoundedCache(2)
    made = []
    gate = threading.Event()

    def make() -> int:
        gate.wait(5)
        made.append(1)
        return 42

    threads = [threading.Thread(target=lambda: cache.get("k", make)) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    assert made == [1] and cache.get("k", lambda: 0) == 42
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    assert len(cache) == 2 and cache.get("k", lambda: 7) == 7  # the oldest was dropped


def test_similar_tracks_and_candidate_pools_are_kept_per_version_and_excluded_tracks_still_drop_out(indexed, user):
    from playlists.catalogue.selectors import track_similar
    from playlists.generation.build import playlist_build
    from playlists.models import Track

    seed = indexed["Salt Wind"]
    first = [n.track.id for n in track_similar(seed.id, limit=5)]
    serving = engine.serving()
    assert len(serving.answers) == 1 and [n.track.id for n in track_similar(seed.id, limit=5)] == first
    built = playlist_build(PlaylistSettings(seed_ids=[seed.id], length=4), user=user)
    assert len(serving.answers) == 2 and set(built.tracks) == {item.track_id for item in built.items}
    # The catalogue's own state is read fresh: an excluded track leaves both at once, cached pool or not.
    Track.objects.filter(id=first[0]).update(excluded=True)
    assert first[0] not in [n.track.id for n in track_similar(seed.id, limit=5)]
    assert first[0] not in [item.track_id for item in playlist_build(PlaylistSettings(seed_ids=[seed.id], length=4), user=user).items]
    assert index_rebuild(full=True).published and len(engine.serving().answers) == 0
