"""Settings come from the environment with safe local defaults."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PRINT = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'debug': settings.DEBUG, 'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': settings.DATABASES['default']['NAME'], 'audio': settings.CROSSFADE.audio.model, "
    "'balance': settings.CROSSFADE.default_balance, 'index': str(settings.CROSSFADE.index_dir)}))"
)


def _settings(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CROSSFADE_"))}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", _PRINT], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_local_defaults(tmp_path):
    result = _settings(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is True and values["engine"].endswith("sqlite3")
    assert values["name"] == str(tmp_path / "crossfade.sqlite3") and values["index"] == str(tmp_path / "index")
    assert values["audio"] == "musicnn-mtt" and values["balance"] == 0.5


def test_without_a_secret_key_debug_off_starts_with_one_kept_under_data(tmp_path):
    """A household server starts without the operator inventing a key (tests/config/test_production_settings.py checks the key)."""
    assert _settings(tmp_path, DJANGO_DEBUG="0").returncode == 0
    assert (tmp_path / "secret_key").is_file()
    assert _settings(tmp_path, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50).returncode == 0


def test_bad_whole_numbers_are_reported(tmp_path):
    result = _settings(tmp_path, CROSSFADE_WEB_WORKERS="many")
    assert result.returncode != 0 and "CROSSFADE_WEB_WORKERS must be a whole number" in result.stderr


def test_database_url_selects_postgresql(tmp_path):
    result = _settings(tmp_path, DATABASE_URL="postgres://crossfade:secret@127.0.0.1:5432/music")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql" and values["name"] == "music"


def test_bad_numbers_are_reported(tmp_path):
    result = _settings(tmp_path, CROSSFADE_DEFAULT_BALANCE="half")
    assert result.returncode != 0 and "CROSSFADE_DEFAULT_BALANCE must be a number" in result.stderr


def test_distributed_reindex_settings(tmp_path):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'batch': settings.CROSSFADE_REINDEX_BATCH, 'lease': settings.CROSSFADE_REINDEX_LEASE_S, 'map': settings.CROSSFADE_PATH_MAP}))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CROSSFADE_"))}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(tmp_path))

    def read(**env):
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**environment, **env}, capture_output=True, text=True, timeout=120)

    defaults = json.loads(read().stdout)
    assert defaults == {"batch": 0, "lease": 120.0, "map": []}
    values = json.loads(read(CROSSFADE_REINDEX_BATCH="32", CROSSFADE_PATH_MAP="/srv/music=/mnt/music; /data=/media/data").stdout)
    assert values["batch"] == 32 and values["map"] == [["/srv/music", "/mnt/music"], ["/data", "/media/data"]]
    bad = read(CROSSFADE_PATH_MAP="music=/mnt/music")
    assert bad.returncode != 0 and "CROSSFADE_PATH_MAP" in bad.stderr and "two absolute paths" in bad.stderr
