from django.urls import path

from playlists import api, spotify_views, views, views_keep, views_site

app_name = "playlists"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("tracks/<int:track_id>/", views.track_detail, name="track_detail"),
    path("tracks/<int:track_id>/audio", views.track_audio, name="track_audio"),
    path("playlists/", views.playlist_list, name="playlist_list"),
    path("playlists/new/", views.playlist_new, name="playlist_new"),
    path("playlists/<int:playlist_id>/", views.playlist_detail, name="playlist_detail"),
    path("api/tracks/<int:track_id>/similar", views.api_track_similar, name="api_track_similar"),
    path("playlists/<int:playlist_id>/spotify", spotify_views.playlist_spotify_save, name="playlist_spotify_save"),
    path("spotify/callback", spotify_views.spotify_callback, name="spotify_callback"),
    # issue 6: keeping playlists, taste, tokens, recommendations API
    path("playlists/<int:playlist_id>/rename", views_keep.playlist_rename, name="playlist_rename"),
    path("playlists/<int:playlist_id>/reorder", views_keep.playlist_reorder, name="playlist_reorder"),
    path("playlists/<int:playlist_id>/items/<int:item_id>/move", views_keep.playlist_item_move, name="playlist_item_move"),
    path("playlists/<int:playlist_id>/items/<int:item_id>/remove", views_keep.playlist_item_remove, name="playlist_item_remove"),
    path("playlists/<int:playlist_id>/regenerate", views_keep.playlist_regenerate, name="playlist_regenerate"),
    path("playlists/<int:playlist_id>/delete", views_keep.playlist_delete, name="playlist_delete"),
    path("playlists/<int:playlist_id>/export.<str:fmt>", views_keep.playlist_download, name="playlist_download"),
    path("tracks/<int:track_id>/rate", views_keep.track_rate, name="track_rate"),
    path("for-you/", views_keep.for_you, name="for_you"),
    path("api/tokens/", views_keep.api_tokens, name="api_tokens"),
    path("api/recommendations", api.api_recommendations, name="api_recommendations"),
    path("api/openapi.json", api.api_openapi, name="api_openapi"),
    # issue 8: tasks, pictures, seed search
    path("tasks/", views_site.job_list, name="job_list"),
    path("tasks/<int:job_id>.json", views_site.job_status, name="job_status"),
    path("tasks/reindex", views_site.reindex_start, name="reindex_start"),
    path("tracks/<int:track_id>/picture/<str:kind>.png", views_site.track_picture, name="track_picture"),
    path("map/", views_site.catalogue_map_page, name="catalogue_map"),
    path("evaluation/", views_site.evaluation_page, name="evaluation"),
    path("models/", views_site.models_page, name="models"),
    path("api/tracks/search", views_site.api_track_search, name="api_track_search"),
]
urlpatterns += [
    path("search/themes/", views.theme_search, name="theme_search"),
    path("api/search/lyrics", views.api_search_lyrics, name="api_search_lyrics"),
]
