"""A reindex spread over worker processes: batches of tracks on django-tasks' database backend, under leases.

With ``CROSSFADE_REINDEX_BATCH = N > 0`` a reindex (command, admin, site)
becomes a plan (:func:`reindex_plan`): the tracks that need embedding are
split into batches of ``N``, each queued as a :func:`reindex_batch_task` on
the ``reindex`` queue. Any number of ``manage.py db_worker`` processes, on
any machine that shares the database and sees the library
(``CROSSFADE_PATH_MAP`` where it is mounted elsewhere), take batches.

- A worker *claims* a batch with a lease (``CROSSFADE_REINDEX_LEASE_S``, in
  database time, so worker clocks do not matter) and renews it after every
  embedding it stores. Claims and renewals are conditional updates on the
  batch's attempt number, so exactly one worker holds a batch at a time; a
  worker that finds its lease taken stops.
- A worker that dies (``kill -9``, a lost machine) stops renewing. The
  watch (:func:`reindex_watch_task`, deferred every half lease on the
  ``default`` queue) puts a batch whose lease expired back on the queue,
  records the lost attempt in the batch's history and marks the dead
  worker's task result failed. After :data:`MAX_ATTEMPTS` a batch is given
  up: its unfinished tracks get the reason as their embedding failure.
- Embeddings are keyed by content hash and model version: the worker that
  takes a batch again skips what the lost one already stored, so no track
  is embedded twice for the same version (``ReindexBatch.skipped``).
- When every batch is finished, the one that finished last (or the watch)
  queues :func:`reindex_publish_task` on the ``default`` queue, run by the
  worker on the machine that serves the site: it builds the index from
  the stored vectors and publishes it, and the job is done.

The job's progress row (the Tasks page, the admin) says how many batches
are done, by which worker, and the rate. With ``CROSSFADE_REINDEX_BATCH = 0``
(the default) none of this runs: :func:`playlists.catalogue.reindex.index_rebuild`
embeds and publishes in the process that runs the reindex.
"""
from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, Mapping, Sequence

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone
from django_tasks import task, task_backends

from ml.config import MODALITIES
from ml.errors import ReindexLockedError
from ml.threads import compute_threads
from playlists import engine
from playlists.catalogue.languages import track_languages_fill
from playlists.catalogue.reindex import ReindexSummary, embedders_resolve, embeddings_fail, index_publish, reindex_tracks_find, tracks_embed
from playlists.errors import CrossfadeError
from playlists.jobs.runner import job_done, job_failed, job_progress, job_started
from playlists.models import Embedding, Job, ReindexBatch, ReindexPlan

logger = logging.getLogger(__name__)

#: Queue of the embedding batches; the plan, the watch and the publish run on the default queue.
REINDEX_QUEUE = "reindex"
#: A batch whose worker was lost this many times is given up (its tracks are marked failed).
MAX_ATTEMPTS = 3
#: Progress rows are refreshed at most this often per worker.
PROGRESS_EVERY_S = 1.0


class ReindexPlanError(CrossfadeError):
    """A distributed reindex cannot go on (models differ between workers, the plan is gone)."""


class LeaseLost(CrossfadeError):
    """This worker's lease on a batch expired and another worker took the batch."""


def reindex_distributed() -> bool:
    """Whether a reindex is split into worker batches (``CROSSFADE_REINDEX_BATCH > 0``)."""
    return int(settings.CROSSFADE_REINDEX_BATCH) > 0


