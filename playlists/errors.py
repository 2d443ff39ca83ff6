"""Errors the catalogue and playlist services raise, with messages meant for users."""
from __future__ import annotations


class CrossfadeError(Exception):
    """Root of Crossfade's own errors outside :mod:`ml`."""


class SeedError(CrossfadeError):
    """The seeds of a playlist request are missing, unknown or too many."""


class IndexNotReadyError(CrossfadeError):
    """No index has been built yet, or a track is not in it."""


class ControlError(CrossfadeError):
    """A playlist control (length, diversity, a filter or attribute range) has a value it cannot take."""


class UploadError(SeedError):
    """An uploaded seed file is too large, of a type we do not take, or not decodable audio."""
