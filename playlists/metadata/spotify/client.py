"""Talking to the Spotify Web API through spotipy, robustly.

spotipy does the HTTP and the OAuth grants; this module decides the policy:
the servers (settings, so tests point at a local fake), timeouts, retries
(429 honours ``Retry-After`` up to a cap, 5xx and timeouts back off
exponentially), a token refresh on 401, and errors that say what happened.
Retries are ours and not urllib3's, so a ``Retry-After`` of an hour stops
the run with a message instead of blocking it for an hour.

Spotify fields are metadata, filters and targets in Crossfade, never
training data.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, overload

import requests
import spotipy
from django.conf import settings
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOauthError, SpotifyPKCE

from playlists.errors import (
    SpotifyAuthError,
    SpotifyError,
    SpotifyNotConfiguredError,
    SpotifyRateLimitedError,
    SpotifyUnavailableError,
)

logger = logging.getLogger(__name__)
# spotipy logs request headers (bearer tokens, Basic client credentials) and
# token payloads at DEBUG; keep those out of every log whatever the root level.
logging.getLogger("spotipy").setLevel(logging.WARNING)

USER_SCOPES = "playlist-modify-private playlist-modify-public user-read-private"
MAX_ITEMS_PER_REQUEST = 100
SEARCH_LIMIT = 10  # the Web API's maximum for /search since 2026


@dataclass(frozen=True)
class SpotifyConfig:
    """Where Spotify is and how patiently to talk to it (built from settings)."""

    client_id: str
    client_secret: str
    api_url: str
    accounts_url: str
    redirect_uri: str
    timeout_s: float
    retries: int
    backoff_s: float
    max_wait_s: float
    match_threshold: float
    cache_seconds: float

    @property
    def token_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/api/token"

    @property
    def authorize_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/authorize"


def spotify_export_available() -> bool:
    """Whether listeners can save playlists to Spotify here (the operator set ``SPOTIFY_CLIENT_ID``)."""
    return bool(settings.SPOTIFY_CLIENT_ID)


def spotify_lookup_available() -> bool:
    """Whether tracks can be looked up on Spotify here (``SPOTIFY_CLIENT_ID`` and ``SPOTIFY_CLIENT_SECRET`` set)."""
    return bool(settings.SPOTIFY_CLIENT_ID and settings.SPOTIFY_CLIENT_SECRET)


def spotify_config() -> SpotifyConfig:
    return SpotifyConfig(
        client_id=settings.SPOTIFY_CLIENT_ID,
        client_secret=settings.SPOTIFY_CLIENT_SECRET,
        api_url=settings.SPOTIFY_API_URL,
        accounts_url=settings.SPOTIFY_ACCOUNTS_URL,
        redirect_uri=settings.SPOTIFY_REDIRECT_URI,
        timeout_s=settings.SPOTIFY_TIMEOUT_S,
        retries=settings.SPOTIFY_RETRIES,
        backoff_s=settings.SPOTIFY_BACKOFF_S,
        max_wait_s=settings.SPOTIFY_MAX_WAIT_S,
        match_threshold=settings.SPOTIFY_MATCH_THRESHOLD,
        cache_seconds=settings.SPOTIFY_CACHE_SECONDS,
    )


class UserAuth(SpotifyPKCE):  # type: ignore[misc]  # spotipy has no type stubs
    """spotipy's PKCE manager pointed at our accounts server; never prompts on a terminal.

    Without a stored token it raises instead of asking for input, and it
    refreshes an expired token with the stored refresh token.
    """

    def __init__(self, config: SpotifyConfig, *, cache_handler: CacheHandler, session: requests.Session, state: str | None = None) -> None:
        super().__init__(
            client_id=config.client_id,
            redirect_uri=config.redirect_uri,
            state=state,
            scope=USER_SCOPES,
            requests_timeout=config.timeout_s,
            requests_session=session,
            open_browser=False,
            cache_handler=cache_handler,
        )
        self.OAUTH_TOKEN_URL = config.token_url
        self.OAUTH_AUTHORIZE_URL = config.authorize_url

    def get_access_token(self, code: str | None = None, check_cache: bool = True) -> str:
        if code is not None:
            fetched: str = super().get_access_token(code=code, check_cache=False)
            return fetched
        token_info = self.cache_handler.get_cached_token()
        if not token_info or not token_info.get("access_token"):
            raise SpotifyAuthError("not connected to Spotify: use “Save to Spotify” to connect your account")
        if self.is_token_expired(token_info):
            token_info = self.refresh_access_token(token_info["refresh_token"])
        token: str = token_info["access_token"]
        return token

    def token_refresh(self) -> None:
        token_info = self.cache_handler.get_cached_token() or {}
        if not token_info.get("refresh_token"):
            raise SpotifyAuthError("Spotify refused the stored authorisation and there is no refresh token: connect again")
        self.refresh_access_token(token_info["refresh_token"])


class SpotifyApi:
    """A spotipy client on the configured servers, called through :meth:`call`'s retry policy."""

    def __init__(self, config: SpotifyConfig, *, auth_manager: UserAuth | SpotifyClientCredentials, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.auth_manager = auth_manager
        self.sleep = sleep
        # A plain session: no urllib3 retry adapter, the policy below is the only one.
        self.client = spotipy.Spotify(auth_manager=auth_manager, requests_session=auth_manager._session, requests_timeout=config.timeout_s, retries=0)
        self.client.prefix = config.api_url.rstrip("/") + "/"

    @classmethod
    def for_app(cls, config: SpotifyConfig | None = None, *, sleep: Callable[[float], None] = time.sleep) -> "SpotifyApi":
        """Client-credentials access (catalogue lookups, no user data)."""
        config = config or spotify_config()
        if not config.client_id or not config.client_secret:
            raise SpotifyNotConfiguredError("set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET to look tracks up on Spotify")
        manager = SpotifyClientCredentials(
            client_id=config.client_id,
            client_secret=config.client_secret,
            requests_session=requests.Session(),
            requests_timeout=config.timeout_s,
            cache_handler=MemoryCacheHandler(),
        )
        manager.OAUTH_TOKEN_URL = config.token_url
        return cls(config, auth_manager=manager, sleep=sleep)

    @overload
    def call(self, what: str, function: Callable[..., Any], *args: Any, missing_ok: Literal[False] = False, **kwargs: Any) -> dict[str, Any]: ...

    @overload
    def call(self, what: str, function: Callable[..., Any], *args: Any, missing_ok: bool, **kwargs: Any) -> dict[str, Any] | None: ...

    def call(self, what: str, function: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any) -> dict[str, Any] | None:
        """``function(*args, **kwargs)`` with the retry policy; ``what`` names the call in errors.

        Returns the decoded JSON (``None`` for a 404 when ``missing_ok``).
        Raises :class:`SpotifyRateLimitedError` when Spotify asks for a longer
        wait than ``max_wait_s``, :class:`SpotifyAuthError` for refused
        credentials (after one token refresh for a user), and
        :class:`SpotifyUnavailableError` when retries run out.
        """
        refreshed = False
        last_problem = ""
        attempt = 0
        while attempt <= self.config.retries:
            try:
                result = function(*args, **kwargs)
            except spotipy.SpotifyException as error:
                status = error.http_status
                if status == 429:
                    wait = _retry_after(error.headers, default=self.config.backoff_s * 2**attempt)
                    if wait > self.config.max_wait_s:
                        raise SpotifyRateLimitedError(
                            f"Spotify rate-limited {what} and asks to wait {wait:.0f} s; run again later (finished work is kept)",
                            retry_after=wait,
                        ) from None
                    logger.warning("Spotify rate limit on %s: waiting %.1f s", what, wait)
                    self.sleep(wait)
                    attempt += 1
                    last_problem = "rate limited (429)"
                    continue
                if status == 401 and not refreshed:
                    refreshed = True
                    self._refresh()
                    continue
                if status in (401, 403):
                    raise SpotifyAuthError(f"Spotify refused {what} ({status}): {_message(error)}") from None
                if status == 404 and missing_ok:
                    return None
                if status >= 500:
                    last_problem = f"server error {status}"
                    self._back_off(what, attempt, last_problem)
                    attempt += 1
                    continue
                raise SpotifyError(f"Spotify rejected {what} ({status}): {_message(error)}") from None
            except SpotifyOauthError as error:
                raise SpotifyAuthError(f"Spotify's accounts service refused the credentials for {what}: {error.error or 'error'} {error.error_description or ''}".strip()) from None
            except requests.Timeout:
                last_problem = f"no answer within {self.config.timeout_s:g} s"
            except requests.ConnectionError:
                last_problem = f"cannot connect to {self.config.api_url}"
            except (ValueError, KeyError, TypeError):
                # A token response that is not JSON, or not the JSON it should be.
                last_problem = "the accounts service answered with malformed data"
            else:
                if result is None or not isinstance(result, dict):
                    # spotipy turns a body that is not JSON into None.
                    last_problem = "Spotify answered with malformed data (not JSON)"
                else:
                    return result
            self._back_off(what, attempt, last_problem)
            attempt += 1
        raise SpotifyUnavailableError(f"Spotify is unavailable for {what}: {last_problem} (after {self.config.retries + 1} attempts)")

    def _back_off(self, what: str, attempt: int, problem: str) -> None:
        if attempt < self.config.retries:
            wait = self.config.backoff_s * 2**attempt
            logger.warning("Spotify %s on %s: retrying in %.2f s", problem, what, wait)
            self.sleep(wait)

    def _refresh(self) -> None:
        """After a 401: a user's token is refreshed; an app token is dropped so the next call fetches a new one."""
        if not isinstance(self.auth_manager, UserAuth):
            self.auth_manager.cache_handler.save_token_to_cache(None)
            return
        try:
            self.auth_manager.token_refresh()
        except SpotifyOauthError as error:
            raise SpotifyAuthError(f"Spotify refused to refresh the authorisation ({error.error}): connect again") from None
        except (requests.RequestException, ValueError, KeyError) as error:
            raise SpotifyUnavailableError(f"cannot refresh the Spotify authorisation: {type(error).__name__}") from None

    # -- the calls Crossfade makes --------------------------------------------
    def track_get(self, spotify_id: str) -> dict[str, Any] | None:
        return self.call(f"track {spotify_id}", self.client.track, spotify_id, missing_ok=True)

    def tracks_search(self, query: str) -> list[dict[str, Any]]:
        body = self.call("a search", self.client.search, query, limit=SEARCH_LIMIT, type="track")
        try:
            return [item for item in body["tracks"]["items"] if isinstance(item, dict) and item.get("id")]
        except (KeyError, TypeError):
            raise SpotifyUnavailableError("Spotify answered the search with malformed data (no tracks.items)") from None

    def me(self) -> dict[str, Any]:
        # spotipy's me() asks for "me/", a path the API description does not have.
        return self.call("your profile", self.client._get, "me")

    def playlist_create(self, name: str, *, description: str = "", public: bool = False) -> dict[str, Any]:
        body = {"name": name, "public": public, "description": description}
        return self.call("creating the playlist", self.client._post, "me/playlists", payload=body)

    def playlist_items_add(self, playlist_id: str, uris: list[str]) -> dict[str, Any]:
        if len(uris) > MAX_ITEMS_PER_REQUEST:
            raise SpotifyError(f"at most {MAX_ITEMS_PER_REQUEST} items per request, not {len(uris)}")
        # spotipy's playlist_add_items sends a bare JSON array; the API documents {"uris": [...]}.
        return self.call("adding tracks", self.client._post, f"playlists/{playlist_id}/items", payload={"uris": uris})


def _retry_after(headers: Mapping[str, str] | None, *, default: float) -> float:
    value = (headers or {}).get("Retry-After")
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _message(error: spotipy.SpotifyException) -> str:
    return str(error.msg).split("\n", 1)[-1].strip() or "no message"
