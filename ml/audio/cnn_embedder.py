"""Audio embedders built on a patch CNN: the pretrained musicnn and Crossfade's own trained CNN.

One analysis path for every CNN: decode the planned segments
(:mod:`ml.audio.segments`), the model's log-mel front end
(:func:`ml.audio.features.log_mel`), fixed-length patches, each network's
penultimate features per patch, then pooling over the track's patches.
The pretrained taggers are built by :mod:`ml.audio.taggers`, trained and
fine-tuned networks by :mod:`ml.audio.train`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch

from ml.audio.features import FrontEndConfig, log_mel
from ml.audio.segments import SegmentPlan, segments_load
from ml.embedder import l2_normalise
from ml.errors import EmbedderError

logger = logging.getLogger(__name__)


class PatchModel(Protocol):
    """A network mapping log-mel patches ``(B, T, n_mels)`` to (features ``(B, D)``, logits ``(B, K)``).

    :class:`ml.audio.musicnn.Musicnn` is one; ``eval()`` switches it to inference mode and returns it.
    """

    def eval(self) -> PatchModel: ...

    def features(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


def patches_cut(spectrogram: np.ndarray, frames: int, *, keep_partial: bool = False) -> np.ndarray:
    """Non-overlapping patches of a ``(n_frames, n_mels)`` spectrogram: float32 ``(n_patches, frames, n_mels)``.

    A spectrogram shorter than one patch is repeated until it fills one (the
    "repeat-pad" musicnn was trained with); a trailing partial patch is
    dropped unless ``keep_partial`` (then it is repeat-padded too).
    """
    total = spectrogram.shape[0]
    if total == 0:
        raise EmbedderError("no frames to analyse")
    if total < frames:
        reps = -(-frames // total)
        return np.tile(spectrogram, (reps, 1))[None, :frames].astype(np.float32)
    count = total // frames
    patches = [spectrogram[i * frames : (i + 1) * frames] for i in range(count)]
    rest = total - count * frames
    if keep_partial and rest >= frames // 4:
        tail = spectrogram[count * frames :]
        patches.append(np.tile(tail, (-(-frames // rest), 1))[:frames])
    return np.stack(patches).astype(np.float32)


def features_pool(features: np.ndarray) -> np.ndarray:
    """Track vector from per-patch features ``(n_patches, D)``: mean and max, float32 ``(2·D,)``."""
    return np.concatenate([features.mean(axis=0), features.max(axis=0)]).astype(np.float32)


@dataclass(frozen=True)
class TaggerHead:
    """One network of a :class:`CnnEmbedder`: its penultimate size and, for a tagger, its tag names and vocabulary.

    A track's tags from this head are keyed ``"<vocabulary>:<tag>"`` (``"mtt:piano"``);
    a head without tag names gives none.
    """

    model: PatchModel
    feature_dim: int
    tag_names: tuple[str, ...] = ()
    vocabulary: str = ""

    def tag_keys(self) -> tuple[str, ...]:
        return tuple(f"{self.vocabulary}:{tag}" if self.vocabulary else tag for tag in self.tag_names)


class CnnEmbedder:
    """A track becomes the pooled penultimate features of one or more patch CNNs over its sampled segments.

    Every head sees the same log-mel patches (decoded and computed once). The
    vector is each head's mean+max pooled features (``2·feature_dim``), each
    block scaled to unit length and the whole to unit length, side by side:
    ``embed(paths)`` returns float32 ``(len(paths), dim)`` with
    ``dim = sum(2·feature_dim)``. :meth:`embed_with_tags` also returns each
    track's mean tag probabilities keyed ``"<vocabulary>:<tag>"``; heads
    sharing a vocabulary are averaged.
    """

    def __init__(
        self,
        heads: Sequence[TaggerHead],
        *,
        name: str,
        version: str,
        front_end: FrontEndConfig,
        patch_frames: int,
        plan: SegmentPlan | None = None,
        max_batch: int = 16,
    ) -> None:
        if not heads:
            raise EmbedderError("a CNN embedder needs at least one network")
        self.heads = tuple(TaggerHead(h.model.eval(), h.feature_dim, tuple(h.tag_names), h.vocabulary) for h in heads)
        self.name = name
        self.front_end = front_end
        self.patch_frames = patch_frames
        self.plan = plan or SegmentPlan()
        self.dim = sum(2 * head.feature_dim for head in self.heads)
        self.max_batch = max_batch
        self.tag_keys: tuple[str, ...] = tuple(dict.fromkeys(key for head in self.heads for key in head.tag_keys()))
        self.version = f"{version}-{self.plan.describe()}"

    @property
    def model(self) -> PatchModel:
        """The first head's network (the only one of a single-model embedder)."""
        return self.heads[0].model

    def embed(self, items: Sequence[str]) -> np.ndarray:
        return self.embed_with_tags(items)[0]

    def embed_with_tags(self, items: Sequence[str]) -> tuple[np.ndarray, list[dict[str, float]]]:
        """Vectors ``(n, dim)`` and, per item, ``{"<vocabulary>:<tag>": probability}`` (empty without tag names)."""
        from threadpoolctl import threadpool_limits

        vectors = np.zeros((len(items), self.dim), dtype=np.float32)
        tags: list[dict[str, float]] = []
        # NumPy's threaded OpenBLAS spins against torch's OpenMP threads: the
        # small mel projection took 25 ms with 2 BLAS threads, 0.1 ms with one.
        with threadpool_limits(limits=1, user_api="blas"):
            for row, path in enumerate(items):
                vectors[row], probabilities = self.analyse_segments(
                    segments_load(Path(path), sample_rate=self.front_end.sample_rate, plan=self.plan)
                )
                tags.append(self._tag_dict(probabilities))
        return vectors, tags

    def patches(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """Log-mel patches ``(P, patch_frames, n_mels)`` of decoded segments (float32 ``(n_samples,)`` each)."""
        whole = self.plan.count <= 0
        return np.concatenate(
            [patches_cut(log_mel(samples, self.front_end).T, self.patch_frames, keep_partial=not whole) for samples in segments]
        )

    def analyse_segments(self, segments: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Unit-length track vector ``(dim,)`` and each head's mean tag probabilities ``(n_tags,)`` of decoded segments."""
        return self.analyse_patches(self.patches(segments))

    def analyse_patches(self, patches: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Track vector ``(dim,)`` and per-head mean tag probabilities from patches ``(P, T, n_mels)``."""
        blocks, probabilities = [], []
        for head in self.heads:
            features, head_probabilities = self.patch_outputs(patches, head.model)
            blocks.append(l2_normalise(features_pool(features)[None, :])[0])
            probabilities.append(head_probabilities.mean(axis=0))
        return l2_normalise(np.concatenate(blocks)[None, :])[0], probabilities

    def patch_outputs(self, patches: np.ndarray, model: PatchModel | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(P, feature_dim)`` and tag probabilities ``(P, n_tags)`` of patches ``(P, T, n_mels)`` (first head by default)."""
        model = model if model is not None else self.model
        features, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(patches), self.max_batch):
                hidden, logits = model.features(torch.from_numpy(np.ascontiguousarray(patches[start : start + self.max_batch])))
                features.append(hidden.numpy())
                probabilities.append(torch.sigmoid(logits).numpy())
        return np.concatenate(features), np.concatenate(probabilities)

    def _tag_dict(self, probabilities: Sequence[np.ndarray]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for head, head_probabilities in zip(self.heads, probabilities):
            for key, p in zip(head.tag_keys(), head_probabilities):
                sums.setdefault(key, []).append(float(p))
        return {key: round(sum(values) / len(values), 4) for key, values in sums.items()}
