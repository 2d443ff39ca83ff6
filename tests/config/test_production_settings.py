"""Production settings: every `check --deploy` warning can be answered from the environment; a strong key is kept under data/.

The probe: ``DJANGO_DEBUG=0 … check --deploy`` gave W004 (HSTS), W008 (SSL
redirect), W009 (weak secret key), W012 and W016 (insecure cookies), and no
environment variable could switch them on.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The production environment the README documents for a site behind a TLS proxy.
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "music.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://music.example.org",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
}


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CROSSFADE_"))}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180)


def test_check_deploy_is_clean_under_the_documented_production_environment(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_them_check_deploy_names_each_setting(tmp_path):
    result = _manage(tmp_path, "check", "--deploy", DJANGO_DEBUG="0")
    found = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in found, warning
    assert "security.W009" not in found, "the generated key is strong"


def test_a_secret_key_is_generated_once_and_kept_private(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"

    def key() -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CROSSFADE_"))}
        environment.update(DJANGO_SETTINGS_MODULE="config.settings", CROSSFADE_DATA_DIR=str(tmp_path), DJANGO_DEBUG="0")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    first, second = key(), key()
    assert first == second and len(first) >= 50 and "django-insecure" not in first
    kept = tmp_path / "secret_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    given = _manage(tmp_path, "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", DJANGO_SECRET_KEY="k" * 60)
    assert given.stdout.strip() == "k" * 60
