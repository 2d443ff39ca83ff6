"""Instant mixes in the JSON API: a queue for the site's player from one track, artist or album (nothing is saved)."""
from __future__ import annotations

from typing import Any

from django.urls import reverse
from ninja import Query, Router, Schema

from ml.errors import MLError
from playlists.api.auth import AuthedRequest, user_auth
from playlists.api.errors import ApiError
from playlists.api.queries import bounded
from playlists.api.schemas import ERRORS
from playlists.errors import CrossfadeError, IndexNotReadyError, UnknownSeedError
from playlists.generation.mix import MIX_LENGTH, mix_build
from playlists.models import Track

router = Router(tags=["mix"])


class MixQuery(Schema):
    track: int | None = None
    artist: int | None = None
    album: int | None = None
    limit: int = bounded("limit", MIX_LENGTH, description="How many tracks, 1 to 100.")


class QueueTrack(Schema):
    id: int
    title: str
    artist: str
    album: str
    url: str
    audio_url: str | None
    duration_ms: int | None
    why: str


class MixOut(Schema):
    name: str
    messages: list[str]
    tracks: list[QueueTrack]


def queue_track(track: Track, *, why: str = "") -> dict[str, Any]:
    """A track as the player's queue holds it (site-relative URLs: the player is on this site)."""
    return {
        "id": track.id,
        "title": track.title,
        "artist": track.artist.name if track.artist else "",
        "album": track.album.title if track.album else "",
        "url": reverse("playlists:track_detail", args=[track.id]),
        "audio_url": reverse("playlists:track_audio", args=[track.id]) if track.audio_path else None,
        "duration_ms": int(track.duration_s * 1000) if track.duration_s else None,
        "why": why,
    }


@router.get("/mix", auth=user_auth, response={200: MixOut, **ERRORS}, url_name="mix")
def mix(request: AuthedRequest, query: Query[MixQuery]) -> dict[str, Any]:
    """An instant mix of one track, artist or album: tracks in flow order, each with why it is there."""
    try:
        made = mix_build(track_id=query.track, artist_id=query.artist, album_id=query.album, length=query.limit, user=request.auth)
    except UnknownSeedError as error:
        raise ApiError(404, str(error)) from None
    except IndexNotReadyError as error:
        raise ApiError(503, str(error)) from None
    except (CrossfadeError, MLError) as error:
        raise ApiError(400, str(error)) from None
    tracks = Track.objects.select_related("artist", "album").in_bulk([item.track_id for item in made.built.items])
    return {
        "name": made.name,
        "messages": list(made.built.messages),
        "tracks": [queue_track(tracks[i.track_id], why=str(i.explanation.get("why", ""))) for i in made.built.items if i.track_id in tracks],
    }
