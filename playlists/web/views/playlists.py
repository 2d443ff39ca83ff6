"""The playlist builder, the list of a user's playlists and one playlist's page."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ml.errors import MLError
from playlists.catalogue.selectors import track_list
from playlists.errors import CrossfadeError
from playlists.generation.services import playlist_generate
from playlists.generation.settings import ATTRIBUTE_BOUNDS
from playlists.generation.uploads import upload_analyse
from playlists.keep import selectors
from playlists.keep import services as keep_services
from playlists.metadata.spotify.client import spotify_export_available
from playlists.models import Artist, Playlist, Track
from playlists.taste.selectors import ratings_of
from playlists.web.forms import FORM_ATTRIBUTES, PlaylistForm, QueueSaveForm, SeedSearchForm
from playlists.web.fragments import rows_digest
from playlists.web.requests import SignedInRequest

#: Tracks (and artists) listed when the builder's search is sent without JavaScript.
SEED_CANDIDATES = 30


@login_required
@require_http_methods(["GET", "POST"])
def playlist_new(request: SignedInRequest) -> HttpResponse:
    search = SeedSearchForm(request.GET)
    found = search.cleaned_data if search.is_valid() else {}
    query, query_to = found.get("q") or "", found.get("q_to") or ""
    if request.method == "POST":
        form = PlaylistForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = form.cleaned_data.get("seed_file")
                # Analysed here, not in a background task: this request needs the vector to answer,
                # and the work is bounded (at most CROSSFADE_UPLOAD_MAX_MB read, a few seconds of
                # audio decoded and embedded; about 0.6 s for a 30 MB file, see docs/site.md).
                seed_audio = [upload_analyse(upload.name, upload.chunks(), size=upload.size)] if upload else []
                playlist = playlist_generate(owner=request.user, settings=form.settings(seed_audio=seed_audio), name=form.cleaned_data["name"])
            except (CrossfadeError, MLError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Saved “{playlist.name}” with {playlist.items.count()} tracks.")
                for note in playlist.generation_messages:
                    messages.warning(request, note)
                return redirect("playlists:playlist_detail", playlist_id=playlist.id)
        chosen_ids = _ids(request.POST.getlist("seeds"))
        artist_ids = _ids(request.POST.getlist("seed_artists"))
        destination_id = next(iter(_ids(request.POST.getlist("path_to"))), None)
    else:
        chosen_ids = search.chosen_ids()
        artist_ids = list(found.get("artist") or [])
        destination_id = found.get("to")
        form = PlaylistForm(initial={"balance": settings.CROSSFADE.default_balance, "length": 20, "seed_text": found.get("theme") or "", "seed_text_mode": found.get("mode") or "lyrics", "order": "flow", "taste": found.get("taste") or 0})
    chosen = list(Track.objects.select_related("artist").filter(id__in=chosen_ids))
    chosen.sort(key=lambda t: chosen_ids.index(t.id))
    chosen_artists = list(Artist.objects.filter(id__in=artist_ids))
    destination = Track.objects.select_related("artist").filter(id=destination_id).first() if destination_id else None
    candidates = list(track_list(query=query).exclude(id__in=chosen_ids)[:SEED_CANDIDATES]) if query else []
    artist_candidates = list(Artist.objects.filter(name__icontains=query).exclude(id__in=artist_ids)[:SEED_CANDIDATES]) if query else []
    destination_candidates = list(track_list(query=query_to).exclude(id=destination_id or 0)[:SEED_CANDIDATES]) if query_to else []
    attributes = [{"name": name, **{bound: form[f"{bound}_{name}"].value() for bound in ATTRIBUTE_BOUNDS}} for name in FORM_ATTRIBUTES]
    return render(
        request,
        "playlists/playlist_new.html",
        {
            "form": form, "chosen": chosen, "chosen_artists": chosen_artists, "destination": destination, "candidates": candidates,
            "artist_candidates": artist_candidates, "destination_candidates": destination_candidates, "query": query, "query_to": query_to,
            "attributes": attributes,
        },
    )


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@login_required
@require_POST
def playlist_from_queue(request: SignedInRequest) -> HttpResponse:
    """The player's queue (an instant mix, a list) saved as a playlist, in its order."""
    form = QueueSaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "There is nothing in the queue to save.")
        return redirect("playlists:playlist_list")
    try:
        playlist = keep_services.playlist_create_from_queue(owner=request.user, name=form.cleaned_data["name"], track_ids=form.cleaned_data["tracks"])
    except CrossfadeError as error:
        messages.error(request, str(error))
        return redirect("playlists:playlist_list")
    messages.success(request, f"Saved the queue as “{playlist.name}” with {playlist.items.count()} tracks.")
    return redirect("playlists:playlist_detail", playlist_id=playlist.id)


@login_required
@require_GET
def playlist_list(request: SignedInRequest) -> HttpResponse:
    return render(request, "playlists/playlist_list.html", {"playlists": selectors.playlist_list(owner=request.user)})


@login_required
@require_GET
def playlist_detail(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    try:
        playlist = selectors.playlist_get(owner=request.user, playlist_id=playlist_id, with_items=False)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")
    # The key is a digest of every stored value the body shows, read once as plain values; the
    # items (model instances, the costly part of a read) are built from those same rows only
    # when the body is rendered, that is when the key is new.
    stored = selectors.playlist_items_stored(playlist=playlist)
    items = SimpleLazyObject(stored.items)
    export = playlist.spotify_exports.first()
    spotify_on = spotify_export_available()
    # The rating buttons' state: read once here (the {% rating_of %} tag takes it from the request) and part of the key.
    ratings = request._crossfade_ratings = ratings_of(user=request.user)
    body_key = rows_digest([playlist, export, *stored.rows], spotify_on, sorted((track_id, ratings.get(track_id, 0)) for track_id in stored.track_ids()))
    return render(
        request,
        "playlists/playlist_detail.html",
        {"playlist": playlist, "items": items, "export": export, "spotify_on": spotify_on, "total_s": stored.total_seconds(), "body_key": body_key},
    )
