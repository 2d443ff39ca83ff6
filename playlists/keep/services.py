"""Keeping playlists: save the player's queue, rename, reorder, move or remove items, delete; playlists put together by hand in a player."""
from __future__ import annotations

from typing import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from playlists.errors import ControlError, SeedError
from playlists.models import Playlist, PlaylistItem, Track

#: The most tracks a playlist put together by hand may hold.
MAX_MANUAL_TRACKS = 5000
#: Tracks of a saved queue that become the playlist's seeds (what "Regenerate" starts from).
QUEUE_SEEDS = 5


def playlist_create_from_queue(*, owner: User, name: str, track_ids: Sequence[int]) -> Playlist:
    """A playlist of the player's queue (an instant mix, a list) in that order, repeats and unknown ids left out.

    Its first tracks are stored as its seeds, so it can be regenerated like
    a playlist made in the builder. Raises :class:`ControlError` when none of the ids is a track.
    """
    wanted = list(dict.fromkeys(int(i) for i in track_ids))
    known = set(Track.objects.filter(id__in=wanted).values_list("id", flat=True))
    ordered = [i for i in wanted if i in known]
    if not ordered:
        raise ControlError("none of those tracks is in the catalogue")
    with transaction.atomic():
        playlist = Playlist.objects.create(
            owner=owner, name=(name.strip() or "Saved queue")[:200], length=len(ordered),
            settings={"seed_ids": ordered[:QUEUE_SEEDS], "length": len(ordered), "order": "flow"},
        )
        playlist.seeds.set(ordered[:QUEUE_SEEDS])
        PlaylistItem.objects.bulk_create(
            [PlaylistItem(playlist=playlist, track_id=track_id, position=n, is_seed=n == 0, explanation={"queued": True, "why": "saved from your queue"}) for n, track_id in enumerate(ordered)]
        )
    return playlist


def playlist_rename(playlist: Playlist, *, name: str) -> Playlist:
    name = name.strip()
    if not name:
        raise ControlError("a playlist needs a name")
    if len(name) > 200:
        raise ControlError("a playlist name has at most 200 characters")
    playlist.name = name
    playlist.save(update_fields=["name", "updated_at"])
    return playlist


def playlist_reorder(playlist: Playlist, *, item_ids: Sequence[int]) -> Playlist:
    """Put the playlist's items in the order of ``item_ids`` (every item exactly once)."""
    current = list(playlist.items.order_by("position"))
    by_id = {item.id: item for item in current}
    wanted = [int(i) for i in item_ids]
    if sorted(wanted) != sorted(by_id):
        raise ControlError("a new order must list every item of the playlist exactly once")
    _positions_write(playlist, [by_id[i] for i in wanted])
    return playlist


def playlist_item_move(playlist: Playlist, *, item_id: int, offset: int) -> Playlist:
    """Move one item up (negative ``offset``) or down, clamped to the ends."""
    items = list(playlist.items.order_by("position"))
    index = next((n for n, item in enumerate(items) if item.id == int(item_id)), None)
    if index is None:
        raise ControlError(f"item {item_id} is not in this playlist")
    target = max(0, min(len(items) - 1, index + int(offset)))
    items.insert(target, items.pop(index))
    _positions_write(playlist, items)
    return playlist


def playlist_item_remove(playlist: Playlist, *, item_id: int) -> Playlist:
    removed, _ = playlist.items.filter(id=int(item_id)).delete()
    if not removed:
        raise ControlError(f"item {item_id} is not in this playlist")
    _positions_write(playlist, list(playlist.items.order_by("position")))
    return playlist


