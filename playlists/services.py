"""Writes: ingesting files, (re)building the index, generating playlists.

Views, admin actions and management commands call these and nothing deeper.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from django.db import transaction
from django.utils import timezone

from ml.config import MODALITIES
from ml.audio.tags import vocals_score
from ml.embedder import Embedder
from ml.errors import MLError
from ml.fusion.hybrid import FORMAT_VERSION as HYBRID_FORMAT_VERSION
from ml.fusion.hybrid import HybridIndex
from ml.fusion.incremental import index_update_try
from ml.text.clean import lyrics_clean, lyrics_word_count
from ml.text.language import language_detect
from playlists import engine
from playlists.errors import ControlError, SeedError
from playlists.library import FileInfo, LibraryReadError, file_read, library_walk
from playlists.models import Album, ApiToken, Artist, Embedding, IngestFailure, Playlist, PlaylistItem, Rating, Track

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
    # Tags say best; otherwise the lyrics are asked ("zxx" too little text, "und" unsure).
    track.language = info.language or track_language_detect(track)


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
    languages_detected: int = 0


def track_language_detect(track: Track) -> str:
    """Language code of ``track``'s lyrics, "zxx" when there are too few words, "und" when unsure."""
    return language_detect(lyrics_clean(track.lyrics), min_words=engine.engine_config().lyrics.min_words)


def track_languages_fill(*, progress: Progress | None = None) -> int:
    """Detect and store the language of every track that has none yet (tags silent, lyrics added
    by hand, or ingested before detection existed); returns how many were filled."""
    tracks = list(Track.objects.filter(language="").only("id", "lyrics", "language"))
    for done, track in enumerate(tracks, start=1):
        track.language = track_language_detect(track)
        if progress:
            progress(done, len(tracks))
    Track.objects.bulk_update(tracks, ["language"], batch_size=500)
    return len(tracks)


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
        summary.languages_detected = track_languages_fill()
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
    newly_empty: list[int] = []
    for track in Track.objects.exclude(audio_path=None).only("id", "audio_path", "content_hash", "lyrics") if modality == "audio" else Track.objects.only("id", "lyrics"):
        if modality == "audio":
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
                defaults = {"status": Embedding.Status.FAILED, "vector": None, "dim": 0, "error": outcome}
            else:
                summary.embedded[modality] = summary.embedded.get(modality, 0) + 1
                defaults = {"status": Embedding.Status.OK, "vector": outcome.astype("<f4").tobytes(), "dim": outcome.size, "error": ""}
            Embedding.objects.update_or_create(
                track=track, modality=modality, defaults={**defaults, "model_version": embedder.version, "content_hash": digest}
            )
        if progress:
            progress(modality, min(start + batch, total), total)


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


def _embed_batch_tagged(tagger: Callable, items: list[str]) -> list[tuple[np.ndarray, dict[str, float]] | str]:
    """Like :func:`_embed_batch` for embedders that also tag: (vector, tags) or the failure reason."""
    try:
        vectors, tags = tagger(items)
        return list(zip(vectors, tags))
    except (MLError, RuntimeError, ValueError, OSError) as error:
        if len(items) == 1:
            return [str(error) or type(error).__name__]
    return [_embed_batch_tagged(tagger, [item])[0] for item in items]


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
    seed_ids: Sequence[int] = (),
    length: int = 20,
    balance: float = 0.5,
    name: str = "",
    **controls,
) -> Playlist:
    """Create and save a playlist from seeds and controls (see :class:`playlists.generation.PlaylistSettings`).

    ``controls`` are the other settings fields (``seed_text``, ``seed_artist_ids``,
    ``seed_audio``, ``path``, ``diversity``, ``max_per_artist``, filters,
    ``attributes``, ``order``, ``taste``...). Raises :class:`SeedError` for
    missing, unknown or too many seeds, :class:`ControlError` for a control out
    of range and :class:`IndexNotReadyError` before the first reindex. When the
    filters leave too few tracks the playlist is shorter and
    ``playlist.generation_messages`` says why.
    """
    from playlists.generation import PlaylistSettings

    settings = PlaylistSettings(seed_ids=list(seed_ids), length=length, balance=balance, **controls).validate()
    return _playlist_save(owner=owner, settings=settings, name=name)


