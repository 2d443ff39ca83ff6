"""Reads of the catalogue: lists with filters and facets, one track, its neighbours, theme search, manifests."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, cast

import numpy as np
from django.db.models import Count, Q, QuerySet

from ml.audio.describe import TagTable
from ml.audio.tags import VOCABULARY_NAMES, tag_label, tag_vocabulary, tags_ranked
from ml.errors import VectorIndexError
from ml.playlist.prompts import prompt_parts, prompt_search
from ml.text.search import NULL_PROMPTS, THEME_MARGIN, lyrics_search, prompt_encode, theme_margins, theme_prompt_core
from playlists import engine
from playlists.engine import Serving
from playlists.errors import IndexNotReadyError
from playlists.models import Album, Artist, Embedding, Track

#: Most results a theme search returns.
MAX_THEME_RESULTS = 100


#: Columns the catalogue can be sorted by (``?sort=name``, ``?sort=-name`` descending) and their ordering.
TRACK_SORTS: dict[str, tuple[str, ...]] = {
    "title": ("title", "id"),
    "artist": ("artist__name", "album__title", "track_number", "title"),
    "album": ("album__title", "track_number", "title"),
    "genre": ("genre", "artist__name", "title"),
    "language": ("language", "artist__name", "title"),
    "length": ("duration_s", "title"),
    "added": ("created_at", "id"),
}


def track_list(
    *, query: str = "", genre: str = "", language: str = "", lyrics: str = "", tag: str = "", vocals: str = "", sort: str = ""
) -> QuerySet[Track]:
    """The catalogue, filtered: ``query`` matches title, artist, album or lyrics words;
    ``lyrics`` is ``"with"`` or ``"without"``; ``tag`` an audio tag the tagger
    is fairly sure of; ``vocals`` is ``"with"`` or ``"without"`` (lyrics, else as heard by
    the tagger); ``sort`` one of :data:`TRACK_SORTS`, ``-`` first for descending
    (anything else keeps the catalogue's order: artist, album, track number)."""
    tracks = Track.objects.select_related("artist", "album")
    column = sort.lstrip("-")
    if column in TRACK_SORTS:
        fields = TRACK_SORTS[column]
        tracks = tracks.order_by(*(f"-{f}" if sort.startswith("-") else f for f in fields))
    if query.strip():
        tracks = tracks.search(query)
    if genre:
        tracks = tracks.with_genre(genre)
    if language:
        tracks = tracks.filter(language=language)
    if lyrics == "with":
        tracks = tracks.with_lyrics()
    elif lyrics == "without":
        tracks = tracks.instrumental()
    if tag:
        tracks = tracks.with_audio_tag(tag)
    if vocals in ("with", "without"):
        tracks = tracks.by_vocals(vocals == "with")
    return tracks


@dataclass(frozen=True)
class TagFacet:
    """One audio tag offered as a filter: its key (``"mtt:piano"``), the name shown, and its vocabulary's data set."""

    key: str
    label: str
    vocabulary: str


def track_facets() -> dict[str, Any]:
    """Values to offer in the catalogue's filters: genres, languages, and the audio tags some track is fairly sure of, by vocabulary."""
    genres: set[str] = set()
    for value in Track.objects.exclude(genre="").values_list("genre", flat=True).distinct():
        genres.update(g.strip() for g in value.split(";") if g.strip())
    languages = sorted(set(Track.objects.exclude(language="").values_list("language", flat=True)))
    keys: set[str] = set()
    for tags in Track.objects.exclude(audio_tags={}).values_list("audio_tags", flat=True).iterator():
        for vocabulary in {tag_vocabulary(key) for key in tags}:
            keys.update(tags_ranked(tags, vocabulary=vocabulary))
    order = list(VOCABULARY_NAMES)
    facets = sorted(
        (TagFacet(key, tag_label(key), VOCABULARY_NAMES.get(tag_vocabulary(key), "other")) for key in keys),
        key=lambda f: (order.index(tag_vocabulary(f.key)) if tag_vocabulary(f.key) in order else len(order), f.label),
    )
    return {"genres": sorted(genres, key=str.casefold), "languages": languages, "audio_tags": facets}


def artist_search(text: str) -> QuerySet[Artist]:
    """Artists whose name contains ``text`` (case-insensitive), those with the most tracks first."""
    return Artist.objects.filter(name__icontains=text.strip()).annotate(tracks_count=Count("tracks")).order_by("-tracks_count", "name")


def artist_get(artist_id: int) -> tuple[Artist, list[Album], QuerySet[Track]]:
    """An artist, their albums (newest first) and all their tracks (album order). Raises ``Artist.DoesNotExist``."""
    artist = Artist.objects.get(id=artist_id)
    albums = list(Album.objects.filter(Q(artist=artist) | Q(tracks__artist=artist)).distinct().order_by("-year", "title"))
    tracks = Track.objects.select_related("artist", "album").filter(artist=artist).order_by("album__title", "track_number", "title")
    return artist, albums, tracks


def album_get(album_id: int) -> tuple[Album, QuerySet[Track]]:
    """An album and its tracks in track-number order. Raises ``Album.DoesNotExist``."""
    album = Album.objects.select_related("artist").get(id=album_id)
    return album, Track.objects.select_related("artist", "album").filter(album=album).order_by("track_number", "title")


def track_get(track_id: int) -> Track:
    return Track.objects.select_related("artist", "album").prefetch_related("embeddings").get(id=track_id)


@dataclass(frozen=True)
class Neighbour:
    track: Track
    score: float


def track_similar(track_id: int, *, limit: int = 10, balance: float = 0.5) -> list[Neighbour]:
    """Tracks most similar to one track under the hybrid score, best first.

    Raises :class:`IndexNotReadyError` when there is no index or the track is not in it.
    """
    serving = engine.serving_or_raise()
    if track_id not in serving.index:
        raise IndexNotReadyError(f"track {track_id} is not indexed yet: run `manage.py reindex`")
    excluded = tuple(Track.objects.filter(excluded=True).order_by("id").values_list("id", flat=True))
    # A function of the index version and these values alone: kept with the snapshot, as track pages and the API ask again and again.
    found = serving.answers.get(
        ("similar", track_id, limit, balance, excluded), lambda: serving.index.similar([track_id], k=limit, balance=balance, exclude=list(excluded))
    )
    ids, scores = cast(tuple[np.ndarray, np.ndarray], found)
    return _neighbours(ids, scores)


#: Words too common to make a lexical match of a theme on their own.
_THEME_STOPWORDS = frozenset("about from that this with what when where your have into over under they them their there were been".split())


def theme_words(prompt: str) -> list[str]:
    """The content words of a theme prompt (framing and short words dropped): "songs about the rain" -> ["rain"]."""
    words = re.findall(r"\w+", theme_prompt_core(prompt).casefold())
    return [w for w in words if len(w) >= 4 and not w.isdigit() and w not in _THEME_STOPWORDS]


def track_theme_search(prompt: str, *, limit: int = 20, relevant_only: bool = True) -> list[Neighbour]:
    """Tracks whose lyrics match a theme prompt ("songs about leaving home", "песни о море"), best first.

    Uses the serving index's lyrics vectors and the configured lyrics encoder;
    excluded tracks are left out. With ``relevant_only`` a track is kept only
    when it scores clearly above what nonsense prompts score on it
    (:func:`ml.text.search.theme_margins`) or its title or lyrics hold every
    content word of the prompt, so "asdfghjkl" finds nothing. Raises
    :class:`IndexNotReadyError` before the first reindex,
    :class:`ml.text.search.ThemeQueryError` for an empty or overlong prompt
    and :class:`ml.errors.IndexMismatchError` when the index was built with
    another lyrics encoder.
    """
    serving = engine.serving_or_raise()
    embedder = engine.embedder_get("lyrics")

    def encoded(text: str) -> np.ndarray:
        vector: np.ndarray = serving.prompts.get((embedder.version, text), lambda: prompt_encode(embedder, text))
        return vector

    query_raw = encoded(prompt) if prompt.strip() else None
    excluded = list(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, scores = lyrics_search(serving.index, embedder, prompt, k=min(limit, MAX_THEME_RESULTS), exclude=excluded, query_raw=query_raw)
    if relevant_only and ids.size and query_raw is not None:
        nulls = np.stack([encoded(text) for text in NULL_PROMPTS])
        keep = theme_margins(serving.index, query_raw, nulls, ids) > THEME_MARGIN
        words = theme_words(prompt)
        if words and not keep.all():
            lexical = Track.objects.filter(id__in=[int(i) for i in ids[~keep]])
            for word in words:
                lexical = lexical.filter(Q(title__icontains=word) | Q(lyrics__icontains=word))
            keep |= np.isin(ids, np.asarray(list(lexical.values_list("id", flat=True)), dtype=np.int64))
        ids, scores = ids[keep], scores[keep]
    return _neighbours(ids, scores)


@dataclass(frozen=True)
class PromptNeighbour:
    """A track matching a prompt: its combined score, its lyrics cosine and sound score (None where not matched that way), the tags it matched."""

    track: Track
    score: float
    lyrics: float | None
    sound: float | None
    matched: list[str]


def track_prompt_search(prompt: str, *, mode: str = "lyrics", limit: int = 20) -> list[PromptNeighbour]:
    """Tracks matching a prompt by lyrics (a theme), by sound (audio tags) or both, best first (:mod:`ml.playlist.prompts`).

    Raises :class:`IndexNotReadyError` before the first reindex,
    :class:`ml.playlist.prompts.PromptModeError` for an unknown mode or a
    sound prompt on an untagged catalogue, :class:`ml.text.search.ThemeQueryError` /
    :class:`ml.audio.describe.SoundQueryError` for an empty or overlong prompt
    and :class:`ml.errors.IndexMismatchError` when the lyrics index comes from another encoder.
    """
    serving = engine.serving_or_raise()
    excluded = list(Track.objects.filter(excluded=True).values_list("id", flat=True))
    parts = prompt_parts(prompt, mode)
    found = prompt_search(
        serving.index,
        prompt,
        mode=mode,
        k=min(limit, MAX_THEME_RESULTS),
        lyrics_encoder=engine.embedder_get("lyrics"),
        tags=serving_tag_table(serving) if parts.sound else None,
        vocabulary=engine.sound_vocabulary() if parts.sound else None,
        exclude=excluded,
    )
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in found.ids])

    def number(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), 4)

    return [
        PromptNeighbour(tracks[int(i)], float(score), number(lyrics), number(sound), matched)
        for i, score, lyrics, sound, matched in zip(found.ids, found.scores, found.lyrics, found.sound, found.matched)
        if int(i) in tracks
    ]


