"""Spotify in and out: enriching tracks with Web API metadata, connecting a user, saving a playlist.

Writes for these live here and are re-exported by :mod:`playlists.services`.
Every Spotify failure ends as a recorded, readable outcome (a
:class:`SpotifyLookup` row, a :class:`SpotifyExport` row, a summary line);
none reaches the site's pages or the index.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Callable

import requests
from django.db import transaction
from django.utils import timezone
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError

from playlists.errors import (
    SpotifyAuthError,
    SpotifyError,
    SpotifyNotConfiguredError,
    SpotifyRateLimitedError,
    SpotifyUnavailableError,
)
from playlists.models import SpotifyAccount, SpotifyCacheEntry, SpotifyExport, SpotifyLookup, Track
from playlists.spotify import (
    MAX_ITEMS_PER_REQUEST,
    USER_SCOPES,
    SpotifyApi,
    SpotifyConfig,
    UserAuth,
    match_best,
    search_query,
    spotify_config,
    track_metadata,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# This many tracks in a row failing with Spotify unavailable means an outage: stop and say so.
OUTAGE_AFTER = 3


# -- enrichment ----------------------------------------------------------------------
@dataclass
class EnrichSummary:
    considered: int = 0
    found: int = 0
    not_found: int = 0
    failed: int = 0
    already: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    stopped: str = ""
    dry_run: bool = False

    @property
    def left(self) -> int:
        return self.considered - self.found - self.not_found - self.failed


@dataclass(frozen=True)
class _Outcome:
    status: str
    method: str
    score: float | None
    item: dict | None


def _cached(key: str, fetch: Callable[[], dict], *, config: SpotifyConfig, use_cache: bool) -> dict:
    if use_cache:
        fresh_after = timezone.now() - timedelta(seconds=config.cache_seconds)
        entry = SpotifyCacheEntry.objects.filter(key=key, fetched_at__gte=fresh_after).first()
        if entry is not None:
            return entry.body
    body = fetch()
    SpotifyCacheEntry.objects.update_or_create(key=key, defaults={"body": body})
    return body


def _search(api: SpotifyApi, query: str, *, use_cache: bool) -> list[dict]:
    key = "search:" + hashlib.sha256(query.encode("utf-8")).hexdigest()
    return _cached(key, lambda: {"q": query, "items": api.tracks_search(query)}, config=api.config, use_cache=use_cache)["items"]


def track_spotify_lookup(api: SpotifyApi, track: Track, *, use_cache: bool = True) -> _Outcome:
    """Find ``track`` on Spotify: by its Spotify id, else by ISRC, else by artist + title with a match score."""
    if track.spotify_id:
        body = _cached(
            f"track:{track.spotify_id}", lambda: {"item": api.track_get(track.spotify_id)}, config=api.config, use_cache=use_cache
        )
        if body.get("item"):
            return _Outcome(SpotifyLookup.Status.FOUND, "id", 1.0, body["item"])
    artist = track.artist.name if track.artist else ""
    if track.isrc:
        wanted = track.isrc.strip().upper()
        items = [i for i in _search(api, f"isrc:{wanted}", use_cache=use_cache) if str((i.get("external_ids") or {}).get("isrc", "")).upper() == wanted]
        best = match_best(items, title=track.title, artist=artist, duration_s=track.duration_s)
        if best is not None:
            # The same ISRC is the same recording, whatever the titles say.
            return _Outcome(SpotifyLookup.Status.FOUND, "isrc", best.score, best.item)
    items = _search(api, search_query(title=track.title, artist=artist), use_cache=use_cache)
    best = match_best(items, title=track.title, artist=artist, duration_s=track.duration_s)
    if best is not None and best.score >= api.config.match_threshold:
        return _Outcome(SpotifyLookup.Status.FOUND, "search", best.score, best.item)
    return _Outcome(SpotifyLookup.Status.NOT_FOUND, "search", best.score if best else None, None)


def _outcome_apply(track: Track, outcome: _Outcome) -> None:
    with transaction.atomic():
        if outcome.item is not None:
            metadata = track_metadata(outcome.item)
            track.spotify_id = metadata.get("id", track.spotify_id)
            track.spotify = {**track.spotify, "web_api": metadata}
            if not track.isrc and metadata.get("isrc"):
                track.isrc = str(metadata["isrc"])[:16]
            track.save(update_fields=["spotify_id", "spotify", "isrc", "updated_at"])
        SpotifyLookup.objects.update_or_create(
            track=track, defaults={"status": outcome.status, "method": outcome.method, "score": outcome.score, "error": ""}
        )


def _failure_record(track: Track, reason: str) -> None:
    SpotifyLookup.objects.update_or_create(track=track, defaults={"status": SpotifyLookup.Status.FAILED, "method": "", "score": None, "error": reason})


def tracks_spotify_enrich(
    track_ids: list[int] | None = None,
    *,
    force: bool = False,
    use_cache: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
    api: SpotifyApi | None = None,
) -> EnrichSummary:
    """Look tracks up on Spotify (client credentials) and store what the API returns.

    Tracks already found or not found are skipped unless ``force``; failed
    ones are tried again, so a run resumes where the last one stopped. A long
    rate limit, refused credentials or an outage stop the run with
    ``summary.stopped`` set; the tracks done so far keep their results.
    Raises :class:`SpotifyNotConfiguredError` without credentials.
    """
    api = api or SpotifyApi.for_app()
    tracks = Track.objects.order_by("id")
    if track_ids is not None:
        tracks = tracks.filter(id__in=track_ids)
    summary = EnrichSummary(dry_run=dry_run)
    todo = tracks if force else tracks.exclude(spotify_lookup__status__in=[SpotifyLookup.Status.FOUND, SpotifyLookup.Status.NOT_FOUND])
    ids = list(todo.values_list("id", flat=True))
    summary.considered = len(ids)
    summary.already = tracks.count() - len(ids)
    unavailable_in_a_row = 0
    for done, track_id in enumerate(ids, start=1):
        track = Track.objects.select_related("artist").get(id=track_id)
        try:
            outcome = track_spotify_lookup(api, track, use_cache=use_cache)
        except (SpotifyRateLimitedError, SpotifyAuthError) as error:
            summary.failed += 1
            summary.errors.append((track.id, track.title, str(error)))
            if not dry_run:
                _failure_record(track, str(error))
            summary.stopped = str(error)
            break
        except SpotifyError as error:
            summary.failed += 1
            summary.errors.append((track.id, track.title, str(error)))
            if not dry_run:
                _failure_record(track, str(error))
            unavailable_in_a_row = unavailable_in_a_row + 1 if isinstance(error, SpotifyUnavailableError) else 0
            if unavailable_in_a_row >= OUTAGE_AFTER:
                summary.stopped = f"Spotify looks unavailable ({error}); stopped, the next run goes on from here"
                break
            continue
        finally:
            if progress:
                progress(done, len(ids))
        unavailable_in_a_row = 0
        if outcome.status == SpotifyLookup.Status.FOUND:
            summary.found += 1
            summary.by_method[outcome.method] = summary.by_method.get(outcome.method, 0) + 1
        else:
            summary.not_found += 1
        if not dry_run:
            _outcome_apply(track, outcome)
    return summary


# -- user accounts (authorization code with PKCE) -------------------------------------------
class AccountTokenCache(CacheHandler):
    """spotipy's token cache backed by a :class:`SpotifyAccount` row, so refreshed tokens are kept."""

    def __init__(self, account: SpotifyAccount) -> None:
        self.account = account

    def get_cached_token(self) -> dict | None:
        account = self.account
        if not account.access_token:
            return None
        expires_at = int(account.expires_at.timestamp())
        return {
            "access_token": account.access_token,
            "refresh_token": account.refresh_token,
            "token_type": "Bearer",
            "scope": account.scope or USER_SCOPES,
            "expires_at": expires_at,
            "expires_in": max(0, expires_at - int(timezone.now().timestamp())),
        }

    def save_token_to_cache(self, token_info: dict) -> None:
        _account_tokens_set(self.account, token_info)
        if self.account.pk:
            self.account.save()