def worker_name() -> str:
    """``host:pid`` of this process: which worker holds a batch, on the Tasks page and in the admin."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _lease_end(seconds: float) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


# -- planning -------------------------------------------------------------------------------------
def worker_threads() -> AbstractContextManager[None]:
    """The torch/BLAS/FAISS threads of a worker's reindex work (``CROSSFADE_WORKER_THREADS``, 1 by default), as a context.

    Workers scale by processes: two workers on two cores, each on one thread,
    never split one batch's operators across a core the other is using
    (docs/performance.md, ``build_threads`` and ``distributed``). Model
    loading, language detection and embedding all run inside it; the index
    build of the publish task chooses its own threads (``CROSSFADE_BUILD_THREADS``).
    """
    return compute_threads(int(settings.CROSSFADE_WORKER_THREADS))


def reindex_plan(job_id: int, *, full: bool = False) -> dict[str, Any]:
    """Plan job ``job_id``'s reindex as batches and queue them (the work of ``reindex_task`` when distributed).

    Returns what was planned. Nothing is embedded here: the batches are.
    """
    with worker_threads():
        return _plan(job_id, full=full)


def _plan(job_id: int, *, full: bool) -> dict[str, Any]:
    job_started(job_id)
    try:
        busy = ReindexPlan.objects.filter(job__status=Job.Status.RUNNING, published_at__isnull=True).exclude(job_id=job_id).first()
        if busy is not None:
            raise ReindexLockedError(f"another reindex is running (job {busy.job_id}); wait for it to finish or stop it first")
        job_progress(job_id, 0, 0, "planning: loading the models")
        embedders = embedders_resolve()
        versions = {m: embedders[m].version for m in MODALITIES}
        job_progress(job_id, 0, 0, "planning: detecting languages")
        track_languages_fill()
        batch_size = int(settings.CROSSFADE_REINDEX_BATCH) or 32
        plan = ReindexPlan.objects.create(job_id=job_id, full=full, versions=versions, batch_size=batch_size, lease_seconds=float(settings.CROSSFADE_REINDEX_LEASE_S))
        job_progress(job_id, 0, 0, "planning: finding new and changed tracks")
        track_ids, empty = reindex_tracks_find(versions, full=full, min_words=engine.engine_config().lyrics.min_words, since=plan.created_at)
        batches = ReindexBatch.objects.bulk_create(
            [ReindexBatch(plan=plan, number=number, track_ids=track_ids[start : start + batch_size], size=len(track_ids[start : start + batch_size])) for number, start in enumerate(range(0, len(track_ids), batch_size), start=1)]
        )
        ReindexPlan.objects.filter(id=plan.id).update(tracks=len(track_ids))
        job_progress(job_id, 0, len(batches), f"{len(batches)} batches of {batch_size} tracks queued")
        for batch in ReindexBatch.objects.filter(plan=plan).order_by("number").only("id"):
            result = reindex_batch_task.using(queue_name=REINDEX_QUEUE).enqueue(batch.id)
            ReindexBatch.objects.filter(id=batch.id, task_result_id="").update(task_result_id=str(result.id))
        _watch_schedule(plan.id)
        _plan_advance(plan.id)
    except Exception as error:
        job_failed(job_id, error)
        raise
    return {"batches": len(batches), "tracks": len(track_ids), "batch_size": batch_size, "empty": empty}


# -- batches --------------------------------------------------------------------------------------
def reindex_batch_run(batch_id: int) -> dict[str, Any]:
    """Claim batch ``batch_id``, embed what its tracks need and finish it (the work of ``reindex_batch_task``).

    Returns how it went; a batch another worker holds, or one already
    finished, is left alone. Runs on :func:`worker_threads`.
    """
    with worker_threads():
        return _batch_run(batch_id)


def _batch_run(batch_id: int) -> dict[str, Any]:
    worker = worker_name()
    batch = ReindexBatch.objects.select_related("plan").filter(id=batch_id).first()
    if batch is None or batch.finished:
        return {"batch": batch_id, "outcome": "nothing to do"}
    # Models load before the claim: loading takes seconds, the lease only covers embedding.
    embedders = embedders_resolve()
    versions = {m: embedders[m].version for m in MODALITIES}
    claimed = _batch_claim(batch_id, worker)
    if claimed is None:
        return {"batch": batch_id, "outcome": "held by another worker or finished"}
    batch = claimed
    plan = batch.plan
    attempt = batch.attempts
    summary = ReindexSummary()
    base = {kind: dict(getattr(batch, kind)) for kind in ("embedded", "failed")}
    last_progress = [0.0]

    def renew(track_id: int, modality: str, outcome: str) -> None:
        counts = {kind: _added(base[kind], getattr(summary, kind)) for kind in ("embedded", "failed")}
        written = sum(summary.embedded.values()) + sum(summary.failed.values())
        kept = ReindexBatch.objects.filter(id=batch_id, worker=worker, attempts=attempt, status=ReindexBatch.Status.RUNNING).update(
            lease_until=_lease_end(plan.lease_seconds), done=written, **counts
        )
        if not kept:
            raise LeaseLost(f"batch {batch.number}: the lease of {worker} expired and another worker took the batch")
        now = timezone.now().timestamp()
        if now - last_progress[0] >= PROGRESS_EVERY_S:
            last_progress[0] = now
            _plan_advance(plan.id)

    try:
        if versions != plan.versions:
            raise ReindexPlanError(f"this worker ({worker}) embeds with {versions}, the reindex was planned with {plan.versions}: configure the same models on every worker")
        tracks_embed(batch.track_ids, embedders=embedders, full=plan.full, since=plan.created_at, summary=summary, step=renew)
    except LeaseLost as error:
        logger.warning("%s", error)
        return {"batch": batch_id, "outcome": "lease lost"}
    except Exception as error:
        logger.exception("batch %s failed on %s", batch_id, worker)
        _batch_attempt_failed(batch_id, attempt, f"{type(error).__name__}: {error}")
        return {"batch": batch_id, "outcome": f"failed: {error}"}
    finished = _batch_finish(batch_id, worker, attempt, summary, base)
    _plan_advance(plan.id)
    return {"batch": batch_id, "outcome": "done" if finished else "lease lost", "embedded": summary.embedded, "skipped": summary.skipped, "failed": summary.failed}


def _added(base: dict[str, int], extra: dict[str, int]) -> dict[str, int]:
    return {m: base.get(m, 0) + extra.get(m, 0) for m in sorted(set(base) | set(extra))}


def _batch_claim(batch_id: int, worker: str) -> ReindexBatch | None:
    """Take the batch if it is waiting or its lease expired; None when another worker holds it or it is finished."""
    now = timezone.now()
    batch = ReindexBatch.objects.filter(id=batch_id).first()
    if batch is None or batch.finished:
        return None
    if batch.status == ReindexBatch.Status.RUNNING and not ReindexBatch.objects.filter(id=batch_id, lease_until__lt=Now()).exists():
        return None
    history = list(batch.history)
    if history and history[-1].get("outcome") == "running":
        history[-1] = {**history[-1], "outcome": "lease expired", "ended": now.isoformat()}
    history.append({"attempt": batch.attempts + 1, "worker": worker, "started": now.isoformat(), "outcome": "running"})
    # Conditional on the attempt number read above: of two workers claiming at once, one wins.
    won = ReindexBatch.objects.filter(id=batch_id, attempts=batch.attempts, status=batch.status).update(
        status=ReindexBatch.Status.RUNNING, worker=worker, attempts=batch.attempts + 1, lease_until=_lease_end(batch.plan.lease_seconds),
        done=0, history=history, started_at=batch.started_at or now,
    )
    if not won:
        return None
    return ReindexBatch.objects.select_related("plan").get(id=batch_id)


def _batch_finish(batch_id: int, worker: str, attempt: int, summary: ReindexSummary, base: dict[str, dict[str, int]]) -> bool:
    batch = ReindexBatch.objects.get(id=batch_id)
    now = timezone.now()
    history = list(batch.history)
    if history:
        history[-1] = {**history[-1], "outcome": "done", "ended": now.isoformat(), "embedded": summary.embedded, "skipped": summary.skipped, "failed": summary.failed}
    return bool(
        ReindexBatch.objects.filter(id=batch_id, worker=worker, attempts=attempt, status=ReindexBatch.Status.RUNNING).update(
            status=ReindexBatch.Status.DONE, finished_at=now, lease_until=None, history=history,
            embedded=_added(base["embedded"], summary.embedded), failed=_added(base["failed"], summary.failed),
            skipped=_added(dict(batch.skipped), summary.skipped), done=sum(summary.embedded.values()) + sum(summary.failed.values()),
        )
    )


def _batch_attempt_failed(batch_id: int, attempt: int, reason: str) -> None:
    """An attempt ended with an error (not a lost worker): queue the batch again, or give it up after MAX_ATTEMPTS."""
    batch = ReindexBatch.objects.select_related("plan").get(id=batch_id)
    _batch_release(batch, attempt=attempt, outcome=f"failed: {reason}"[:500])


def _batch_release(batch: ReindexBatch, *, attempt: int, outcome: str) -> bool:
    """End attempt ``attempt`` of ``batch`` with ``outcome``: back on the queue, or failed for good after MAX_ATTEMPTS."""
    now = timezone.now()
    history = list(batch.history)
    if history and history[-1].get("outcome") == "running":
        history[-1] = {**history[-1], "outcome": outcome, "ended": now.isoformat()}
    give_up = attempt >= MAX_ATTEMPTS
    changes: dict[str, Any] = {"history": history, "lease_until": None}
    if give_up:
        changes.update(status=ReindexBatch.Status.FAILED, finished_at=now, error=f"given up after {attempt} attempts; last: {outcome}")
    else:
        changes.update(status=ReindexBatch.Status.QUEUED)
    released = ReindexBatch.objects.filter(id=batch.id, attempts=attempt, status=ReindexBatch.Status.RUNNING).update(**changes)
    if not released:
        return False
    if give_up:
        embeddings_fail(batch.track_ids, versions=batch.plan.versions, reason=f"reindex batch {batch.number} was given up after {attempt} attempts ({outcome})")
        _plan_advance(batch.plan_id)
    else:
        result = reindex_batch_task.using(queue_name=REINDEX_QUEUE).enqueue(batch.id)
        ReindexBatch.objects.filter(id=batch.id).update(task_result_id=str(result.id))
    return True


# -- the watch ------------------------------------------------------------------------------------
def _watch_interval(plan: ReindexPlan) -> float:
    return max(0.5, plan.lease_seconds / 2)


def _watch_schedule(plan_id: int) -> None:
    """Queue the next look at plan ``plan_id``'s leases, where the backend can defer tasks (the database one)."""
    backend = reindex_watch_task.get_backend()
    if not backend.supports_defer:
        return
    plan = ReindexPlan.objects.get(id=plan_id)
    reindex_watch_task.using(run_after=timezone.now() + timedelta(seconds=_watch_interval(plan))).enqueue(plan_id)