#: Track columns no list of neighbours shows (track pages, the API, Subsonic): large JSON, left unread; the rows are
#: read unordered (a dict by id: the catalogue's artist/album/title sort would only cost the query its joins' sort).
NEIGHBOUR_UNREAD_FIELDS = ("spotify", "audio_tags")


def _neighbours(ids: np.ndarray, scores: np.ndarray) -> list[Neighbour]:
    tracks = Track.objects.select_related("artist", "album").defer(*NEIGHBOUR_UNREAD_FIELDS).order_by().in_bulk([int(i) for i in ids])
    return [Neighbour(tracks[int(i)], float(s)) for i, s in zip(ids, scores) if int(i) in tracks]


def audio_tag_table(track_ids: np.ndarray) -> TagTable | None:
    """The stored audio tags of ``track_ids`` (int64 ``(n,)``) as one table; None when none of them is tagged."""
    tags: dict[int, dict[str, float]] = {}
    wanted = [int(i) for i in track_ids]
    for start in range(0, len(wanted), 5000):
        for track_id, values in Track.objects.filter(id__in=wanted[start : start + 5000]).exclude(audio_tags={}).values_list("id", "audio_tags"):
            if isinstance(values, dict) and values:
                tags[int(track_id)] = {str(k): float(v) for k, v in values.items() if isinstance(v, (int, float))}
    return TagTable.from_tags(tags) if tags else None


