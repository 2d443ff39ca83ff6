"""The exceptions ml raises, all under one root so callers can catch them."""
from __future__ import annotations


class MLError(Exception):
    """Root of every error raised on purpose by :mod:`ml`."""


class AudioDecodeError(MLError):
    """An audio file is missing, empty, truncated or not audio at all."""


class LyricsError(MLError):
    """Lyrics could not be read or decoded."""


class EmbedderError(MLError):
    """An embedder cannot be built or failed on its input."""


class VectorIndexError(MLError):
    """Base for problems with a stored or in-memory vector index."""


class IndexMismatchError(VectorIndexError):
    """A stored index does not match what the caller expects (dimension, models, format)."""


class IndexCorruptError(VectorIndexError):
    """A stored index folder is incomplete or its checksum does not match."""


class ReindexLockedError(MLError):
    """Another reindex holds the lock on the index folder."""
