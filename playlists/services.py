"""Writes: ingesting files, (re)building the index, generating playlists.

Views, admin actions and management commands call these and nothing deeper.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from django.db import transaction

from ml.config import MODALITIES
from ml.embedder import Embedder
from ml.errors import MLError
from ml.fusion.hybrid import FORMAT_VERSION as HYBRID_FORMAT_VERSION
from ml.fusion.hybrid import HybridIndex, balance_weights
from ml.fusion.incremental import index_update_try
from ml.text.clean import lyrics_clean, lyrics_word_count
from playlists import engine
from playlists.errors import IndexNotReadyError, SeedError
from playlists.library import FileInfo, LibraryReadError, file_read, library_walk
from playlists.models import Album, Artist, Embedding, IngestFailure, Playlist, PlaylistItem, Track

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
MAX_SEEDS = 5
MAX_PLAYLIST_LENGTH = 200


# -- ingest ------------------------------------------------------------------
@dataclass
class IngestSummary:
    scanned: int = 0
    added: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    failed: int = 0
    missing: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def library_ingest(root: Path, *, progress: Progress | None = None, dry_run: bool = False) -> IngestSummary:
    """Bring the catalogue in line with the audio files below ``root``.

    Unchanged files (same size and modification time) are skipped; edited
    files are re-read; a file whose content matches a track whose old path
    is gone is treated as moved. Unreadable files are recorded as
    :class:`IngestFailure` rows and the run goes on.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise LibraryReadError(f"{root} is not a folder")
    paths = library_walk(root)
    summary = IngestSummary(scanned=len(paths))
    known = {t.audio_path: t for t in Track.objects.filter(audio_path__startswith=str(root))}
    seen: set[str] = set()
    for done, path in enumerate(paths, start=1):
        key = str(path.resolve())
        seen.add(key)
        track = known.get(key)
        try:
            stat = path.stat()
            if track and track.file_size == stat.st_size and track.file_mtime == stat.st_mtime:
                summary.unchanged += 1
                continue
            info = file_read(path)
        except (LibraryReadError, OSError) as error:
            reason = str(error)
            summary.failed += 1
            summary.failures.append((key, reason))
            if not dry_run:
                IngestFailure.objects.update_or_create(path=key, defaults={"reason": reason})
            continue
        finally:
            if progress:
                progress(done, len(paths))
        summary.warnings.extend((key, warning) for warning in info.warnings)
        if dry_run:
            summary.added += track is None
            summary.updated += track is not None
            continue
        with transaction.atomic():
            if track is None:
                moved_from = _moved_track(info)
                if moved_from is not None:
                    summary.moved += 1
                    track = moved_from
                else:
                    summary.added += 1
                    track = Track()
            else:
                summary.updated += 1
            _track_fill(track, info)
            track.save()
            IngestFailure.objects.filter(path__in=[key, f"{key} (lyrics)"]).delete()
            if info.warnings:
                # The track is in; its unreadable lyrics file is what the operator must see.
                IngestFailure.objects.create(path=f"{key} (lyrics)", reason="; ".join(info.warnings))
    summary.missing = sum(1 for path in known if path not in seen and not Path(path).exists())
    return summary


def _moved_track(info: FileInfo) -> Track | None:
    for candidate in Track.objects.filter(content_hash=info.content_hash).exclude(audio_path=str(info.path)):
        if candidate.audio_path and not Path(candidate.audio_path).exists():
            return candidate
    return None


def _track_fill(track: Track, info: FileInfo) -> None:
    artist = Artist.objects.get_or_create(name=info.artist.strip() or "Unknown artist")[0]
    album = Album.objects.get_or_create(title=info.album.strip(), artist=artist, defaults={"year": info.year})[0] if info.album.strip() else None
    track.title = info.title.strip() or info.path.stem
    track.artist = artist
    track.album = album
    track.track_number = info.track_number
    track.year = info.year
    track.duration_s = info.duration_s
    track.genre = info.genre
    track.audio_path = str(info.path)
    track.audio_format = info.audio_format
    track.file_size = info.size
    track.file_mtime = info.mtime
    track.content_hash = info.content_hash
    track.isrc = info.isrc or track.isrc
    if info.lyrics or track.lyrics_source != Track.LyricsSource.MANUAL:
        track.lyrics = info.lyrics
        track.lyrics_source = info.lyrics_source
        track.lyrics_path = info.lyrics_path
    track.language = info.language or track.language