def _account_tokens_set(account: SpotifyAccount, token_info: dict) -> None:
    account.access_token = token_info["access_token"]
    account.refresh_token = token_info.get("refresh_token") or account.refresh_token
    account.expires_at = datetime.fromtimestamp(int(token_info["expires_at"]), tz=dt_timezone.utc)
    account.scope = token_info.get("scope") or account.scope or USER_SCOPES


def _user_config(redirect_uri: str) -> SpotifyConfig:
    config = spotify_config()
    if not config.client_id:
        raise SpotifyNotConfiguredError("Spotify is not set up on this site: the operator must set SPOTIFY_CLIENT_ID")
    return dataclasses.replace(config, redirect_uri=config.redirect_uri or redirect_uri)


def spotify_connect_start(*, redirect_uri: str) -> dict:
    """Where to send the browser to authorise Crossfade, and what to keep until it comes back.

    Returns ``{"url", "state", "verifier", "redirect_uri"}``; ``state`` and the
    PKCE ``verifier`` belong in the user's session, never in a URL.
    """
    config = _user_config(redirect_uri)
    state = secrets.token_urlsafe(24)
    auth = UserAuth(config, cache_handler=MemoryCacheHandler(), session=requests.Session(), state=state)
    url = auth.get_authorize_url(state)
    return {"url": url, "state": state, "verifier": auth.code_verifier, "redirect_uri": config.redirect_uri}


