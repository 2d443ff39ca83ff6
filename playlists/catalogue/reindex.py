"""Reindex: embed what is new or changed, build a new index version and switch to it.

Two halves. *Embedding* (:func:`tracks_embed`) writes one :class:`Embedding`
row per track and modality, keyed by the input's content hash and the
model version, so writing it again for the same input and version changes
nothing. *Publishing* (:func:`index_publish`) builds the index from the
stored vectors and switches to it. :func:`index_rebuild` runs both in this
process (a single-machine install); ``playlists.jobs.reindex`` spreads the
embedding over worker processes in batches and publishes once at the end.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from django.conf import settings
from django.db import transaction

from ml.audio.tags import vocals_score
from ml.config import MODALITIES
from ml.embedder import Embedder
from ml.errors import MLError
from ml.fusion.hybrid import FORMAT_VERSION as HYBRID_FORMAT_VERSION
from ml.fusion.hybrid import HybridIndex
from ml.fusion.incremental import INCREMENTAL_MAX, index_update_try
from ml.fusion.learned import FusionModel as FusionWeights
from ml.progress import Progress
from ml.text.clean import lyrics_clean, lyrics_word_count
from playlists import engine
from playlists.catalogue.languages import track_languages_fill
from playlists.catalogue.library import path_on_this_machine
from playlists.catalogue.selectors import audio_tag_table, embedding_counts, embedding_digest, embedding_sources, embedding_vectors
from playlists.models import Embedding, FusionModel, Track

logger = logging.getLogger(__name__)

#: Lyrics are encoded this many at a time (audio one file at a time).
LYRICS_BATCH = 16
#: Rows per step of a streamed index build (read from the database, whitened, coded, added to the
#: fused index). Each step's temporaries are a few float32 copies of its rows: at 100,000 rows of
#: the fused 912 dims, ~365 MB each (over 1 GB in a step), at 20,000 a fifth of that, and FAISS
#: and BLAS still get blocks large enough to run at full speed. The 1,000,000-track build of
#: bench.playlist peaked at 2,196 MB with it (docs/performance.md; 4.4 GB before, with 100,000).
BUILD_CHUNK_ROWS = 20_000

#: ``step(track_id, modality, outcome)`` after each stored embedding; ``outcome`` is "embedded" or "failed".
EmbedStep = Callable[[int, str, str], None]


@dataclass
class ReindexSummary:
    version: str | None = None
    published: bool = False
    embedded: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    empty: dict[str, int] = field(default_factory=dict)
    #: Tracks another worker embedded at this version and input in the meantime (distributed batches).
    skipped: dict[str, int] = field(default_factory=dict)
    indexed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    update_note: str = ""
    languages_detected: int = 0

    def count(self, kind: str, modality: str) -> None:
        counts: dict[str, int] = getattr(self, kind)
        counts[modality] = counts.get(modality, 0) + 1


def _lyrics_input(lyrics: str, min_words: int) -> str | None:
    cleaned = lyrics_clean(lyrics)
    return cleaned if lyrics_word_count(cleaned) >= min_words else None


def _input_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_rebuild(
    *,
    full: bool = False,
    progress: Progress | None = None,
    embedders: dict[str, Embedder] | None = None,
) -> ReindexSummary:
    """Embed what is new or changed, build a new index version and switch to it, in this process.

    A track is re-embedded when it has no vector for a modality, its input
    changed (audio file hash, cleaned lyrics) or the model version changed;
    ``full`` re-embeds everything, failures included. Per-track failures are
    stored on the track's :class:`Embedding` row and the run goes on. When
    nothing changed the serving version is kept. Raises
    :class:`~ml.errors.ReindexLockedError` if another reindex is running.
    """
    started = time.monotonic()
    config = engine.engine_config()
    store = engine.index_store()
    summary = ReindexSummary()
    with store.lock():
        summary.languages_detected = track_languages_fill()
        chosen = embedders_resolve(embedders)
        for modality in MODALITIES:
            work, newly_empty = modality_work(modality, chosen[modality].version, full=full, min_words=config.lyrics.min_words)
            _embeddings_mark_empty(modality, newly_empty, model_version=chosen[modality].version)
            if newly_empty:
                summary.empty[modality] = summary.empty.get(modality, 0) + len(newly_empty)
            _work_embed(modality, chosen[modality], work, summary=summary, progress=progress)
        _publish_locked({m: e.version for m, e in chosen.items()}, full=full, summary=summary, progress=progress)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def embedders_resolve(embedders: Mapping[str, Embedder] | None = None) -> dict[str, Embedder]:
    """The embedder of every modality: the given ones, else the configured ones."""
    return {m: (embedders or {}).get(m) or engine.embedder_get(m) for m in MODALITIES}


def index_publish(versions: Mapping[str, str], *, full: bool = False, progress: Progress | None = None) -> ReindexSummary:
    """Build the index from the stored vectors at ``versions`` and switch to it, unless it is up to date.

    The second half of a reindex whose embedding ran elsewhere (worker
    batches). Takes the reindex lock: raises
    :class:`~ml.errors.ReindexLockedError` while another reindex runs here.
    """
    started = time.monotonic()
    summary = ReindexSummary()
    with engine.index_store().lock():
        _publish_locked(versions, full=full, summary=summary, progress=progress)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _publish_locked(versions: Mapping[str, str], *, full: bool, summary: ReindexSummary, progress: Progress | None) -> None:
    config = engine.engine_config()
    store = engine.index_store()
    digest = embedding_digest(dict(versions))
    summary.indexed = embedding_counts(dict(versions))
    current = store.current_version()
    current_meta: dict[str, Any] = {}
    if current is not None:
        try:
            current_meta = store.check(current)
        except MLError as error:
            # A damaged serving version is rebuilt from the database, never updated in place.
            logger.warning("reindex: the serving version %s is damaged (%s); building a new one", current, error)
            summary.update_note = f"full build: {current} is damaged"
            current = None
    fusion = _fusion_serving()
    fusion_version = fusion.version if fusion is not None else ""
    up_to_date = (
        current_meta.get("format_version") == HYBRID_FORMAT_VERSION
        and current_meta.get("catalogue_digest") == digest
        and current_meta.get("fusion", "") == fusion_version
    )
    if current is not None and not full and up_to_date:
        summary.version = current
        return
    index = None
    tracks = max(summary.indexed.values(), default=0)
    if not full and current is not None and current_meta.get("fusion", "") == fusion_version and tracks <= INCREMENTAL_MAX:
        # Small catalogues: an in-place update from vectors in memory. Large ones are streamed
        # into a fresh build (an update would hold every vector at once).
        vectors, _ = embedding_vectors(dict(versions))
        index, summary.update_note = index_update_try(store.root / current, vectors, dict(versions))
    if index is None:
        if progress:
            progress(0, 0, "building the index")
        store.root.mkdir(parents=True, exist_ok=True)
        sources = embedding_sources(dict(versions), spill_dir=store.root)
        try:
            index = HybridIndex.build_streamed(
                sources, dict(versions), fusion=fusion, threads=int(settings.CROSSFADE_BUILD_THREADS) or None, spill_dir=store.root, chunk=BUILD_CHUNK_ROWS
            )
        finally:
            for source in sources.values():
                source.close()
    built = index

    def write(folder: Path) -> dict[str, Any]:
        description = built.save(folder)
        # The audio tags of the indexed tracks, saved with the version, for search by sound in words.
        audio = built.indexes.get("audio")
        tags = audio_tag_table(audio.store.ids) if audio is not None and len(audio) else None
        if tags is not None:
            tags.save(folder)
        return {"catalogue_digest": digest, "counts": built.counts(), "tracks": len(built), "audio_tags": len(tags or ()), **description}

    summary.version = store.publish(write, verify=HybridIndex.load)
    summary.published = True
    store.prune(config.keep_versions)


def _fusion_serving() -> FusionWeights | None:
    """The default learned fusion model's weights, or None (weighted baseline); a missing folder is an error."""
    row = FusionModel.objects.filter(is_default=True).first()
    if row is None:
        return None
    weights = FusionWeights.load(Path(row.path))
    if weights.version != row.version:
        raise MLError(f"fusion model {row.version}: {row.path} holds {weights.version}; retrain (manage.py train_fusion)")
    return weights


