"""Playlist generation: seeds of every kind -> candidates -> filters -> taste -> diversity -> order -> explanations.

``PlaylistSettings`` holds every control and round-trips through JSON (it is
stored on the playlist so it can be regenerated). ``playlist_build`` turns
settings into items without touching the database's playlists; the services
save them. Two modes:

* *similar*: catalogue tracks, artists, a text prompt (lyrics space) and
  uploaded audio (audio space) are seed rows; a candidate's relevance is its
  mean hybrid score over the rows. Catalogue rows use the audio/lyrics
  ``balance``; a prompt row scores lyrics only and an upload row audio only,
  since that is all they have.
* *path*: from the first to the last track of ``path`` (through waypoints)
  in ``length`` steps; each step is the track nearest an interpolated point
  of the hybrid space that is strictly closer to the next anchor than the
  step before.
"""
from __future__ import annotations

import logging
import math
import re
import tempfile
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ml.errors import MLError
from ml.fusion.hybrid import HybridIndex, balance_weights
from ml.text.clean import lyrics_clean
from ml.text.search import prompt_encode
from playlists import engine
from playlists.errors import ControlError, IndexNotReadyError, SeedError, UploadError
from playlists.models import Artist, Track
from playlists.ordering import flow_order, mmr_select
from playlists.vectors import VectorSet, candidates_search, modality_scores, rows, scores_matrix, vectors_concat, vectors_of, vectors_single

logger = logging.getLogger(__name__)

MAX_SEEDS = 5
MAX_SEED_ARTISTS = 5
MAX_LENGTH = 200
MAX_WAYPOINTS = 5
#: Tracks of a seed artist used as seed rows (the most typical ones would all be similar anyway).
ARTIST_SEED_TRACKS = 10
#: Audio cosine (standardised space) above which two files count as the same recording.
DUPLICATE_AUDIO = 0.995
#: How much a target_* attribute can lower a relevance (at a full scale away).
TARGET_WEIGHT = 0.5
#: Flow ordering: bonus for close tempo and compatible keys, where both tracks have them.
TEMPO_WEIGHT = 0.1
KEY_WEIGHT = 0.05
UPLOAD_TYPES = (".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".mp4", ".aac", ".aif", ".aiff", ".wma")
UPLOAD_MAX_BYTES = 30 * 1024 * 1024

#: Spotify-style attributes a track may carry in ``Track.spotify``, with the scale a target distance is measured in.
ATTRIBUTES: dict[str, float] = {
    "acousticness": 1.0,
    "danceability": 1.0,
    "duration_ms": 240_000.0,
    "energy": 1.0,
    "instrumentalness": 1.0,
    "key": 6.0,
    "liveness": 1.0,
    "loudness": 30.0,
    "mode": 1.0,
    "popularity": 100.0,
    "speechiness": 1.0,
    "tempo": 60.0,
    "time_signature": 4.0,
    "valence": 1.0,
}
ORDERS = ("score", "flow")

_STOPWORDS = frozenset(
    """that this with from your have what when where they them then there their will would could should just into
    only over under about been were like every never ever more some than because while again still after before
    тебя меня себя тебе мне нас вас они она оно было будет этот эта это того когда если только всегда снова
    """.split()
)


@dataclass
class PlaylistSettings:
    """Every control of a playlist; ``to_json``/``from_json`` round-trip through the stored playlist."""

    seed_ids: list[int] = field(default_factory=list)
    seed_artist_ids: list[int] = field(default_factory=list)
    seed_text: str = ""
    #: Uploaded files, analysed once: ``{"name", "model_version", "vector": [floats]}``; the files are not kept.
    seed_audio: list[dict] = field(default_factory=list)
    #: Path mode: ``[from, waypoint..., to]`` track ids; empty for the similar mode.
    path: list[int] = field(default_factory=list)
    length: int = 20
    balance: float = 0.5
    diversity: float = 0.0
    max_per_artist: int | None = None
    exclude_artists: list[str] = field(default_factory=list)
    exclude_albums: list[str] = field(default_factory=list)
    exclude_genres: list[str] = field(default_factory=list)
    exclude_explicit: bool = False
    languages: list[str] = field(default_factory=list)
    #: ``{"tempo": {"min": 100, "max": 130, "target": 120}, ...}``; tracks without the attribute pass unjudged.
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)
    include_seeds: bool = True
    dedupe: bool = True
    order: str = "score"
    taste: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "PlaylistSettings":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ControlError(f"unknown playlist settings: {', '.join(unknown)}")
        settings = cls(**{k: v for k, v in data.items() if k in known})
        settings.validate()
        return settings

    def validate(self) -> "PlaylistSettings":
        """Normalise types and raise :class:`ControlError` / :class:`SeedError` for values out of range."""
        try:
            self.seed_ids = list(dict.fromkeys(int(s) for s in self.seed_ids))
            self.seed_artist_ids = list(dict.fromkeys(int(s) for s in self.seed_artist_ids))
            self.path = [int(s) for s in self.path]
            self.length = int(self.length)
            self.balance = float(self.balance)
            self.diversity = float(self.diversity)
            self.taste = float(self.taste)
            self.max_per_artist = None if self.max_per_artist in (None, "", 0) else int(self.max_per_artist)
        except (TypeError, ValueError) as error:
            raise ControlError(f"a playlist setting is not a number: {error}") from None
        self.seed_text = (self.seed_text or "").strip()
        if len(self.seed_ids) > MAX_SEEDS:
            raise SeedError(f"choose at most {MAX_SEEDS} seed tracks, not {len(self.seed_ids)}")
        if len(self.seed_artist_ids) > MAX_SEED_ARTISTS:
            raise SeedError(f"choose at most {MAX_SEED_ARTISTS} seed artists, not {len(self.seed_artist_ids)}")
        if not 1 <= self.length <= MAX_LENGTH:
            raise ControlError(f"a playlist has 1 to {MAX_LENGTH} tracks, not {self.length}")
        try:
            balance_weights(self.balance)
        except MLError as error:
            raise ControlError(str(error)) from None
        for name in ("diversity", "taste"):
            value = getattr(self, name)
            if math.isnan(value) or not 0.0 <= value <= 1.0:
                raise ControlError(f"{name} must be between 0 and 1, got {value}")
        if self.max_per_artist is not None and self.max_per_artist < 1:
            raise ControlError(f"at most K tracks per artist needs K >= 1, got {self.max_per_artist}")
        if self.order not in ORDERS:
            raise ControlError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")
        if self.path:
            if len(self.path) < 2:
                raise SeedError("a path needs a start and an end track")
            if len(self.path) - 2 > MAX_WAYPOINTS:
                raise SeedError(f"a path takes at most {MAX_WAYPOINTS} waypoints")
            if len(set(self.path)) != len(self.path):
                raise SeedError("a path cannot visit the same track twice")
            if self.length < len(self.path):
                raise ControlError(f"a path through {len(self.path)} tracks needs a length of at least {len(self.path)}")
        for name, bounds in self.attributes.items():
            if name not in ATTRIBUTES:
                raise ControlError(f"unknown attribute {name!r}; use one of {', '.join(ATTRIBUTES)}")
            if set(bounds) - {"min", "max", "target"}:
                raise ControlError(f"{name}: only min, max and target can be set")
            try:
                self.attributes[name] = {k: float(v) for k, v in bounds.items() if v is not None and v != ""}
            except (TypeError, ValueError):
                raise ControlError(f"{name}: min, max and target must be numbers") from None
            low, high = self.attributes[name].get("min"), self.attributes[name].get("max")
            if low is not None and high is not None and low > high:
                raise ControlError(f"{name}: min {low:g} is above max {high:g}")
        self.attributes = {k: v for k, v in self.attributes.items() if v}
        self.languages = [l.strip().lower() for l in self.languages if l and l.strip()]
        if not (self.seed_ids or self.seed_artist_ids or self.seed_text or self.seed_audio or self.path):
            raise SeedError("choose at least one seed: a track, an artist, a text prompt or an audio file")
        return self


