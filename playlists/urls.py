from django.urls import path

from playlists import views

app_name = "playlists"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("tracks/<int:track_id>/", views.track_detail, name="track_detail"),
    path("tracks/<int:track_id>/audio", views.track_audio, name="track_audio"),
    path("playlists/", views.playlist_list, name="playlist_list"),
    path("playlists/new/", views.playlist_new, name="playlist_new"),
    path("playlists/<int:playlist_id>/", views.playlist_detail, name="playlist_detail"),
    path("api/tracks/<int:track_id>/similar", views.api_track_similar, name="api_track_similar"),
]
urlpatterns += [
    path("search/themes/", views.theme_search, name="theme_search"),
    path("api/search/lyrics", views.api_search_lyrics, name="api_search_lyrics"),
]
