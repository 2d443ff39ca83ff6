"""The playlist builder, the list of a user's playlists and one playlist's page."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ml.errors import MLError
from playlists.catalogue.selectors import track_list
from playlists.errors import CrossfadeError
from playlists.generation.services import playlist_generate
from playlists.generation.uploads import upload_analyse
from playlists.keep import selectors
from playlists.models import Artist, Playlist, Track
from playlists.web.forms import FORM_ATTRIBUTES, PlaylistForm, SeedSearchForm
from playlists.web.requests import SignedInRequest

#: Tracks offered as seeds before the user searches.
SEED_CANDIDATES = 30


@login_required
@require_http_methods(["GET", "POST"])
def playlist_new(request: SignedInRequest) -> HttpResponse:
    search = SeedSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
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
        chosen_ids = [int(s) for s in request.POST.getlist("seeds") if s.isdigit()]
    else:
        chosen_ids = search.chosen_ids()
        theme = search.cleaned_data["theme"] if search.is_valid() else ""
        mode = (search.cleaned_data.get("mode") if search.is_valid() else "") or "lyrics"
        form = PlaylistForm(initial={"balance": settings.CROSSFADE.default_balance, "length": 20, "seed_text": theme, "seed_text_mode": mode})
    chosen = list(Track.objects.select_related("artist").filter(id__in=chosen_ids))
    chosen.sort(key=lambda t: chosen_ids.index(t.id))
    candidates = track_list(query=query).exclude(id__in=chosen_ids)[:SEED_CANDIDATES]
    return render(
        request,
        "playlists/playlist_new.html",
        {"form": form, "chosen": chosen, "candidates": candidates, "query": query, "artists": Artist.objects.order_by("name"), "attributes": FORM_ATTRIBUTES},
    )


@login_required
@require_GET
def playlist_list(request: SignedInRequest) -> HttpResponse:
    return render(request, "playlists/playlist_list.html", {"playlists": selectors.playlist_list(owner=request.user)})


@login_required
@require_GET
def playlist_detail(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    try:
        playlist = selectors.playlist_get(owner=request.user, playlist_id=playlist_id)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")
    return render(request, "playlists/playlist_detail.html", {"playlist": playlist})