def serving_tag_table(serving: Serving) -> TagTable | None:
    """The audio tags of the serving version's tracks: the table saved with the version, else the catalogue's (an index built before tags were saved)."""

    def load() -> TagTable | None:
        stored = TagTable.load(serving.folder) if serving.folder is not None else None
        if stored is not None:
            return stored
        audio = serving.index.indexes.get("audio")
        return audio_tag_table(audio.store.ids) if audio is not None and len(audio) else None

    return serving.tag_tables.get(serving.version, load)


def track_embedding_states(track: Track) -> dict[str, Embedding]:
    return {e.modality: e for e in track.embeddings.all()}


def manifest_rows() -> tuple[list[dict[str, str]], int]:
    """The catalogue as evaluation-manifest rows (label = primary genre tag, group = artist), and how many untagged tracks were left out."""
    rows: list[dict[str, str]] = []
    untagged = 0
    for track in Track.objects.select_related("artist").order_by("id"):
        if not track.genres:
            untagged += 1
            continue
        rows.append(
            {
                "track_id": str(track.id),
                "label": track.genres[0],
                "group": track.artist.name if track.artist else f"#track-{track.id}",
                "audio_path": track.audio_path or "",
                "lyrics": track.lyrics,
            }
        )
    return rows, untagged


def embedding_digest(versions: dict[str, str]) -> str:
    """A digest of which tracks and inputs the stored vectors at ``versions`` are (what a published index was built from)."""
    digest = hashlib.sha256()
    for modality, version in versions.items():
        digest.update(f"{modality}:{version}:".encode())
        rows = _ok(modality, version).order_by("track_id").values_list("track_id", "content_hash")
        for track_id, content_hash in rows.iterator(chunk_size=20_000):
            digest.update(f"{track_id}:{content_hash};".encode())
    return digest.hexdigest()


