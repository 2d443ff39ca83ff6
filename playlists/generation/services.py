"""Writes of generation: a playlist made from settings and saved, or made again with its stored settings."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from playlists.generation.build import playlist_build
from playlists.generation.settings import PlaylistSettings
from playlists.models import Playlist, PlaylistItem


def playlist_generate(*, owner: User, settings: PlaylistSettings, name: str = "") -> Playlist:
    """Create and save a playlist from ``settings`` for ``owner``.

    Raises :class:`~playlists.errors.SeedError` for unknown seeds and
    :class:`~playlists.errors.IndexNotReadyError` before the first reindex.
    When the filters leave too few tracks the playlist is shorter and
    ``playlist.generation_messages`` says why.
    """
    return _playlist_save(owner=owner, settings=settings, name=name)


def _playlist_save(*, owner: User, settings: PlaylistSettings, name: str = "", playlist: Playlist | None = None) -> Playlist:
    built = playlist_build(settings, user=owner)
    with transaction.atomic():
        if playlist is None:
            playlist = Playlist(owner=owner)
        playlist.name = name.strip() or playlist.name or built.name
        playlist.length = settings.length
        playlist.balance = settings.balance
        playlist.settings = settings.to_json()
        playlist.index_version = built.index_version
        playlist.edited_at = None  # the items are generated again: no hand edits left
        playlist.save()
        playlist.seeds.set(list(settings.seed_ids) + list(settings.path))
        playlist.items.all().delete()
        PlaylistItem.objects.bulk_create(
            [
                PlaylistItem(playlist=playlist, track_id=item.track_id, position=position, score=item.score, is_seed=item.is_seed, explanation=item.explanation)
                for position, item in enumerate(built.items)
            ]
        )
    playlist.generation_messages = built.messages
    return playlist


def playlist_regenerate(playlist: Playlist, **changes: Any) -> Playlist:
    """Generate ``playlist`` again from its stored settings (optionally changed), keeping its name and id.

    Raises :class:`ControlError` / :class:`SeedError` when a change is out of range.
    """
    stored = dict(playlist.settings or {})
    if not stored:
        stored = {"seed_ids": list(playlist.seeds.values_list("id", flat=True)), "length": playlist.length, "balance": playlist.balance}
    stored.update(changes)
    settings = PlaylistSettings.from_json(stored)
    return _playlist_save(owner=playlist.owner, settings=settings, name=playlist.name, playlist=playlist)
