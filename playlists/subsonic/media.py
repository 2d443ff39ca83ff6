"""Media: ``stream`` and ``download`` (the stored file as it is, with HTTP ranges) and ``getCoverArt`` (with ``size``).

No transcoding: ``format``, ``maxBitRate`` and ``timeOffset`` are accepted
and the original file is sent (``format=raw`` asks for exactly that), which
every player handles. Only files the catalogue recorded at ingest are ever
served.
"""
from __future__ import annotations

from pathlib import Path

from django.http import FileResponse
from django.http.response import HttpResponseBase

from playlists.catalogue.browse import playable_tracks
from playlists.catalogue.covers import CoverError, cover_file
from playlists.catalogue.streaming import file_exists, file_response_ranged
from playlists.models import Album, CoverArt, Playlist, Track
from playlists.subsonic import ids
from playlists.subsonic.endpoints import Call, endpoint
from playlists.subsonic.params import not_found


def _audio_track(call: Call) -> Track:
    text = call.params.required("id")
    track = playable_tracks().filter(id=ids.track_number(text)).first()
    if track is None or not file_exists(track.audio_path):
        raise not_found(f"song {text[:40]!r}")
    return track


@endpoint("stream")
def stream(call: Call) -> HttpResponseBase:
    track = _audio_track(call)
    call.params.count("maxBitRate", 0, high=10_000)  # read so that a bad value is refused; the file is sent as it is
    assert track.audio_path is not None
    return file_response_ranged(call.request, Path(track.audio_path))


@endpoint("download")
def download(call: Call) -> HttpResponseBase:
    track = _audio_track(call)
    assert track.audio_path is not None
    response = file_response_ranged(call.request, Path(track.audio_path))
    response["Content-Disposition"] = f'attachment; filename="{Path(track.audio_path).name}"'.encode("ascii", "replace").decode("ascii")
    return response


def cover_of(text: str) -> CoverArt | None:
    """The picture a coverArt id stands for: a track's (else its album's), an album's (else a track's), an artist's or a playlist's first."""
    item = ids.item_parse(text)
    covers = CoverArt.objects
    if item.kind == "track":
        track = Track.objects.select_related("cover", "album__cover").filter(id=item.number).first()
        if track is None:
            return None
        return track.cover or (track.album.cover if track.album else None)
    if item.kind == "album":
        if not item.unknown_album:
            album = Album.objects.select_related("cover").filter(id=item.number).first()
            if album is None:
                return None
            if album.cover is not None:
                return album.cover
            return covers.filter(tracks__album_id=item.number).order_by("tracks__track_number").first()
        return covers.filter(tracks__album__isnull=True, tracks__artist_id=item.number).first()
    if item.kind == "artist":
        return covers.filter(albums__artist_id=item.number).order_by("albums__year", "albums__title").first() or covers.filter(tracks__artist_id=item.number).first()
    playlist = Playlist.objects.filter(id=item.number).first()
    if playlist is None:
        return None
    for track in Track.objects.filter(playlist_items__playlist=playlist).select_related("cover", "album__cover").order_by("playlist_items__position")[:20]:
        picture = track.cover or (track.album.cover if track.album else None)
        if picture is not None:
            return picture
    return None


@endpoint("getCoverArt")
def cover_art(call: Call) -> HttpResponseBase:
    text = call.params.required("id")
    size = call.params.integer("size", None, low=1, high=100_000)
    cover = cover_of(text)
    if cover is None:
        raise not_found(f"cover art {text[:40]!r}")
    try:
        path = cover_file(cover, size=size)
    except CoverError:
        raise not_found(f"cover art {text[:40]!r}") from None
    response = FileResponse(open(path, "rb"), content_type=cover.mime)
    response["Cache-Control"] = "private, max-age=86400"
    response["ETag"] = f'"{cover.content_hash[:32]}-{size or 0}"'
    return response
