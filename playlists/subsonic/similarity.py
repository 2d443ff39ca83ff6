"""Similarity from Crossfade's hybrid model: similar songs (of a song, album or artist), top songs, sonic matches and paths.

``getSimilarSongs``/``getSimilarSongs2`` of a song are its nearest tracks
under the hybrid score (:func:`playlists.catalogue.selectors.track_similar`);
of an album or an artist, a playlist generated from them as seeds. The
``sonicSimilarity`` extension's ``similarity`` is the hybrid score mapped
from [-1, 1] to [0, 1] (1 = the same song); ``findSonicPath`` is the path
mode of the playlist generator. All at the site's default balance, or at
``balance`` (0 lyrics only .. 1 sound only) when the player sends it.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
from django.conf import settings

from ml.errors import MLError
from ml.playlist.vectors import scores_matrix, typicality, vectors_of
from playlists import engine
from playlists.catalogue import browse, selectors
from playlists.errors import CrossfadeError, IndexNotReadyError, SeedError
from playlists.generation.build import playlist_build
from playlists.generation.settings import MAX_LENGTH, MAX_SEEDS, PlaylistSettings
from playlists.models import Artist, Track
from playlists.subsonic import ids
from playlists.subsonic.browsing import artists_by_ids, track_or_fail
from playlists.subsonic.endpoints import Call, Payload, endpoint
from playlists.subsonic.ids import ItemId
from playlists.subsonic.params import ErrorCode, SubsonicError, not_found
from playlists.taste import listening


def _balance(call: Call) -> float:
    raw = call.params.text("balance")
    if not raw:
        return float(settings.CROSSFADE.default_balance)
    try:
        value = float(raw)
    except ValueError:
        raise SubsonicError(ErrorCode.GENERIC, "balance must be a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise SubsonicError(ErrorCode.GENERIC, "balance must be between 0 (lyrics only) and 1 (sound only)")
    return value


def unit_similarity(score: float) -> float:
    """A hybrid score in [-1, 1] as the extension's normalised similarity in [0, 1]."""
    return round(float(np.clip((score + 1.0) / 2.0, 0.0, 1.0)), 6)


def _refused(error: Exception) -> SubsonicError:
    if isinstance(error, SeedError):
        return SubsonicError(ErrorCode.NOT_FOUND, str(error))
    return SubsonicError(ErrorCode.GENERIC, str(error))


def _playable(track_ids: list[int]) -> list[Track]:
    tracks = browse.playable_tracks().in_bulk(track_ids)
    return [tracks[i] for i in track_ids if i in tracks]


def similar_tracks(item: ItemId, *, count: int, balance: float) -> list[Track]:
    """Tracks similar to a song, an album or an artist, best first (never the song itself)."""
    try:
        if item.kind == "track":
            if not Track.objects.filter(id=item.number).exists():
                raise not_found(f"song tr-{item.number}")
            neighbours = selectors.track_similar(item.number, limit=count, balance=balance)
            return _playable([n.track.id for n in neighbours])
        if item.kind == "album":
            tracks = browse.album_tracks(item.album_key)
            if not tracks:
                raise not_found(f"album {ids.album_id(item.album_key)}")
            serving = engine.serving_or_raise()
            seeds = [t.id for t in tracks if t.id in serving][:MAX_SEEDS]
            if not seeds:
                raise IndexNotReadyError("none of the album's tracks is indexed yet; run reindex")
            built = playlist_build(PlaylistSettings(seed_ids=seeds, length=count, balance=balance, include_seeds=False), serving=serving)
        elif item.kind == "artist":
            if not Artist.objects.filter(id=item.number).exists():
                raise not_found(f"artist ar-{item.number}")
            built = playlist_build(PlaylistSettings(seed_artist_ids=[item.number], length=count, balance=balance, include_seeds=False))
        else:
            raise not_found(f"song, album or artist {item.kind}")
    except (CrossfadeError, MLError) as error:
        raise _refused(error) from None
    return _playable([i.track_id for i in built.items])


def _similar(call: Call) -> list[Payload]:
    item = ids.item_parse(call.params.required("id"))
    count = max(1, call.params.count("count", 50, high=MAX_LENGTH))
    return call.shaper.songs(similar_tracks(item, count=count, balance=_balance(call)))


@endpoint("getSimilarSongs")
def similar_songs(call: Call) -> Payload:
    return {"similarSongs": {"song": _similar(call)}}


@endpoint("getSimilarSongs2")
def similar_songs2(call: Call) -> Payload:
    return {"similarSongs2": {"song": _similar(call)}}


