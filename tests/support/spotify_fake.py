"""A fake Spotify (Web API + accounts service) on 127.0.0.1 for the tests.

A real HTTP server in a thread. Every Web API request is validated against
Spotify's OpenAPI description (read in place from
``/work/shared/data/spotify_web_api_openapi``) and so is every answer it
gives; violations are answered 400 (requests) or 500 (its own answers) and
recorded in ``violations`` so the tests can fail on them. The accounts
service (``/authorize``, ``/api/token``) is not in that description; it
follows RFC 6749 and RFC 7636 (PKCE, S256) as Spotify documents them.

Faults can be queued: an HTTP status (429 with ``Retry-After``, 401, 500),
a delay (slow), or a malformed body, for the next N requests under a path.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "data" / "spotify_web_api_openapi" / "fixed-spotify-open-api.yml"
if not SPEC_PATH.exists():
    SPEC_PATH = Path("/work/shared/data/spotify_web_api_openapi/fixed-spotify-open-api.yml")
SPOTIFY_HOST = "https://api.spotify.com"

_spec_lock = threading.Lock()
_spec_cache: dict[str, object] = {}


def openapi_load():
    """The parsed OpenAPI description (loaded once per process; about 2 s of CPU)."""
    with _spec_lock:
        if "spec" not in _spec_cache:
            from openapi_core import OpenAPI

            _spec_cache["spec"] = OpenAPI.from_file_path(str(SPEC_PATH))
        return _spec_cache["spec"]


@dataclass
class _OpenAPIRequest:
    """openapi-core's Request protocol for a request as the real API would have seen it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None
    content_type: str
    host_url: str = SPOTIFY_HOST

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.parameters = RequestParameters(query=ImmutableMultiDict(self.query), header=Headers(self.headers))


@dataclass
class _OpenAPIResponse:
    status_code: int
    data: bytes
    headers: dict[str, str]
    content_type: str = "application/json"


@dataclass
class Fault:
    path: str
    times: int
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    malformed: bool = False
    after: int = 0


@dataclass
class FakeTrack:
    id: str
    name: str
    artists: list[str]
    album: str
    isrc: str = ""
    duration_ms: int = 200_000
    release_date: str = "2020-01-01"
    popularity: int | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object
    status: int


