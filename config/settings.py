"""Django settings for Crossfade.

This is the one place the environment is read. Every setting has a safe
default for local use and for a household server: the site is private (a
login for every page) unless ``CROSSFADE_PUBLIC=1``; without
``DJANGO_SECRET_KEY`` a strong key is generated once and kept in
``CROSSFADE_DATA_DIR/secret_key``; HTTPS-only settings (HSTS, redirects,
secure cookies) are switched on through the environment, since only the
operator knows whether a TLS proxy is in front.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from ml.config import AudioConfig, EngineConfig, LyricsConfig

# The admin's classes subclass ModelAdmin[Track] and the like, as django-stubs types them;
# django-stubs-ext (installed with django-stubs) makes Django's generic classes subscriptable at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None


def _env_list(name: str, default: str = "", *, separator: str = ",") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(separator) if part.strip()]


def _secret_key_kept(folder: Path) -> str:
    """The key in ``folder/secret_key``, made once (50 random characters, readable by the owner only).

    Created with O_EXCL so that several processes starting at once (web
    workers, the db_worker) agree on one key.
    """
    path = folder / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


DEBUG = _env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

CROSSFADE_DATA_DIR = Path(os.environ.get("CROSSFADE_DATA_DIR", BASE_DIR / "data")).resolve()
# The SQLite file and the index live here; create it so a fresh checkout just works.
CROSSFADE_DATA_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or _secret_key_kept(CROSSFADE_DATA_DIR)
# Keys the site used before (comma-separated): sessions and encrypted tokens made with them stay readable.
SECRET_KEY_FALLBACKS = _env_list("DJANGO_SECRET_KEY_FALLBACKS")
# Playlists export paths relative to this folder; ingest defaults to it.
CROSSFADE_MUSIC_DIR = Path(os.environ.get("CROSSFADE_MUSIC_DIR", Path.home() / "Music")).expanduser()
# The only folders whose files are ever ingested, stored as a track's audio or served (symlinks resolved):
# the music folder and the demo library unless the operator names others (separated by ":").
CROSSFADE_LIBRARY_ROOTS = [
    Path(part).expanduser()
    for part in _env_list("CROSSFADE_LIBRARY_ROOTS", f"{CROSSFADE_MUSIC_DIR}{os.pathsep}{CROSSFADE_DATA_DIR / 'demo' / 'music'}", separator=os.pathsep)
]
# A personal library is private: every page and the API need a login unless the operator opts in.
CROSSFADE_PUBLIC = _env_bool("CROSSFADE_PUBLIC", False)
# `manage.py serve` (make serve): gunicorn on HOST:PORT, one worker process per core, each with a few threads.
CROSSFADE_HOST = os.environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1"
CROSSFADE_WEB_WORKERS = max(1, _env_int("CROSSFADE_WEB_WORKERS", os.cpu_count() or 2))
CROSSFADE_WEB_THREADS = max(1, _env_int("CROSSFADE_WEB_THREADS", 4))
# The web process's cyclic garbage collector (config/wsgi.py): what was loaded at start is frozen out of its scans,
# and it runs after this many new container objects instead of Python's 700 (a page builds thousands, so the default
# collects several times within one request: a long tail of slow answers under load). 0 keeps Python's defaults.
CROSSFADE_WEB_GC_THRESHOLD = max(0, _env_int("CROSSFADE_WEB_GC_THRESHOLD", 20_000))
# The port `make serve` and `make demo` serve on.
CROSSFADE_PORT = _env_int("PORT", 8000)
# Largest audio file a user may upload as a playlist seed (analysed, never kept).
CROSSFADE_UPLOAD_MAX_BYTES = int(_env_float("CROSSFADE_UPLOAD_MAX_MB", 30) * 1024 * 1024)
CROSSFADE = EngineConfig(
    index_dir=CROSSFADE_DATA_DIR / "index",
    audio=AudioConfig(
        model=os.environ.get("CROSSFADE_AUDIO_MODEL", "musicnn-mtt"),
        max_seconds=_env_float("CROSSFADE_AUDIO_MAX_SECONDS", 60.0),
        segments=int(_env_float("CROSSFADE_AUDIO_SEGMENTS", 4)),
        models_dir=CROSSFADE_DATA_DIR / "models" / "audio",
    ),
    lyrics=LyricsConfig(model=os.environ.get("CROSSFADE_LYRICS_MODEL", LyricsConfig().model)),
    default_balance=_env_float("CROSSFADE_DEFAULT_BALANCE", 0.5),
)
if not 0.0 <= CROSSFADE.default_balance <= 1.0:
    raise ImproperlyConfigured("CROSSFADE_DEFAULT_BALANCE must be between 0 (lyrics only) and 1 (audio only)")

INSTALLED_APPS = [
    # `runserver` (make dev) leaves static files to WhiteNoise too, so both servers answer a bad static path the same way (404).
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    # Its static files ship htmx itself (django_htmx/htmx-2.min.js), served by the site.
    "django_htmx",
    "axes",
    "csp",
    "playlists",
]

# Long work started from the web (Spotify export and enrichment, later reindex and
# training) is queued here and run by `manage.py db_worker`, never inside a request.
# Queues: "default" for work that must run where the index is served (publishing a
# reindex, the map), "reindex" for embedding batches any worker machine may take.
TASKS = {"default": {"BACKEND": os.environ.get("CROSSFADE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"), "QUEUES": ["default", "reindex"]}}


def _path_map(value: str) -> tuple[tuple[str, str], ...]:
    """``"/srv/music=/mnt/music;/data=/media/data"`` as ``(("/srv/music", "/mnt/music"), ...)``."""
    pairs: list[tuple[str, str]] = []
    for part in value.split(";"):
        if not part.strip():
            continue
        source, sep, target = part.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source.startswith("/") or not target.startswith("/"):
            raise ImproperlyConfigured(f"CROSSFADE_PATH_MAP: {part!r} is not FROM=TO with two absolute paths (pairs separated by ';')")
        pairs.append((source, target))
    return tuple(pairs)


# Distributed reindex: 0 embeds in the process that runs the reindex (a single machine);
# N > 0 splits the work into batches of N tracks queued for `manage.py db_worker`
# processes on any machine that shares the database and sees the library.
CROSSFADE_REINDEX_BATCH = int(_env_float("CROSSFADE_REINDEX_BATCH", 0))
if CROSSFADE_REINDEX_BATCH < 0:
    raise ImproperlyConfigured("CROSSFADE_REINDEX_BATCH must be 0 (in-process) or a batch size")
# A worker holds its batch this long without a sign of life; then another worker takes the batch again.
CROSSFADE_REINDEX_LEASE_S = _env_float("CROSSFADE_REINDEX_LEASE_S", 120.0)
if CROSSFADE_REINDEX_LEASE_S <= 0:
    raise ImproperlyConfigured("CROSSFADE_REINDEX_LEASE_S must be a positive number of seconds")
# Where this machine sees the library when it is mounted elsewhere than where it was ingested.
CROSSFADE_PATH_MAP = _path_map(os.environ.get("CROSSFADE_PATH_MAP", ""))
# FAISS/BLAS threads of an index build: 0 takes the cores that are free when each step starts (ml.threads).
CROSSFADE_BUILD_THREADS = int(_env_float("CROSSFADE_BUILD_THREADS", 0))
# Torch/BLAS threads of a worker's embedding batch: workers scale by processes, one thread each.
CROSSFADE_WORKER_THREADS = int(_env_float("CROSSFADE_WORKER_THREADS", 1))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless CROSSFADE_PUBLIC (the API answers 401 itself: playlists.api.auth).
    "playlists.web.access.SiteLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: whether a request is the page's own swap (htmx: hx-boost navigation, in-place edits) or a full load.
    "django_htmx.middleware.HtmxMiddleware",
    # JSON error envelopes for anything under /api/ that Django itself answers (404, 405, 500).
    "playlists.api.middleware.ApiErrorsMiddleware",
    # Login throttling: refuses a user+address after CROSSFADE_LOGIN_FAILURES wrong passwords (last, as axes asks).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The site's templates live with its views; the admin's overrides are there too, found before the admin's own.
        "DIRS": [BASE_DIR / "playlists" / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{CROSSFADE_DATA_DIR / 'crossfade.sqlite3'}",
        conn_max_age=int(_env_float("DATABASE_CONN_MAX_AGE", 60)),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # Readers never wait for the writer (WAL), and every write transaction takes the write lock when it
        # starts (IMMEDIATE), so a transaction that read first cannot fail with "database is locked" when it
        # writes; a writer waits up to the busy timeout for another (a reindex or the db_worker beside the site).
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE",
        timeout=_env_float("CROSSFADE_SQLITE_TIMEOUT_S", 30.0),
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches, one per web worker process (local memory): no server to run, nothing shared to invalidate.
# - "fragments": rendered parts of pages ({% fragment %}), keyed by a digest of what they show, the user and the
#   address, so a write never needs to reach another worker's cache: the next render simply has another key.
# - "answers": API answers' expensive parts, keyed by the serving index version and every input (playlists.api.answers).
# Sessions stay in the database (a cache per worker would let a logged-out session live on in another worker).
CROSSFADE_CACHE_ENTRIES = max(10, _env_int("CROSSFADE_CACHE_ENTRIES", 300))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "crossfade-default"},
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "crossfade-fragments",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": CROSSFADE_CACHE_ENTRIES},
    },
    "answers": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "crossfade-answers",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 4 * CROSSFADE_CACHE_ENTRIES},
    },
}

# django-axes first: it refuses a locked-out user+address before any password is hashed.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = max(1, _env_int("CROSSFADE_LOGIN_FAILURES", 5))
AXES_COOLOFF_TIME = timedelta(minutes=_env_float("CROSSFADE_LOGIN_LOCKOUT_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "playlists:catalogue"
LOGOUT_REDIRECT_URL = "playlists:catalogue"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "playlists" / "web" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# -- HTTPS and browser protections -----------------------------------------------------------------
# Off by default: a household server on plain HTTP in the LAN must keep working. Behind a TLS proxy, turn on
# DJANGO_SECURE_PROXY_SSL_HEADER (the proxy sets X-Forwarded-Proto), DJANGO_SECURE_SSL_REDIRECT,
# DJANGO_SECURE_COOKIES and DJANGO_SECURE_HSTS_SECONDS; `manage.py check --deploy` then has nothing to say.
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = _env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", SECURE_SSL_REDIRECT)
if _env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CROSSFADE_LOG_LEVEL", "WARNING")},
}

# Spotify Web API (metadata in, playlists out). Empty credentials switch it off.
# The URLs are settings so that tests point spotipy at a local fake server.
SPOTIFY_CLIENT_ID = os.environ.get("SPOTIFY_CLIENT_ID", "")
SPOTIFY_CLIENT_SECRET = os.environ.get("SPOTIFY_CLIENT_SECRET", "")
SPOTIFY_API_URL = os.environ.get("SPOTIFY_API_URL", "https://api.spotify.com/v1/")
SPOTIFY_ACCOUNTS_URL = os.environ.get("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com")
# Must be registered in the Spotify app; empty: this site's /spotify/callback as the browser reaches it.
SPOTIFY_REDIRECT_URI = os.environ.get("SPOTIFY_REDIRECT_URI", "")
SPOTIFY_TIMEOUT_S = _env_float("SPOTIFY_TIMEOUT_S", 10.0)
SPOTIFY_RETRIES = int(_env_float("SPOTIFY_RETRIES", 3))
SPOTIFY_BACKOFF_S = _env_float("SPOTIFY_BACKOFF_S", 1.0)
SPOTIFY_MAX_WAIT_S = _env_float("SPOTIFY_MAX_WAIT_S", 60.0)
SPOTIFY_MATCH_THRESHOLD = _env_float("SPOTIFY_MATCH_THRESHOLD", 0.8)
SPOTIFY_CACHE_SECONDS = _env_float("SPOTIFY_CACHE_SECONDS", 7 * 24 * 3600)

# Content-Security-Policy: scripts and styles only from this site's static files (no inline scripts or
# handlers); style attributes are allowed for the colour swatches of the map and the charts. Forms may also
# go to Spotify's accounts service, where "Save to Spotify" sends the browser to authorise.
_SPOTIFY_ACCOUNTS_ORIGIN = "/".join(SPOTIFY_ACCOUNTS_URL.split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", _SPOTIFY_ACCOUNTS_ORIGIN],
    }
}

# Pictures of the music: spectrograms and the catalogue map are drawn once and cached here.
CROSSFADE_PICTURES_DIR = Path(os.environ.get("CROSSFADE_PICTURES_DIR", CROSSFADE_DATA_DIR / "pictures")).resolve()
# Cover art read at ingest, and its resized copies.
CROSSFADE_COVERS_DIR = Path(os.environ.get("CROSSFADE_COVERS_DIR", CROSSFADE_DATA_DIR / "covers")).resolve()
# Trained models write <family>/<version>/*.csv training curves here; the Models page draws them.
CROSSFADE_MODELS_DIR = Path(os.environ.get("CROSSFADE_MODELS_DIR", CROSSFADE_DATA_DIR / "models")).resolve()
# The `python -m ml.evaluate --out` report the Evaluation page shows: a file, or a folder whose newest *.json is shown.
CROSSFADE_EVALUATION_REPORT = Path(os.environ.get("CROSSFADE_EVALUATION_REPORT", CROSSFADE_DATA_DIR / "evaluation")).resolve()
# t-SNE grows quadratically: larger catalogues are sampled (seeded) down to this many points on the map.
CROSSFADE_MAP_MAX_POINTS = int(_env_float("CROSSFADE_MAP_MAX_POINTS", 5000))