def reindex_watch(plan_id: int) -> bool:
    """Put batches whose lease expired back on the queue; queue the publish when all are finished.

    Returns whether the plan still needs watching.
    """
    plan = ReindexPlan.objects.filter(id=plan_id).select_related("job").first()
    if plan is None or plan.job.finished:
        return False
    ReindexPlan.objects.filter(id=plan_id).update(watched_at=timezone.now())
    for batch in ReindexBatch.objects.filter(plan_id=plan_id, status=ReindexBatch.Status.RUNNING, lease_until__lt=Now()).select_related("plan"):
        lost = batch.task_result_id
        if _batch_release(batch, attempt=batch.attempts, outcome=f"lease expired: {batch.worker} gave no sign of life for {plan.lease_seconds:g} s"):
            logger.warning("reindex batch %s: worker %s lost, batch queued again", batch.number, batch.worker)
            _task_result_abandon(lost, f"worker {batch.worker} gave no sign of life for {plan.lease_seconds:g} s; the batch was queued again")
    _plan_advance(plan_id)
    plan.refresh_from_db()
    return plan.batches_finished_at is None


def _task_result_abandon(result_id: str, reason: str) -> None:
    """Mark a lost worker's task result failed in django-tasks' own table, so its admin does not show it running forever."""
    if not result_id:
        return
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends["default"], DatabaseBackend):
        return
    DBTaskResult.objects.filter(id=result_id, status="RUNNING").update(
        status="FAILED", finished_at=timezone.now(), exception_class_path=f"{__name__}.LeaseLost", traceback=reason
    )


