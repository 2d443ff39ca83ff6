"""One migration chain: a fresh database gets the squashed migration, an old one continues from the migrations it replaced."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

SQUASHED = ("playlists", "0001_squashed_0006_merge_jobs")
OLD_CHAIN = [
    "0001_initial", "0002_fusion_model", "0002_playlist_settings_ratings_tokens", "0002_spotify_metadata", "0002_track_audio_tags",
    "0003_merge_spotify_and_playlists", "0004_job", "0004_merge_audio_tags", "0005_merge_fusion_model", "0006_merge_jobs",
]


def _after_the_squash(loader: MigrationLoader) -> list[tuple[str, str]]:
    """The migrations added since the squash, in order (each depends on the one before it)."""
    leaf = loader.graph.leaf_nodes("playlists")[0]
    return [node for node in loader.graph.forwards_plan(leaf) if node[0] == "playlists" and node != SQUASHED]


def test_the_app_has_one_chain_with_one_leaf():
    loader = MigrationLoader(connection)
    leaves = loader.graph.leaf_nodes("playlists")
    assert len(leaves) == 1
    assert loader.graph.root_nodes("playlists") == [SQUASHED]
    assert [name for _, name in loader.disk_migrations[SQUASHED].replaces] == OLD_CHAIN
    later = _after_the_squash(loader)
    assert all(loader.disk_migrations[node].replaces == [] for node in later)


def test_a_database_that_applied_the_old_chain_needs_nothing_more():
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="playlists").delete()
    for name in OLD_CHAIN:
        recorder.record_applied("playlists", name)
    executor = MigrationExecutor(connection)
    assert SQUASHED in executor.loader.applied_migrations
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    # Only what was added after the squash is left to apply.
    assert [(m.app_label, m.name) for m, _ in plan if m.app_label == "playlists"] == _after_the_squash(executor.loader)
