"""Annotation: stars (a star on a song is a like), 1-5 ratings, scrobbles (plays) and now playing."""
from __future__ import annotations

from datetime import datetime, timezone

from django.utils import timezone as django_timezone

from playlists.errors import CrossfadeError
from playlists.subsonic import ids
from playlists.subsonic.browsing import albums_by_ids, artists_by_ids
from playlists.subsonic.endpoints import Call, Payload, endpoint
from playlists.subsonic.ids import ItemId
from playlists.subsonic.params import ErrorCode, SubsonicError, not_found
from playlists.taste import listening, plays


def _targets(call: Call) -> tuple[list[int], list[int], list[int]]:
    """Songs, albums and artists named by ``id``, ``albumId`` and ``artistId`` (each repeatable)."""
    songs: list[int] = []
    albums: list[int] = []
    artists: list[int] = []
    items: list[ItemId] = [ids.item_parse(t) for t in call.params.texts("id")]
    items += [ids.of_kind(t, "album") for t in call.params.texts("albumId")]
    items += [ids.of_kind(t, "artist") for t in call.params.texts("artistId")]
    if not items:
        raise SubsonicError(ErrorCode.MISSING_PARAMETER, "Required parameter is missing: id, albumId or artistId")
    for item in items:
        if item.kind == "track":
            songs.append(item.number)
        elif item.kind == "album" and not item.unknown_album:
            albums.append(item.number)
        elif item.kind == "artist":
            artists.append(item.number)
        else:
            raise not_found(f"{item.kind} to star")
    return songs, albums, artists


def _star(call: Call, starred: bool) -> Payload:
    songs, albums, artists = _targets(call)
    try:
        if songs:
            (plays.tracks_star if starred else plays.tracks_unstar)(user=call.user, track_ids=songs)
        if albums:
            plays.albums_star(user=call.user, album_ids=albums, starred=starred)
        if artists:
            plays.artists_star(user=call.user, artist_ids=artists, starred=starred)
    except CrossfadeError as error:
        raise SubsonicError(ErrorCode.NOT_FOUND, str(error)) from None
    return {}


@endpoint("star")
def star(call: Call) -> Payload:
    return _star(call, True)


@endpoint("unstar")
def unstar(call: Call) -> Payload:
    return _star(call, False)


@endpoint("setRating")
def rating_set(call: Call) -> Payload:
    item = ids.item_parse(call.params.required("id"))
    stars = call.params.required_integer("rating", low=0, high=5)
    if item.kind != "track":
        raise SubsonicError(ErrorCode.GENERIC, "Only songs can be rated; star an album or an artist instead")
    try:
        plays.track_stars_set(user=call.user, track_id=item.number, stars=stars)
    except CrossfadeError as error:
        raise SubsonicError(ErrorCode.NOT_FOUND, str(error)) from None
    return {}


def _starred(call: Call) -> tuple[list[Payload], list[Payload], list[Payload]]:
    shaper = call.shaper
    songs = shaper.songs(listening.starred_tracks(user=call.user))
    albums = shaper.albums(albums_by_ids(listening.starred_album_ids(user=call.user)))
    artists = shaper.artists(artists_by_ids(listening.starred_artist_ids(user=call.user)))
    return artists, albums, songs


@endpoint("getStarred2")
def starred2(call: Call) -> Payload:
    artists, albums, songs = _starred(call)
    return {"starred2": {"artist": artists, "album": albums, "song": songs}}


@endpoint("getStarred")
def starred(call: Call) -> Payload:
    artists, _, songs = _starred(call)
    summaries = albums_by_ids(listening.starred_album_ids(user=call.user))
    stars = listening.album_stars(user=call.user, album_ids=[s.key.album_id for s in summaries if s.key.album_id is not None])
    albums = [call.shaper.album_directory(s, stars.get(s.key.album_id or -1)) for s in summaries]
    return {"starred": {"artist": [{"id": a["id"], "name": a["name"], "starred": a.get("starred")} for a in artists], "album": albums, "song": songs}}


@endpoint("scrobble")
def scrobble(call: Call) -> Payload:
    songs = [ids.track_number(t) for t in call.params.texts("id")]
    if not songs:
        raise SubsonicError(ErrorCode.MISSING_PARAMETER, "Required parameter is missing: id")
    times = call.params.texts("time")
    submission = call.params.boolean("submission", True)
    moments: list[datetime | None] = []
    for position in range(len(songs)):
        if position < len(times):
            try:
                moments.append(datetime.fromtimestamp(int(times[position]) / 1000.0, tz=timezone.utc))
            except (ValueError, OverflowError, OSError):
                raise SubsonicError(ErrorCode.GENERIC, f"time must be milliseconds since 1970, not {times[position][:30]!r}") from None
        else:
            moments.append(None)
    try:
        for track_id, moment in zip(songs, moments):
            if submission:
                plays.play_record(user=call.user, track_id=track_id, played_at=moment, client=call.client)
            else:
                plays.now_playing_set(user=call.user, track_id=track_id, client=call.client)
    except CrossfadeError as error:
        raise SubsonicError(ErrorCode.NOT_FOUND, str(error)) from None
    return {}


@endpoint("getNowPlaying")
def now_playing(call: Call) -> Payload:
    entries = listening.now_playing_entries()
    now = django_timezone.now()
    out = []
    for position, entry in enumerate(entries, start=1):
        song = call.shaper.songs([entry.track])[0]
        minutes = int((now - entry.updated_at).total_seconds() // 60)
        out.append({**song, "username": entry.user.get_username(), "minutesAgo": minutes, "playerId": position, "playerName": entry.client or None})
    return {"nowPlaying": {"entry": out}}
