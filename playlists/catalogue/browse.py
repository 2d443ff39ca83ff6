"""Reads for browsing the playable catalogue by artist, album and genre (what music players show).

Only tracks with an audio file are browsable: a metadata-only track cannot
be played. Tracks without an album are gathered per artist in one
*unknown album* (:class:`AlbumKey` with ``album_id=None``), so a player that
goes artist → album → song reaches every track.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from playlists.models import Album, Artist, Track

UNKNOWN_ALBUM = "Unknown album"
UNKNOWN_ARTIST = "Unknown artist"


@dataclass(frozen=True, order=True)
class AlbumKey:
    """A real album (``album_id``), or an artist's tracks without one (``album_id=None``, ``artist_id``)."""

    album_id: int | None
    artist_id: int | None = None


@dataclass(frozen=True)
class AlbumSummary:
    key: AlbumKey
    title: str
    artist_id: int | None
    artist_name: str
    year: int | None
    genre: str
    song_count: int
    duration_s: float
    created: datetime
    cover_id: int | None


@dataclass(frozen=True)
class ArtistSummary:
    id: int
    name: str
    album_count: int
    cover_id: int | None


def playable_tracks() -> QuerySet[Track]:
    """Tracks a player can play (they have an audio file), with artist, album and covers fetched."""
    return Track.objects.filter(audio_path__isnull=False).select_related("artist", "album__artist")


def album_summaries(*, artist_id: int | None = None, keys: list[AlbumKey] | None = None, genre: str = "") -> list[AlbumSummary]:
    """Every album with playable tracks (song count, length, newest addition), optionally of one artist, some keys or a genre."""
    tracks = Track.objects.filter(audio_path__isnull=False)
    if artist_id is not None:
        tracks = tracks.filter(Q(album__artist_id=artist_id) | Q(album__isnull=True, artist_id=artist_id))
    if genre:
        tracks = tracks.with_genre(genre)
    if keys is not None:
        real = [k.album_id for k in keys if k.album_id is not None]
        loose = [k.artist_id for k in keys if k.album_id is None]
        tracks = tracks.filter(Q(album_id__in=real) | Q(album__isnull=True, artist_id__in=loose))
    aggregates = dict(songs=Count("id"), duration=Sum("duration_s"), created=Max("created_at"), genre=Min("genre"), year=Max("year"), cover=Max("cover_id"))
    out: list[AlbumSummary] = []
    real_rows = list(tracks.filter(album__isnull=False).values("album_id").annotate(**aggregates))
    albums = Album.objects.select_related("artist").in_bulk([row["album_id"] for row in real_rows])
    for row in real_rows:
        album = albums[row["album_id"]]
        out.append(
            AlbumSummary(
                AlbumKey(album.id), album.title or UNKNOWN_ALBUM, album.artist_id, album.artist.name if album.artist else UNKNOWN_ARTIST,
                album.year or row["year"], _first_genre(row["genre"]), row["songs"], float(row["duration"] or 0), row["created"], album.cover_id or row["cover"],
            )
        )
    loose_rows = list(tracks.filter(album__isnull=True).values("artist_id").annotate(**aggregates))
    artists = Artist.objects.in_bulk([row["artist_id"] for row in loose_rows if row["artist_id"] is not None])
    for row in loose_rows:
        artist = artists.get(row["artist_id"]) if row["artist_id"] is not None else None
        out.append(
            AlbumSummary(
                AlbumKey(None, row["artist_id"]), UNKNOWN_ALBUM, row["artist_id"], artist.name if artist else UNKNOWN_ARTIST,
                row["year"], _first_genre(row["genre"]), row["songs"], float(row["duration"] or 0), row["created"], row["cover"],
            )
        )
    return out


def album_summary(key: AlbumKey) -> AlbumSummary | None:
    found = album_summaries(keys=[key])
    return found[0] if found else None


def album_tracks(key: AlbumKey) -> list[Track]:
    """The album's playable tracks in disc order."""
    tracks = playable_tracks()
    if key.album_id is not None:
        tracks = tracks.filter(album_id=key.album_id)
    elif key.artist_id is not None:
        tracks = tracks.filter(album__isnull=True, artist_id=key.artist_id)
    else:
        tracks = tracks.filter(album__isnull=True, artist__isnull=True)
    return list(tracks.order_by("track_number", "title", "id"))


def artist_summaries() -> list[ArtistSummary]:
    """Artists with playable tracks, by name, with how many albums (an unknown album counts once)."""
    albums = album_summaries()
    counts: dict[int, int] = {}
    covers: dict[int, int] = {}
    for summary in albums:
        if summary.artist_id is not None:
            counts[summary.artist_id] = counts.get(summary.artist_id, 0) + 1
            if summary.cover_id is not None:
                covers.setdefault(summary.artist_id, summary.cover_id)
    artists = Artist.objects.filter(id__in=list(counts)).order_by("name")
    return [ArtistSummary(a.id, a.name, counts[a.id], covers.get(a.id)) for a in artists]


def artist_get(artist_id: int) -> Artist | None:
    return Artist.objects.filter(id=artist_id).first()


def artist_tracks(artist_id: int) -> list[Track]:
    return list(playable_tracks().filter(artist_id=artist_id).order_by("album__title", "track_number", "title", "id"))


def genre_counts() -> list[tuple[str, int, int]]:
    """``(genre, songs, albums)`` for every genre tag of a playable track, by name."""
    songs: dict[str, int] = {}
    albums: dict[str, set[tuple[int | None, int | None]]] = {}
    names: dict[str, str] = {}
    for value, album_id, artist_id in Track.objects.filter(audio_path__isnull=False).exclude(genre="").values_list("genre", "album_id", "artist_id").iterator():
        for name in {g.strip() for g in value.split(";") if g.strip()}:
            folded = name.casefold()
            names.setdefault(folded, name)
            songs[folded] = songs.get(folded, 0) + 1
            albums.setdefault(folded, set()).add((album_id, None) if album_id is not None else (None, artist_id))
    return [(names[g], songs[g], len(albums[g])) for g in sorted(names)]


def tracks_of_genre(genre: str) -> QuerySet[Track]:
    """Playable tracks tagged ``genre`` exactly (case aside), not merely containing its letters."""
    ids = [t.id for t in Track.objects.filter(audio_path__isnull=False).with_genre(genre).only("id", "genre") if genre.casefold() in {g.casefold() for g in t.genres}]
    return playable_tracks().filter(id__in=ids)


def _first_genre(value: str | None) -> str:
    for part in (value or "").split(";"):
        if part.strip():
            return part.strip()
    return ""


def genre_slug(name: str) -> str:
    """A genre as Spotify writes its genre seeds: lower case, words joined by hyphens ("Hip Hop" -> "hip-hop")."""
    return "-".join(name.casefold().replace("_", " ").replace("/", " ").split())


def genre_slugs() -> list[str]:
    """Every genre of the catalogue as a seed name, sorted."""
    slugs: set[str] = set()
    for value in Track.objects.exclude(genre="").values_list("genre", flat=True).distinct():
        slugs.update(genre_slug(g) for g in value.split(";") if g.strip())
    slugs.discard("")
    return sorted(slugs)


def genre_track_ids(slug: str) -> list[int]:
    """Ids of the tracks tagged with the genre whose seed name is ``slug``, by id."""
    wanted = genre_slug(slug)
    return [track_id for track_id, value in Track.objects.exclude(genre="").order_by("id").values_list("id", "genre").iterator() if wanted in {genre_slug(g) for g in value.split(";")}]