@dataclass(frozen=True)
class WorkItem:
    """One track and modality to embed: the model's input (a file path on this machine, or cleaned lyrics) and its hash."""

    track_id: int
    item: str
    content_hash: str


def _fresh(row: tuple[str, str, str, datetime] | None, *, version: str, digest: str, full: bool, since: datetime | None) -> bool:
    """Whether a stored embedding row (status, version, hash, written at) already answers for this input.

    Failed rows count too: a failure is not retried on every run, only by a
    full reindex. In a full reindex a row written since ``since`` (the start
    of that reindex) is fresh: another batch of the same reindex wrote it.
    """
    if row is None:
        return False
    _status, row_version, row_hash, written = row
    if row_version != version or row_hash != digest:
        return False
    if full:
        return since is not None and written >= since
    return True


def modality_work(
    modality: str,
    version: str,
    *,
    full: bool,
    min_words: int,
    since: datetime | None = None,
    track_ids: Sequence[int] | None = None,
) -> tuple[list[WorkItem], list[int]]:
    """What to embed for ``modality`` at model ``version``: ``(work items by track id, tracks with nothing to embed)``.

    ``track_ids`` limits the scan to those tracks (a worker's batch). The
    second list holds tracks whose lyrics are missing or too short and that
    are not yet marked so at this version (:func:`_embeddings_mark_empty`).
    """
    rows = Embedding.objects.filter(modality=modality)
    tracks = Track.objects.order_by("id")
    if track_ids is not None:
        rows = rows.filter(track_id__in=list(track_ids))
        tracks = tracks.filter(id__in=list(track_ids))
    existing = {track_id: (status, row_version, row_hash, written) for track_id, status, row_version, row_hash, written in rows.values_list("track_id", "status", "model_version", "content_hash", "updated_at").iterator(chunk_size=5000)}
    work: list[WorkItem] = []
    newly_empty: list[int] = []
    mapping: tuple[tuple[str, str], ...] = settings.CROSSFADE_PATH_MAP
    if modality == "audio":
        for track_id, audio_path, content_hash in tracks.exclude(audio_path=None).values_list("id", "audio_path", "content_hash").iterator(chunk_size=5000):
            if not _fresh(existing.get(track_id), version=version, digest=content_hash, full=full, since=since):
                work.append(WorkItem(track_id, path_on_this_machine(str(audio_path), mapping), content_hash))
        return work, newly_empty
    for track_id, lyrics in tracks.values_list("id", "lyrics").iterator(chunk_size=5000):
        text = _lyrics_input(lyrics, min_words) if lyrics else None
        if text is None:
            row = existing.get(track_id)
            marked = row is not None and row[0] == Embedding.Status.EMPTY and row[1] == version
            if not marked or (full and not _fresh(row, version=version, digest="", full=True, since=since)):
                newly_empty.append(track_id)
            continue
        digest = _input_hash(text)
        if not _fresh(existing.get(track_id), version=version, digest=digest, full=full, since=since):
            work.append(WorkItem(track_id, text, digest))
    return work, newly_empty