@dataclass
class BuiltItem:
    track_id: int
    score: float | None
    is_seed: bool
    explanation: dict


@dataclass
class BuiltPlaylist:
    items: list[BuiltItem]
    messages: list[str]
    name: str
    index_version: str = ""


# -- uploads ---------------------------------------------------------------------
def upload_analyse(name: str, chunks: Iterable[bytes], *, size: int | None = None, max_bytes: int | None = None) -> dict:
    """Embed an uploaded audio file through the audio embedder without adding it to the catalogue.

    Returns the ``seed_audio`` entry ``{"name", "model_version", "vector"}``.
    Raises :class:`UploadError` for a file too large, of another type, or not decodable.
    """
    from django.conf import settings as django_settings

    limit = max_bytes or getattr(django_settings, "CROSSFADE_UPLOAD_MAX_BYTES", UPLOAD_MAX_BYTES)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise UploadError(f"“{name}” is not an audio file type Crossfade takes; upload one of {', '.join(UPLOAD_TYPES)}")
    if size is not None and size > limit:
        raise UploadError(f"“{name}” is {size / 1e6:.1f} MB; uploads are limited to {limit / 1e6:.0f} MB")
    embedder = engine.embedder_get("audio")
    with tempfile.TemporaryDirectory(prefix="crossfade-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        written = 0
        with path.open("wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise UploadError(f"“{name}” is larger than the {limit / 1e6:.0f} MB upload limit")
                out.write(chunk)
        if written == 0:
            raise UploadError(f"“{name}” is empty")
        try:
            vector = embedder.embed([str(path)])[0]
        except (MLError, RuntimeError, ValueError, OSError) as error:
            raise UploadError(f"“{name}” is not audio Crossfade can decode ({error}); upload an MP3, FLAC, Ogg, WAV or M4A file") from None
    if not np.all(np.isfinite(vector)):
        raise UploadError(f"“{name}” gave no usable audio (silent or too short?)")
    return {"name": name, "model_version": embedder.version, "vector": [round(float(v), 7) for v in vector]}


# -- helpers -----------------------------------------------------------------------
def track_attribute(track: Track, name: str) -> float | None:
    """A Spotify-style attribute of ``track``: from ``Track.spotify``, a model field of that name, or (duration) the file."""
    value = (track.spotify or {}).get(name) if isinstance(track.spotify, dict) else None
    if value is None:
        value = (track.spotify or {}).get("audio_features", {}).get(name) if isinstance(track.spotify, dict) else None
    if value is None and name not in ("key", "mode"):
        value = getattr(track, name, None) if name not in ("duration_ms",) else None
    if value is None and name == "duration_ms" and track.duration_s:
        value = track.duration_s * 1000.0
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def track_explicit(track: Track) -> bool:
    value = (track.spotify or {}).get("explicit") if isinstance(track.spotify, dict) else None
    if value is None:
        value = getattr(track, "explicit", None)
    return bool(value)


_BRACKETS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_SUFFIX = re.compile(r"\s+-\s+.*(remaster|version|edit|mix|live|mono|stereo|deluxe).*$", re.I)
_FEAT = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s+.*$", re.I)


def normalised_key(artist: str, title: str) -> str:
    """``artist|title`` folded so that remasters, live/mono/radio versions and featured artists collapse."""

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text or "")
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
        text = _FEAT.sub("", _SUFFIX.sub("", _BRACKETS.sub("", text)))
        text = re.sub(r"^the\s+", "", text.strip())
        return re.sub(r"[\W_]+", " ", text).strip()

    return f"{fold(artist)}|{fold(title)}"


def _track_key(track: Track) -> str:
    return normalised_key(track.artist.name if track.artist else "", track.title)


def lyric_words(text: str) -> Counter:
    words = re.findall(r"\w+", lyrics_clean(text or "").casefold())
    return Counter(w for w in words if len(w) >= 4 and not w.isdigit() and w not in _STOPWORDS)


def _top_tags(track: Track, threshold: float = 0.3) -> dict[str, float]:
    tags = getattr(track, "audio_tags", None)
    if not isinstance(tags, dict):
        return {}
    return {str(k): float(v) for k, v in tags.items() if isinstance(v, (int, float)) and v >= threshold}


def _key_compatible(a: float, mode_a: float | None, b: float, mode_b: float | None) -> bool:
    """Same key, relative major/minor, or a fifth apart (pitch classes 0-11)."""
    a, b = int(a) % 12, int(b) % 12
    if mode_a is not None and mode_b is not None and mode_a != mode_b:
        return (a + (3 if mode_a == 0 else -3)) % 12 == b
    return a == b or (a - b) % 12 in (5, 7)


def flow_similarity(index: HybridIndex, tracks: Sequence[Track], balance: float) -> np.ndarray:
    """Hybrid similarity among ``tracks`` plus small tempo/key continuity bonuses: float64 ``(n, n)``."""
    ids = [t.id for t in tracks]
    vector_set = vectors_of(index, ids)
    sim = np.nan_to_num(scores_matrix(vector_set, vector_set, balance_weights(balance)).astype(np.float64), nan=0.0)
    tempos = [track_attribute(t, "tempo") for t in tracks]
    keys = [(track_attribute(t, "key"), track_attribute(t, "mode")) for t in tracks]
    for i in range(len(tracks)):
        for j in range(len(tracks)):
            if i == j:
                continue
            if tempos[i] and tempos[j]:
                sim[i, j] += TEMPO_WEIGHT * (1.0 - min(1.0, abs(tempos[i] - tempos[j]) / 40.0))
            (ki, mi), (kj, mj) = keys[i], keys[j]
            if ki is not None and kj is not None and ki >= 0 and kj >= 0 and _key_compatible(ki, mi, kj, mj):
                sim[i, j] += KEY_WEIGHT
    return sim


# -- the generator ----------------------------------------------------------------
@dataclass
class _Seeds:
    """Seed rows and what they came from."""

    tracks: list[Track]  # catalogue seed tracks, in the user's order
    artist_tracks: list[Track]  # tracks standing for seed artists
    catalogue: VectorSet  # rows of tracks + artist_tracks (balance weights)
    text: VectorSet | None  # one lyrics row
    audio: VectorSet | None  # upload rows (audio only)
    labels: list[str]


def _index_or_raise() -> HybridIndex:
    index = engine.index_current()
    if index is None:
        raise IndexNotReadyError("no index yet: run `manage.py reindex` first")
    return index


def _seeds_resolve(index: HybridIndex, settings: PlaylistSettings, messages: list[str]) -> _Seeds:
    tracks_by_id = Track.objects.select_related("artist", "album").in_bulk(settings.seed_ids)
    unknown = [s for s in settings.seed_ids if s not in tracks_by_id]
    if unknown:
        raise SeedError(f"unknown seed track ids: {', '.join(map(str, unknown))}")
    tracks = [tracks_by_id[s] for s in settings.seed_ids]
    not_indexed = [t for t in tracks if t.id not in index]
    if not_indexed:
        messages.append(f"not indexed yet, so only placed, not matched: {', '.join(t.title for t in not_indexed)} (run reindex)")
    labels = [t.title for t in tracks]
    artist_tracks: list[Track] = []
    if settings.seed_artist_ids:
        artists = Artist.objects.in_bulk(settings.seed_artist_ids)
        missing = [a for a in settings.seed_artist_ids if a not in artists]
        if missing:
            raise SeedError(f"unknown seed artist ids: {', '.join(map(str, missing))}")
        for artist_id in settings.seed_artist_ids:
            theirs = [t for t in Track.objects.select_related("artist", "album").filter(artist_id=artist_id, excluded=False).order_by("id") if t.id in index]
            if not theirs:
                messages.append(f"{artists[artist_id].name} has no indexed tracks to seed from")
            artist_tracks.extend(theirs[:ARTIST_SEED_TRACKS])
            labels.append(artists[artist_id].name)
    catalogue_ids = [t.id for t in tracks if t.id in index] + [t.id for t in artist_tracks if t.id not in tracks_by_id]
    catalogue = vectors_of(index, catalogue_ids)
    text = None
    if settings.seed_text:
        if "lyrics" not in index.indexes:
            messages.append("no lyrics are indexed, so the text prompt cannot match anything")
        else:
            text = vectors_single(index, "lyrics", _prompt_vector(settings.seed_text))
            labels.append(f"“{settings.seed_text[:40]}”")
    audio = None
    if settings.seed_audio:
        if "audio" not in index.indexes:
            raise IndexNotReadyError("no audio is indexed, so an uploaded file cannot be matched")
        parts = []
        for upload in settings.seed_audio:
            if upload.get("model_version") != index.model_versions.get("audio"):
                raise UploadError(f"“{upload.get('name')}” was analysed with another audio model than the index uses; upload it again")
            parts.append(vectors_single(index, "audio", np.asarray(upload["vector"], np.float32)))
            labels.append(str(upload.get("name", "upload")))
        audio = vectors_concat(index, parts)
    if rows(catalogue) == 0 and text is None and audio is None:
        raise IndexNotReadyError("none of the seeds is indexed yet; run `manage.py reindex`")
    return _Seeds(tracks, artist_tracks, catalogue, text, audio, labels)


_prompt_cache: dict[tuple[str, str], np.ndarray] = {}


def _prompt_vector(text: str) -> np.ndarray:
    """The lyrics embedder's vector of a prompt, ``(dim,)``; cached, since encoding costs more than the rest of a request."""
    embedder = engine.embedder_get("lyrics")
    key = (embedder.version, text)
    if key not in _prompt_cache:
        if len(_prompt_cache) > 512:
            _prompt_cache.clear()
        # The same prompt handling as theme search: framing words dropped, the encoder's query side.
        _prompt_cache[key] = prompt_encode(embedder, text)
    return _prompt_cache[key]


def _seed_groups(seeds: _Seeds, balance: float) -> list[tuple[VectorSet, dict[str, float]]]:
    groups: list[tuple[VectorSet, dict[str, float]]] = []
    if rows(seeds.catalogue):
        groups.append((seeds.catalogue, balance_weights(balance)))
    if seeds.text is not None:
        groups.append((seeds.text, {"lyrics": 1.0}))
    if seeds.audio is not None:
        groups.append((seeds.audio, {"audio": 1.0}))
    return groups


def _relevance(groups, candidates: VectorSet) -> np.ndarray:
    """Mean score of each candidate over every seed row (rows it cannot be compared with ignored): ``(c,)``, NaN if none."""
    columns = [scores_matrix(candidates, group, weights) for group, weights in groups]
    matrix = np.concatenate(columns, axis=1) if columns else np.zeros((rows(candidates), 0), np.float32)
    with np.errstate(invalid="ignore"), _quiet():
        return np.nanmean(matrix, axis=1) if matrix.shape[1] else np.full(rows(candidates), np.nan)


class _quiet:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@dataclass
class _Filter:
    settings: PlaylistSettings
    counts: Counter = field(default_factory=Counter)

    def passes(self, track: Track) -> bool:
        s = self.settings
        if track.excluded:
            return self._no("excluded by the catalogue")
        artist = track.artist.name.casefold() if track.artist else ""
        if artist and artist in {a.casefold() for a in s.exclude_artists}:
            return self._no("excluded artists")
        if track.album and track.album.title.casefold() in {a.casefold() for a in s.exclude_albums}:
            return self._no("excluded albums")
        if s.exclude_genres and {g.casefold() for g in track.genres} & {g.casefold() for g in s.exclude_genres}:
            return self._no("excluded genres")
        if s.exclude_explicit and track_explicit(track):
            return self._no("explicit")
        # An instrumental has no words to be in the wrong language, so it passes a language filter.
        if s.languages and track.lyrics and (track.language or "").lower() not in s.languages:
            return self._no("another language")
        for name, bounds in s.attributes.items():
            value = track_attribute(track, name)
            if value is None:
                if "min" in bounds or "max" in bounds:
                    self.counts[f"no {name} (kept unjudged)"] += 1
                continue
            if ("min" in bounds and value < bounds["min"]) or ("max" in bounds and value > bounds["max"]):
                return self._no(f"{name} out of range")
        return True

    def _no(self, reason: str) -> bool:
        self.counts[reason] += 1
        return False


def _target_penalty(track: Track, settings: PlaylistSettings) -> float:
    penalty = 0.0
    for name, bounds in settings.attributes.items():
        if "target" not in bounds:
            continue
        value = track_attribute(track, name)
        if value is None:
            continue
        distance = abs(value - bounds["target"])
        if name == "key":
            distance = min(distance, 12 - distance)
        penalty += TARGET_WEIGHT * min(1.0, distance / ATTRIBUTES[name])
    return penalty


def _taste_probabilities(user, index: HybridIndex, ids: np.ndarray, messages: list[str]) -> np.ndarray | None:
    from playlists import selectors
    from playlists.taste import TasteNotReadyError

    if user is None or not getattr(user, "is_authenticated", False):
        messages.append("the taste control needs a signed-in user; it was ignored")
        return None
    try:
        model = selectors.taste_get(user=user, index=index)
    except TasteNotReadyError as error:
        messages.append(f"taste ignored: {error}")
        return None
    return model.like_probability(ids)


def playlist_build(settings: PlaylistSettings, *, user=None) -> BuiltPlaylist:
    """Items (with explanations) for ``settings``; a filter leaving too few tracks gives fewer items and a message."""
    settings.validate()
    index = _index_or_raise()
    if settings.path:
        return _path_build(index, settings)
    messages: list[str] = []
    seeds = _seeds_resolve(index, settings, messages)
    groups = _seed_groups(seeds, settings.balance)
    weights = balance_weights(settings.balance)
    seed_ids = {t.id for t in seeds.tracks}
    placed = seeds.tracks if settings.include_seeds else []
    wanted = settings.length - len(placed[: settings.length])
    catalogue_size = len(index)
    k = max(200, 4 * settings.length + len(seed_ids))
    filt = _Filter(settings)
    while True:
        candidates = np.concatenate([candidates_search(index, g, w, k) for g, w in groups]) if groups else np.zeros(0, np.int64)
        candidates = np.asarray(list(dict.fromkeys(int(c) for c in candidates if int(c) not in seed_ids)), dtype=np.int64)
        fetched = Track.objects.select_related("artist", "album").in_bulk([int(c) for c in candidates])
        keep = [c for c in candidates if int(c) in fetched and filt.passes(fetched[int(c)])]
        if len(keep) >= 3 * wanted or k >= catalogue_size:
            break
        filt = _Filter(settings)
        k = min(catalogue_size, k * 4)
    candidates = np.asarray(keep, dtype=np.int64)
    candidate_vectors = vectors_of(index, candidates)
    relevance = _relevance(groups, candidate_vectors).astype(np.float64)
    usable = ~np.isnan(relevance)
    if (~usable).any():
        filt.counts["nothing in common with the seeds (no shared modality)"] += int((~usable).sum())
    candidates, relevance = candidates[usable], relevance[usable]
    candidate_vectors = {m: (v[usable], p[usable]) for m, (v, p) in candidate_vectors.items()}
    tracks = [fetched[int(c)] for c in candidates]
    if settings.attributes:
        relevance = relevance - np.asarray([_target_penalty(t, settings) for t in tracks])
    taste = None
    if settings.taste > 0 and candidates.size:
        taste = _taste_probabilities(user, index, candidates, messages)
        if taste is not None:
            relevance = relevance + settings.taste * (taste - 0.5)
    allowed = np.ones(candidates.size, bool)
    if settings.dedupe and candidates.size:
        allowed &= _dedupe_mask(index, tracks, relevance, candidate_vectors, seeds, filt)
    similarity = scores_matrix(candidate_vectors, candidate_vectors, weights) if candidates.size else np.zeros((0, 0))
    already = None
    if rows(seeds.catalogue):
        already = np.nanmax(np.nan_to_num(scores_matrix(candidate_vectors, seeds.catalogue, weights), nan=0.0), axis=1) if candidates.size else None
    artists = [t.artist_id for t in tracks]
    used = Counter(t.artist_id for t in placed)
    picks = mmr_select(
        relevance, similarity, count=max(0, wanted), diversity=settings.diversity, allowed=allowed,
        already=already, group_of=artists, group_cap=settings.max_per_artist, group_used=used,
    )
    if settings.max_per_artist is not None and len(picks) < wanted:
        filt.counts[f"beyond {settings.max_per_artist} per artist"] += int(allowed.sum()) - len(picks)
    chosen = placed[: settings.length] + [tracks[i] for i in picks]
    scores = {int(candidates[i]): float(relevance[i]) for i in picks}
    if settings.order == "flow" and len(chosen) > 2:
        flow = flow_similarity(index, chosen, settings.balance)
        order = flow_order(flow, start=0, fixed_prefix=1 if placed else 0)
        chosen = [chosen[i] for i in order]
    if len(chosen) < settings.length:
        reasons = ", ".join(f"{n} {why}" for why, n in filt.counts.most_common() if n)
        messages.append(
            f"only {len(chosen)} of {settings.length} tracks: the seeds and filters leave no more"
            + (f" (left out: {reasons})" if reasons else "")
        )
    explanations = _explain(index, chosen, seeds, settings, taste_of=dict(zip(map(int, candidates), taste)) if taste is not None else None)
    placed_ids = {t.id for t in placed}
    items = [
        BuiltItem(t.id, None if t.id in placed_ids else scores.get(t.id), t.id in placed_ids, explanations[t.id])
        for t in chosen
    ]
    name = seeds.labels[0] if seeds.labels else "Playlist"
    more = f" + {len(seeds.labels) - 1}" if len(seeds.labels) > 1 else ""
    return BuiltPlaylist(items, messages, f"Like {name}{more}")


def _dedupe_mask(index, tracks: list[Track], relevance: np.ndarray, candidate_vectors: VectorSet, seeds: _Seeds, filt: _Filter) -> np.ndarray:
    """False for a candidate that repeats a seed or a better candidate (same normalised artist+title, or the same audio)."""
    keep = np.ones(len(tracks), bool)
    seen_keys = {_track_key(t) for t in seeds.tracks}
    seen_hashes = {t.content_hash for t in seeds.tracks if t.content_hash}
    audio, audio_present = candidate_vectors.get("audio", (None, None))
    # Only the placed seed tracks: a seed artist's own tracks are wanted, not duplicates.
    seed_audio = vectors_of(index, [t.id for t in seeds.tracks if t.id in index]).get("audio") if seeds.tracks else None
    kept_rows: list[int] = []
    for i in np.argsort(-relevance, kind="stable"):
        track = tracks[i]
        key = _track_key(track)
        duplicate = key in seen_keys or (track.content_hash and track.content_hash in seen_hashes)
        if not duplicate and audio is not None and audio_present[i]:
            if seed_audio is not None and seed_audio[1].any():
                duplicate = bool((seed_audio[0][seed_audio[1]] @ audio[i] >= DUPLICATE_AUDIO).any())
            if not duplicate and kept_rows:
                others = [r for r in kept_rows if audio_present[r]]
                duplicate = bool(others) and bool((audio[others] @ audio[i] >= DUPLICATE_AUDIO).any())
        if duplicate:
            keep[i] = False
            filt.counts["duplicates"] += 1
            continue
        seen_keys.add(key)
        if track.content_hash:
            seen_hashes.add(track.content_hash)
        kept_rows.append(int(i))
    return keep


def _explain(index: HybridIndex, chosen: list[Track], seeds: _Seeds, settings: PlaylistSettings, *, taste_of: dict | None) -> dict[int, dict]:
    """Per track: audio and lyrics similarity to the seeds, shared audio tags, shared lyric words or prompt match."""
    out: dict[int, dict] = {}
    seed_tracks = seeds.tracks + [t for t in seeds.artist_tracks if t.id not in {s.id for s in seeds.tracks}]
    vectors = vectors_of(index, [t.id for t in chosen])
    audio_rows = [g for g in (seeds.catalogue if rows(seeds.catalogue) else None, seeds.audio) if g is not None]
    audio_cos = np.concatenate([modality_scores(vectors, g, "audio") for g in audio_rows], axis=1) if audio_rows and "audio" in index.indexes else None
    lyrics_rows = [g for g in (seeds.catalogue if rows(seeds.catalogue) else None, seeds.text) if g is not None]
    lyrics_cos = np.concatenate([modality_scores(vectors, g, "lyrics") for g in lyrics_rows], axis=1) if lyrics_rows and "lyrics" in index.indexes else None
    prompt_cos = modality_scores(vectors, seeds.text, "lyrics")[:, 0] if seeds.text is not None else None
    seed_tags: Counter = Counter()
    seed_words: Counter = Counter()
    for t in seed_tracks:
        seed_tags.update(_top_tags(t))
        seed_words.update(lyric_words(t.lyrics))
    seed_ids = {t.id for t in seeds.tracks}
    for row, track in enumerate(chosen):
        info: dict[str, Any] = {}
        if track.id in seed_ids:
            info["seed"] = True
        with _quiet():
            if audio_cos is not None and not np.all(np.isnan(audio_cos[row])):
                info["audio"] = round(float(np.nanmean(audio_cos[row])), 4)
            if lyrics_cos is not None and not np.all(np.isnan(lyrics_cos[row])):
                info["lyrics"] = round(float(np.nanmean(lyrics_cos[row])), 4)
        tags = _top_tags(track)
        shared_tags = sorted((t for t in tags if t in seed_tags), key=lambda t: -tags[t])[:3]
        if shared_tags:
            info["tags"] = shared_tags
        if track.id not in seed_ids:
            words = lyric_words(track.lyrics)
            shared_words = [w for w, _ in sorted(((w, n) for w, n in words.items() if w in seed_words), key=lambda x: (-x[1], x[0]))[:3]]
            if shared_words:
                info["theme"] = shared_words
        if prompt_cos is not None and not math.isnan(float(prompt_cos[row])):
            info["prompt"] = {"text": settings.seed_text, "similarity": round(float(prompt_cos[row]), 4)}
        if taste_of is not None and track.id in taste_of:
            info["taste"] = round(float(taste_of[track.id]), 4)
        info["why"] = explanation_text(info)
        out[track.id] = info
    return out


def explanation_text(info: dict) -> str:
    """One line a person reads: "seed" or "sounds 0.81 · lyrics 0.42 · shared: guitar · theme: rain, night"."""
    if info.get("seed"):
        return "seed"
    parts = []
    if "path" in info:
        parts.append(f"step {info['path']['step']} toward {info['path']['toward']} ({info['path']['similarity']:.2f})")
    if "audio" in info:
        parts.append(f"sounds {info['audio']:.2f} like the seeds")
    if "lyrics" in info:
        parts.append(f"lyrics {info['lyrics']:.2f}")
    if info.get("tags"):
        parts.append("shared: " + ", ".join(info["tags"]))
    if info.get("theme"):
        parts.append("theme: " + ", ".join(info["theme"]))
    if "prompt" in info:
        parts.append(f"matches “{info['prompt']['text'][:40]}” {info['prompt']['similarity']:.2f}")
    if "taste" in info:
        parts.append(f"you'd like it: {info['taste']:.0%}")
    return " · ".join(parts) or "close to the seeds"


# -- path mode ---------------------------------------------------------------------
def _path_build(index: HybridIndex, settings: PlaylistSettings) -> BuiltPlaylist:
    messages: list[str] = []
    anchors_by_id = Track.objects.select_related("artist", "album").in_bulk(settings.path)
    unknown = [s for s in settings.path if s not in anchors_by_id]
    if unknown:
        raise SeedError(f"unknown path track ids: {', '.join(map(str, unknown))}")
    anchors = [anchors_by_id[s] for s in settings.path]
    not_indexed = [t.title for t in anchors if t.id not in index]
    if not_indexed:
        raise IndexNotReadyError(f"a path needs indexed tracks; not indexed yet: {', '.join(not_indexed)} (run reindex)")
    weights = balance_weights(settings.balance)
    steps_between = _spread(settings.length - len(anchors), len(anchors) - 1)
    filt = _Filter(settings)
    used_ids = set(settings.path)
    used_keys = {_track_key(t) for t in anchors}
    used_artists: Counter = Counter(t.artist_id for t in anchors)
    cap = settings.max_per_artist
    chosen: list[Track] = [anchors[0]]
    explanations: dict[int, dict] = {anchors[0].id: {"seed": True, "why": "start"}}
    scores: dict[int, float] = {}
    for segment, (start, end) in enumerate(zip(anchors[:-1], anchors[1:])):
        m = steps_between[segment]
        picked = _segment_walk(index, start, end, m, weights, settings, filt, used_ids, used_keys, used_artists, cap)
        if len(picked) < m:
            messages.append(f"from {start.title} to {end.title}: only {len(picked)} of {m} steps move closer without repeats")
        for step, (track, toward) in enumerate(picked, start=1):
            chosen.append(track)
            scores[track.id] = toward
            info = {"path": {"step": step, "toward": end.title, "similarity": round(toward, 4)}}
            info["why"] = explanation_text(info)
            explanations[track.id] = info
        chosen.append(end)
        explanations[end.id] = {"seed": True, "why": "waypoint" if end is not anchors[-1] else "destination"}
    vectors = vectors_of(index, [t.id for t in chosen])
    ends = vectors_of(index, [anchors[0].id, anchors[-1].id])
    for modality, key in (("audio", "audio"), ("lyrics", "lyrics")):
        if modality in index.indexes:
            cos = modality_scores(vectors, ends, modality)
            for row, track in enumerate(chosen):
                if not np.isnan(cos[row]).all() and "path" in explanations[track.id]:
                    explanations[track.id][key] = round(float(np.nanmean(cos[row])), 4)
    for info in explanations.values():
        if "path" in info:
            info["why"] = explanation_text(info)
    items = [BuiltItem(t.id, scores.get(t.id), t.id in set(settings.path), explanations[t.id]) for t in chosen]
    if len(items) < settings.length:
        messages.append(f"the path has {len(items)} of {settings.length} tracks")
    return BuiltPlaylist(items, messages, f"{anchors[0].title} → {anchors[-1].title}")


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(max(0, total), parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _segment_targets(ends: VectorSet, steps: int) -> VectorSet:
    """Points ``i/(steps+1)`` of the way from the first to the second row of ``ends``, per modality (re-normalised)."""
    fractions = np.arange(1, steps + 1) / (steps + 1)
    targets: VectorSet = {}
    for modality, (vectors, present) in ends.items():
        points = (1 - fractions)[:, None] * vectors[0][None, :] + fractions[:, None] * vectors[1][None, :]
        points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
        targets[modality] = (points.astype(np.float32), np.full(steps, bool(present.all())))
    return targets


def _monotone_chain(closeness: np.ndarray, fit: np.ndarray, steps: int, banned: np.ndarray) -> list[int]:
    """Candidates for each of ``steps`` steps with strictly rising ``closeness``, maximising the summed ``fit``.

    ``closeness`` ``(c,)`` is each candidate's similarity to the destination,
    ``fit`` ``(c, steps)`` its similarity to each step's target point. Dynamic
    programming over candidates sorted by closeness (a longest-increasing-
    subsequence with weights). Returns candidate indices in step order; fewer
    than ``steps`` when not enough distinct closeness values exist.
    """
    order = [int(i) for i in np.argsort(closeness, kind="stable") if not banned[i]]
    # Equal closeness cannot both be on a strictly rising path: keep the first of a tie.
    distinct: list[int] = []
    for i in order:
        if not distinct or closeness[i] > closeness[distinct[-1]] + 1e-9:
            distinct.append(i)
    steps = min(steps, len(distinct))
    if steps == 0:
        return []
    n = len(distinct)
    value = np.full((n, steps), -np.inf)
    parent = np.full((n, steps), -1, dtype=np.int64)
    for j in range(steps):
        best, best_at = -np.inf, -1
        for position, i in enumerate(distinct):
            if j == 0:
                value[position, 0] = fit[i, 0]
            elif best > -np.inf:
                value[position, j] = best + fit[i, j]
                parent[position, j] = best_at
            if j > 0 and value[position, j - 1] > best:
                best, best_at = value[position, j - 1], position
    end = int(np.argmax(value[:, steps - 1]))
    if value[end, steps - 1] == -np.inf:
        return []
    chain = [end]
    for j in range(steps - 1, 0, -1):
        chain.append(int(parent[chain[-1], j]))
    return [distinct[p] for p in reversed(chain)]


def _segment_walk(index, start: Track, end: Track, steps: int, weights, settings, filt, used_ids, used_keys, used_artists, cap) -> list[tuple[Track, float]]:
    """``steps`` tracks between ``start`` and ``end``, each strictly closer to ``end`` than the one before.

    Step ``i`` aims at the point ``i/(steps+1)`` of the way along the straight
    line between the two (per modality, re-normalised); the chain of
    candidates with rising closeness to ``end`` that best fits the points is
    found by :func:`_monotone_chain`. Returns ``[(track, hybrid similarity to end)]``.
    """
    if steps <= 0:
        return []
    ends = vectors_of(index, [start.id, end.id])
    targets = _segment_targets(ends, steps)
    candidates = candidates_search(index, targets, weights, max(50, 8 * steps))
    candidates = np.asarray([c for c in candidates if int(c) not in used_ids], dtype=np.int64)
    fetched = Track.objects.select_related("artist", "album").in_bulk([int(c) for c in candidates])
    candidates = np.asarray([c for c in candidates if int(c) in fetched and filt.passes(fetched[int(c)])], dtype=np.int64)
    if candidates.size == 0:
        return []
    tracks = [fetched[int(c)] for c in candidates]
    candidate_vectors = vectors_of(index, candidates)
    start_set = {m: (v[0:1], p[0:1]) for m, (v, p) in ends.items()}
    end_set = {m: (v[1:2], p[1:2]) for m, (v, p) in ends.items()}
    closeness = np.nan_to_num(scores_matrix(candidate_vectors, end_set, weights)[:, 0], nan=-np.inf)
    from_start = float(np.nan_to_num(scores_matrix(start_set, end_set, weights)[0, 0], nan=-1.0))
    banned = ~np.isfinite(closeness) | (closeness <= from_start + 1e-6) | (closeness >= 1.0 - 1e-4)
    if settings.dedupe:
        banned |= np.asarray([_track_key(t) in used_keys for t in tracks])
    if cap is not None:
        banned |= np.asarray([used_artists[t.artist_id] >= cap for t in tracks])
    chain: list[int] = []
    for _ in range(len(tracks)):
        wanted = min(steps, int((~banned).sum()))
        fit = np.nan_to_num(scores_matrix(candidate_vectors, _segment_targets(ends, wanted), weights), nan=-1.0) if wanted else None
        chain = _monotone_chain(closeness, fit, wanted, banned) if wanted else []
        # The chain ignores artists and names; ban the weaker of any clash and look again.
        clash = _chain_clash(chain, tracks, fit, settings, cap, used_artists)
        if clash is None:
            break
        banned[clash] = True
    out: list[tuple[Track, float]] = []
    for i in chain:
        track = tracks[i]
        out.append((track, float(closeness[i])))
        used_ids.add(track.id)
        used_keys.add(_track_key(track))
        used_artists[track.artist_id] += 1
    return out


def _chain_clash(chain: list[int], tracks: list[Track], fit, settings, cap, used_artists) -> int | None:
    """A candidate of ``chain`` to drop: a name repeated, or an artist over ``cap``; None when the chain is fine."""
    keys: dict[str, int] = {}
    artists: Counter = Counter(used_artists)
    for step, i in enumerate(chain):
        key = _track_key(tracks[i])
        if settings.dedupe and key in keys:
            return i
        keys[key] = i
        artists[tracks[i].artist_id] += 1
        if cap is not None and artists[tracks[i].artist_id] > cap:
            return i
    return None
