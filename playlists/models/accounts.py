"""Per-user credentials for clients of the JSON API and of the Subsonic API.

Models hold data only: no work in ``save()`` and no signals; side effects are explicit service calls.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A personal token for the JSON API (``Authorization: Bearer <token>``); only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class SubsonicPassword(models.Model):
    """A user's password for Subsonic players, separate from the site's (which stays hashed in Django's store).

    Subsonic's token authentication (``t = md5(password + salt)``) needs the
    password itself, so it is kept encrypted with a key derived from
    ``SECRET_KEY`` (:mod:`playlists.secrets`), never in plain text.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subsonic_password")
    secret = models.TextField(help_text="The password, encrypted (Fernet).")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Subsonic password of {self.user}"