def reindex_tracks_find(versions: Mapping[str, str], *, full: bool, min_words: int, since: datetime | None = None) -> tuple[list[int], dict[str, int]]:
    """Every track that needs embedding in some modality (sorted ids), and per modality how many were marked empty.

    The planning step of a distributed reindex: tracks without usable lyrics
    are marked here, once, so batches only embed.
    """
    needed: set[int] = set()
    empty: dict[str, int] = {}
    for modality in MODALITIES:
        work, newly_empty = modality_work(modality, versions[modality], full=full, min_words=min_words, since=since)
        _embeddings_mark_empty(modality, newly_empty, model_version=versions[modality])
        if newly_empty:
            empty[modality] = len(newly_empty)
        needed.update(item.track_id for item in work)
    return sorted(needed), empty


def tracks_embed(
    track_ids: Sequence[int],
    *,
    embedders: Mapping[str, Embedder],
    full: bool,
    since: datetime | None,
    summary: ReindexSummary,
    step: EmbedStep | None = None,
) -> None:
    """Embed whatever these tracks still need, every modality (one worker's batch).

    What another worker already stored for the same input and model version
    is not embedded again: each track is checked when the batch starts and
    once more just before its row is written; ``summary.skipped`` counts the
    answers stored since ``since`` by someone else (an earlier attempt).
    ``step`` runs after each write; an exception from it stops the batch
    (a worker that lost its lease).
    """
    min_words = engine.engine_config().lyrics.min_words
    for modality in MODALITIES:
        embedder = embedders[modality]
        if since is not None:
            # Answers stored during this reindex by an earlier attempt at the batch (a lost worker).
            earlier = Embedding.objects.filter(
                track_id__in=list(track_ids), modality=modality, model_version=embedder.version, updated_at__gte=since,
                status__in=[Embedding.Status.OK, Embedding.Status.FAILED],
            ).count()
            if earlier:
                summary.skipped[modality] = summary.skipped.get(modality, 0) + earlier
        work, newly_empty = modality_work(modality, embedder.version, full=full, min_words=min_words, since=since, track_ids=track_ids)
        _embeddings_mark_empty(modality, newly_empty, model_version=embedder.version)
        _work_embed(modality, embedder, work, summary=summary, step=step, since=since, full=full)


