"""Errors the catalogue and playlist services raise, with messages meant for users."""
from __future__ import annotations


class CrossfadeError(Exception):
    """Root of Crossfade's own errors outside :mod:`ml`."""


class SeedError(CrossfadeError):
    """The seeds of a playlist request are missing, unknown or too many."""


class UnknownSeedError(SeedError):
    """A seed names a track, artist or album the catalogue does not have."""


class IndexNotReadyError(CrossfadeError):
    """No index has been built yet, or a track is not in it."""


class KaggleSchemaError(CrossfadeError):
    """A CSV file is neither of the Kaggle Spotify schemas Crossfade reads; the message names the missing columns."""


class SpotifyError(CrossfadeError):
    """The Spotify Web API could not answer; the message says what to do."""


class SpotifyNotConfiguredError(SpotifyError):
    """SPOTIFY_CLIENT_ID (and for enrichment SPOTIFY_CLIENT_SECRET) are not set."""


class SpotifyAuthError(SpotifyError):
    """Spotify refused the credentials or the user's authorisation (401/403, bad grant)."""


class SpotifyRateLimitedError(SpotifyError):
    """Spotify asked us to wait longer than we are willing to (429 with a long Retry-After)."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SpotifyUnavailableError(SpotifyError):
    """Spotify is down, slow or unreachable, or answered something that is not its API (5xx, timeout, bad JSON)."""


class ControlError(CrossfadeError):
    """A playlist control (length, diversity, a filter or attribute range) has a value it cannot take."""


class UploadError(SeedError):
    """An uploaded seed file is too large, of a type we do not take, or not decodable audio."""
