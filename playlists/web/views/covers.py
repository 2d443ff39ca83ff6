"""Cover art on the site: a track's or an album's picture, resized with ``?size=`` (16 to 2048 px)."""
from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from playlists.catalogue import covers
from playlists.catalogue.covers import CoverError, cover_file
from playlists.models import CoverArt
from playlists.web.forms import CoverSizeForm


def _picture(request: HttpRequest, cover: CoverArt | None) -> FileResponse:
    if cover is None:
        raise Http404("No picture")
    form = CoverSizeForm(request.GET)
    size = form.cleaned_data.get("size") if form.is_valid() else None
    try:
        path = cover_file(cover, size=size)
    except CoverError:
        raise Http404("No picture") from None
    response = FileResponse(open(path, "rb"), content_type=cover.mime)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def track_cover(request: HttpRequest, track_id: int) -> FileResponse:
    return _picture(request, covers.track_cover(track_id))


@require_GET
def album_cover(request: HttpRequest, album_id: int) -> FileResponse:
    return _picture(request, covers.album_cover(album_id))
