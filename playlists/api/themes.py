"""Search by theme or sound in the JSON API: tracks whose lyrics are about what a prompt says, or that sound as it says, best first."""
from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ml.audio.describe import SoundQueryError
from ml.errors import IndexMismatchError
from ml.playlist.prompts import PromptModeError
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


class PromptQuery(Schema):
    q: str = Field("", description="The prompt: a theme (“songs about leaving home”), a sound (“calm piano”, “спокойное пианино”) or both (“sad songs about rain with piano”).")
    mode: Literal["lyrics", "sound", "both"] = Field("both", description="Match against lyrics, against the audio tags (sound), or both: a “songs about …” clause on lyrics, the rest on sound.")
    limit: int = bounded("limit", 10, description="How many tracks, 1 to 100.")


class PromptTrackOut(ScoredTrackOut):
    lyrics: float | None = Field(None, description="Cosine of the track's lyrics with the theme part; null when not matched on lyrics.")
    sound: float | None = Field(None, description="The track's sound score (standardised tag log-odds); null when not matched on sound.")
    matched: list[str] = Field(default_factory=list, description="The prompt's tags this track has more than most, e.g. [“piano”, “quiet”].")


class PromptOut(Schema):
    q: str
    mode: str
    limit: int
    results: list[PromptTrackOut]


@router.get("/search/themes", response={200: PromptOut, **ERRORS}, url_name="search_themes")
def search_themes(request: HttpRequest, query: Query[PromptQuery]) -> dict[str, Any]:
    """Tracks matching a prompt by lyrics, by sound (the audio taggers' tags) or both, with what each matched."""
    prompt = query.q.strip()
    if not prompt:
        raise ApiError(400, "q is required: a theme or a sound to search for, e.g. q=calm piano")
    try:
        results = selectors.track_prompt_search(prompt, mode=query.mode, limit=query.limit)
    except (ThemeQueryError, SoundQueryError) as error:
        raise ApiError(400, str(error)) from None
    except (IndexNotReadyError, IndexMismatchError, PromptModeError) as error:
        raise ApiError(503, str(error)) from None
    return {
        "q": prompt,
        "mode": query.mode,
        "limit": query.limit,
        "results": [track_out(n.track, request, score=n.score) | {"lyrics": n.lyrics, "sound": n.sound, "matched": n.matched} for n in results],
    }
