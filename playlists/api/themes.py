"""Search by theme in the JSON API: tracks whose lyrics are about what a prompt says, best first."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ml.errors import IndexMismatchError
from ml.text.search import ThemeQueryError
from playlists.api.errors import ApiError
from playlists.api.queries import bounded
from playlists.api.schemas import ERRORS, ScoredTrackOut, track_out
from playlists.catalogue import selectors
from playlists.errors import IndexNotReadyError

router = Router(tags=["themes"])


class LyricsQuery(Schema):
    q: str = Field("", description="The theme, e.g. “songs about leaving home” or “песни о море”.")
    limit: int = bounded("limit", 10, description="How many tracks, 1 to 100.")


class LyricsOut(Schema):
    q: str
    limit: int
    results: list[ScoredTrackOut]


@router.get("/search/lyrics", response={200: LyricsOut, **ERRORS}, url_name="search_lyrics")
def search_lyrics(request: HttpRequest, query: Query[LyricsQuery]) -> dict[str, Any]:
    """Tracks whose lyrics match a theme, in any language the configured encoder reads."""
    prompt = query.q.strip()
    if not prompt:
        raise ApiError(400, "q is required: the theme to search lyrics for, e.g. q=songs about leaving home")
    try:
        results = selectors.track_theme_search(prompt, limit=query.limit)
    except ThemeQueryError as error:
        raise ApiError(400, str(error)) from None
    except (IndexNotReadyError, IndexMismatchError) as error:
        raise ApiError(503, str(error)) from None
    return {"q": prompt, "limit": query.limit, "results": [track_out(n.track, request, score=n.score) for n in results]}
