"""Reads: catalogue lists, a track, its neighbours, a user's playlists."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from playlists import engine
from playlists.errors import IndexNotReadyError
from playlists.models import ApiToken, Embedding, Playlist, PlaylistItem, Rating, Track


def track_list(*, query: str = "", genre: str = "", language: str = "", lyrics: str = "", tag: str = "", vocals: str = "") -> QuerySet[Track]:
    """The catalogue, filtered: ``query`` matches title, artist, album or lyrics words;
    ``lyrics`` is ``"with"`` or ``"without"``; ``tag`` an audio tag the tagger
    is fairly sure of; ``vocals`` is ``"with"`` or ``"without"`` (as heard by the tagger)."""
    tracks = Track.objects.select_related("artist", "album")
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


def track_facets() -> dict[str, list[str]]:
    """Values to offer in the catalogue's filters."""
    genres: set[str] = set()
    for value in Track.objects.exclude(genre="").values_list("genre", flat=True).distinct():
        genres.update(g.strip() for g in value.split(";") if g.strip())
    languages = sorted(set(Track.objects.exclude(language="").values_list("language", flat=True)))
    tags: set[str] = set()
    for top in Track.objects.exclude(audio_tags={}).only("audio_tags").iterator():
        tags.update(top.audio_top_tags)
    return {"genres": sorted(genres, key=str.casefold), "languages": languages, "audio_tags": sorted(tags)}


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
    index = engine.index_current()
    if index is None:
        raise IndexNotReadyError("no index yet: run `manage.py reindex`")
    if track_id not in index:
        raise IndexNotReadyError(f"track {track_id} is not indexed yet: run `manage.py reindex`")
    excluded = list(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, scores = index.similar([track_id], k=limit, balance=balance, exclude=excluded)
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in ids])
    return [Neighbour(tracks[int(i)], float(s)) for i, s in zip(ids, scores) if int(i) in tracks]


def track_embedding_states(track: Track) -> dict[str, Embedding]:
    return {e.modality: e for e in track.embeddings.all()}


def playlist_list(*, owner) -> QuerySet[Playlist]:
    return Playlist.objects.filter(owner=owner).prefetch_related("seeds")


def playlist_get(*, owner, playlist_id: int) -> Playlist:
    """One of ``owner``'s playlists with its items; raises ``Playlist.DoesNotExist`` for anyone else's."""
    items = PlaylistItem.objects.select_related("track__artist", "track__album").order_by("position")
    return Playlist.objects.prefetch_related(Prefetch("items", queryset=items)).get(id=playlist_id, owner=owner)


# -- taste, ratings, tokens ------------------------------------------------------
def ratings_of(*, user) -> dict[int, int]:
    """``{track_id: +1 like / -1 dislike}`` of one user."""
    return dict(Rating.objects.filter(user=user).values_list("track_id", "value"))


def taste_get(*, user, index=None):
    """``user``'s fitted :class:`~playlists.taste.TasteModel` (cached until their ratings or the index change).

    Raises :class:`~playlists.taste.TasteNotReadyError` below 5 likes and 5 dislikes,
    :class:`IndexNotReadyError` before the first reindex.
    """
    from django.db.models import Count, Max

    from playlists.taste import taste_fit

    index = index or engine.index_current()
    if index is None:
        raise IndexNotReadyError("no index yet: run `manage.py reindex`")
    summary = Rating.objects.filter(user=user).aggregate(n=Count("id"), last=Max("updated_at"))
    key = (user.pk, summary["n"], str(summary["last"]), id(index))
    ratings = list(Rating.objects.filter(user=user).values_list("track_id", "value"))
    return taste_fit(index, ratings, cache_key=key)


@dataclass(frozen=True)
class TastePick:
    track: Track
    probability: float


def taste_recommendations(*, user, limit: int = 50) -> tuple[object, list[TastePick]]:
    """The user's taste model and the unrated, playable tracks it rates most likely to be liked, best first."""
    model = taste_get(user=user)
    rated = set(Rating.objects.filter(user=user).values_list("track_id", flat=True))
    excluded = set(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, probabilities = model.best(limit, exclude=rated | excluded)
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in ids])
    return model, [TastePick(tracks[int(i)], float(p)) for i, p in zip(ids, probabilities) if int(i) in tracks]


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked=False)


