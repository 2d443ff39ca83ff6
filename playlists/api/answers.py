"""Recommendations kept per serving index version: the same seeds and controls are asked for again and again.

What generation picks (track ids, scores, explanations, messages) is a
function of the serving index, the controls, the excluded tracks and, through
filters and duplicate checks, the catalogue's metadata. It is kept in the
``answers`` cache (settings.CACHES: local memory per web worker) under a key
made of the index version, every control, the excluded tracks and the user,
for at most :data:`RECOMMENDATIONS_SECONDS`: a reindex (a new version) or a
track excluded in the admin changes the key at once; other metadata edits
(a tempo from Spotify, a renamed artist) reach the picks within that time. The
tracks themselves are always read fresh, so titles, covers and links in an
answer are never stale. With the taste control on, the picks follow the
user's latest likes, so they are never kept.
"""
from __future__ import annotations

import hashlib

from django.contrib.auth.models import User
from django.core.cache import caches

from playlists import engine
from playlists.generation.build import playlist_build
from playlists.generation.result import BuiltPlaylist
from playlists.generation.settings import PlaylistSettings
from playlists.models import Track

#: The cache (an alias of settings.CACHES) the picks are kept in.
ANSWERS_CACHE = "answers"
#: How long picks are kept at most (a change of index version or of the excluded tracks replaces them at once).
RECOMMENDATIONS_SECONDS = 60


def recommendations_build(settings: PlaylistSettings, *, user: User) -> BuiltPlaylist:
    """:func:`playlist_build` for the API, its picks kept per index version (see the module's docstring).

    The answer's ``tracks`` is empty: callers read the tracks themselves (fresh). Raises what
    :func:`playlist_build` raises.
    """
    serving = engine.serving_or_raise()
    if settings.taste > 0:
        built = playlist_build(settings, user=user, serving=serving)
        built.tracks = {}
        return built
    excluded = tuple(Track.objects.filter(excluded=True).order_by("id").values_list("id", flat=True))
    identity = ("recommendations", serving.version, user.pk, repr(settings), excluded)
    key = "recommendations:" + hashlib.blake2b(repr(identity).encode(), digest_size=20).hexdigest()
    cache = caches[ANSWERS_CACHE]
    kept = cache.get(key)
    if isinstance(kept, BuiltPlaylist):
        return kept
    built = playlist_build(settings, user=user, serving=serving)
    built.tracks = {}
    cache.set(key, built, timeout=RECOMMENDATIONS_SECONDS)
    return built
