"""One migration chain: a fresh database gets the squashed migration, an old one continues from the migrations it replaced."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

SQUASHED = ("playlists", "0001_squashed_0006_merge_jobs")
#: Migrations after the squashed one, in order; the last is the chain's one leaf.
AFTER = [("playlists", "0002_plays_subsonic_covers"), ("playlists", "0003_spotify_tokens_encrypted"), ("playlists", "0004_playlist_edited_at"), ("playlists", "0005_track_audio_tags_by_vocabulary"), ("playlists", "0006_reindex_batches")]
TAGS_BY_VOCABULARY = AFTER[3]
BEFORE_TAGS_BY_VOCABULARY = AFTER[2]
OLD_CHAIN = [
    "0001_initial", "0002_fusion_model", "0002_playlist_settings_ratings_tokens", "0002_spotify_metadata", "0002_track_audio_tags",
    "0003_merge_spotify_and_playlists", "0004_job", "0004_merge_audio_tags", "0005_merge_fusion_model", "0006_merge_jobs",
]


def test_the_app_has_one_chain_with_one_leaf():
    loader = MigrationLoader(connection)
    leaves = loader.graph.leaf_nodes("playlists")
    assert leaves == [AFTER[-1]]
    assert loader.graph.forwards_plan(AFTER[-1])[-len(AFTER) - 1 :] == [SQUASHED, *AFTER]
    assert [name for _, name in loader.disk_migrations[SQUASHED].replaces] == OLD_CHAIN
    assert all(loader.disk_migrations[node].replaces == [] for node in AFTER)


def test_a_database_that_applied_the_old_chain_needs_only_the_later_migrations():
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="playlists").delete()
    for name in OLD_CHAIN:
        recorder.record_applied("playlists", name)
    executor = MigrationExecutor(connection)
    assert SQUASHED in executor.loader.applied_migrations
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert [(migration.app_label, migration.name) for migration, _ in plan if migration.app_label == "playlists"] == AFTER


@pytest.mark.django_db(transaction=True)
def test_audio_tags_move_under_their_vocabulary_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_TAGS_BY_VOCABULARY])
    old = executor.loader.project_state([BEFORE_TAGS_BY_VOCABULARY]).apps
    track = old.get_model("playlists", "Track").objects.create(title="t", audio_tags={"piano": 0.8, "male vocal": 0.1})
    untagged = old.get_model("playlists", "Track").objects.create(title="u")
    executor = MigrationExecutor(connection)
    executor.migrate([TAGS_BY_VOCABULARY])
    new = executor.loader.project_state([TAGS_BY_VOCABULARY]).apps.get_model("playlists", "Track")
    assert new.objects.get(id=track.id).audio_tags == {"mtt:piano": 0.8, "mtt:male vocal": 0.1}
    assert new.objects.get(id=untagged.id).audio_tags == {}
    new.objects.filter(id=track.id).update(audio_tags={"mtt:piano": 0.8, "msd:rock": 0.3})
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_TAGS_BY_VOCABULARY])
    assert old.get_model("playlists", "Track").objects.get(id=track.id).audio_tags == {"piano": 0.8}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
