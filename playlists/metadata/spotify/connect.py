"""Connecting a user's Spotify account (authorization code with PKCE); tokens are kept per user and refreshed."""
from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import requests
from django.contrib.auth.models import User
from django.utils import timezone
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError

from playlists.errors import SpotifyAuthError, SpotifyNotConfiguredError, SpotifyUnavailableError
from playlists.metadata.spotify.client import USER_SCOPES, SpotifyApi, SpotifyConfig, UserAuth, spotify_config
from playlists.models import SpotifyAccount


class AccountTokenCache(CacheHandler):  # type: ignore[misc]  # spotipy has no type stubs
    """spotipy's token cache backed by a :class:`SpotifyAccount` row, so refreshed tokens are kept."""

    def __init__(self, account: SpotifyAccount) -> None:
        self.account = account

    def get_cached_token(self) -> dict[str, Any] | None:
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

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        _account_tokens_set(self.account, token_info)
        if self.account.pk:
            self.account.save()


def _account_tokens_set(account: SpotifyAccount, token_info: dict[str, Any]) -> None:
    account.access_token = token_info["access_token"]
    account.refresh_token = token_info.get("refresh_token") or account.refresh_token
    account.expires_at = datetime.fromtimestamp(int(token_info["expires_at"]), tz=dt_timezone.utc)
    account.scope = token_info.get("scope") or account.scope or USER_SCOPES


def _user_config(redirect_uri: str) -> SpotifyConfig:
    config = spotify_config()
    if not config.client_id:
        raise SpotifyNotConfiguredError("Spotify is not set up on this site: the operator must set SPOTIFY_CLIENT_ID")
    return dataclasses.replace(config, redirect_uri=config.redirect_uri or redirect_uri)


def spotify_connect_start(*, redirect_uri: str) -> dict[str, str]:
    """Where to send the browser to authorise Crossfade, and what to keep until it comes back.

    Returns ``{"url", "state", "verifier", "redirect_uri"}``; ``state`` and the
    PKCE ``verifier`` belong in the user's session, never in a URL.
    """
    config = _user_config(redirect_uri)
    state = secrets.token_urlsafe(24)
    auth = UserAuth(config, cache_handler=MemoryCacheHandler(), session=requests.Session(), state=state)
    url = auth.get_authorize_url(state)
    return {"url": url, "state": state, "verifier": auth.code_verifier, "redirect_uri": config.redirect_uri}


def spotify_connect_finish(*, user: User, code: str, verifier: str, redirect_uri: str) -> SpotifyAccount:
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