def embedding_counts(versions: dict[str, str]) -> dict[str, int]:
    """Stored vectors per modality at ``versions`` (modalities without any left out)."""
    counts = {modality: _ok(modality, version).count() for modality, version in versions.items()}
    return {modality: count for modality, count in counts.items() if count}


def embedding_vectors(versions: dict[str, str]) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """The stored vectors of every modality at its model version, in memory, and their digest (:func:`embedding_digest`).

    Returns ``({modality: (track ids int64 (n,), vectors float32 (n, dim))}, digest)``. For
    catalogues of any size prefer :func:`embedding_sources`, which streams them.
    """
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality, version in versions.items():
        source = StoredVectors(modality, version)
        if source.count == 0:
            continue
        ids = np.empty(source.count, np.int64)
        matrix = np.empty((source.count, source.dim), np.float32)
        filled = 0
        for chunk_ids, chunk in source.chunks(20_000):
            ids[filled : filled + chunk_ids.size] = chunk_ids
            matrix[filled : filled + chunk_ids.size] = chunk
            filled += chunk_ids.size
        vectors[modality] = (ids[:filled], matrix[:filled])
    return vectors, embedding_digest(versions)


def embedding_sources(versions: dict[str, str], *, spill_dir: Path | None = None) -> dict[str, "StoredVectors"]:
    """Each modality's stored vectors at its model version as an index build's source (read in chunks, never all at once).

    Close them when the build is done (:meth:`StoredVectors.close` removes the spill files).
    """
    sources = {modality: StoredVectors(modality, version, spill_dir=spill_dir) for modality, version in versions.items()}
    return {modality: source for modality, source in sources.items() if source.count}


def _ok(modality: str, version: str) -> QuerySet[Embedding]:
    return Embedding.objects.filter(modality=modality, status=Embedding.Status.OK, model_version=version)


#: Rows fetched from the database at a time while streaming stored vectors (a few MB of blobs).
DATABASE_FETCH_ROWS = 2000


