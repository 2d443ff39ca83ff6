""""Save to Spotify": the button's POST, the OAuth (authorization code + PKCE) callback. Thin, like every view."""
from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from playlists.errors import SpotifyError
from playlists.jobs.tasks import spotify_export_task
from playlists.keep.selectors import playlist_get
from playlists.metadata.spotify.connect import spotify_connect_finish, spotify_connect_start
from playlists.metadata.spotify.export import playlist_spotify_export_create
from playlists.models import Playlist, SpotifyAccount, SpotifyExport
from playlists.web.requests import SignedInRequest

SESSION_KEY = "spotify_oauth"


def _playlist(request: SignedInRequest, playlist_id: int) -> Playlist:
    try:
        return playlist_get(owner=request.user, playlist_id=playlist_id)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")


def _export_start(request: SignedInRequest, playlist: Playlist) -> HttpResponse:
    export = playlist_spotify_export_create(playlist=playlist)
    spotify_export_task.enqueue(export.id)
    export.refresh_from_db()
    if export.status in (SpotifyExport.Status.PENDING, SpotifyExport.Status.RUNNING):
        messages.info(request, "Saving to Spotify; this page shows the outcome when it is done.")
    elif export.status == SpotifyExport.Status.FAILED:
        messages.error(request, f"Could not save to Spotify: {export.error}")
    else:
        skipped = f"; {len(export.skipped)} not on Spotify" if export.skipped else ""
        messages.success(request, f"Saved “{playlist.name}” to Spotify: {export.added} tracks{skipped}.")
    return redirect("playlists:playlist_detail", playlist_id=playlist.id)


@login_required
@require_POST
def playlist_spotify_save(request: SignedInRequest, playlist_id: int) -> HttpResponse:
    playlist = _playlist(request, playlist_id)
    if SpotifyAccount.objects.filter(user=request.user).exists():
        return _export_start(request, playlist)
    try:
        pending = spotify_connect_start(redirect_uri=request.build_absolute_uri(reverse("playlists:spotify_callback")))
    except SpotifyError as error:
        messages.error(request, str(error))
        return redirect("playlists:playlist_detail", playlist_id=playlist.id)
    request.session[SESSION_KEY] = {
        "state": pending["state"], "verifier": pending["verifier"], "redirect_uri": pending["redirect_uri"], "playlist_id": playlist.id,
    }
    if getattr(request, "htmx", False):
        # A swap cannot follow a redirect to another site: have the browser go there itself.
        return HttpResponseClientRedirect(pending["url"])
    return redirect(pending["url"])


@login_required
@require_GET
def spotify_callback(request: SignedInRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    if not pending or not secrets.compare_digest(request.GET.get("state", ""), pending["state"]):
        messages.error(request, "That Spotify authorisation does not belong to this session (state mismatch); nothing was saved. Try the button again.")
        return redirect("playlists:playlist_list")
    playlist = _playlist(request, pending["playlist_id"])
    if request.GET.get("error") or not request.GET.get("code"):
        messages.warning(request, f"Spotify did not authorise Crossfade ({request.GET.get('error', 'no code')}); nothing was saved.")
        return redirect("playlists:playlist_detail", playlist_id=playlist.id)
    try:
        account = spotify_connect_finish(
            user=request.user, code=request.GET["code"], verifier=pending["verifier"], redirect_uri=pending["redirect_uri"]
        )
    except SpotifyError as error:
        messages.error(request, f"Could not connect to Spotify: {error}")
        return redirect("playlists:playlist_detail", playlist_id=playlist.id)
    messages.success(request, f"Connected to Spotify as {account.display_name or account.spotify_user_id}.")
    return _export_start(request, playlist)