def _playlist_save(*, owner, settings, name: str = "", playlist: Playlist | None = None) -> Playlist:
    from playlists.generation import playlist_build

    built = playlist_build(settings, user=owner)
    with transaction.atomic():
        if playlist is None:
            playlist = Playlist(owner=owner)
        playlist.name = name.strip() or playlist.name or built.name
        playlist.length = settings.length
        playlist.balance = settings.balance
        playlist.settings = settings.to_json()
        playlist.index_version = engine.index_store().current_version() or ""
        playlist.save()
        playlist.seeds.set([i for i in settings.seed_ids] + [i for i in settings.path])
        playlist.items.all().delete()
        PlaylistItem.objects.bulk_create(
            [
                PlaylistItem(playlist=playlist, track_id=item.track_id, position=position, score=item.score, is_seed=item.is_seed, explanation=item.explanation)
                for position, item in enumerate(built.items)
            ]
        )
    playlist.generation_messages = built.messages
    return playlist


def playlist_regenerate(playlist: Playlist, **changes) -> Playlist:
    """Generate ``playlist`` again from its stored settings (optionally changed), keeping its name and id."""
    from playlists.generation import PlaylistSettings

    stored = dict(playlist.settings or {})
    if not stored:
        stored = {"seed_ids": list(playlist.seeds.values_list("id", flat=True)), "length": playlist.length, "balance": playlist.balance}
    stored.update(changes)
    settings = PlaylistSettings.from_json(stored)
    return _playlist_save(owner=playlist.owner, settings=settings, name=playlist.name, playlist=playlist)


def playlist_rename(playlist: Playlist, *, name: str) -> Playlist:
    name = name.strip()
    if not name:
        raise ControlError("a playlist needs a name")
    if len(name) > 200:
        raise ControlError("a playlist name has at most 200 characters")
    playlist.name = name
    playlist.save(update_fields=["name", "updated_at"])
    return playlist


def playlist_reorder(playlist: Playlist, *, item_ids: Sequence[int]) -> Playlist:
    """Put the playlist's items in the order of ``item_ids`` (every item exactly once)."""
    current = list(playlist.items.order_by("position"))
    by_id = {item.id: item for item in current}
    wanted = [int(i) for i in item_ids]
    if sorted(wanted) != sorted(by_id):
        raise ControlError("a new order must list every item of the playlist exactly once")
    _positions_write(playlist, [by_id[i] for i in wanted])
    return playlist


def playlist_item_move(playlist: Playlist, *, item_id: int, offset: int) -> Playlist:
    """Move one item up (negative ``offset``) or down, clamped to the ends."""
    items = list(playlist.items.order_by("position"))
    index = next((n for n, item in enumerate(items) if item.id == int(item_id)), None)
    if index is None:
        raise ControlError(f"item {item_id} is not in this playlist")
    target = max(0, min(len(items) - 1, index + int(offset)))
    items.insert(target, items.pop(index))
    _positions_write(playlist, items)
    return playlist


def playlist_item_remove(playlist: Playlist, *, item_id: int) -> Playlist:
    removed, _ = playlist.items.filter(id=int(item_id)).delete()
    if not removed:
        raise ControlError(f"item {item_id} is not in this playlist")
    _positions_write(playlist, list(playlist.items.order_by("position")))
    return playlist


def _positions_write(playlist: Playlist, items: list[PlaylistItem]) -> None:
    # Positions are unique per playlist: move everything out of the way first.
    with transaction.atomic():
        offset = len(items) + max([i.position for i in items], default=0) + 1
        for item in items:
            item.position += offset
        PlaylistItem.objects.bulk_update(items, ["position"])
        for position, item in enumerate(items):
            item.position = position
        PlaylistItem.objects.bulk_update(items, ["position"])
        Playlist.objects.filter(id=playlist.id).update(updated_at=timezone.now())