class StoredVectors:
    """One modality's stored embeddings at one model version, ordered by track id, read in chunks
    (:class:`ml.fusion.sources.VectorSource`).

    The first full read streams rows from the database (a server-side cursor
    on PostgreSQL, ``chunk_size`` rows at a time) and copies the vectors to a
    temporary file in ``spill_dir``; later reads come from that file with
    plain reads (no memory map), so a build reads the database once and never
    holds more than a chunk. Rows added or removed while reading raise
    :class:`~ml.errors.VectorIndexError` (the build stops, the serving index stays).
    """

    def __init__(self, modality: str, version: str, *, spill_dir: Path | None = None) -> None:
        self.modality, self.version = modality, version
        self.spill_dir = spill_dir
        self._count = _ok(modality, version).count()
        first = _ok(modality, version).order_by("track_id").values_list("dim", flat=True).first()
        self._dim = int(first or 0)
        self._ids: np.ndarray | None = None
        self._spill: Path | None = None

    @property
    def count(self) -> int:
        return self._count

    @property
    def dim(self) -> int:
        return self._dim

    def chunks(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self._spill is not None and self._ids is not None:
            yield from self._spilled(size)
            return
        yield from self._from_database(size)

    def _from_database(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        import tempfile

        folder = self.spill_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(prefix=f".vectors-{self.modality}-", suffix=".f32", dir=folder, delete=False)
        spill = Path(handle.name)
        size = max(1, int(size))
        ids = np.empty(self._count, np.int64)
        width = self._dim * 4
        read = 0
        complete = False
        try:
            # Rows come from the database a few thousand at a time and go straight into the chunk's
            # float32 array: the chunk is the only copy held (no list of blobs, no joined bytes).
            rows = _ok(self.modality, self.version).order_by("track_id").values_list("track_id", "vector").iterator(chunk_size=min(size, DATABASE_FETCH_ROWS))
            vectors = np.empty((min(size, self._count), self._dim), np.float32)
            filled = 0
            for track_id, blob in rows:
                if blob is None:
                    raise VectorIndexError(f"track {track_id}: an OK {self.modality} embedding without a vector; run reindex --full")
                if read + filled >= self._count:
                    raise VectorIndexError(f"{self.modality}: more stored vectors than counted; the catalogue changed while the index was built, run reindex again")
                if len(blob) != width:
                    raise VectorIndexError(f"{self.modality}: stored vectors of other dimensions than {self._dim} at model version {self.version}; run reindex --full")
                ids[read + filled] = track_id
                vectors[filled] = np.frombuffer(blob, dtype="<f4")
                filled += 1
                if filled == vectors.shape[0]:
                    yield self._chunk(ids, read, vectors, handle)
                    read += filled
                    filled = 0
                    vectors = np.empty((min(size, max(1, self._count - read)), self._dim), np.float32)
            if filled:
                yield self._chunk(ids, read, vectors[:filled], handle)
                read += filled
            if read != self._count:
                raise VectorIndexError(f"{self.modality}: {read} stored vectors read, {self._count} counted; the catalogue changed while the index was built, run reindex again")
            complete = True
        finally:
            handle.close()
            if complete:
                self._ids, self._spill = ids, spill
            else:
                spill.unlink(missing_ok=True)

    @staticmethod
    def _chunk(ids: np.ndarray, start: int, vectors: np.ndarray, handle: IO[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids int64 (m,), vectors float32 (m, dim))`` of rows ``start:start + m``, written to the spill file."""
        handle.write(vectors.data)
        return ids[start : start + vectors.shape[0]].copy(), vectors

    def _spilled(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        assert self._spill is not None and self._ids is not None
        width = self._dim * 4
        with open(self._spill, "rb") as handle:
            for start in range(0, self._count, size):
                count = min(size, self._count - start)
                vectors = np.frombuffer(handle.read(count * width), dtype=np.float32).reshape(count, self._dim)
                yield self._ids[start : start + count], vectors

    def close(self) -> None:
        """Remove the spill file."""
        if self._spill is not None:
            self._spill.unlink(missing_ok=True)
            self._spill = None
