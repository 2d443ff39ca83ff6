"""Login throttling (django-axes): a user+address is locked out after a few wrong passwords, with a clear message.

The probe: 20 parallel wrong-password clients made every login take 16 s
(each attempt hashes a password) and the whole site 30 times slower. A locked
user+address is refused before any hashing, and other users and addresses
are not affected.
"""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

GOOD = "a-long-password-1"


@pytest.fixture
def ana():
    return get_user_model().objects.create_user("ana", password=GOOD)


def _login(client, username: str, password: str, address: str = "10.1.1.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_user_and_address_is_locked_after_five_failures_even_with_the_right_password(client, ana, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        wrong = _login(client, "ana", "not-it")
        assert wrong.status_code == 200 and "Please enter a correct username and password" in wrong.content.decode()
    locked = _login(client, "ana", "not-it")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed logins" in text and "locked for this address after 5 wrong passwords" in text and "0:15:00" in text
    refused = _login(client, "ana", GOOD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session


def test_the_lock_is_per_user_and_address(client, ana):
    get_user_model().objects.create_user("ben", password=GOOD)
    for _ in range(5):
        _login(client, "ana", "not-it")
    assert _login(client, "ana", GOOD).status_code == 429
    assert _login(client, "ana", GOOD, address="10.2.2.2").status_code == 302, "ana from elsewhere"
    client.logout()
    assert _login(client, "ben", GOOD).status_code == 302, "another user from the same address"


def test_a_success_before_the_limit_resets_the_count(client, ana):
    for _ in range(4):
        _login(client, "ana", "not-it")
    assert _login(client, "ana", GOOD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "ana", "not-it").status_code == 200
    assert _login(client, "ana", GOOD).status_code == 302


def test_the_admin_login_is_throttled_too(client, ana):
    ana.is_staff = True
    ana.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "ana", "password": "not-it"}, REMOTE_ADDR="10.1.1.1")
    assert client.post("/admin/login/", {"username": "ana", "password": GOOD}, REMOTE_ADDR="10.1.1.1").status_code == 429
