"""Save to Spotify: a playlist created private on the owner's account and filled, 100 tracks per request."""
from __future__ import annotations

import logging

from django.utils import timezone

from playlists.errors import SpotifyAuthError, SpotifyError, SpotifyUnavailableError
from playlists.metadata.spotify.client import MAX_ITEMS_PER_REQUEST
from playlists.metadata.spotify.connect import user_api
from playlists.metadata.spotify.enrich import lookup_apply, track_spotify_lookup
from playlists.metadata.spotify.source import SpotifySource
from playlists.models import Playlist, SpotifyAccount, SpotifyExport

logger = logging.getLogger(__name__)


def playlist_spotify_export_create(*, playlist: Playlist) -> SpotifyExport:
    return SpotifyExport.objects.create(playlist=playlist)


def playlist_spotify_export(export_id: int) -> SpotifyExport:
    """Create the playlist on the owner's Spotify account and add its tracks, 100 per request.

    Tracks without a Spotify id are looked up first (and keep the id they
    get); those Spotify does not have are listed in ``skipped``. The outcome,
    failure included, is stored on the :class:`SpotifyExport` row.
    """
    export = SpotifyExport.objects.select_related("playlist__owner").get(id=export_id)
    export.status = SpotifyExport.Status.RUNNING
    export.save(update_fields=["status"])
    uris: list[str] = []
    try:
        account = SpotifyAccount.objects.filter(user=export.playlist.owner).first()
        if account is None:
            raise SpotifyAuthError("connect your Spotify account first")
        api = user_api(account)
        skipped: list[str] = []
        for item in export.playlist.items.select_related("track__artist").order_by("position"):
            track = item.track
            if not track.spotify_id:
                lookup_apply(track, track_spotify_lookup(SpotifySource(api), track))
            if track.spotify_id:
                uris.append(f"spotify:track:{track.spotify_id}")
            else:
                skipped.append(str(track))
        export.skipped = skipped
        if not uris:
            raise SpotifyError(f"none of the {len(skipped)} tracks was found on Spotify, so no playlist was created")
        created = api.playlist_create(export.playlist.name, description=f"Made with Crossfade from {export.playlist.items.count()} tracks.")
        export.spotify_playlist_id = str(created.get("id", ""))
        export.spotify_url = str((created.get("external_urls") or {}).get("spotify", ""))[:500]
        export.save(update_fields=["spotify_playlist_id", "spotify_url", "skipped"])
        if not export.spotify_playlist_id:
            raise SpotifyUnavailableError("Spotify created the playlist but did not say its id")
        for start in range(0, len(uris), MAX_ITEMS_PER_REQUEST):
            batch = uris[start : start + MAX_ITEMS_PER_REQUEST]
            api.playlist_items_add(export.spotify_playlist_id, batch)
            export.added += len(batch)
            export.save(update_fields=["added"])
        export.status = SpotifyExport.Status.PARTIAL if skipped else SpotifyExport.Status.DONE
    except SpotifyError as error:
        export.status = SpotifyExport.Status.FAILED
        export.error = str(error)
        if export.spotify_playlist_id:
            export.error += f" ({export.added} of {len(uris)} tracks were added to the playlist on Spotify)"
    except Exception as error:  # noqa: BLE001 - the row must not stay "saving" forever
        logger.exception("Save to Spotify %s failed", export.id)
        export.status = SpotifyExport.Status.FAILED
        export.error = f"unexpected error ({type(error).__name__}); the operator can see it in the log"
    export.finished_at = timezone.now()
    export.save()
    return export
