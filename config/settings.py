"""Django settings for Crossfade.

This is the one place the environment is read. Every setting has a safe
default for local use; with ``DJANGO_DEBUG=0`` a real ``DJANGO_SECRET_KEY``
is required.
"""
from __future__ import annotations

import os
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


DEBUG = _env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "crossfade-local-development-key-not-for-production"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]

CROSSFADE_DATA_DIR = Path(os.environ.get("CROSSFADE_DATA_DIR", BASE_DIR / "data")).resolve()
# The SQLite file and the index live here; create it so a fresh checkout just works.
CROSSFADE_DATA_DIR.mkdir(parents=True, exist_ok=True)
# Playlists export paths relative to this folder; ingest defaults to it.
CROSSFADE_MUSIC_DIR = Path(os.environ.get("CROSSFADE_MUSIC_DIR", Path.home() / "Music")).expanduser()
# The port `make demo` serves on; only used to print the address.
CROSSFADE_PORT = int(_env_float("PORT", 8000))
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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # JSON error envelopes for anything under /api/ that Django itself answers (404, 405, 500).
    "playlists.api.middleware.ApiErrorsMiddleware",
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
    # Wait for a concurrent writer (a reindex beside the web process) instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# Pictures of the music: spectrograms and the catalogue map are drawn once and cached here.
CROSSFADE_PICTURES_DIR = Path(os.environ.get("CROSSFADE_PICTURES_DIR", CROSSFADE_DATA_DIR / "pictures")).resolve()
# Trained models write <family>/<version>/*.csv training curves here; the Models page draws them.
CROSSFADE_MODELS_DIR = Path(os.environ.get("CROSSFADE_MODELS_DIR", CROSSFADE_DATA_DIR / "models")).resolve()
# The `python -m ml.evaluate --out` report the Evaluation page shows: a file, or a folder whose newest *.json is shown.
CROSSFADE_EVALUATION_REPORT = Path(os.environ.get("CROSSFADE_EVALUATION_REPORT", CROSSFADE_DATA_DIR / "evaluation")).resolve()
# t-SNE grows quadratically: larger catalogues are sampled (seeded) down to this many points on the map.
CROSSFADE_MAP_MAX_POINTS = int(_env_float("CROSSFADE_MAP_MAX_POINTS", 5000))