# -- reindex -----------------------------------------------------------------
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


def _lyrics_input(track: Track, min_words: int) -> str | None:
    cleaned = lyrics_clean(track.lyrics)
    return cleaned if lyrics_word_count(cleaned) >= min_words else None


def _input_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def index_rebuild(
    *,
    full: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
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
        versions: dict[str, str] = {}
        for modality in MODALITIES:
            embedder = (embedders or {}).get(modality) or engine.embedder_get(modality)
            versions[modality] = embedder.version
            _modality_embed(modality, embedder, full=full, summary=summary, progress=progress, min_words=config.lyrics.min_words)
        vectors, digest = _vectors_collect(versions)
        current = store.current_version()
        current_meta = store.meta(current) if current is not None else {}
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

            def write(folder: Path) -> dict:
                description = index.save(folder)
                return {"catalogue_digest": digest, "counts": index.counts(), "tracks": len(index), **description}

            summary.version = store.publish(write)
            summary.published = True
            store.prune(config.keep_versions)
        summary.indexed = {m: int(len(ids)) for m, (ids, _) in vectors.items()}
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _fusion_serving():
    """The default learned fusion model's weights, or None (weighted baseline); a missing folder is an error."""
    from ml.fusion.learned import FusionModel as FusionWeights
    from playlists.selectors import fusion_model_default

    row = fusion_model_default()
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
    progress: Callable[[str, int, int], None] | None,
    min_words: int,
) -> None:
    existing = {e.track_id: e for e in Embedding.objects.filter(modality=modality).only("track_id", "status", "model_version", "content_hash")}
    work: list[tuple[Track, str, str]] = []  # (track, model input, input hash)
    for track in Track.objects.exclude(audio_path=None).only("id", "audio_path", "content_hash", "lyrics") if modality == "audio" else Track.objects.only("id", "lyrics"):
        if modality == "audio":
            item, digest = track.audio_path, track.content_hash
        else:
            text = _lyrics_input(track, min_words)
            if text is None:
                row = existing.get(track.id)
                if full or row is None or row.status != Embedding.Status.EMPTY or row.model_version != embedder.version:
                    Embedding.objects.update_or_create(
                        track=track, modality=modality,
                        defaults={"status": Embedding.Status.EMPTY, "model_version": embedder.version, "content_hash": "", "dim": 0, "vector": None, "error": ""},
                    )
                    summary.empty[modality] = summary.empty.get(modality, 0) + 1
                continue
            item, digest = text, _input_hash(text)
        row = existing.get(track.id)
        stale = full or row is None or row.model_version != embedder.version or row.content_hash != digest
        if stale:
            work.append((track, item, digest))
    total = len(work)
    batch = 1 if modality == "audio" else 16
    for start in range(0, total, batch):
        chunk = work[start : start + batch]
        for (track, _, digest), outcome in zip(chunk, _embed_batch(embedder, [item for _, item, _ in chunk])):
            if isinstance(outcome, str):
                summary.failed[modality] = summary.failed.get(modality, 0) + 1
                summary.errors.append((track.id, modality, outcome))
                defaults = {"status": Embedding.Status.FAILED, "vector": None, "dim": 0, "error": outcome}
            else:
                summary.embedded[modality] = summary.embedded.get(modality, 0) + 1
                defaults = {"status": Embedding.Status.OK, "vector": outcome.astype("<f4").tobytes(), "dim": outcome.size, "error": ""}
            Embedding.objects.update_or_create(
                track=track, modality=modality, defaults={**defaults, "model_version": embedder.version, "content_hash": digest}
            )
        if progress:
            progress(modality, min(start + batch, total), total)


def _embed_batch(embedder: Embedder, items: list[str]) -> list[np.ndarray | str]:
    """Vectors for ``items``, or for each item that fails, the reason as a string."""
    try:
        return list(embedder.embed(items))
    except (MLError, RuntimeError, ValueError, OSError) as error:
        if len(items) == 1:
            return [str(error) or type(error).__name__]
    return [_embed_batch(embedder, [item])[0] for item in items]