#: Most results a theme search returns.
MAX_THEME_RESULTS = 100


def track_theme_search(prompt: str, *, limit: int = 20) -> list[Neighbour]:
    """Tracks whose lyrics match a theme prompt ("songs about leaving home", "песни о море"), best first.

    Uses the serving index's lyrics vectors and the configured lyrics encoder;
    excluded tracks are left out. Raises :class:`IndexNotReadyError` before
    the first reindex, :class:`ml.text.search.ThemeQueryError` for an empty or
    overlong prompt and :class:`ml.errors.IndexMismatchError` when the index
    was built with another lyrics encoder.
    """
    from ml.text.search import lyrics_search

    index = engine.index_current()
    if index is None:
        raise IndexNotReadyError("no index yet: run `manage.py reindex`")
    excluded = list(Track.objects.filter(excluded=True).values_list("id", flat=True))
    ids, scores = lyrics_search(index, engine.embedder_get("lyrics"), prompt, k=min(limit, MAX_THEME_RESULTS), exclude=excluded)
    tracks = Track.objects.select_related("artist", "album").in_bulk([int(i) for i in ids])
    return [Neighbour(tracks[int(i)], float(s)) for i, s in zip(ids, scores) if int(i) in tracks]


# -- learned fusion ----------------------------------------------------------
def fusion_model_default():
    """The learned fusion model reindex serves (a :class:`FusionModel` row), or None for the weighted baseline."""
    from playlists.models import FusionModel

    return FusionModel.objects.filter(is_default=True).first()


@dataclass(frozen=True)
class FusionSignals:
    """The catalogue's own training signals for ``ids`` (int64 ``(n,)``, in that order).

    ``genres``: primary genre tag ("" if none); ``artists``: artist name (or a
    per-track placeholder); ``albums``: album id or -1; ``playlist_pairs``:
    row pairs of tracks a user picked as seeds of one playlist;
    ``like_pairs``: row pairs of tracks one user liked, each like paired with
    the user's next :data:`LIKE_PAIR_WINDOW` likes in time (a taste is
    local: the likes of one listening session hang together better than a
    user's whole history, and the window keeps a heavy liker from
    contributing quadratically many pairs). Dislikes are not a similarity
    signal and are left out, and so are generated playlist items: they echo
    the model being trained. Spotify fields are never read.
    """

    genres: list[str]
    artists: list[str]
    albums: list[int]
    playlist_pairs: list[tuple[int, int]]
    like_pairs: list[tuple[int, int]]


LIKE_PAIR_WINDOW = 8


def fusion_signals(ids) -> FusionSignals:
    from itertools import combinations

    rows = {t["id"]: t for t in Track.objects.filter(id__in=[int(i) for i in ids]).values("id", "genre", "album_id", "artist__name")}
    position = {int(track_id): row for row, track_id in enumerate(ids)}
    genres, artists, albums = [], [], []
    for track_id in ids:
        row = rows.get(int(track_id), {})
        tags = [g.strip() for g in (row.get("genre") or "").split(";") if g.strip()]
        genres.append(tags[0].casefold() if tags else "")
        artists.append(row.get("artist__name") or f"#track-{int(track_id)}")
        albums.append(int(row["album_id"]) if row.get("album_id") is not None else -1)
    pairs: list[tuple[int, int]] = []
    for playlist in Playlist.objects.prefetch_related("seeds"):
        members = sorted(position[s.id] for s in playlist.seeds.all() if s.id in position)
        pairs.extend(combinations(members, 2))
    liked: dict[int, list[int]] = {}
    likes = Rating.objects.filter(value=Rating.Value.LIKE).order_by("user_id", "updated_at", "track_id").values_list("user_id", "track_id")
    for user_id, track_id in likes:
        if track_id in position:
            liked.setdefault(user_id, []).append(position[track_id])
    like_pairs = sorted(
        {(min(a, b), max(a, b)) for rows in liked.values() for i, a in enumerate(rows) for b in rows[i + 1 : i + 1 + LIKE_PAIR_WINDOW]}
    )
    return FusionSignals(genres, artists, albums, pairs, like_pairs)


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