def _work_embed(
    modality: str,
    embedder: Embedder,
    work: list[WorkItem],
    *,
    summary: ReindexSummary,
    progress: Progress | None = None,
    step: EmbedStep | None = None,
    since: datetime | None = None,
    full: bool = False,
) -> None:
    total = len(work)
    batch = 1 if modality == "audio" else LYRICS_BATCH
    tagger = getattr(embedder, "embed_with_tags", None) if modality == "audio" else None
    for start in range(0, total, batch):
        chunk = work[start : start + batch]
        items = [entry.item for entry in chunk]
        outcomes = _embed_batch_tagged(tagger, items) if tagger else _embed_batch(embedder, items)
        for entry, outcome in zip(chunk, outcomes):
            tags: dict[str, float] | None = None
            if isinstance(outcome, tuple):
                outcome, tags = outcome
            kind = _embedding_store(entry, modality, embedder.version, outcome, tags=tags, since=since, full=full)
            summary.count(kind, modality)
            if kind == "failed":
                assert isinstance(outcome, str)
                summary.errors.append((entry.track_id, modality, outcome))
            if step and kind != "skipped":
                step(entry.track_id, modality, kind)
        if progress:
            progress(min(start + batch, total), total, f"embedding {modality}")


def _embedding_store(
    entry: WorkItem, modality: str, version: str, outcome: np.ndarray | str, *, tags: dict[str, float] | None, since: datetime | None, full: bool
) -> str:
    """Write one outcome, unless the row got an answer for this input and version meanwhile: "embedded", "failed" or "skipped"."""
    with transaction.atomic():
        row = Embedding.objects.select_for_update().filter(track_id=entry.track_id, modality=modality).values_list("status", "model_version", "content_hash", "updated_at").first()
        if since is not None and _fresh(row, version=version, digest=entry.content_hash, full=full, since=since):
            return "skipped"
        if isinstance(outcome, str):
            defaults: dict[str, Any] = {"status": Embedding.Status.FAILED, "vector": None, "dim": 0, "error": outcome}
        else:
            defaults = {"status": Embedding.Status.OK, "vector": outcome.astype("<f4").tobytes(), "dim": outcome.size, "error": ""}
        if not Track.objects.filter(id=entry.track_id).exists():
            return "skipped"  # deleted while it was being embedded
        if tags is not None:
            Track.objects.filter(id=entry.track_id).update(audio_tags=tags, audio_vocals=vocals_score(tags))
        Embedding.objects.update_or_create(
            track_id=entry.track_id, modality=modality, defaults={**defaults, "model_version": version, "content_hash": entry.content_hash}
        )
    return "failed" if isinstance(outcome, str) else "embedded"


def embeddings_fail(track_ids: Iterable[int], *, versions: Mapping[str, str], reason: str) -> int:
    """Record ``reason`` as the failure of every listed track that has no answer at ``versions`` yet
    (a batch that could not be finished); returns how many rows were marked."""
    marked = 0
    ids = list(track_ids)
    for modality, version in versions.items():
        answered = set(Embedding.objects.filter(track_id__in=ids, modality=modality, model_version=version).values_list("track_id", flat=True))
        for track_id in ids:
            if track_id in answered or not Track.objects.filter(id=track_id).exists():
                continue
            Embedding.objects.update_or_create(
                track_id=track_id, modality=modality, defaults={"status": Embedding.Status.FAILED, "vector": None, "dim": 0, "error": reason[:2000], "model_version": version, "content_hash": ""}
            )
            marked += 1
    return marked


def _embeddings_mark_empty(modality: str, track_ids: list[int], *, model_version: str) -> None:
    """Record "nothing to embed" for many tracks at once (a catalogue of metadata-only tracks has tens of thousands)."""
    for start in range(0, len(track_ids), 1000):
        chunk = track_ids[start : start + 1000]
        with transaction.atomic():
            Embedding.objects.filter(modality=modality, track_id__in=chunk).delete()
            Embedding.objects.bulk_create(
                [
                    Embedding(track_id=track_id, modality=modality, status=Embedding.Status.EMPTY, model_version=model_version, content_hash="", dim=0, vector=None, error="")
                    for track_id in chunk
                ]
            )


def _embed_batch(embedder: Embedder, items: list[str]) -> list[np.ndarray | str]:
    """Vectors for ``items``, or for each item that fails, the reason as a string."""
    try:
        return list(embedder.embed(items))
    except (MLError, RuntimeError, ValueError, OSError) as error:
        if len(items) == 1:
            return [str(error) or type(error).__name__]
    return [_embed_batch(embedder, [item])[0] for item in items]


def _embed_batch_tagged(tagger: Callable[[list[str]], tuple[np.ndarray, list[dict[str, float]]]], items: list[str]) -> list[tuple[np.ndarray, dict[str, float]] | str]:
    """Like :func:`_embed_batch` for embedders that also tag: (vector, tags) or the failure reason."""
    try:
        vectors, tags = tagger(items)
        return list(zip(vectors, tags))
    except (MLError, RuntimeError, ValueError, OSError) as error:
        if len(items) == 1:
            return [str(error) or type(error).__name__]
    return [_embed_batch_tagged(tagger, [item])[0] for item in items]
