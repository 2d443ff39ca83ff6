"""Media: ``stream`` and ``download`` (the stored file as it is, with HTTP ranges) and ``getCoverArt`` (with ``size``).

No transcoding: ``format``, ``maxBitRate`` and ``timeOffset`` are accepted
and the original file is sent (``format=raw`` asks for exactly that), which
every player handles. Only files the catalogue recorded at ingest, and only
inside the library roots (symlinks resolved), are ever served.
"""
from __future__ import annotations

from pathlib import Path

from django.http import FileResponse
from django.http.response import HttpResponseBase

from playlists.catalogue import covers
from playlists.catalogue.browse import playable_tracks
from playlists.catalogue.covers import CoverError, cover_file
from playlists.catalogue.library import path_in_library
from playlists.catalogue.streaming import file_response_ranged
from playlists.models import CoverArt
from playlists.subsonic import ids
from playlists.subsonic.endpoints import Call, endpoint
from playlists.subsonic.params import not_found


def _audio_file(call: Call) -> Path:
    """The file of song ``id``, resolved inside a library root; any other answers "not found"."""
    text = call.params.required("id")
    track = playable_tracks().filter(id=ids.track_number(text)).first()
    path = path_in_library(track.audio_path) if track is not None else None
    if path is None:
        raise not_found(f"song {text[:40]!r}")
    return path


@endpoint("stream")
def stream(call: Call) -> HttpResponseBase:
    path = _audio_file(call)
    call.params.count("maxBitRate", 0, high=10_000)  # read so that a bad value is refused; the file is sent as it is
    return file_response_ranged(call.request, path)


@endpoint("download")
def download(call: Call) -> HttpResponseBase:
    path = _audio_file(call)
    response = file_response_ranged(call.request, path)
    response["Content-Disposition"] = f'attachment; filename="{path.name}"'.encode("ascii", "replace").decode("ascii")
    return response


def cover_of(text: str) -> CoverArt | None:
    """The picture a coverArt id stands for (a track's, an album's, an artist's or a playlist's)."""
    item = ids.item_parse(text)
    if item.kind == "track":
        return covers.track_cover(item.number)
    if item.kind == "album":
        return covers.loose_tracks_cover(item.number) if item.unknown_album else covers.album_cover(item.number)
    if item.kind == "artist":
        return covers.artist_cover(item.number)
    return covers.playlist_cover(item.number)


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
