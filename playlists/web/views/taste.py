"""Taste on the site: like/dislike buttons and "For you", the tracks the taste model expects a listener to like."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ml.playlist.taste import MIN_DISLIKES, MIN_LIKES, TasteNotReadyError
from playlists.errors import CrossfadeError
from playlists.models import Track
from playlists.taste import selectors, services
from playlists.web.forms import RatingForm
from playlists.web.requests import SignedInRequest


@login_required
@require_POST
def track_rate(request: SignedInRequest, track_id: int) -> HttpResponse:
    """The buttons' form, for browsers without the page script (which calls the JSON API instead)."""
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A rating is like, dislike or clear.")
        return redirect("playlists:track_detail", track_id=track_id)
    try:
        services.rating_set(user=request.user, track_id=track_id, value=form.value())
    except CrossfadeError as error:
        raise Http404(str(error))
    next_url = form.next_url()
    return redirect(next_url) if next_url else redirect("playlists:track_detail", track_id=track_id)


@login_required
@require_GET
def for_you(request: SignedInRequest) -> HttpResponse:
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