def spotify_connect_finish(*, user, code: str, verifier: str, redirect_uri: str) -> SpotifyAccount:
    """Exchange the authorisation code (with the PKCE verifier) for tokens and store them for ``user``."""
    config = _user_config(redirect_uri)
    memory = MemoryCacheHandler()
    auth = UserAuth(config, cache_handler=memory, session=requests.Session())
    auth.code_verifier, auth.code_challenge = verifier, "sent-with-the-authorize-request"
    try:
        auth.get_access_token(code=code)
    except SpotifyOauthError as error:
        raise SpotifyAuthError(f"Spotify did not accept the authorisation ({error.error}): try again") from None
    except requests.Timeout:
        raise SpotifyUnavailableError(f"Spotify's accounts service did not answer within {config.timeout_s:g} s: try again later") from None
    except requests.ConnectionError:
        raise SpotifyUnavailableError("cannot reach Spotify's accounts service: try again later") from None
    except (ValueError, KeyError, TypeError):
        raise SpotifyUnavailableError("Spotify's accounts service answered with malformed data: try again later") from None
    token_info = memory.get_cached_token()
    account = SpotifyAccount.objects.filter(user=user).first() or SpotifyAccount(user=user)
    _account_tokens_set(account, token_info)
    profile = SpotifyApi(config, auth_manager=UserAuth(config, cache_handler=AccountTokenCache(account), session=requests.Session())).me()
    account.spotify_user_id = str(profile.get("id", ""))[:128]
    account.display_name = str(profile.get("display_name") or "")[:300]
    account.save()
    return account


def user_api(account: SpotifyAccount, *, redirect_uri: str = "") -> SpotifyApi:
    config = _user_config(redirect_uri)
    return SpotifyApi(config, auth_manager=UserAuth(config, cache_handler=AccountTokenCache(account), session=requests.Session()))


# -- saving a playlist -------------------------------------------------------------------
def playlist_spotify_export_create(*, playlist) -> SpotifyExport:
    return SpotifyExport.objects.create(playlist=playlist)


def playlist_spotify_export(export_id: int) -> SpotifyExport:
    """Create the playlist on the owner's Spotify account and add its tracks, 100 per request.

    Tracks without a Spotify id are looked up first (and keep the id they
    get); those Spotify does not have are listed in ``skipped``. The outcome,
    failure included, is stored on the :class:`SpotifyExport` row.
    """
    export = SpotifyExport.objects.select_related("playlist__owner").get(id=export_id)
    export.status = SpotifyExport.Status.RUNNING
    export.save(update_fields=["status"])
    uris: list[str] = []
    try:
        account = SpotifyAccount.objects.filter(user=export.playlist.owner).first()
        if account is None:
            raise SpotifyAuthError("connect your Spotify account first")
        api = user_api(account)
        skipped: list[str] = []
        for item in export.playlist.items.select_related("track__artist").order_by("position"):
            track = item.track
            if not track.spotify_id:
                outcome = track_spotify_lookup(api, track)
                _outcome_apply(track, outcome)
            if track.spotify_id:
                uris.append(f"spotify:track:{track.spotify_id}")
            else:
                skipped.append(str(track))
        export.skipped = skipped
        if not uris:
            raise SpotifyError(f"none of the {len(skipped)} tracks was found on Spotify, so no playlist was created")
        created = api.playlist_create(export.playlist.name, description=f"Made with Crossfade from {export.playlist.items.count()} tracks.")
        export.spotify_playlist_id = str(created.get("id", ""))
        export.spotify_url = str((created.get("external_urls") or {}).get("spotify", ""))[:500]
        export.save(update_fields=["spotify_playlist_id", "spotify_url", "skipped"])
        if not export.spotify_playlist_id:
            raise SpotifyUnavailableError("Spotify created the playlist but did not say its id")
        for start in range(0, len(uris), MAX_ITEMS_PER_REQUEST):
            batch = uris[start : start + MAX_ITEMS_PER_REQUEST]
            api.playlist_items_add(export.spotify_playlist_id, batch)
            export.added += len(batch)
            export.save(update_fields=["added"])
        export.status = SpotifyExport.Status.PARTIAL if skipped else SpotifyExport.Status.DONE
    except SpotifyError as error:
        export.status = SpotifyExport.Status.FAILED
        export.error = str(error)
        if export.spotify_playlist_id:
            export.error += f" ({export.added} of {len(uris)} tracks were added to the playlist on Spotify)"
    except Exception as error:  # noqa: BLE001 - the row must not stay "saving" forever
        logger.exception("Save to Spotify %s failed", export.id)
        export.status = SpotifyExport.Status.FAILED
        export.error = f"unexpected error ({type(error).__name__}); the operator can see it in the log"
    export.finished_at = timezone.now()
    export.save()
    return export
