"""``/rest/<method>`` and ``/rest/<method>.view`` (mounted by config/urls.py)."""
from django.urls import path

from playlists.subsonic.views import subsonic

app_name = "subsonic"

urlpatterns = [path("<str:method>", subsonic, name="method")]
