"""Secrets encrypted at rest under SECRET_KEY (with fallbacks for rotation), and the Subsonic password kept with them."""
from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model

from playlists.accounts.subsonic import subsonic_password_check, subsonic_password_set, subsonic_token_check
from playlists.errors import ControlError
from playlists.models import SubsonicPassword
from playlists.secrets import SecretUnreadableError, secret_decrypt, secret_encrypt, secret_needs_rotation

pytestmark = pytest.mark.django_db


def test_a_secret_round_trips_and_is_not_stored_in_plain_text(settings):
    token = secret_encrypt("hunter2-пароль", purpose="test")
    assert "hunter2" not in token and secret_decrypt(token, purpose="test") == "hunter2-пароль"
    assert secret_encrypt("hunter2-пароль", purpose="test") != token  # a fresh IV every time
    with pytest.raises(SecretUnreadableError):
        secret_decrypt(token, purpose="another purpose")


def test_rotating_the_secret_key_keeps_secrets_readable_through_the_fallbacks(settings):
    token = secret_encrypt("s3cret", purpose="test")
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 40, [old_key]
    assert secret_decrypt(token, purpose="test") == "s3cret" and secret_needs_rotation(token, purpose="test")
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretUnreadableError, match="SECRET_KEY_FALLBACKS"):
        secret_decrypt(token, purpose="test")


def test_the_subsonic_password_is_encrypted_checked_in_constant_time_and_never_the_site_password(settings):
    user = get_user_model().objects.create_user("ana", password="the-site-password")
    with pytest.raises(ControlError, match="different"):
        subsonic_password_set(user=user, password="the-site-password")
    with pytest.raises(ControlError, match="8 to 128"):
        subsonic_password_set(user=user, password="short")
    subsonic_password_set(user=user, password="player-pass-1")
    stored = SubsonicPassword.objects.get(user=user).secret
    assert "player-pass-1" not in stored
    salt = "c19b2d"
    assert subsonic_token_check(user=user, token=hashlib.md5(f"player-pass-1{salt}".encode()).hexdigest(), salt=salt)
    assert not subsonic_token_check(user=user, token=hashlib.md5(f"the-site-password{salt}".encode()).hexdigest(), salt=salt)
    assert subsonic_password_check(user=user, password="player-pass-1") and not subsonic_password_check(user=user, password="the-site-password")
    # After a key rotation the password is re-encrypted under the new key the first time it is used.
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-" + "y" * 40, [old_key]
    assert subsonic_password_check(user=user, password="player-pass-1")
    settings.SECRET_KEY_FALLBACKS = []
    assert subsonic_password_check(user=user, password="player-pass-1")


def test_the_tokens_page_sets_and_removes_the_subsonic_password(client):
    user = get_user_model().objects.create_user("bo", password="a-long-password-1")
    client.force_login(user)
    page = client.get("/account/tokens/").content.decode()
    assert "none set yet" in page and "http://testserver" in page
    client.post("/account/tokens/", {"subsonic_password": "a-long-password-1"})
    assert not SubsonicPassword.objects.filter(user=user).exists()  # the site password is refused
    client.post("/account/tokens/", {"subsonic_password": "phone-pass-42"})
    assert subsonic_password_check(user=user, password="phone-pass-42")
    assert "phone-pass-42" not in client.get("/account/tokens/").content.decode()
    client.post("/account/tokens/", {"clear": "1"})
    assert not SubsonicPassword.objects.filter(user=user).exists()
