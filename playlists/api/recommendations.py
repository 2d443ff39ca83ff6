"""``GET /api/recommendations``: Spotify's closed recommendations endpoint, answered by Crossfade.

Takes Spotify's parameters (``seed_tracks``, ``seed_artists``, ``limit``,
``min_*``/``max_*``/``target_*`` of the audio-feature attributes) plus
Crossfade's own (``seed_text``, ``balance``, ``diversity``,
``max_per_artist``, ``order``, ``taste``), and answers in Spotify's shape
(``seeds``, ``tracks``) with a ``crossfade`` object added to each track and
to the answer. Seeds may be Crossfade ids, Spotify ids or ``spotify:`` URIs,
and genres of the catalogue (``seed_genres``: the genre's most typical tracks
stand in for it). The query schema is built from the same attribute table the
playlist settings check, so the description cannot drift from the code.
"""
from __future__ import annotations

from typing import Any, Literal

from django.conf import settings as django_settings
from ninja import Field, Query, Router, Schema
from pydantic import create_model

from ml.errors import MLError
from playlists.api import references
from playlists.api.answers import recommendations_build
from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.queries import bounded, unknown_parameters_refuse
from playlists.api.schemas import ERRORS, absolute_url
from playlists.api.spotify import SpotifyTrackOut, track_spotify_json
from playlists.catalogue.browse import genre_slug, genre_slugs
from playlists.errors import CrossfadeError, IndexNotReadyError
from playlists.generation.settings import ATTRIBUTE_BOUNDS, ATTRIBUTES, INTEGER_ATTRIBUTES, MAX_SEED_TEXT, MAX_SEEDS, PlaylistSettings
from playlists.models import Artist, Track

router = Router(tags=["recommendations"])

_MEANINGS = {"min": "hard floor", "max": "hard ceiling", "target": "preferred value"}


