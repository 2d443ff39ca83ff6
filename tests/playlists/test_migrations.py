"""One migration chain: a fresh database gets the squashed migration, an old one continues from the migrations it replaced."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

SQUASHED = ("playlists", "0001_squashed_0006_merge_jobs")
TAGS_BY_VOCABULARY = ("playlists", "0002_track_audio_tags_by_vocabulary")
OLD_CHAIN = [
    "0001_initial", "0002_fusion_model", "0002_playlist_settings_ratings_tokens", "0002_spotify_metadata", "0002_track_audio_tags",
    "0003_merge_spotify_and_playlists", "0004_job", "0004_merge_audio_tags", "0005_merge_fusion_model", "0006_merge_jobs",
]


def test_the_app_has_one_chain_with_one_leaf():
    loader = MigrationLoader(connection)
    leaves = loader.graph.leaf_nodes("playlists")
    assert leaves == [TAGS_BY_VOCABULARY]
    assert loader.graph.node_map[TAGS_BY_VOCABULARY].parents == {loader.graph.node_map[SQUASHED]}
    assert [name for _, name in loader.disk_migrations[SQUASHED].replaces] == OLD_CHAIN


def test_a_database_that_applied_the_old_chain_needs_nothing_more():
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="playlists").delete()
    for name in OLD_CHAIN:
        recorder.record_applied("playlists", name)
    executor = MigrationExecutor(connection)
    assert SQUASHED in executor.loader.applied_migrations
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    # Only what came after the squash is left to apply.
    assert [(migration.app_label, migration.name) for migration, _ in plan if migration.app_label == "playlists"] == [TAGS_BY_VOCABULARY]


@pytest.mark.django_db(transaction=True)
def test_audio_tags_move_under_their_vocabulary_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate([SQUASHED])
    old = executor.loader.project_state([SQUASHED]).apps
    track = old.get_model("playlists", "Track").objects.create(title="t", audio_tags={"piano": 0.8, "male vocal": 0.1})
    untagged = old.get_model("playlists", "Track").objects.create(title="u")
    executor = MigrationExecutor(connection)
    executor.migrate([TAGS_BY_VOCABULARY])
    new = executor.loader.project_state([TAGS_BY_VOCABULARY]).apps.get_model("playlists", "Track")
    assert new.objects.get(id=track.id).audio_tags == {"mtt:piano": 0.8, "mtt:male vocal": 0.1}
    assert new.objects.get(id=untagged.id).audio_tags == {}
    new.objects.filter(id=track.id).update(audio_tags={"mtt:piano": 0.8, "msd:rock": 0.3})
    executor = MigrationExecutor(connection)
    executor.migrate([SQUASHED])
    assert old.get_model("playlists", "Track").objects.get(id=track.id).audio_tags == {"piano": 0.8}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