class FakeSpotify:
    CLIENT_ID = "crossfade-test-client"
    CLIENT_SECRET = "s3cret-client-value-never-logged"

    def __init__(self) -> None:
        self.spec = openapi_load()
        self.tracks: dict[str, FakeTrack] = {}
        self.playlists: dict[str, dict] = {}
        self.user = {"id": "listener1", "display_name": "Test Listener"}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.access_tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.token_lifetime_s = 3600
        self.deny_authorization = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-spotify", daemon=True)

    # -- lifecycle and knobs ------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/v1/"

    def start(self) -> "FakeSpotify":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def track_add(self, name: str, artists: list[str], album: str = "An Album", **kwargs) -> FakeTrack:
        track_id = kwargs.pop("id", None) or "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(22))
        track = FakeTrack(track_id, name, artists, album, **kwargs)
        self.tracks[track_id] = track
        return track

    def fault(
        self, path: str, *, times: int = 1, status: int | None = None, retry_after: str | None = None, delay: float = 0.0, malformed: bool = False, after: int = 0
    ) -> None:
        """After ``after`` good answers, the next ``times`` requests whose path starts with ``path`` misbehave as described."""
        self.faults.append(Fault(path, times, status, retry_after, delay, malformed, after))

    def tokens_expire(self) -> None:
        """Every access token issued so far stops working (as after a revocation or clock skew)."""
        for info in self.access_tokens.values():
            info["expires_at"] = 0

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # -- objects valid under the spec ---------------------------------------------------
    def track_object(self, track: FakeTrack) -> dict:
        artists = [
            {"external_urls": {"spotify": f"https://open.spotify.com/artist/a{i}{track.id[:10]}"}, "href": f"{self.api_url}artists/a{i}", "id": f"a{i}{track.id[:10]}", "name": name, "type": "artist", "uri": f"spotify:artist:a{i}{track.id[:10]}"}
            for i, name in enumerate(track.artists)
        ]
        album_id = "al" + track.id[:20]
        obj = {
            "album": {
                "album_type": "album", "total_tracks": 10, "available_markets": ["FR", "US"],
                "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"}, "href": f"{self.api_url}albums/{album_id}",
                "id": album_id, "images": [{"url": f"https://i.scdn.co/image/{album_id}-640", "height": 640, "width": 640}, {"url": f"https://i.scdn.co/image/{album_id}-300", "height": 300, "width": 300}],
                "name": track.album, "release_date": track.release_date, "release_date_precision": "day", "type": "album", "uri": f"spotify:album:{album_id}", "artists": artists,
            },
            "artists": artists, "available_markets": ["FR", "US"], "disc_number": 1, "duration_ms": track.duration_ms, "explicit": False,
            "external_ids": {"isrc": track.isrc} if track.isrc else {},
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"}, "href": f"{self.api_url}tracks/{track.id}",
            "id": track.id, "is_playable": True, "name": track.name, "preview_url": None, "track_number": 1, "type": "track",
            "uri": f"spotify:track:{track.id}", "is_local": False,
        }
        if track.popularity is not None:
            obj["popularity"] = track.popularity
        return obj

    def _error(self, status: int, message: str) -> tuple[int, dict, dict]:
        return status, {"error": {"status": status, "message": message}}, {}

    # -- the accounts service ----------------------------------------------------------------
    def _authorize(self, query: dict[str, list[str]]) -> tuple[int, dict, dict]:
        one = {k: v[0] for k, v in query.items()}
        redirect_uri = one.get("redirect_uri", "")
        problems = []
        if one.get("client_id") != self.CLIENT_ID:
            problems.append("unknown client_id")
        if one.get("response_type") != "code":
            problems.append("response_type must be code")
        if one.get("code_challenge_method") != "S256" or len(one.get("code_challenge", "")) < 43:
            problems.append("PKCE S256 code_challenge required")
        if not redirect_uri.startswith("http"):
            problems.append("redirect_uri required")
        if problems:
            self.violations.append("authorize: " + "; ".join(problems))
            return 400, {"error": "invalid_request", "error_description": "; ".join(problems)}, {}
        back = {"state": one["state"]} if "state" in one else {}
        if self.deny_authorization:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": one["code_challenge"], "redirect_uri": redirect_uri, "scope": one.get("scope", "")}
            back["code"] = code
        return 302, {}, {"Location": f"{redirect_uri}?{urlencode(back)}"}

    def _token_issue(self, *, scope: str, user: bool) -> dict:
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = {"expires_at": time.time() + self.token_lifetime_s, "user": user, "scope": scope}
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.token_lifetime_s, "scope": scope}
        if user:
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = {"scope": scope}
            body["refresh_token"] = refresh
        return body

    def _token(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict, dict]:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.violations.append("token: body must be form-encoded")
            return 400, {"error": "invalid_request", "error_description": "form body required"}, {}
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            expected = "Basic " + base64.b64encode(f"{self.CLIENT_ID}:{self.CLIENT_SECRET}".encode()).decode()
            if headers.get("authorization") != expected:
                return 400, {"error": "invalid_client", "error_description": "Invalid client secret"}, {}
            return 200, self._token_issue(scope="", user=False), {}
        if grant == "authorization_code":
            pending = self.codes.pop(form.get("code", ""), None)
            if pending is None or form.get("client_id") != self.CLIENT_ID:
                return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}, {}
            if form.get("redirect_uri") != pending["redirect_uri"]:
                return 400, {"error": "invalid_grant", "error_description": "Invalid redirect URI"}, {}
            digest = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest()).decode().rstrip("=")
            if digest != pending["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "code_verifier was incorrect"}, {}
            return 200, self._token_issue(scope=pending["scope"], user=True), {}
        if grant == "refresh_token":
            info = self.refresh_tokens.get(form.get("refresh_token", ""))
            if info is None or form.get("client_id") != self.CLIENT_ID:
                return 400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}, {}
            body = self._token_issue(scope=info["scope"], user=True)
            # Spotify may or may not rotate the refresh token; this fake keeps the old one valid too.
            return 200, body, {}
        return 400, {"error": "unsupported_grant_type", "error_description": f"grant_type {grant!r}"}, {}

    # -- the Web API ----------------------------------------------------------------------
    def _api(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], raw: bytes) -> tuple[int, dict, dict]:
        auth = headers.get("authorization", "")
        token = self.access_tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if token is None:
            return self._error(401, "No token provided" if not auth else "Invalid access token")
        if token["expires_at"] < time.time():
            return self._error(401, "The access token expired")
        route = path.removeprefix("/v1")
        if method == "GET" and route == "/search":
            return 200, {"tracks": self._search(query)}, {}
        if method == "GET" and route.startswith("/tracks/"):
            track = self.tracks.get(route.removeprefix("/tracks/"))
            return (200, self.track_object(track), {}) if track else self._error(404, "Non existing id")
        if not token["user"]:
            return self._error(401, "This endpoint needs a user's authorisation, not client credentials")
        if method == "GET" and route == "/me":
            user = self.user
            return 200, {"id": user["id"], "display_name": user["display_name"], "type": "user", "uri": f"spotify:user:{user['id']}", "href": f"{self.api_url}users/{user['id']}", "external_urls": {"spotify": f"https://open.spotify.com/user/{user['id']}"}, "followers": {"href": None, "total": 0}, "images": [], "country": "FR", "product": "free"}, {}
        if method == "POST" and route == "/me/playlists":
            body = json.loads(raw)
            playlist_id = secrets.token_hex(11)
            self.playlists[playlist_id] = {"name": body["name"], "public": body.get("public", True), "description": body.get("description", ""), "items": [], "owner": self.user["id"]}
            return 201, self._playlist_object(playlist_id), {}
        if method == "POST" and route.startswith("/playlists/") and route.endswith("/items"):
            playlist = self.playlists.get(route.split("/")[2])
            if playlist is None:
                return self._error(404, "Playlist not found")
            uris = json.loads(raw).get("uris", [])
            if len(uris) > 100:
                return self._error(400, "You can add a maximum of 100 tracks per request.")
            unknown = [u for u in uris if u.removeprefix("spotify:track:") not in self.tracks]
            if unknown:
                return self._error(400, f"Invalid base62 id or unknown track: {unknown[0]}")
            playlist["items"] += uris
            return 201, {"snapshot_id": secrets.token_hex(8)}, {}
        return self._error(404, "Service not found")

    def _playlist_object(self, playlist_id: str) -> dict:
        playlist = self.playlists[playlist_id]
        owner = {"id": playlist["owner"], "type": "user", "uri": f"spotify:user:{playlist['owner']}", "href": f"{self.api_url}users/{playlist['owner']}", "external_urls": {"spotify": f"https://open.spotify.com/user/{playlist['owner']}"}, "display_name": self.user["display_name"]}
        items_ref = {"href": f"{self.api_url}playlists/{playlist_id}/items", "items": [], "limit": 100, "next": None, "offset": 0, "previous": None, "total": len(playlist["items"])}
        return {
            "collaborative": False, "description": playlist["description"], "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist_id}"},
            "href": f"{self.api_url}playlists/{playlist_id}", "id": playlist_id, "images": [], "name": playlist["name"], "owner": owner,
            "public": playlist["public"], "snapshot_id": secrets.token_hex(8), "items": {**items_ref}, "tracks": items_ref, "type": "playlist", "uri": f"spotify:playlist:{playlist_id}",
        }

    def _search(self, query: dict[str, list[str]]) -> dict:
        q = query["q"][0]
        limit = int(query.get("limit", ["5"])[0])
        offset = int(query.get("offset", ["0"])[0])
        filters: dict[str, str] = {}
        words: list[str] = []
        current = None
        for token in q.split():
            key, sep, value = token.partition(":")
            if sep and key in {"isrc", "track", "artist", "album", "year"}:
                current = key
                filters[key] = value
            elif current:
                filters[current] += " " + token
            else:
                words.append(token)
        found = []
        for track in self.tracks.values():
            if "isrc" in filters and track.isrc.upper() != filters["isrc"].upper():
                continue
            if "track" in filters and filters["track"].casefold().strip() not in track.name.casefold():
                continue
            if "artist" in filters and not any(filters["artist"].casefold().strip() in a.casefold() for a in track.artists):
                continue
            text = f"{track.name} {' '.join(track.artists)} {track.album}".casefold()
            if any(w.casefold() not in text for w in words):
                continue
            found.append(track)
        page = found[offset : offset + limit]
        href = f"{self.api_url}search?{urlencode({'q': q, 'type': 'track', 'offset': offset, 'limit': limit})}"
        return {
            "href": href, "items": [self.track_object(t) for t in page], "limit": limit, "offset": offset, "total": len(found),
            "next": None if offset + limit >= len(found) else href.replace(f"offset={offset}", f"offset={offset + limit}"),
            "previous": None,
        }

    # -- HTTP plumbing -----------------------------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.times > 0:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _validate_request(self, request: _OpenAPIRequest) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core warns that it does not check oauth2 itself; we do.
            try:
                self.spec.validate_request(request)
            except Exception as error:  # noqa: BLE001 - every kind of violation is reported the same way
                return f"{type(error).__name__}: {error}"
        return ""

    def _validate_response(self, request: _OpenAPIRequest, status: int, data: bytes, headers: dict[str, str]) -> str:
        from openapi_core.templating.responses.exceptions import ResponseNotFound

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.spec.validate_response(request, _OpenAPIResponse(status, data, headers))
            except ResponseNotFound:
                if status < 400:
                    return f"status {status} is not documented for {request.method.upper()} {request.path}"
                # Errors the description omits for this operation (404, 400, 500) still carry an ErrorObject.
                return self._validate_response(request, 401, data, headers)
            except Exception as error:  # noqa: BLE001
                return f"{type(error).__name__}: {error}"
        return ""

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        fault = self._take_fault(path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.malformed:
            return 200, b'{"tracks": {"items": [ {"id": "trunc', {"Content-Type": "application/json"}
        is_api = path.startswith("/v1/")
        request = None
        if is_api:
            request = _OpenAPIRequest(
                method.lower(), path, [(k, v) for k, values in query.items() for v in values], headers, raw or None,
                headers.get("content-type", "").split(";")[0].strip() or "application/json",
            )
            problem = self._validate_request(request)
            if problem:
                self.violations.append(f"{method} {target}: {problem}")
                status, body, extra = self._error(400, problem)
                return status, json.dumps(body).encode(), {"Content-Type": "application/json"}
        if fault and fault.status:
            status, body, extra = self._error(fault.status, {429: "API rate limit exceeded", 401: "The access token expired", 500: "Server error"}.get(fault.status, "error"))
            if fault.retry_after is not None:
                extra = {"Retry-After": fault.retry_after}
        elif path == "/authorize" and method == "GET":
            status, body, extra = self._authorize(query)
        elif path == "/api/token" and method == "POST":
            status, body, extra = self._token(headers, raw)
        elif is_api:
            status, body, extra = self._api(method, path, query, headers, raw)
        else:
            status, body, extra = 404, {"error": "not found"}, {}
        data = json.dumps(body).encode() if body or status != 302 else b""
        out_headers = {"Content-Type": "application/json", **extra}
        if is_api:
            problem = self._validate_response(request, status, data, out_headers)
            if problem:
                self.violations.append(f"answer to {method} {target}: {problem}")
                return 500, json.dumps({"error": {"status": 500, "message": "fake answered outside the spec"}}).encode(), {"Content-Type": "application/json"}
        return status, data, out_headers

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, data, out_headers = fake.handle(self.command, self.path, headers, raw)
                try:
                    body = json.loads(raw) if raw and headers.get("content-type", "").startswith("application/json") else raw.decode(errors="replace")
                except ValueError:
                    body = raw.decode(errors="replace")
                with fake._lock:
                    fake.requests.append(Recorded(self.command, urlsplit(self.path).path, parse_qs(urlsplit(self.path).query), body, status))
                try:
                    self.send_response(status)
                    for name, value in out_headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
                pass

        return Handler
