"""The distributed reindex's rules in one process on SQLite: batches, leases, lost workers, retries, the publish.

The real thing (PostgreSQL, worker processes, ``kill -9``) is in
``test_reindex_workers.py``; here a "lost worker" is a claim whose lease is
made to run out, so every step is deterministic.
"""
from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from playlists import engine
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.library import path_on_this_machine
from playlists.catalogue.reindex import ReindexSummary, embedders_resolve, index_rebuild, tracks_embed
from playlists.jobs import reindex as distributed
from playlists.jobs.runner import job_start
from playlists.jobs.tasks import reindex_task
from playlists.models import Embedding, Job, ReindexBatch, ReindexPlan, Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(library, index_dir, settings):
    library_ingest(library)
    settings.CROSSFADE_REINDEX_BATCH = 2
    settings.CROSSFADE_REINDEX_LEASE_S = 30.0
    return library


@pytest.fixture
def database_tasks(settings):
    """Tasks go to django-tasks' database table and wait for a worker (here: the test, step by step)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "reindex"]}}


def _indexed_counts() -> dict[str, int]:
    return engine.serving().index.counts()


def test_batches_embed_and_publish_what_one_process_would(catalogue, settings, tmp_path):
    call_command("reindex", verbosity=0)
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.DONE, job.error
    plan = ReindexPlan.objects.get(job=job)
    assert plan.tracks == 6 and plan.batches.count() == 3 and all(b.status == "done" and b.attempts == 1 and b.size == 2 for b in plan.batches.all())
    assert job.outcome["published"] and job.outcome["embedded"] == {"audio": 6, "lyrics": 5} and job.outcome["retried"] == 0
    assert sum(job.outcome["workers"].values()) == 3 and job.outcome["tracks_per_s"] > 0
    assert "3/3 batches" in job.progress_note and "tracks/s" in job.progress_note and "by worker:" in job.progress_note
    assert _indexed_counts() == {"audio": 6, "lyrics": 5}
    stored = {(e.track_id, e.modality): bytes(e.vector or b"") for e in Embedding.objects.all()}

    # The same catalogue embedded in one process stores the same vectors.
    Embedding.objects.all().delete()
    settings.CROSSFADE_REINDEX_BATCH = 0
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, index_dir=tmp_path / "single")
    index_rebuild()
    single = {(e.track_id, e.modality): bytes(e.vector or b"") for e in Embedding.objects.all()}
    assert set(single) == set(stored)
    for key, blob in single.items():
        np.testing.assert_allclose(np.frombuffer(stored[key], "<f4"), np.frombuffer(blob, "<f4"), atol=2e-4)


def test_nothing_new_plans_no_batch_and_keeps_the_version(catalogue):
    call_command("reindex", verbosity=0)
    first = engine.index_store().current_version()
    call_command("reindex", verbosity=0)
    job = Job.objects.filter(kind="reindex").first()
    assert job.status == Job.Status.DONE and job.outcome["batches"] == 0 and not job.outcome["published"]
    assert engine.index_store().current_version() == first


def test_a_lost_worker_batch_is_taken_again_and_what_it_stored_is_not_embedded_twice(catalogue, database_tasks):
    job = job_start(reindex_task, kind="reindex", label="Reindex")
    assert job.status == Job.Status.QUEUED  # waits for a worker
    distributed.reindex_plan(job.id)
    plan = ReindexPlan.objects.get(job=job)
    first = plan.batches.get(number=1)
    assert DBTaskResult.objects.filter(id=first.task_result_id, queue_name="reindex").exists()

    # A worker claims batch 1, stores the first track's vectors, and dies.
    ghost = distributed._batch_claim(first.id, "ghost-host:1")
    assert ghost is not None and ghost.attempts == 1
    assert distributed._batch_claim(first.id, "other-host:2") is None  # the lease is held
    DBTaskResult.objects.filter(id=first.task_result_id).update(status="RUNNING")
    summary = ReindexSummary()

    class Killed(Exception):
        pass

    def die_after_the_first_write(track_id, modality, outcome):
        raise Killed  # audio goes first: the first track's audio vector is stored, nothing else

    with pytest.raises(Killed):
        tracks_embed(first.track_ids, embedders=embedders_resolve(), full=False, since=plan.created_at, summary=summary, step=die_after_the_first_write)
    stored = Embedding.objects.get(track_id=first.track_ids[0], modality="audio")

    # Nothing renews the lease: once it expires, the watch queues the batch again.
    assert distributed.reindex_watch(plan.id) is True
    assert ReindexBatch.objects.get(id=first.id).status == "running"
    ReindexBatch.objects.filter(id=first.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    distributed.reindex_watch(plan.id)
    requeued = ReindexBatch.objects.get(id=first.id)
    assert requeued.status == "queued" and requeued.history[0]["worker"] == "ghost-host:1" and requeued.history[0]["outcome"].startswith("lease expired")
    assert DBTaskResult.objects.get(id=first.task_result_id).status == "FAILED"
    assert requeued.task_result_id != first.task_result_id

    # Workers run every batch (in order, as db_worker would), then the publish.
    for batch in plan.batches.order_by("number"):
        assert distributed.reindex_batch_run(batch.id)["outcome"] == "done"
    assert ReindexPlan.objects.get(id=plan.id).batches_finished_at is not None
    assert DBTaskResult.objects.filter(task_path__endswith="reindex_publish_task").count() == 1
    distributed.reindex_publish_run(plan.id)

    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.outcome["retried"] == 1 and job.outcome["published"]
    retried = ReindexBatch.objects.get(id=first.id)
    assert retried.attempts == 2 and retried.history[1]["outcome"] == "done" and retried.history[1]["worker"] != "ghost-host:1"
    assert retried.skipped == {"audio": 1}
    assert Embedding.objects.get(id=stored.id).updated_at == stored.updated_at  # never written again
    assert _indexed_counts() == {"audio": 6, "lyrics": 5}


def test_a_worker_whose_lease_was_taken_stops_writing(catalogue, database_tasks):
    job = job_start(reindex_task, kind="reindex", label="Reindex")
    distributed.reindex_plan(job.id)
    batch = ReindexPlan.objects.get(job=job).batches.get(number=1)
    assert distributed._batch_claim(batch.id, "slow-host:1") is not None
    ReindexBatch.objects.filter(id=batch.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert distributed._batch_claim(batch.id, "fast-host:2") is not None  # the expired lease is taken over
    taken = ReindexBatch.objects.get(id=batch.id)
    assert taken.worker == "fast-host:2" and taken.attempts == 2 and taken.history[0]["outcome"] == "lease expired"


def test_workers_with_other_models_give_the_batch_up_and_the_rest_is_published(catalogue, monkeypatch):
    class Renamed:
        def __init__(self, inner):
            self.inner, self.name, self.dim, self.version = inner, inner.name, inner.dim, inner.version + "-elsewhere"

        def embed(self, items):
            return self.inner.embed(items)

    configured = distributed.embedders_resolve
    calls = {"n": 0}

    def planner_differs_from_workers(embedders=None):
        # Calls: 1 the planner, 2 batch 1, 3-5 the three attempts at batch 2 (run by workers
        # configured with another audio model), 6 batch 3.
        calls["n"] += 1
        chosen = configured(embedders)
        return {**chosen, "audio": Renamed(chosen["audio"])} if calls["n"] in (3, 4, 5) else chosen

    monkeypatch.setattr(distributed, "embedders_resolve", planner_differs_from_workers)
    call_command("reindex", verbosity=0)
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.DONE, job.error
    failed = [b for b in ReindexPlan.objects.get(job=job).batches.all() if b.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == distributed.MAX_ATTEMPTS and "configure the same models" in failed[0].error
    assert job.outcome["given_up"] == 1 and job.outcome["published"]
    reasons = set(Embedding.objects.filter(track_id__in=failed[0].track_ids, status="failed").values_list("error", flat=True))
    assert reasons and all("given up after 3 attempts" in reason for reason in reasons)
    # The other tracks are served.
    assert len(engine.serving().index) == 6 - len(failed[0].track_ids)


def test_planning_loading_and_embedding_run_on_the_worker_threads_setting(catalogue, settings, monkeypatch):
    import torch
    from threadpoolctl import threadpool_info

    settings.CROSSFADE_WORKER_THREADS = 1
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen: list[tuple[str, int, set[int]]] = []

    def observed(name, function):
        def call(*args, **kwargs):
            seen.append((name, torch.get_num_threads(), {pool["num_threads"] for pool in threadpool_info()}))
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(distributed, "embedders_resolve", observed("models", distributed.embedders_resolve))
    monkeypatch.setattr(distributed, "track_languages_fill", observed("languages", distributed.track_languages_fill))
    monkeypatch.setattr(distributed, "tracks_embed", observed("embed", distributed.tracks_embed))
    try:
        call_command("reindex", verbosity=0)
        assert Job.objects.get(kind="reindex").status == Job.Status.DONE
        assert {name for name, _, _ in seen} == {"models", "languages", "embed"}
        # Every step of the plan and of each batch on one thread, torch and every BLAS/OpenMP pool.
        assert all(threads == 1 and pools == {1} for _, threads, pools in seen), seen
        assert torch.get_num_threads() == 2  # restored after the task
    finally:
        torch.set_num_threads(before)


def test_a_worker_that_sees_the_library_elsewhere_maps_the_paths(catalogue, settings, tmp_path):
    moved = tmp_path / "mounted-elsewhere"
    shutil.move(str(catalogue), moved)
    settings.CROSSFADE_PATH_MAP = ((str(catalogue), str(moved)),)
    call_command("reindex", verbosity=0)
    assert Embedding.objects.filter(modality="audio", status="ok").count() == 6
    assert Track.objects.filter(audio_path__startswith=str(catalogue)).count() == 6  # the catalogue keeps its own paths


def test_path_on_this_machine_replaces_whole_folder_prefixes_only():
    mapping = (("/srv/music", "/mnt/nas/music/"), ("/data", "/media/data"))
    assert path_on_this_machine("/srv/music/a/b.mp3", mapping) == "/mnt/nas/music/a/b.mp3"
    assert path_on_this_machine("/srv/musical/b.mp3", mapping) == "/srv/musical/b.mp3"
    assert path_on_this_machine("/data/x.flac", mapping) == "/media/data/x.flac"
    assert path_on_this_machine("/home/x.flac", mapping) == "/home/x.flac"


def test_progress_note_says_batches_rate_retries_and_workers():
    start = timezone.now()
    rows = [
        {"status": "done", "worker": "a:1", "size": 8, "attempts": 1, "started_at": start, "finished_at": start + timedelta(seconds=4)},
        {"status": "done", "worker": "b:2", "size": 8, "attempts": 2, "started_at": start + timedelta(seconds=1), "finished_at": start + timedelta(seconds=8)},
        {"status": "running", "worker": "a:1", "size": 8, "attempts": 1, "started_at": start, "finished_at": None},
        {"status": "queued", "worker": "", "size": 3, "attempts": 0, "started_at": None, "finished_at": None},
    ]
    assert distributed.reindex_progress_note(rows) == "2/4 batches · 2.00 tracks/s · 1 running · 1 retried · by worker: a:1 1, b:2 1"