def _positions_write(playlist: Playlist, items: list[PlaylistItem]) -> None:
    # Positions are unique per playlist: move everything out of the way first.
    with transaction.atomic():
        offset = len(items) + max([i.position for i in items], default=0) + 1
        for item in items:
            item.position += offset
        PlaylistItem.objects.bulk_update(items, ["position"])
        for position, item in enumerate(items):
            item.position = position
        PlaylistItem.objects.bulk_update(items, ["position"])
        now = timezone.now()
        Playlist.objects.filter(id=playlist.id).update(updated_at=now, edited_at=now)
        playlist.edited_at = now


def playlist_delete(playlist: Playlist) -> None:
    playlist.delete()


def _tracks_checked(track_ids: Sequence[int]) -> list[int]:
    wanted = [int(t) for t in track_ids]
    found = set(Track.objects.filter(id__in=wanted).values_list("id", flat=True))
    missing = [t for t in wanted if t not in found]
    if missing:
        raise SeedError(f"no track with id {missing[0]}")
    return wanted


def playlist_create_from_tracks(*, owner: User, name: str, track_ids: Sequence[int]) -> Playlist:
    """A playlist of exactly these tracks, in this order (repeats allowed), made in a player rather than generated."""
    name = name.strip()
    if not name:
        raise ControlError("a playlist needs a name")
    wanted = _tracks_checked(track_ids)
    if len(wanted) > MAX_MANUAL_TRACKS:
        raise ControlError(f"a playlist holds at most {MAX_MANUAL_TRACKS} tracks")
    with transaction.atomic():
        playlist = Playlist.objects.create(owner=owner, name=name[:200], length=max(1, len(wanted)), settings={})
        PlaylistItem.objects.bulk_create([PlaylistItem(playlist=playlist, track_id=t, position=i) for i, t in enumerate(wanted)])
    return playlist


def playlist_tracks_replace(playlist: Playlist, *, track_ids: Sequence[int]) -> Playlist:
    """Make the playlist exactly these tracks, in this order."""
    wanted = _tracks_checked(track_ids)
    if len(wanted) > MAX_MANUAL_TRACKS:
        raise ControlError(f"a playlist holds at most {MAX_MANUAL_TRACKS} tracks")
    with transaction.atomic():
        Playlist.objects.select_for_update().filter(id=playlist.id).update(updated_at=timezone.now(), length=max(1, len(wanted)))
        playlist.items.all().delete()
        PlaylistItem.objects.bulk_create([PlaylistItem(playlist=playlist, track_id=t, position=i) for i, t in enumerate(wanted)])
    return playlist


def playlist_tracks_edit(playlist: Playlist, *, append: Sequence[int] = (), remove_positions: Sequence[int] = ()) -> Playlist:
    """Remove the items at ``remove_positions`` (0-based, as listed before this edit), then append ``append``."""
    wanted = _tracks_checked(append)
    with transaction.atomic():
        Playlist.objects.select_for_update().filter(id=playlist.id).update(updated_at=timezone.now())
        items = list(playlist.items.order_by("position"))
        gone = {int(p) for p in remove_positions}
        outside = sorted(p for p in gone if not 0 <= p < len(items))
        if outside:
            raise ControlError(f"the playlist has no item at position {outside[0]}")
        if len(items) - len(gone) + len(wanted) > MAX_MANUAL_TRACKS:
            raise ControlError(f"a playlist holds at most {MAX_MANUAL_TRACKS} tracks")
        kept = [item for position, item in enumerate(items) if position not in gone]
        PlaylistItem.objects.filter(id__in=[item.id for position, item in enumerate(items) if position in gone]).delete()
        if kept:
            _positions_write(playlist, kept)
        start = len(kept)
        PlaylistItem.objects.bulk_create([PlaylistItem(playlist=playlist, track_id=t, position=start + i) for i, t in enumerate(wanted)])
    return playlist


def playlist_comment_set(playlist: Playlist, *, comment: str) -> Playlist:
    if len(comment) > 2000:
        raise ControlError("a playlist comment has at most 2000 characters")
    playlist.comment = comment.strip()
    playlist.save(update_fields=["comment", "updated_at"])
    return playlist
