"""Browsing: indexes, artists, albums, songs, album lists, random songs, genres, search, folder directories."""
from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any, Callable

from django.db.models import Max, Q

from playlists.catalogue import browse
from playlists.catalogue.browse import AlbumKey, AlbumSummary, ArtistSummary
from playlists.models import Album, Artist, Track
from playlists.subsonic import ids
from playlists.subsonic.endpoints import Call, Payload, endpoint
from playlists.subsonic.params import ErrorCode, SubsonicError, not_found
from playlists.taste import listening

IGNORED_ARTICLES = "The El La Los Las Le Les"
ALBUM_LIST_TYPES = ("random", "newest", "highest", "frequent", "recent", "alphabeticalByName", "alphabeticalByArtist", "starred", "byYear", "byGenre")
_ARTICLES = tuple(f"{word.lower()} " for word in IGNORED_ARTICLES.split())
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _sort_name(name: str) -> str:
    folded = name.casefold()
    for article in _ARTICLES:
        if folded.startswith(article):
            return folded[len(article) :]
    return folded


def _index_letter(name: str) -> str:
    head = _sort_name(name)[:1].upper()
    return head if head.isalpha() else "#"


def _indexed(artists: list[Payload]) -> list[Payload]:
    groups: dict[str, list[Payload]] = {}
    for artist in sorted(artists, key=lambda a: _sort_name(a["name"])):
        groups.setdefault(_index_letter(artist["name"]), []).append(artist)
    return [{"name": letter, "artist": members} for letter, members in sorted(groups.items(), key=lambda item: (item[0] == "#", item[0]))]


def _last_modified_ms() -> int:
    latest = Track.objects.filter(audio_path__isnull=False).aggregate(last=Max("updated_at"))["last"]
    return int((latest - _EPOCH).total_seconds() * 1000) if latest else 0


@endpoint("getIndexes")
def indexes(call: Call) -> Payload:
    modified = _last_modified_ms()
    since = call.params.integer("ifModifiedSince", 0, low=0) or 0
    body: Payload = {"ignoredArticles": IGNORED_ARTICLES, "lastModified": modified}
    if not since or since < modified:
        summaries = browse.artist_summaries()
        stars = listening.artist_stars(user=call.user, artist_ids=[s.id for s in summaries])
        artists = [{"id": ids.artist_id(s.id), "name": s.name, "starred": call.shaper.artist(s, stars.get(s.id))["starred"]} for s in summaries]
        body["index"] = _indexed(artists)
    return {"indexes": body}


@endpoint("getArtists")
def artists(call: Call) -> Payload:
    return {"artists": {"ignoredArticles": IGNORED_ARTICLES, "index": _indexed(call.shaper.artists(browse.artist_summaries()))}}


def _artist_summary(text: str) -> ArtistSummary:
    artist_id = ids.of_kind(text, "artist").number
    found = [s for s in browse.artist_summaries() if s.id == artist_id]
    if not found:
        artist = browse.artist_get(artist_id)
        if artist is None:
            raise not_found(f"artist {text[:40]!r}")
        return ArtistSummary(artist.id, artist.name, 0, None)
    return found[0]


def _albums_sorted(summaries: list[AlbumSummary]) -> list[AlbumSummary]:
    return sorted(summaries, key=lambda s: (s.key.album_id is None, -(s.year or 0), s.title.casefold()))


@endpoint("getArtist")
def artist(call: Call) -> Payload:
    summary = _artist_summary(call.params.required("id"))
    albums = call.shaper.albums(_albums_sorted(browse.album_summaries(artist_id=summary.id)))
    stars = listening.artist_stars(user=call.user, artist_ids=[summary.id])
    return {"artist": {**call.shaper.artist(summary, stars.get(summary.id)), "album": albums}}


def album_summary_or_fail(text: str) -> AlbumSummary:
    key = ids.of_kind(text, "album").album_key
    summary = browse.album_summary(key)
    if summary is None:
        raise not_found(f"album {text[:40]!r}")
    return summary


@endpoint("getAlbum")
def album(call: Call) -> Payload:
    summary = album_summary_or_fail(call.params.required("id"))
    songs = call.shaper.songs(browse.album_tracks(summary.key))
    stars = listening.album_stars(user=call.user, album_ids=[summary.key.album_id] if summary.key.album_id else [])
    return {"album": call.shaper.album(summary, stars.get(summary.key.album_id or -1), songs=songs)}