def _vectors_collect(versions: dict[str, str]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    digest = hashlib.sha256()
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, version in versions.items():
        rows = list(
            Embedding.objects.filter(modality=modality, status=Embedding.Status.OK, model_version=version)
            .order_by("track_id")
            .values_list("track_id", "content_hash", "vector")
        )
        digest.update(f"{modality}:{version}:".encode())
        for track_id, content_hash, _ in rows:
            digest.update(f"{track_id}:{content_hash};".encode())
        if rows:
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = np.stack([np.frombuffer(bytes(r[2]), dtype="<f4") for r in rows]).astype(np.float32)
            vectors[modality] = (ids, matrix)
    return vectors, digest.hexdigest()


# -- playlists -----------------------------------------------------------------
def playlist_generate(
    *,
    owner,
    seed_ids: Sequence[int],
    length: int = 20,
    balance: float = 0.5,
    name: str = "",
) -> Playlist:
    """Create and save a playlist: the seeds, then the tracks most similar to them.

    Raises :class:`SeedError` for no seeds, more than five, or unknown ones,
    and :class:`IndexNotReadyError` before the first reindex.
    """
    seed_ids = list(dict.fromkeys(int(s) for s in seed_ids))
    if not seed_ids:
        raise SeedError("choose at least one seed track")
    if len(seed_ids) > MAX_SEEDS:
        raise SeedError(f"choose at most {MAX_SEEDS} seed tracks, not {len(seed_ids)}")
    if not 1 <= length <= MAX_PLAYLIST_LENGTH:
        raise SeedError(f"a playlist has 1 to {MAX_PLAYLIST_LENGTH} tracks, not {length}")
    balance_weights(balance)
    seeds = {t.id: t for t in Track.objects.filter(id__in=seed_ids)}
    unknown = [s for s in seed_ids if s not in seeds]
    if unknown:
        raise SeedError(f"unknown seed track ids: {', '.join(map(str, unknown))}")
    index = engine.index_current()
    if index is None:
        raise IndexNotReadyError("no index yet: run `manage.py reindex` first")
    not_indexed = [seeds[s].title for s in seed_ids if s not in index]
    if len(not_indexed) == len(seed_ids):
        raise IndexNotReadyError(f"the seed tracks are not indexed yet ({', '.join(not_indexed)}); run reindex")
    excluded = list(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, scores = index.similar(seed_ids, k=max(0, length - len(seed_ids)), balance=balance, exclude=excluded)
    with transaction.atomic():
        playlist = Playlist.objects.create(
            owner=owner,
            name=name.strip() or _playlist_name(seeds, seed_ids),
            length=length,
            balance=balance,
            index_version=engine.index_store().current_version() or "",
        )
        playlist.seeds.set(seed_ids)
        items = [PlaylistItem(playlist=playlist, track_id=s, position=i, is_seed=True) for i, s in enumerate(seed_ids[:length])]
        items += [
            PlaylistItem(playlist=playlist, track_id=int(t), position=len(seed_ids) + i, score=float(sc))
            for i, (t, sc) in enumerate(zip(ids, scores))
        ]
        PlaylistItem.objects.bulk_create(items[:length])
    return playlist


def _playlist_name(seeds: dict[int, Track], seed_ids: list[int]) -> str:
    first = seeds[seed_ids[0]]
    more = f" + {len(seed_ids) - 1}" if len(seed_ids) > 1 else ""
    return f"Like {first.title}{more}"


# -- demo ----------------------------------------------------------------------
@dataclass
class DemoSummary:
    folder: Path
    tracks: int
    generated: bool
    ingest: IngestSummary


def demo_catalogue_build(target: Path, *, seed: int = 7, progress: Progress | None = None, ingest_progress: Progress | None = None) -> DemoSummary:
    """Write the demo music library into ``target`` (once per seed) and ingest it like a user's library."""
    import json

    from playlists.demo_music import demo_library_write

    target = Path(target)
    manifest = target / ".crossfade-demo.json"
    generated = False
    try:
        recorded = json.loads(manifest.read_text())
    except (OSError, ValueError):
        recorded = {}
    if recorded.get("seed") != seed or not all((target / p).is_file() for p in recorded.get("files", [None])):
        tracks = demo_library_write(target, seed=seed, progress=progress)
        manifest.write_text(json.dumps({"seed": seed, "files": [str(t.path.relative_to(target)) for t in tracks]}))
        generated = True
    count = len(json.loads(manifest.read_text())["files"])
    return DemoSummary(folder=target, tracks=count, generated=generated, ingest=library_ingest(target, progress=ingest_progress))


def demo_user_ensure(*, username: str = "demo") -> tuple[str, str]:
    """Create (or reset) the demo login with a fresh random password; returns ``(username, password)``."""
    import secrets

    from django.contrib.auth import get_user_model

    password = secrets.token_urlsafe(9)
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return username, password


# -- learned fusion ------------------------------------------------------------
@dataclass
class FusionTrainSummary:
    version: str
    metric: str
    baseline: float | None
    learned: float | None
    is_default: bool
    reason: str
    train_tracks: int
    test_tracks: int
    test_artists: int
    signals: dict[str, int]
    path: str = ""


def fusion_model_train(*, config=None, dry_run: bool = False, progress: Progress | None = None) -> FusionTrainSummary:
    """Train learned fusion on the catalogue's embeddings and signals, judge it on held-out artists, record it.

    The model becomes the default (served by the next reindex) only when it
    beats the weighted baseline; either way the row, both numbers and the
    decision are stored (nothing is written with ``dry_run``).
    """
    from django.conf import settings

    from ml.fusion.hybrid import whitener_fit
    from ml.fusion.learned import FusionData, FusionTrainConfig, codes, fusion_fit_and_judge
    from playlists.models import FusionModel
    from playlists.selectors import fusion_signals

    config = config or FusionTrainConfig(balance=engine.engine_config().default_balance)
    versions = {m: engine.embedder_get(m).version for m in MODALITIES}
    vectors, _ = _vectors_collect(versions)
    if not vectors:
        raise MLError("no embeddings to learn from: run `manage.py reindex` first")
    universe = np.unique(np.concatenate([ids for ids, _ in vectors.values()]))
    aligned: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, (ids, raw) in vectors.items():
        rows = np.searchsorted(universe, ids)
        whitened = np.zeros((universe.size, raw.shape[1]), np.float32)
        whitened[rows] = whitener_fit(raw).apply(raw)
        present = np.zeros(universe.size, dtype=bool)
        present[rows] = True
        aligned[modality] = (whitened, present)
    signals = fusion_signals(universe)
    pairs = np.asarray(signals.playlist_pairs, dtype=np.int64).reshape(-1, 2)
    data = FusionData(aligned, signals.genres, signals.artists, [codes(signals.genres), np.asarray(signals.albums, dtype=np.int64)], pairs)
    decision = fusion_fit_and_judge(data, config, progress=progress)
    counts = {"genre_tagged": sum(1 for g in signals.genres if g), "on_an_album": sum(1 for a in signals.albums if a >= 0), "playlist_pairs": int(len(pairs))}
    summary = FusionTrainSummary(
        decision.model.version, decision.metric, decision.baseline, decision.learned, decision.is_default, decision.reason,
        decision.train_tracks, decision.test_tracks, decision.test_artists, counts,
    )
    if dry_run:
        return summary
    folder = Path(settings.CROSSFADE_DATA_DIR) / "models" / "fusion" / decision.model.version
    decision.model.info["signals"] = counts
    decision.model.info["embedding_models"] = versions
    decision.model.save(folder)
    summary.path = str(folder)
    with transaction.atomic():
        if decision.is_default:
            FusionModel.objects.filter(is_default=True).update(is_default=False)
        FusionModel.objects.create(
            version=decision.model.version, path=str(folder), dim=decision.model.dim, metric=decision.metric,
            baseline_score=decision.baseline, learned_score=decision.learned, is_default=decision.is_default,
            decision=decision.reason, train_tracks=decision.train_tracks, test_tracks=decision.test_tracks,
            test_artists=decision.test_artists, signals=counts, config=decision.model.info["config"],
        )
    return summary
