"""Crossfade's URL map: the site, its JSON API, the Subsonic API for players, accounts and the admin."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from playlists.admin.index_versions import index_versions
from playlists.api.app import api

urlpatterns = [
    path("admin/index-versions/", admin.site.admin_view(index_versions), name="admin_index_versions"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin); answer instead of a 404.
    path("favicon.ico", login_not_required(RedirectView.as_view(url=static("playlists/icon.svg"), permanent=True))),
    path("api/", api.urls),
    # The Subsonic API for music players (its own envelope and authentication; not part of the JSON API).
    path("rest/", include("playlists.subsonic.urls")),
    path("", include("playlists.web.urls")),
]