def track_or_fail(text: str) -> Track:
    track = browse.playable_tracks().filter(id=ids.track_number(text)).first()
    if track is None:
        raise not_found(f"song {text[:40]!r}")
    return track


@endpoint("getSong")
def song(call: Call) -> Payload:
    return {"song": call.shaper.songs([track_or_fail(call.params.required("id"))])[0]}


@endpoint("getMusicDirectory")
def music_directory(call: Call) -> Payload:
    text = call.params.required("id")
    item = ids.item_parse(text)
    if item.kind == "artist":
        summary = _artist_summary(text)
        albums = _albums_sorted(browse.album_summaries(artist_id=summary.id))
        stars = listening.album_stars(user=call.user, album_ids=[a.key.album_id for a in albums if a.key.album_id is not None])
        children = [call.shaper.album_directory(a, stars.get(a.key.album_id or -1)) for a in albums]
        return {"directory": {"id": ids.artist_id(summary.id), "name": summary.name, "child": children}}
    if item.kind == "album":
        found = album_summary_or_fail(text)
        return {
            "directory": {
                "id": ids.album_id(found.key),
                "parent": ids.artist_id(found.artist_id) if found.artist_id is not None else None,
                "name": found.title,
                "child": call.shaper.songs(browse.album_tracks(found.key)),
            }
        }
    if item.kind == "track":
        track = track_or_fail(text)
        return {"directory": {"id": ids.track_id(track.id), "name": track.title, "child": call.shaper.songs([track])}}
    raise not_found(f"directory {text[:40]!r}")


def _album_list(call: Call) -> list[AlbumSummary]:
    params = call.params
    kind = params.choice("type", ALBUM_LIST_TYPES)
    size, offset = params.count("size", 10), params.offset("offset")
    summaries = browse.album_summaries(genre=params.required("genre") if kind == "byGenre" else "")
    order: Callable[[AlbumSummary], Any]
    if kind == "random":
        random.shuffle(summaries)
        return summaries[:size]
    if kind == "newest":
        summaries.sort(key=lambda s: s.created, reverse=True)
    elif kind == "alphabeticalByName":
        summaries.sort(key=lambda s: (_sort_name(s.title), _sort_name(s.artist_name)))
    elif kind == "alphabeticalByArtist":
        summaries.sort(key=lambda s: (_sort_name(s.artist_name), _sort_name(s.title)))
    elif kind in ("frequent", "recent"):
        played = {AlbumKey(album_id, artist_id): (count, last) for album_id, artist_id, count, last in listening.album_plays(user=call.user)}
        summaries = [s for s in summaries if s.key in played]
        order = (lambda s: played[s.key][0]) if kind == "frequent" else (lambda s: played[s.key][1])
        summaries.sort(key=order, reverse=True)
    elif kind == "starred":
        starred = listening.starred_album_ids(user=call.user)
        rank = {album_id: position for position, album_id in enumerate(starred)}
        summaries = sorted((s for s in summaries if s.key.album_id in rank), key=lambda s: rank[s.key.album_id or 0])
    elif kind == "highest":
        ratings = listening.album_ratings(user=call.user)
        summaries = sorted((s for s in summaries if s.key.album_id in ratings), key=lambda s: -ratings[s.key.album_id or 0])
    elif kind == "byYear":
        low = params.integer("fromYear")
        high = params.integer("toYear")
        if low is None or high is None:
            raise SubsonicError(ErrorCode.MISSING_PARAMETER, "Required parameter is missing: fromYear and toYear")
        first, last = min(low, high), max(low, high)
        summaries = sorted((s for s in summaries if s.year is not None and first <= s.year <= last), key=lambda s: s.year or 0, reverse=low > high)
    elif kind == "byGenre":
        summaries.sort(key=lambda s: _sort_name(s.title))
    return summaries[offset : offset + size]


@endpoint("getAlbumList2")
def album_list2(call: Call) -> Payload:
    return {"albumList2": {"album": call.shaper.albums(_album_list(call))}}


