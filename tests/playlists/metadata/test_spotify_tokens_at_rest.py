"""Spotify access and refresh tokens are encrypted at rest: a copy of the database holds no usable token.

The probe found them in plaintext in ``playlists_spotifyaccount``.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from playlists.models import SpotifyAccount
from playlists.models.fields import PREFIX

pytestmark = pytest.mark.django_db

ACCESS, REFRESH = "BQD-access-token-from-spotify-0123456789", "AQC-refresh-token-from-spotify-9876543210"


def _raw(account_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM playlists_spotifyaccount WHERE id = %s", [account_id])
        return cursor.fetchone()


@pytest.fixture
def account():
    user = get_user_model().objects.create_user("ana", password="a-long-password-1")
    return SpotifyAccount.objects.create(user=user, access_token=ACCESS, refresh_token=REFRESH, expires_at=timezone.now() + timedelta(hours=1))


def test_tokens_are_stored_encrypted_and_read_back_plain(account):
    access, refresh = _raw(account.id)
    assert access.startswith(PREFIX) and refresh.startswith(PREFIX)
    assert ACCESS not in access and REFRESH not in refresh and access != refresh
    again = SpotifyAccount.objects.get(id=account.id)
    assert (again.access_token, again.refresh_token) == (ACCESS, REFRESH)


def test_a_rotated_secret_key_still_reads_them_while_the_old_one_is_a_fallback(account, settings):
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-brand-new-secret-key-" + "x" * 40, [old]
    assert SpotifyAccount.objects.get(id=account.id).access_token == ACCESS
    settings.SECRET_KEY_FALLBACKS = []
    # Without the old key the token cannot be read: it reads as empty, so the user is asked to connect again.
    assert SpotifyAccount.objects.get(id=account.id).access_token == ""


def test_tokens_written_before_encryption_are_encrypted_by_the_migration(account):
    import importlib

    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("UPDATE playlists_spotifyaccount SET access_token = %s, refresh_token = %s WHERE id = %s", [ACCESS, REFRESH, account.id])
    assert SpotifyAccount.objects.get(id=account.id).access_token == ACCESS, "plaintext from before reads as it is"
    migration = importlib.import_module("playlists.migrations.0003_spotify_tokens_encrypted")
    migration._tokens_encrypt(apps, None)
    access, refresh = _raw(account.id)
    assert access.startswith(PREFIX) and ACCESS not in access and REFRESH not in refresh
    assert SpotifyAccount.objects.get(id=account.id).refresh_token == REFRESH
