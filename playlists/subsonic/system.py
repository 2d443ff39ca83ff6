"""System and users: ping, the licence, the extensions this server speaks, scan status, the caller's user."""
from __future__ import annotations

from django.contrib.auth.models import User

from playlists.catalogue.browse import playable_tracks
from playlists.subsonic.endpoints import Call, Payload, endpoint, public_endpoint
from playlists.subsonic.params import ErrorCode, Params, SubsonicError, not_found

#: The OpenSubsonic extensions served, with their versions.
EXTENSIONS = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "songLyrics": [1],
    "sonicSimilarity": [1],
    "topSongsByArtistId": [1],
}
MUSIC_FOLDER = {"id": 1, "name": "Crossfade"}


@endpoint("ping")
def ping(call: Call) -> Payload:
    return {}


@endpoint("getLicense")
def license_get(call: Call) -> Payload:
    return {"license": {"valid": True}}


@public_endpoint("getOpenSubsonicExtensions")
def extensions(params: Params) -> Payload:
    return {"openSubsonicExtensions": [{"name": name, "versions": versions} for name, versions in EXTENSIONS.items()]}


@endpoint("getScanStatus")
def scan_status(call: Call) -> Payload:
    # Scanning is `manage.py ingest` / reindex on the server, never started by a player.
    return {"scanStatus": {"scanning": False, "count": playable_tracks().count()}}


@endpoint("startScan")
def scan_start(call: Call) -> Payload:
    raise SubsonicError(ErrorCode.NOT_AUTHORISED, "Scanning is started on the server (manage.py ingest, then reindex), not from a player")


@endpoint("getMusicFolders")
def music_folders(call: Call) -> Payload:
    return {"musicFolders": {"musicFolder": [MUSIC_FOLDER]}}


def _user(user: User) -> Payload:
    return {
        "username": user.get_username(),
        "email": user.email or None,
        "scrobblingEnabled": True,
        "adminRole": bool(user.is_staff),
        "settingsRole": True,
        "downloadRole": True,
        "uploadRole": False,
        "playlistRole": True,
        "coverArtRole": False,
        "commentRole": False,
        "podcastRole": False,
        "streamRole": True,
        "jukeboxRole": False,
        "shareRole": False,
        "videoConversionRole": False,
        "folder": [MUSIC_FOLDER["id"]],
    }


@endpoint("getUser")
def user_get(call: Call) -> Payload:
    username = call.params.text("username") or call.user.get_username()
    if username != call.user.get_username():
        if not call.user.is_staff:
            raise SubsonicError(ErrorCode.NOT_AUTHORISED, "Only an administrator can look at other users")
        other = User.objects.filter(username=username).first()
        if other is None:
            raise not_found(f"user {username[:40]!r}")
        return {"user": _user(other)}
    return {"user": _user(call.user)}


@endpoint("getUsers")
def users_get(call: Call) -> Payload:
    if not call.user.is_staff:
        raise SubsonicError(ErrorCode.NOT_AUTHORISED, "Only an administrator can list users")
    return {"users": {"user": [_user(u) for u in User.objects.filter(is_active=True).order_by("username")]}}