# -- progress and the end -------------------------------------------------------------------------
def _plan_advance(plan_id: int) -> None:
    """Write the job's progress; when every batch is finished, queue the publish (once)."""
    plan = ReindexPlan.objects.filter(id=plan_id).first()
    if plan is None:
        return
    batches = list(ReindexBatch.objects.filter(plan_id=plan_id).values("status", "worker", "size", "attempts", "started_at", "finished_at"))
    finished = [b for b in batches if b["status"] in (ReindexBatch.Status.DONE, ReindexBatch.Status.FAILED)]
    job_progress(plan.job_id, len(finished), len(batches), reindex_progress_note(batches))
    if len(finished) < len(batches):
        if plan.watched_at is not None and (timezone.now() - plan.watched_at).total_seconds() > 4 * _watch_interval(plan):
            # The watch's own worker was lost: start it again.
            if ReindexPlan.objects.filter(id=plan_id, watched_at=plan.watched_at).update(watched_at=timezone.now()):
                _watch_schedule(plan_id)
        return
    if ReindexPlan.objects.filter(id=plan_id, batches_finished_at__isnull=True).update(batches_finished_at=timezone.now()):
        job_progress(plan.job_id, len(finished), len(batches), "building and publishing the index")
        reindex_publish_task.enqueue(plan_id)


def reindex_progress_note(batches: Sequence[Mapping[str, Any]]) -> str:
    """"4/6 batches · 1.9 tracks/s · 1 retried · host:12 3, host:40 1" from batch rows (dicts of their fields)."""
    done = [b for b in batches if b["status"] == ReindexBatch.Status.DONE]
    failed = sum(1 for b in batches if b["status"] == ReindexBatch.Status.FAILED)
    running = sum(1 for b in batches if b["status"] == ReindexBatch.Status.RUNNING)
    parts = [f"{len(done)}/{len(batches)} batches"]
    rate = _tracks_per_second(done)
    if rate is not None:
        parts.append(f"{rate:.2f} tracks/s")
    if running:
        parts.append(f"{running} running")
    retried = sum(1 for b in batches if b["attempts"] > 1)
    if retried:
        parts.append(f"{retried} retried")
    if failed:
        parts.append(f"{failed} given up")
    per_worker = Counter(b["worker"] for b in done)
    if per_worker:
        shown = ", ".join(f"{w} {n}" for w, n in per_worker.most_common(4))
        more = f" +{len(per_worker) - 4} more" if len(per_worker) > 4 else ""
        parts.append(f"by worker: {shown}{more}")
    return " · ".join(parts)


