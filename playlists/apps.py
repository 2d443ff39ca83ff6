from django.apps import AppConfig


class PlaylistsConfig(AppConfig):
    name = "playlists"
    verbose_name = "Crossfade catalogue"
    default_auto_field = "django.db.models.BigAutoField"
