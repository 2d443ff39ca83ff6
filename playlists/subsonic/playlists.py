"""Playlists: the caller's Crossfade playlists, listed and shown; made, changed and deleted from a player."""
from __future__ import annotations

from django.db.models import Count, Q, Sum

from playlists.errors import CrossfadeError
from playlists.keep import selectors as keep_selectors
from playlists.keep import services as keep
from playlists.models import Playlist
from playlists.subsonic import ids
from playlists.subsonic.endpoints import Call, Payload, endpoint
from playlists.subsonic.params import ErrorCode, SubsonicError, not_found
from playlists.subsonic.shapes import track_cover_id


def _playlist_or_fail(call: Call, text: str) -> Playlist:
    number = ids.of_kind(text, "playlist").number
    try:
        return keep_selectors.playlist_get(owner=call.user, playlist_id=number)
    except Playlist.DoesNotExist:
        raise not_found(f"playlist {text[:40]!r}") from None


def _with_songs(call: Call, playlist: Playlist) -> Payload:
    tracks = [item.track for item in playlist.items.all() if item.track.audio_path]
    has_cover = any(track_cover_id(t) for t in tracks)
    return call.shaper.playlist(playlist, entries=call.shaper.songs(tracks), song_count=len(tracks), duration_s=sum(t.duration_s or 0 for t in tracks), has_cover=has_cover)


def _song_ids(texts: list[str]) -> list[int]:
    return [ids.track_number(text) for text in texts]


@endpoint("getPlaylists")
def playlists_list(call: Call) -> Payload:
    username = call.params.text("username")
    if username and username != call.user.get_username():
        raise SubsonicError(ErrorCode.NOT_AUTHORISED, "Playlists are private: you can only list your own")
    playable = Q(items__track__audio_path__isnull=False)
    rows = (
        keep_selectors.playlist_list(owner=call.user)
        .select_related("owner")
        .annotate(
            songs=Count("items", filter=playable),
            seconds=Sum("items__track__duration_s", filter=playable),
            covered=Count("items", filter=Q(items__track__cover__isnull=False) | Q(items__track__album__cover__isnull=False)),
        )
        .order_by("-updated_at", "-created_at")
    )
    return {"playlists": {"playlist": [call.shaper.playlist(p, song_count=p.songs, duration_s=p.seconds or 0, has_cover=p.covered > 0) for p in rows]}}


@endpoint("getPlaylist")
def playlist_get(call: Call) -> Payload:
    return {"playlist": _with_songs(call, _playlist_or_fail(call, call.params.required("id")))}


@endpoint("createPlaylist")
def playlist_create(call: Call) -> Payload:
    songs = _song_ids(call.params.texts("songId"))
    try:
        if "playlistId" in call.params:
            playlist = _playlist_or_fail(call, call.params.required("playlistId"))
            keep.playlist_tracks_replace(playlist, track_ids=songs)
            if "name" in call.params:
                keep.playlist_rename(playlist, name=call.params.required("name"))
        else:
            playlist = keep.playlist_create_from_tracks(owner=call.user, name=call.params.required("name"), track_ids=songs)
    except CrossfadeError as error:
        raise _refused(error) from None
    return {"playlist": _with_songs(call, _playlist_or_fail(call, ids.playlist_id(playlist.id)))}


def _refused(error: CrossfadeError) -> SubsonicError:
    message = str(error)
    return SubsonicError(ErrorCode.NOT_FOUND if message.startswith("no track") else ErrorCode.GENERIC, message)


@endpoint("updatePlaylist")
def playlist_update(call: Call) -> Payload:
    playlist = _playlist_or_fail(call, call.params.required("playlistId"))
    add = _song_ids(call.params.texts("songIdToAdd"))
    remove = [int(p) for p in call.params.texts("songIndexToRemove") if p.strip().isdigit()]
    if len(remove) != len(call.params.texts("songIndexToRemove")):
        raise SubsonicError(ErrorCode.GENERIC, "songIndexToRemove takes positions: 0, 1, 2, ...")
    try:
        if "name" in call.params:
            keep.playlist_rename(playlist, name=call.params.required("name"))
        if call.params.given("comment"):
            keep.playlist_comment_set(playlist, comment=call.params.text("comment"))
        if add or remove:
            keep.playlist_tracks_edit(playlist, append=add, remove_positions=remove)
    except CrossfadeError as error:
        raise _refused(error) from None
    return {}


@endpoint("deletePlaylist")
def playlist_delete(call: Call) -> Payload:
    keep.playlist_delete(_playlist_or_fail(call, call.params.required("id")))
    return {}
