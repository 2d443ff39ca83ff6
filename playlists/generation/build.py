"""Playlist generation: valid settings in, items with explanations out; nothing is saved here.

Two modes (see :mod:`playlists.generation.similar` and
:mod:`playlists.generation.path`). One serving snapshot answers the whole
request, and the result names its version.
"""
from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from playlists import engine
from playlists.engine import Serving
from playlists.generation.path import path_build
from playlists.generation.result import BuiltPlaylist
from playlists.generation.settings import PlaylistSettings
from playlists.generation.similar import similar_build


def playlist_build(settings: PlaylistSettings, *, user: User | AnonymousUser | None = None, serving: Serving | None = None) -> BuiltPlaylist:
    """Items for ``settings`` (already checked: they are :class:`PlaylistSettings`); ``user`` for the taste control.

    Raises :class:`~playlists.errors.IndexNotReadyError` before the first
    reindex, :class:`~playlists.errors.SeedError` for unknown seeds.
    """
    serving = serving or engine.serving_or_raise()
    if settings.path:
        return path_build(serving, settings)
    return similar_build(serving, settings, user=user)
