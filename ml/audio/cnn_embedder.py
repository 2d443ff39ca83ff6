"""Audio embedders built on a patch CNN: the pretrained musicnn and Crossfade's own trained CNN.

One analysis path for every CNN: decode the planned segments
(:mod:`ml.audio.segments`), the model's log-mel front end
(:func:`ml.audio.features.log_mel`), fixed-length patches, the network's
penultimate features per patch, then pooling over the track's patches.
"""
from __future__ import annotations

import logging
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


class CnnEmbedder:
    """A track becomes the pooled penultimate features of a patch CNN over its sampled segments.

    ``embed(paths)`` returns float32 ``(len(paths), 2·feature_dim)`` with
    L2-normalised rows; :meth:`embed_with_tags` also returns each track's mean
    tag probabilities when the model has tag names.
    """

    def __init__(
        self,
        model: PatchModel,
        *,
        name: str,
        version: str,
        front_end: FrontEndConfig,
        patch_frames: int,
        feature_dim: int,
        plan: SegmentPlan | None = None,
        tag_names: Sequence[str] = (),
        max_batch: int = 16,
    ) -> None:
        self.model = model.eval()
        self.name = name
        self.front_end = front_end
        self.patch_frames = patch_frames
        self.plan = plan or SegmentPlan()
        self.tag_names = tuple(tag_names)
        self.dim = 2 * feature_dim
        self.max_batch = max_batch
        sampling = "whole" if self.plan.count <= 0 else f"{self.plan.count}x{self.plan.seconds:g}s"
        self.version = f"{version}-{sampling}"

    def embed(self, items: Sequence[str]) -> np.ndarray:
        return self.embed_with_tags(items)[0]

    def embed_with_tags(self, items: Sequence[str]) -> tuple[np.ndarray, list[dict[str, float]]]:
        """Vectors ``(n, dim)`` and, per item, ``{tag: probability}`` (empty without tag names)."""
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

    def analyse_segments(self, segments: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Unit-length track vector ``(dim,)`` and mean tag probabilities ``(n_tags,)`` of decoded segments."""
        whole = self.plan.count <= 0
        patches = np.concatenate(
            [patches_cut(log_mel(samples, self.front_end).T, self.patch_frames, keep_partial=not whole) for samples in segments]
        )
        features, probabilities = self.patch_outputs(patches)
        return l2_normalise(features_pool(features)[None, :])[0], probabilities.mean(axis=0)

    def patch_outputs(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(P, feature_dim)`` and tag probabilities ``(P, n_tags)`` of patches ``(P, T, n_mels)``."""
        features, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(patches), self.max_batch):
                hidden, logits = self.model.features(torch.from_numpy(np.ascontiguousarray(patches[start : start + self.max_batch])))
                features.append(hidden.numpy())
                probabilities.append(torch.sigmoid(logits).numpy())
        return np.concatenate(features), np.concatenate(probabilities)

    def _tag_dict(self, probabilities: np.ndarray) -> dict[str, float]:
        if not self.tag_names:
            return {}
        return {tag: round(float(p), 4) for tag, p in zip(self.tag_names, probabilities)}


def musicnn_embedder_build(*, plan: SegmentPlan | None = None, checkpoint_prefix: str | Path | None = None) -> CnnEmbedder:
    """The pretrained MTT musicnn embedder ("musicnn-mtt"): 400-d vectors and 50 MagnaTagATune tags."""
    from ml.audio.musicnn import MTT_TAGS, MUSICNN_FRONT_END, PATCH_FRAMES, musicnn_load

    model = musicnn_load(checkpoint_prefix)
    return CnnEmbedder(
        model,
        name="musicnn-mtt",
        version="musicnn-mtt-v1",
        front_end=MUSICNN_FRONT_END,
        patch_frames=PATCH_FRAMES,
        feature_dim=model.config.backend_units,
        plan=plan,
        tag_names=MTT_TAGS,
    )
