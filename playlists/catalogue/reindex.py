"""Reindex: embed what is new or changed, build a new index version and switch to it."""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from django.db import transaction

from ml.audio.tags import vocals_score
from ml.config import MODALITIES
from ml.embedder import Embedder
from ml.errors import MLError
from ml.fusion.hybrid import FORMAT_VERSION as HYBRID_FORMAT_VERSION
from ml.fusion.hybrid import HybridIndex
from ml.fusion.incremental import index_update_try
from ml.fusion.learned import FusionModel as FusionWeights
from ml.progress import Progress
from ml.text.clean import lyrics_clean, lyrics_word_count
from playlists import engine
from playlists.catalogue.languages import track_languages_fill
from playlists.catalogue.selectors import audio_tag_table, embedding_vectors
from playlists.models import Embedding, FusionModel, Track

logger = logging.getLogger(__name__)


@dataclass
class ReindexSummary:
    version: str | None = None
    published: bool = False
    embedded: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    empty: dict[str, int] = field(default_factory=dict)
    indexed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    update_note: str = ""
    languages_detected: int = 0


def _lyrics_input(track: Track, min_words: int) -> str | None:
    cleaned = lyrics_clean(track.lyrics)
    return cleaned if lyrics_word_count(cleaned) >= min_words else None


def _input_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_rebuild(
    *,
    full: bool = False,
    progress: Progress | None = None,
    embedders: dict[str, Embedder] | None = None,
) -> ReindexSummary:
    """Embed what is new or changed, build a new index version and switch to it.

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
        versions: dict[str, str] = {}
        for modality in MODALITIES:
            embedder = (embedders or {}).get(modality) or engine.embedder_get(modality)
            versions[modality] = embedder.version
            _modality_embed(modality, embedder, full=full, summary=summary, progress=progress, min_words=config.lyrics.min_words)
        vectors, digest = embedding_vectors(versions)
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
        else:
            index = None
            if not full and current is not None and current_meta.get("fusion", "") == fusion_version:
                index, summary.update_note = index_update_try(store.root / current, vectors, versions)
            if index is None:
                index = HybridIndex.build(vectors, versions, fusion=fusion)

            def write(folder: Path) -> dict[str, Any]:
                description = index.save(folder)
                tags = audio_tag_table(vectors["audio"][0]) if "audio" in vectors else None
                if tags is not None:
                    tags.save(folder)
                return {"catalogue_digest": digest, "counts": index.counts(), "tracks": len(index), "audio_tags": len(tags or ()), **description}

            summary.version = store.publish(write, verify=HybridIndex.load)
            summary.published = True
            store.prune(config.keep_versions)
        summary.indexed = {m: int(len(ids)) for m, (ids, _) in vectors.items()}
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _fusion_serving() -> FusionWeights | None:
    """The default learned fusion model's weights, or None (weighted baseline); a missing folder is an error."""
    row = FusionModel.objects.filter(is_default=True).first()
    if row is None:
        return None
    weights = FusionWeights.load(Path(row.path))
    if weights.version != row.version:
        raise MLError(f"fusion model {row.version}: {row.path} holds {weights.version}; retrain (manage.py train_fusion)")
    return weights


def _modality_embed(
    modality: str,
    embedder: Embedder,
    *,
    full: bool,
    summary: ReindexSummary,
    progress: Progress | None,
    min_words: int,
) -> None:
    existing = {e.track_id: e for e in Embedding.objects.filter(modality=modality).only("track_id", "status", "model_version", "content_hash")}
    work: list[tuple[Track, str, str]] = []  # (track, model input, input hash)
    newly_empty: list[int] = []
    for track in Track.objects.exclude(audio_path=None).only("id", "audio_path", "content_hash", "lyrics") if modality == "audio" else Track.objects.only("id", "lyrics"):
        if modality == "audio":
            assert track.audio_path is not None  # the query left out tracks without a file
            item, digest = track.audio_path, track.content_hash
        else:
            text = _lyrics_input(track, min_words) if track.lyrics else None
            if text is None:
                row = existing.get(track.id)
                if full or row is None or row.status != Embedding.Status.EMPTY or row.model_version != embedder.version:
                    newly_empty.append(track.id)
                continue
            item, digest = text, _input_hash(text)
        row = existing.get(track.id)
        stale = full or row is None or row.model_version != embedder.version or row.content_hash != digest
        if stale:
            work.append((track, item, digest))
    _embeddings_mark_empty(modality, newly_empty, model_version=embedder.version)
    if newly_empty:
        summary.empty[modality] = summary.empty.get(modality, 0) + len(newly_empty)
    total = len(work)
    batch = 1 if modality == "audio" else 16
    tagger = getattr(embedder, "embed_with_tags", None) if modality == "audio" else None
    for start in range(0, total, batch):
        chunk = work[start : start + batch]
        items = [item for _, item, _ in chunk]
        outcomes = _embed_batch_tagged(tagger, items) if tagger else _embed_batch(embedder, items)
        for (track, _, digest), outcome in zip(chunk, outcomes):
            if isinstance(outcome, tuple):
                outcome, tags = outcome
                Track.objects.filter(id=track.id).update(audio_tags=tags, audio_vocals=vocals_score(tags))
            if isinstance(outcome, str):
                summary.failed[modality] = summary.failed.get(modality, 0) + 1
                summary.errors.append((track.id, modality, outcome))
                defaults: dict[str, Any] = {"status": Embedding.Status.FAILED, "vector": None, "dim": 0, "error": outcome}
            else:
                summary.embedded[modality] = summary.embedded.get(modality, 0) + 1
                defaults = {"status": Embedding.Status.OK, "vector": outcome.astype("<f4").tobytes(), "dim": outcome.size, "error": ""}
            Embedding.objects.update_or_create(
                track=track, modality=modality, defaults={**defaults, "model_version": embedder.version, "content_hash": digest}
            )
        if progress:
            progress(min(start + batch, total), total, f"embedding {modality}")


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