def top_tracks(artist_id: int, *, count: int, balance: float) -> list[Track]:
    """An artist's tracks, most played (by everyone) first, then the most typical of the artist (closest to their centroid)."""
    tracks = browse.artist_tracks(artist_id)
    if not tracks:
        return []
    serving = engine.serving()
    typical: dict[int, float] = {}
    if serving is not None:
        indexed = [t.id for t in tracks if t.id in serving]
        if indexed:
            weights = PlaylistSettings(seed_ids=indexed[:1], balance=balance).weights
            scores = np.nan_to_num(typicality(vectors_of(serving.index, indexed), weights), nan=-1.0)
            typical = dict(zip(indexed, scores.tolist()))
    played = listening.play_counts(track_ids=[t.id for t in tracks])
    ranked = sorted(tracks, key=lambda t: (-played.get(t.id, 0), -typical.get(t.id, -2.0), t.id))
    return ranked[:count]


@endpoint("getTopSongs")
def top_songs(call: Call) -> Payload:
    count = call.params.count("count", 50)
    if "id" in call.params:
        artist_id = ids.of_kind(call.params.required("id"), "artist").number
    else:
        name = call.params.required("artist")
        found = Artist.objects.filter(name__iexact=name.strip()).first()
        if found is None:
            return {"topSongs": {"song": []}}
        artist_id = found.id
    return {"topSongs": {"song": call.shaper.songs(top_tracks(artist_id, count=count, balance=_balance(call)))}}


@endpoint("getSonicSimilarTracks")
def sonic_similar(call: Call) -> Payload:
    track = track_or_fail(call.params.required("id"))
    count = max(1, call.params.count("count", 10, high=MAX_LENGTH))
    try:
        neighbours = selectors.track_similar(track.id, limit=count, balance=_balance(call))
    except CrossfadeError as error:
        raise _refused(error) from None
    playable = {t.id for t in _playable([n.track.id for n in neighbours])}
    kept = [n for n in neighbours if n.track.id in playable]
    songs = call.shaper.songs([n.track for n in kept])
    return {"sonicMatch": [{"entry": song, "similarity": unit_similarity(n.score)} for song, n in zip(songs, kept)]}


@endpoint("findSonicPath")
def sonic_path(call: Call) -> Payload:
    start = track_or_fail(call.params.required("startSongId"))
    end = track_or_fail(call.params.required("endSongId"))
    count = call.params.count("count", 25, high=MAX_LENGTH)
    if start.id == end.id:
        raise SubsonicError(ErrorCode.GENERIC, "a path needs two different songs")
    balance = _balance(call)
    try:
        serving = engine.serving_or_raise()
        settings_ = PlaylistSettings(path=[start.id, end.id], length=max(2, count), balance=balance)
        built = playlist_build(settings_, serving=serving)
    except (CrossfadeError, MLError) as error:
        raise _refused(error) from None
    path = [i.track_id for i in built.items]
    scores = np.nan_to_num(scores_matrix(vectors_of(serving.index, path), vectors_of(serving.index, [start.id]), settings_.weights)[:, 0], nan=-1.0)
    tracks = _playable(path)
    songs = call.shaper.songs(tracks)
    score_of = dict(zip(path, scores.tolist()))
    return {"sonicMatch": [{"entry": song, "similarity": unit_similarity(score_of[t.id])} for song, t in zip(songs, tracks)]}


def _similar_artists(call: Call, artist_id: int, count: int) -> list[int]:
    try:
        tracks = similar_tracks(ItemId("artist", artist_id), count=60, balance=_balance(call))
    except SubsonicError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise
        return []
    votes = Counter(t.artist_id for t in tracks if t.artist_id is not None and t.artist_id != artist_id)
    return [a for a, _ in votes.most_common(count)]


@endpoint("getArtistInfo2")
def artist_info2(call: Call) -> Payload:
    artist_id = ids.of_kind(call.params.required("id"), "artist").number
    similar = call.shaper.artists(artists_by_ids(_similar_artists(call, artist_id, call.params.count("count", 20))))
    return {"artistInfo2": {"similarArtist": similar}}


@endpoint("getArtistInfo")
def artist_info(call: Call) -> Payload:
    artist_id = ids.of_kind(call.params.required("id"), "artist").number
    similar = artists_by_ids(_similar_artists(call, artist_id, call.params.count("count", 20)))
    return {"artistInfo": {"similarArtist": [{"id": ids.artist_id(a.id), "name": a.name} for a in similar]}}


@endpoint("getAlbumInfo", "getAlbumInfo2")
def album_info(call: Call) -> Payload:
    ids.item_parse(call.params.required("id"))
    return {"albumInfo": {}}
