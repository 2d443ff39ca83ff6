"""Keeping a playlist: rename, reorder, move or remove items, regenerate with its stored settings, delete, download.

Each view parses its form, calls one service and goes back to the playlist.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from ml.errors import MLError
from playlists.errors import CrossfadeError
from playlists.generation import services as generation
from playlists.keep import services
from playlists.keep.export import FORMATS, playlist_export
from playlists.models import Playlist
from playlists.web.forms import ItemMoveForm, PlaylistAdjustForm, PlaylistRenameForm, PlaylistReorderForm
from playlists.web.requests import SignedInRequest


def _own_playlist(request: SignedInRequest, playlist_id: int) -> Playlist:
    try:
        return Playlist.objects.get(id=playlist_id, owner=request.user)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")


def _back(playlist: Playlist) -> HttpResponse:
    return redirect("playlists:playlist_detail", playlist_id=playlist.id)


def _first_error(form: Form) -> str:
    return next((f"{name.replace('_', ' ')}: {errors[0]}" if name != "__all__" else str(errors[0]) for name, errors in form.errors.items()), "invalid input")


@login_required
@require_POST
def playlist_rename(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    form = PlaylistRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A playlist needs a name of at most 200 characters.")
        return _back(playlist)
    services.playlist_rename(playlist, name=form.cleaned_data["name"])
    messages.success(request, f"Renamed to “{playlist.name}”.")
    return _back(playlist)


@login_required
@require_POST
def playlist_item_move(request: SignedInRequest, playlist_id: int, item_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    form = ItemMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back(playlist)
    try:
        services.playlist_item_move(playlist, item_id=item_id, offset=form.cleaned_data["offset"])
    except CrossfadeError as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_reorder(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    form = PlaylistReorderForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back(playlist)
    try:
        services.playlist_reorder(playlist, item_ids=form.cleaned_data["order"])
    except CrossfadeError as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_item_remove(request: SignedInRequest, playlist_id: int, item_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    try:
        services.playlist_item_remove(playlist, item_id=item_id)
    except CrossfadeError as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_regenerate(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    form = PlaylistAdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Could not regenerate: {_first_error(form)}")
        return _back(playlist)
    if playlist.edited_at and not form.cleaned_data.get("replace_edits"):
        messages.warning(request, "Nothing was regenerated: you moved or removed tracks by hand, and regenerating would replace those edits. Tick “Yes, replace my edits” to go on.")
        return _back(playlist)
    changes = form.changes()
    try:
        playlist = generation.playlist_regenerate(playlist, **changes)
    except (CrossfadeError, MLError) as error:
        messages.error(request, f"Could not regenerate: {error}")
        return _back(playlist)
    if changes:
        changed = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in changes.items())
        messages.success(request, f"Regenerated “{playlist.name}” with {changed}; every other setting kept.")
    else:
        messages.success(request, f"Regenerated “{playlist.name}” with the same settings.")
    for note in playlist.generation_messages:
        messages.warning(request, note)
    return _back(playlist)


@login_required
@require_POST
def playlist_delete(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    name = playlist.name
    services.playlist_delete(playlist)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("playlists:playlist_list")


@login_required
@require_GET
def playlist_download(request: SignedInRequest, playlist_id: int, fmt: str) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    if fmt not in FORMATS:
        raise Http404("No such format")
    text, content_type, filename = playlist_export(playlist, fmt=fmt)
    response = HttpResponse(text.encode("utf-8"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