def _tracks_per_second(done: Sequence[Mapping[str, Any]]) -> float | None:
    if not done:
        return None
    started = min(b["started_at"] for b in done if b["started_at"])
    ended = max(b["finished_at"] for b in done if b["finished_at"])
    seconds = (ended - started).total_seconds()
    tracks = sum(int(b["size"]) for b in done)
    return tracks / seconds if seconds > 0 else None


def reindex_publish_run(plan_id: int) -> dict[str, Any]:
    """Build and publish the index from the stored vectors, then finish the job with the reindex's outcome."""
    plan = ReindexPlan.objects.select_related("job").get(id=plan_id)
    job_id = plan.job_id
    started = timezone.now()
    try:
        summary = index_publish(plan.versions, full=plan.full, progress=lambda done, total, note="": job_progress(job_id, done, total, note))
    except Exception as error:
        job_failed(job_id, error)
        raise
    published = timezone.now()
    ReindexPlan.objects.filter(id=plan_id).update(published_at=published)
    batches = list(ReindexBatch.objects.filter(plan_id=plan_id).order_by("number"))
    outcome = reindex_outcome(plan, batches, summary, publish_s=(published - started).total_seconds())
    rows = [{f: getattr(b, f) for f in ("status", "worker", "size", "attempts", "started_at", "finished_at")} for b in batches]
    state = f"published {summary.version}" if summary.published else f"unchanged, {summary.version} still serving"
    job_progress(job_id, len(batches), len(batches), f"{reindex_progress_note(rows)} · {state}")
    job_done(job_id, outcome)
    return outcome


def reindex_outcome(plan: ReindexPlan, batches: list[ReindexBatch], summary: ReindexSummary, *, publish_s: float) -> dict[str, Any]:
    """The job's outcome: what ``index_rebuild`` reports, plus batches, workers, retries and rates."""
    totals: dict[str, dict[str, int]] = {"embedded": {}, "failed": {}, "skipped": {}}
    for batch in batches:
        for kind in totals:
            for modality, count in getattr(batch, kind).items():
                totals[kind][modality] = totals[kind].get(modality, 0) + int(count)
    done = [b for b in batches if b.status == ReindexBatch.Status.DONE]
    rate = _tracks_per_second([{"started_at": b.started_at, "finished_at": b.finished_at, "size": b.size} for b in done])
    last_batch = max((b.finished_at for b in batches if b.finished_at), default=None)
    errors = list(
        Embedding.objects.filter(status=Embedding.Status.FAILED, model_version__in=list(plan.versions.values()), updated_at__gte=plan.created_at)
        .order_by("track_id")
        .values_list("track_id", "modality", "error")[:20]
    )
    return {
        "version": summary.version,
        "published": summary.published,
        "embedded": totals["embedded"],
        "failed": totals["failed"],
        "skipped": totals["skipped"],
        "indexed": summary.indexed,
        "batches": len(batches),
        "retried": sum(1 for b in batches if b.retried),
        "given_up": sum(1 for b in batches if b.status == ReindexBatch.Status.FAILED),
        "workers": dict(Counter(b.worker for b in done)),
        "tracks_per_s": round(rate, 3) if rate is not None else None,
        "publish_s": round(publish_s, 3),
        "last_batch_to_published_s": round((timezone.now() - last_batch).total_seconds(), 3) if last_batch else None,
        "errors": [f"track {track_id} {modality}: {error}" for track_id, modality, error in errors],
    }


# -- tasks ----------------------------------------------------------------------------------------
@task()
def reindex_batch_task(batch_id: int) -> dict[str, Any]:
    """Embed one batch of a distributed reindex (queued on the ``reindex`` queue)."""
    return reindex_batch_run(batch_id)


@task()
def reindex_watch_task(plan_id: int) -> str:
    """Look for lost workers' batches every half lease until every batch is finished."""
    if reindex_watch(plan_id):
        _watch_schedule(plan_id)
        return "watching"
    return "finished"


@task()
def reindex_publish_task(plan_id: int) -> dict[str, Any]:
    """Build and publish the index when every batch is finished (on the default queue: where the site is served)."""
    if not ReindexPlan.objects.filter(id=plan_id).exists():
        raise ReindexPlanError(f"reindex plan {plan_id} is gone")
    return reindex_publish_run(plan_id)
