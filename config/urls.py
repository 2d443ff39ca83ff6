"""Crossfade's URL map: the site, its JSON API, accounts and the admin."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from playlists.admin_views import index_versions

urlpatterns = [
    path("admin/index-versions/", admin.site.admin_view(index_versions), name="admin_index_versions"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("playlists.urls")),
]