class _RecommendationsBase(Schema):
    seed_tracks: str = Field("", pattern=references.REFERENCES_PATTERN, description="Comma-separated track ids: Crossfade ids, Spotify ids or spotify:track: URIs (up to 5 seeds in total).")
    seed_artists: str = Field("", pattern=references.REFERENCES_PATTERN, description="Comma-separated artist ids: Crossfade ids, Spotify ids or spotify:artist: URIs.")
    seed_genres: str = Field("", max_length=500, description="Comma-separated genre seeds from GET /api/recommendations/available-genre-seeds.")
    seed_text: str = Field("", max_length=MAX_SEED_TEXT, description="A text prompt (Crossfade): a theme matched against lyrics, a sound matched against audio tags, or both (see seed_text_mode).")
    seed_text_mode: Literal["lyrics", "sound", "both"] = Field(
        "lyrics", description="How seed_text is matched: lyrics (a theme), sound (“calm piano”: the audio taggers' tags), both (“sad songs about rain with piano”) (Crossfade)."
    )
    limit: int = bounded("limit", 20)
    market: str = Field("", description="Accepted for compatibility; ignored.")
    balance: float | None = bounded("balance", None, description="Audio share of the similarity: 1 sound only, 0 lyrics only (Crossfade).")
    diversity: float = bounded("diversity", 0.0, description="0 closest, 1 most varied (maximal marginal relevance; Crossfade).")
    max_per_artist: int | None = bounded("max_per_artist", None)
    order: Literal["score", "flow"] = "score"
    taste: float = bounded("taste", 0.0, description="How far the caller's learned taste bends the answer.")

    def attributes(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for name in ATTRIBUTES:
            for bound in ATTRIBUTE_BOUNDS:
                value = getattr(self, f"{bound}_{name}")
                if value is not None:
                    out.setdefault(name, {})[bound] = float(value)
        return out


def _attribute_field(name: str, bound: str) -> tuple[Any, Any]:
    kind = int if name in INTEGER_ATTRIBUTES else float
    description = f"{_MEANINGS[bound]} for {name}, applied to tracks that carry it (Spotify metadata); tracks without it pass unjudged."
    return (kind | None, Field(None, description=description))


RecommendationsQuery = create_model(  # type: ignore[call-overload]
    "RecommendationsQuery",
    __base__=_RecommendationsBase,
    **{f"{bound}_{name}": _attribute_field(name, bound) for name in ATTRIBUTES for bound in ATTRIBUTE_BOUNDS},
)


class SeedOut(Schema):
    id: str
    type: Literal["TRACK", "ARTIST", "GENRE", "TEXT"]
    href: str | None
    name: str | None = None
    initialPoolSize: int
    afterFilteringSize: int
    afterRelinkingSize: int


class RecommendationsInfo(Schema):
    messages: list[str]
    balance: float
    diversity: float
    limit: int
    index_version: str


class RecommendationsOut(Schema):
    seeds: list[SeedOut]
    tracks: list[SpotifyTrackOut]
    crossfade: RecommendationsInfo


def _seed_ids(text: str, kind: references.Kind) -> list[int]:
    wanted = references.references_parse(text, kind)
    found = references.track_ids_resolve(wanted) if kind == "track" else references.artist_ids_resolve(wanted)
    unknown = [r.text.strip() for r in wanted if r not in found]
    if unknown:
        raise ApiError(400, f"Invalid request: unknown seed {kind} ids: {', '.join(unknown)[:200]}")
    return [found[r] for r in wanted]


def recommendations_settings(query: _RecommendationsBase) -> PlaylistSettings:
    """The query as playlist settings; raises :class:`ApiError` (400) for seeds and values generation cannot take."""
    seed_tracks, seed_artists = _seed_ids(query.seed_tracks, "track"), _seed_ids(query.seed_artists, "artist")
    seed_genres = [genre_slug(g) for g in query.seed_genres.split(",") if g.strip()]
    if seed_genres:
        known = set(genre_slugs())
        unknown = [g for g in seed_genres if g not in known]
        if unknown:
            raise ApiError(400, f"Invalid request: unknown genre seed {unknown[0]}; GET /api/recommendations/available-genre-seeds lists them")
    seed_text = query.seed_text.strip()
    if not (seed_tracks or seed_artists or seed_genres or seed_text):
        raise ApiError(400, "Missing required parameter: at least one of seed_tracks, seed_artists, seed_genres or seed_text")
    if len(seed_tracks) + len(seed_artists) + len(seed_genres) > MAX_SEEDS:
        raise ApiError(400, f"Invalid request: at most {MAX_SEEDS} seeds (seed_tracks, seed_artists and seed_genres together)")
    try:
        return PlaylistSettings(
            seed_ids=seed_tracks,
            seed_artist_ids=seed_artists,
            seed_genres=seed_genres,
            seed_text=seed_text,
            seed_text_mode=query.seed_text_mode,
            length=query.limit,
            balance=django_settings.CROSSFADE.default_balance if query.balance is None else query.balance,
            diversity=query.diversity,
            max_per_artist=query.max_per_artist,
            attributes=query.attributes(),
            include_seeds=False,
            order=query.order,
            taste=query.taste,
        )
    except CrossfadeError as error:
        raise ApiError(400, f"Invalid request: {error}") from None


@router.get("/recommendations", auth=user_auth, response={200: RecommendationsOut, **ERRORS}, url_name="recommendations")
def recommendations(request: AuthedRequest, query: Query[RecommendationsQuery]) -> dict[str, Any]:  # type: ignore[valid-type]
    """Tracks recommended from seeds, in the shape of Spotify's Get Recommendations."""
    unknown_parameters_refuse(request, RecommendationsQuery)
    settings = recommendations_settings(query)
    try:
        built = recommendations_build(settings, user=request.auth)
    except IndexNotReadyError as error:
        raise ApiError(503, str(error)) from None
    except (CrossfadeError, MLError) as error:
        raise ApiError(400, f"Invalid request: {error}") from None
    # Read fresh (the picks may come from the cache), with every artist the answer names in the same query.
    tracks = Track.objects.select_related("artist", "album__artist").in_bulk([item.track_id for item in built.items])
    pool = len(built.items)
    seeds: list[dict[str, Any]] = [
        {"id": str(t), "type": "TRACK", "href": absolute_url(request, "playlists:track_detail", t)} for t in settings.seed_ids
    ]
    artist_names = dict(Artist.objects.filter(id__in=settings.seed_artist_ids).values_list("id", "name"))
    seeds += [
        {"id": str(a), "type": "ARTIST", "href": absolute_url(request, "api:artist", a), "name": artist_names.get(a)}
        for a in settings.seed_artist_ids
    ]
    seeds += [{"id": g, "type": "GENRE", "href": None} for g in settings.seed_genres]
    if settings.seed_text:
        seeds.append({"id": settings.seed_text, "type": "TEXT", "href": None})
    for seed in seeds:
        seed.update({"initialPoolSize": pool, "afterFilteringSize": pool, "afterRelinkingSize": pool})
    return {
        "seeds": seeds,
        "tracks": [track_spotify_json(tracks[i.track_id], request, score=i.score, explanation=i.explanation) for i in built.items if i.track_id in tracks],
        "crossfade": {
            "messages": built.messages,
            "balance": settings.balance,
            "diversity": settings.diversity,
            "limit": settings.length,
            "index_version": built.index_version,
        },
    }
