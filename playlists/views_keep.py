"""Pages for keeping playlists (rename, reorder, remove, regenerate, delete, export), ratings, "For you" and API tokens.

Thin like :mod:`playlists.views`: parse, call one service or selector, redirect or render.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ml.errors import MLError
from playlists import selectors, services
from playlists.errors import CrossfadeError
from playlists.export import FORMATS, playlist_export
from playlists.forms import PlaylistRenameForm
from playlists.models import Playlist, Track
from playlists.taste import MIN_DISLIKES, MIN_LIKES, TasteNotReadyError


def _own_playlist(request: HttpRequest, playlist_id: int) -> Playlist:
    try:
        return Playlist.objects.get(id=playlist_id, owner=request.user)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")


def _back(playlist: Playlist):
    return redirect("playlists:playlist_detail", playlist_id=playlist.id)


@login_required
@require_POST
def playlist_rename(request: HttpRequest, playlist_id: int) -> HttpResponse:
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
def playlist_item_move(request: HttpRequest, playlist_id: int, item_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    try:
        offset = int(request.POST.get("offset", "0"))
        services.playlist_item_move(playlist, item_id=item_id, offset=offset)
    except (ValueError, CrossfadeError) as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_reorder(request: HttpRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    try:
        services.playlist_reorder(playlist, item_ids=[int(i) for i in request.POST.get("order", "").split(",") if i.strip()])
    except (ValueError, CrossfadeError) as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_item_remove(request: HttpRequest, playlist_id: int, item_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    try:
        services.playlist_item_remove(playlist, item_id=item_id)
    except CrossfadeError as error:
        messages.error(request, str(error))
    return _back(playlist)


@login_required
@require_POST
def playlist_regenerate(request: HttpRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    changes = _regenerate_changes(request)
    try:
        playlist = services.playlist_regenerate(playlist, **changes)
    except (CrossfadeError, MLError, ValueError) as error:
        messages.error(request, f"Could not regenerate: {error}")
        return _back(playlist)
    if changes:
        changed = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in changes.items())
        messages.success(request, f"Regenerated “{playlist.name}” with {changed}; every other setting kept.")
    else:
        messages.success(request, f"Regenerated “{playlist.name}” with the same settings.")
    for note in getattr(playlist, "generation_messages", []):
        messages.warning(request, note)
    return _back(playlist)


#: Controls the playlist page's "Adjust" form may change; anything else stays as stored.
_ADJUSTABLE = {"length": int, "balance": float, "diversity": float, "taste": float, "max_per_artist": int, "order": str}


def _regenerate_changes(request: HttpRequest) -> dict:
    """The controls a regenerate request changes; an empty max_per_artist means no cap."""
    changes: dict = {}
    for name, kind in _ADJUSTABLE.items():
        raw = request.POST.get(name)
        if raw is None:
            continue
        raw = raw.strip()
        if name == "max_per_artist" and raw == "":
            changes[name] = None
        elif raw != "":
            changes[name] = kind(raw)
    return changes


@login_required
@require_POST
def playlist_delete(request: HttpRequest, playlist_id: int) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    name = playlist.name
    services.playlist_delete(playlist)
    messages.success(request, f"Deleted “{name}”.")
    return redirect("playlists:playlist_list")


@login_required
@require_GET
def playlist_download(request: HttpRequest, playlist_id: int, fmt: str) -> HttpResponse:
    playlist = _own_playlist(request, playlist_id)
    if fmt not in FORMATS:
        raise Http404("No such format")
    text, content_type, filename = playlist_export(playlist, fmt=fmt)
    response = HttpResponse(text.encode("utf-8"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def track_rate(request: HttpRequest, track_id: int) -> HttpResponse:
    value = {"like": 1, "dislike": -1, "clear": 0}.get(request.POST.get("rating", ""))
    if value is None:
        messages.error(request, "A rating is like, dislike or clear.")
    else:
        try:
            services.rating_set(user=request.user, track_id=track_id, value=value)
        except CrossfadeError as error:
            raise Http404(str(error))
    if request.headers.get("Accept", "").startswith("application/json"):
        # The like/dislike buttons' script (static/playlists/site.js) posts in the background.
        if value is None:
            return JsonResponse({"error": {"status": 400, "message": "a rating is like, dislike or clear"}}, status=400)
        return JsonResponse({"track": track_id, "rating": value})
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("playlists:track_detail", track_id=track_id)


@login_required
@require_GET
def for_you(request: HttpRequest) -> HttpResponse:
    ratings = selectors.ratings_of(user=request.user)
    likes = sum(1 for v in ratings.values() if v > 0)
    context = {"likes": likes, "dislikes": len(ratings) - likes, "min_likes": MIN_LIKES, "min_dislikes": MIN_DISLIKES, "picks": [], "model": None, "status": ""}
    try:
        context["model"], context["picks"] = selectors.taste_recommendations(user=request.user, limit=50)
    except (TasteNotReadyError, CrossfadeError) as error:
        context["status"] = str(error)
    rated_tracks = Track.objects.select_related("artist").in_bulk(list(ratings))
    context["rated"] = [(rated_tracks[t], v) for t, v in ratings.items() if t in rated_tracks]
    return render(request, "playlists/for_you.html", context)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            try:
                services.api_token_revoke(user=request.user, token_id=int(request.POST["revoke"]))
                messages.success(request, "Token revoked.")
            except (ValueError, CrossfadeError) as error:
                messages.error(request, str(error))
        else:
            _, secret = services.api_token_create(user=request.user, name=request.POST.get("name", ""))
    return render(request, "playlists/api_tokens.html", {"tokens": selectors.api_tokens_of(user=request.user), "secret": secret})
