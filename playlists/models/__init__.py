"""Crossfade's tables, split by domain and re-exported here so ``from playlists.models import Track`` keeps working.

The app label and the table names are those of the single ``playlists`` app.
"""
from playlists.models.accounts import ApiToken, SubsonicPassword
from playlists.models.catalogue import Album, Artist, CoverArt, Embedding, IngestFailure, Track, TrackQuerySet
from playlists.models.jobs import Job, ReindexBatch, ReindexPlan
from playlists.models.playlists import Playlist, PlaylistItem
from playlists.models.spotify import SpotifyAccount, SpotifyCacheEntry, SpotifyExport, SpotifyLookup
from playlists.models.taste import AlbumStar, ArtistStar, NowPlaying, Play, Rating
from playlists.models.training import FusionModel

__all__ = [
    "Album",
    "AlbumStar",
    "ApiToken",
    "Artist",
    "ArtistStar",
    "CoverArt",
    "Embedding",
    "FusionModel",
    "IngestFailure",
    "Job",
    "NowPlaying",
    "Play",
    "Playlist",
    "PlaylistItem",
    "Rating",
    "ReindexBatch",
    "ReindexPlan",
    "SpotifyAccount",
    "SpotifyCacheEntry",
    "SpotifyExport",
    "SpotifyLookup",
    "SubsonicPassword",
    "Track",
    "TrackQuerySet",
]
