"""Tracks in the JSON API: the nearest tracks of one track, search for seeds as you type, and a listener's rating."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.queries import bounded
from playlists.api.schemas import ERRORS, ScoredTrackOut, TrackOut, track_out
from playlists.catalogue import selectors
from playlists.errors import IndexNotReadyError, SeedError
from playlists.models import Track
from playlists.taste.services import rating_set

router = Router(tags=["tracks"])
SEARCH_LIMIT = 12
ARTIST_LIMIT = 5


class SimilarQuery(Schema):
    limit: int = bounded("limit", 10, description="How many tracks, 1 to 100.")
    balance: float | None = bounded("balance", None, description="Audio share of the similarity: 1 sound only, 0 lyrics only; the site's default when left out.")


class SimilarOut(Schema):
    track: TrackOut
    balance: float
    limit: int
    results: list[ScoredTrackOut]


@router.get("/tracks/{int:track_id}/similar", response={200: SimilarOut, **ERRORS}, url_name="track_similar")
def track_similar(request: HttpRequest, track_id: int, query: Query[SimilarQuery]) -> dict[str, Any]:
    """The tracks most similar to one track under the hybrid score, best first."""
    balance = settings.CROSSFADE.default_balance if query.balance is None else query.balance
    # The track's own row only (the track page's selector also reads its embeddings' states, which this answer does not show).
    # Unordered: the catalogue's default order (artist, album, number, title) is a join-heavy sort, pointless for one row.
    track = Track.objects.select_related("artist", "album").defer(*selectors.NEIGHBOUR_UNREAD_FIELDS).filter(id=track_id).order_by().first()
    if track is None:
        raise ApiError(404, f"no track with id {track_id}")
    try:
        neighbours = selectors.track_similar(track.id, limit=query.limit, balance=balance)
    except IndexNotReadyError as error:
        raise ApiError(503, str(error)) from None
    return {
        "track": track_out(track, request),
        "balance": balance,
        "limit": query.limit,
        "results": [track_out(n.track, request, score=n.score) for n in neighbours],
    }


class SearchQuery(Schema):
    q: str = Field("", max_length=200, description="Words of the title, artist, album or lyrics.")


class SearchHit(Schema):
    id: int
    title: str
    artist: str
    url: str


class ArtistHit(Schema):
    id: int
    name: str
    url: str


class SearchOut(Schema):
    query: str
    results: list[SearchHit]
    artists: list[ArtistHit]


@router.get("/tracks/search", response={200: SearchOut, **ERRORS}, url_name="track_search")
def track_search(request: HttpRequest, query: Query[SearchQuery]) -> dict[str, Any]:
    """Catalogue tracks whose title, artist, album or lyrics contain every word, and artists whose name contains the text (the builder's seed search)."""
    text = query.q.strip()
    tracks = selectors.track_list(query=text)[:SEARCH_LIMIT] if text else []
    artists = selectors.artist_search(text)[:ARTIST_LIMIT] if text else []
    return {
        "query": text,
        "results": [{"id": t.id, "title": t.title, "artist": t.artist.name if t.artist else "", "url": reverse("playlists:track_detail", args=[t.id])} for t in tracks],
        "artists": [{"id": a.id, "name": a.name, "url": reverse("playlists:artist_detail", args=[a.id])} for a in artists],
    }


class RatingIn(Schema):
    rating: int = Field(..., ge=-1, le=1, description="1 like, -1 dislike, 0 clear.")


class RatingOut(Schema):
    track: int
    rating: int


@router.post("/tracks/{int:track_id}/rating", auth=user_auth, response={200: RatingOut, **ERRORS}, url_name="track_rating")
def track_rating(request: AuthedRequest, track_id: int, body: RatingIn) -> dict[str, int]:
    """Like, dislike or clear the caller's rating of a track (the taste model learns from these)."""
    try:
        rating_set(user=request.auth, track_id=track_id, value=body.rating)
    except SeedError as error:
        raise ApiError(404, str(error)) from None
    return {"track": track_id, "rating": body.rating}