def playlist_delete(playlist: Playlist) -> None:
    playlist.delete()


# -- ratings and API tokens ------------------------------------------------------
def rating_set(*, user, track_id: int, value: int | None) -> Rating | None:
    """Like (+1), dislike (-1) or clear (None/0) ``user``'s rating of a track."""
    if not Track.objects.filter(id=track_id).exists():
        raise SeedError(f"no track with id {track_id}")
    if not value:
        Rating.objects.filter(user=user, track_id=track_id).delete()
        return None
    if value not in (1, -1):
        raise ControlError("a rating is 1 (like) or -1 (dislike)")
    return Rating.objects.update_or_create(user=user, track_id=track_id, defaults={"value": value})[0]


def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the row and the secret, which is shown once and stored only hashed."""
    import secrets

    secret = "cf_" + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name.strip()[:100], prefix=secret[:10], key_hash=_token_hash(secret))
    return token, secret


def api_token_revoke(*, user, token_id: int) -> None:
    if not ApiToken.objects.filter(user=user, id=token_id).update(revoked=True):
        raise ControlError(f"no token {token_id} of yours")


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_token_authenticate(secret: str):
    """The user owning the live token ``secret``, or None; records when it was last used."""
    token = ApiToken.objects.select_related("user").filter(key_hash=_token_hash(secret.strip()), revoked=False).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(id=token.id).update(last_used_at=timezone.now())
    return token.user


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


# -- Kaggle Spotify files --------------------------------------------------------
def kaggle_file_import(path: Path, *, dry_run: bool = False, progress: Progress | None = None):
    """Upsert a Kaggle Spotify CSV into the catalogue as metadata; see :mod:`playlists.kaggle`.

    Returns a :class:`playlists.kaggle.KaggleImportSummary`; raises
    :class:`~playlists.errors.KaggleSchemaError` for a file of another shape.
    """
    from playlists.kaggle import kaggle_import

    return kaggle_import(Path(path), dry_run=dry_run, progress=progress)


# -- Spotify (metadata in, playlists out); the work is in playlists.spotify_sync --------
from playlists.spotify_sync import (  # noqa: E402,F401 - re-exported as this module's writes
    playlist_spotify_export,
    playlist_spotify_export_create,
    spotify_connect_finish,
    spotify_connect_start,
    tracks_spotify_enrich,
)


# -- learned fusion ------------------------------------------------------------
@dataclass
class FusionTrainSummary:
    """One ``train_fusion`` run: the held-out decision plus what this catalogue contributed.

    The decision's fields (``metric``, ``baseline``, ``learned``, ``is_default``,
    ``reason``, ``train_tracks``, ``test_tracks``, ``test_artists``) read through.
    """

    decision: Any  # ml.fusion.learned.FusionDecision
    signals: dict[str, int]
    path: str = ""

    @property
    def version(self) -> str:
        return self.decision.model.version

    def __getattr__(self, name: str) -> Any:
        if name == "decision":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.decision, name)


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
    pairs = np.asarray(signals.playlist_pairs + signals.like_pairs, dtype=np.int64).reshape(-1, 2)
    data = FusionData(aligned, signals.genres, signals.artists, [codes(signals.genres), np.asarray(signals.albums, dtype=np.int64)], pairs)
    decision = fusion_fit_and_judge(data, config, progress=progress)
    counts = {
        "genre_tagged": sum(1 for g in signals.genres if g),
        "on_an_album": sum(1 for a in signals.albums if a >= 0),
        "playlist_pairs": len(signals.playlist_pairs),
        "like_pairs": len(signals.like_pairs),
    }
    summary = FusionTrainSummary(decision, counts)
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