@endpoint("getAlbumList")
def album_list(call: Call) -> Payload:
    summaries = _album_list(call)
    stars = listening.album_stars(user=call.user, album_ids=[s.key.album_id for s in summaries if s.key.album_id is not None])
    return {"albumList": {"album": [call.shaper.album_directory(s, stars.get(s.key.album_id or -1)) for s in summaries]}}


@endpoint("getRandomSongs")
def random_songs(call: Call) -> Payload:
    params = call.params
    tracks = browse.playable_tracks()
    genre = params.text("genre").strip()
    if genre:
        tracks = browse.tracks_of_genre(genre)
    low, high = params.integer("fromYear"), params.integer("toYear")
    if low is not None:
        tracks = tracks.filter(Q(year__gte=low) | Q(year__isnull=True, album__year__gte=low))
    if high is not None:
        tracks = tracks.filter(Q(year__lte=high) | Q(year__isnull=True, album__year__lte=high))
    chosen = list(tracks.order_by("?")[: params.count("size", 10)])
    return {"randomSongs": {"song": call.shaper.songs(chosen)}}


@endpoint("getGenres")
def genres(call: Call) -> Payload:
    return {"genres": {"genre": [{"value": name, "songCount": songs, "albumCount": albums} for name, songs, albums in browse.genre_counts()]}}


@endpoint("getSongsByGenre")
def songs_by_genre(call: Call) -> Payload:
    params = call.params
    genre = params.required("genre")
    count, offset = params.count("count", 10), params.offset("offset")
    tracks = list(browse.tracks_of_genre(genre).order_by("artist__name", "album__title", "track_number", "id")[offset : offset + count])
    return {"songsByGenre": {"song": call.shaper.songs(tracks)}}


def _search(call: Call) -> tuple[list[ArtistSummary], list[AlbumSummary], list[Track]]:
    params = call.params
    query = params.text("query").strip().strip('"').strip()
    words = query.split()
    artist_count, artist_offset = params.count("artistCount", 20), params.offset("artistOffset")
    album_count, album_offset = params.count("albumCount", 20), params.offset("albumOffset")
    song_count, song_offset = params.count("songCount", 20), params.offset("songOffset")

    def matches(text: str) -> bool:
        folded = text.casefold()
        return all(word.casefold() in folded for word in words)

    artists = [a for a in browse.artist_summaries() if matches(a.name)][artist_offset : artist_offset + artist_count]
    albums = sorted((a for a in browse.album_summaries() if matches(f"{a.title} {a.artist_name}")), key=lambda a: (_sort_name(a.title), _sort_name(a.artist_name)))
    tracks = browse.playable_tracks()
    for word in words:
        tracks = tracks.filter(Q(title__icontains=word) | Q(artist__name__icontains=word) | Q(album__title__icontains=word))
    songs = list(tracks.order_by("artist__name", "album__title", "track_number", "id")[song_offset : song_offset + song_count])
    return artists, albums[album_offset : album_offset + album_count], songs


@endpoint("search3")
def search3(call: Call) -> Payload:
    artists, albums, songs = _search(call)
    return {"searchResult3": {"artist": call.shaper.artists(artists), "album": call.shaper.albums(albums), "song": call.shaper.songs(songs)}}


@endpoint("search2")
def search2(call: Call) -> Payload:
    artists, albums, songs = _search(call)
    return {
        "searchResult2": {
            "artist": [{"id": ids.artist_id(a.id), "name": a.name} for a in artists],
            "album": [call.shaper.album_directory(a) for a in albums],
            "song": call.shaper.songs(songs),
        }
    }


def albums_by_ids(album_ids: list[int]) -> list[AlbumSummary]:
    found = {s.key.album_id: s for s in browse.album_summaries(keys=[AlbumKey(a) for a in album_ids])}
    return [found[a] for a in album_ids if a in found]


def artists_by_ids(artist_ids: list[int]) -> list[ArtistSummary]:
    summaries = {s.id: s for s in browse.artist_summaries()}
    names = dict(Artist.objects.filter(id__in=artist_ids).values_list("id", "name"))
    return [summaries.get(a) or ArtistSummary(a, names[a], 0, None) for a in artist_ids if a in names]


def album_exists(album_id: int) -> bool:
    return Album.objects.filter(id=album_id).exists()
