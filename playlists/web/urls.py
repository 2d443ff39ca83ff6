"""The site's pages (the JSON API is :mod:`playlists.api`, mounted at ``/api/``)."""
from django.urls import path

from playlists.web.views import catalogue, covers, editing, jobs, pictures, playlists, spotify, taste, tokens

app_name = "playlists"

urlpatterns = [
    # the catalogue
    path("", catalogue.catalogue, name="catalogue"),
    path("tracks/<int:track_id>/", catalogue.track_detail, name="track_detail"),
    path("tracks/<int:track_id>/audio", catalogue.track_audio, name="track_audio"),
    path("artists/<int:artist_id>/", catalogue.artist_detail, name="artist_detail"),
    path("albums/<int:album_id>/", catalogue.album_detail, name="album_detail"),
    path("search/themes/", catalogue.theme_search, name="theme_search"),
    path("tracks/<int:track_id>/cover", covers.track_cover, name="track_cover"),
    path("albums/<int:album_id>/cover", covers.album_cover, name="album_cover"),
    # playlists: make, list, show
    path("playlists/", playlists.playlist_list, name="playlist_list"),
    path("playlists/new/", playlists.playlist_new, name="playlist_new"),
    path("playlists/from-queue", playlists.playlist_from_queue, name="playlist_from_queue"),
    path("playlists/<int:playlist_id>/", playlists.playlist_detail, name="playlist_detail"),
    # keeping a playlist
    path("playlists/<int:playlist_id>/rename", editing.playlist_rename, name="playlist_rename"),
    path("playlists/<int:playlist_id>/reorder", editing.playlist_reorder, name="playlist_reorder"),
    path("playlists/<int:playlist_id>/items/<int:item_id>/move", editing.playlist_item_move, name="playlist_item_move"),
    path("playlists/<int:playlist_id>/items/<int:item_id>/remove", editing.playlist_item_remove, name="playlist_item_remove"),
    path("playlists/<int:playlist_id>/regenerate", editing.playlist_regenerate, name="playlist_regenerate"),
    path("playlists/<int:playlist_id>/delete", editing.playlist_delete, name="playlist_delete"),
    path("playlists/<int:playlist_id>/export.<str:fmt>", editing.playlist_download, name="playlist_download"),
    # Spotify
    path("playlists/<int:playlist_id>/spotify", spotify.playlist_spotify_save, name="playlist_spotify_save"),
    path("spotify/callback", spotify.spotify_callback, name="spotify_callback"),
    # taste
    path("tracks/<int:track_id>/rate", taste.track_rate, name="track_rate"),
    path("for-you/", taste.for_you, name="for_you"),
    # API tokens
    path("account/tokens/", tokens.api_tokens, name="api_tokens"),
    # background tasks
    path("tasks/", jobs.job_list, name="job_list"),
    path("tasks/reindex", jobs.reindex_start, name="reindex_start"),
    # pictures
    path("tracks/<int:track_id>/picture/<str:kind>.png", pictures.track_picture, name="track_picture"),
    path("map/", pictures.catalogue_map_page, name="catalogue_map"),
    path("evaluation/", pictures.evaluation_page, name="evaluation"),
    path("models/", pictures.models_page, name="models"),
]
