"""The VGG-like audio tagger shipped with musicnn (``MTT_vgg``, ``MSD_vgg``) in PyTorch.

Architecture (``musicnn.models.vgg`` with 128 filters, sizes checked against
the checkpoint's variables):

* input: a patch of 187 frames x 96 log-mel bands (musicnn's front end),
  batch-normalised as one channel;
* five blocks of a 3x3 convolution ("same" padding, 128 maps, ReLU), batch
  norm and max pooling: (4, 1) windows with stride (2, 2) after the first
  block, (2, 2) after the next three, (4, 4) after the last; a 187 x 96 patch
  ends as 2 x 1 positions x 128 maps;
* the 256 flattened ``pool5`` values (time-major, as TensorFlow's NHWC
  flatten orders them) are the model's *penultimate* features, and one
  dense layer maps them to the 50 tags.

Unlike musicnn the network does not pool over time, so it only takes patches
of exactly :data:`ml.audio.musicnn.PATCH_FRAMES` frames. TensorFlow's
batch-norm epsilon (0.001) is kept; dropout is a no-op in inference.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml.audio.checkpoint import CheckpointError, checkpoint_read
from ml.audio.musicnn import PATCH_FRAMES, musicnn_checkpoint_dir

_BN_EPSILON = 1e-3
#: (time, frequency) pooling window and stride after each convolution block.
_POOLS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((4, 1), (2, 2)),
    ((2, 2), (2, 2)),
    ((2, 2), (2, 2)),
    ((2, 2), (2, 2)),
    ((4, 4), (4, 4)),
)


@dataclass(frozen=True)
class VggConfig:
    """Sizes of the VGG tagger; the defaults are the published MTT/MSD vgg models."""

    n_mels: int = 96
    patch_frames: int = PATCH_FRAMES
    filters: int = 128
    n_tags: int = 50

    def pooled_shape(self) -> tuple[int, int]:
        """(time, frequency) positions left after the five pooling layers."""
        time, frequency = self.patch_frames, self.n_mels
        for (window_t, window_f), (stride_t, stride_f) in _POOLS:
            time = (time - window_t) // stride_t + 1
            frequency = (frequency - window_f) // stride_f + 1
        return time, frequency

    @property
    def feature_dim(self) -> int:
        time, frequency = self.pooled_shape()
        return time * frequency * self.filters


class Vgg(nn.Module):
    """VGG tagger: log-mel patches ``(B, 187, n_mels)`` -> tag logits ``(B, n_tags)``.

    :meth:`features` also returns the flattened ``pool5`` features ``(B, feature_dim)``.
    """

    def __init__(self, config: VggConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or VggConfig()
        self.input_norm = nn.BatchNorm2d(1, eps=_BN_EPSILON)
        self.convs = nn.ModuleList([nn.Conv2d(1 if i == 0 else config.filters, config.filters, kernel_size=3, padding=1) for i in range(len(_POOLS))])
        self.norms = nn.ModuleList([nn.BatchNorm2d(config.filters, eps=_BN_EPSILON) for _ in _POOLS])
        self.classifier = nn.Linear(config.feature_dim, config.n_tags)

    def features(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flattened pool5 features ``(B, feature_dim)`` and tag logits ``(B, n_tags)`` of ``(B, T, n_mels)`` patches."""
        if patches.shape[1] != self.config.patch_frames:
            raise ValueError(f"the vgg tagger takes patches of {self.config.patch_frames} frames, not {patches.shape[1]}")
        x = self.input_norm(patches.unsqueeze(1))  # (B, 1, T, F)
        for conv, norm, (window, stride) in zip(self.convs, self.norms, _POOLS):
            x = F.max_pool2d(norm(F.relu(conv(x))), kernel_size=window, stride=stride)
        # TensorFlow flattens NHWC: (time, frequency, channel) order.
        flat = x.permute(0, 2, 3, 1).flatten(1)
        return flat, self.classifier(flat)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.features(patches)[1]


def vgg_state_from_checkpoint(variables: dict[str, np.ndarray], model: Vgg) -> dict[str, torch.Tensor]:
    """Map the TensorFlow variables of a musicnn vgg checkpoint onto ``model``'s state dict.

    Convolutions are named ``1CNN`` ... ``5CNN`` (HWIO kernels), batch norms
    ``batch_normalization`` (the input's) to ``batch_normalization_5`` in
    creation order, the classifier ``dense``.
    """

    def take(key: str, shape: tuple[int, ...]) -> torch.Tensor:
        if key not in variables:
            raise CheckpointError(f"the checkpoint has no variable {key!r}: not a musicnn vgg checkpoint")
        value = variables[key]
        if tuple(value.shape) != shape:
            raise CheckpointError(f"{key}: shape {tuple(value.shape)} does not fit {shape}")
        return torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))

    state: dict[str, torch.Tensor] = {}
    for index, conv in enumerate(model.convs):
        assert isinstance(conv, nn.Conv2d)
        out_c, in_c, kh, kw = conv.weight.shape
        kernel = take(f"{index + 1}CNN/kernel", (kh, kw, in_c, out_c))
        state[f"convs.{index}.weight"] = kernel.permute(3, 2, 0, 1).contiguous()
        state[f"convs.{index}.bias"] = take(f"{index + 1}CNN/bias", (out_c,))
    norms: list[tuple[str, nn.Module]] = [("input_norm", model.input_norm), *((f"norms.{i}", n) for i, n in enumerate(model.norms))]
    for index, (prefix, norm) in enumerate(norms):
        assert isinstance(norm, nn.BatchNorm2d)
        base = "batch_normalization" if index == 0 else f"batch_normalization_{index}"
        size = (norm.num_features,)
        for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")):
            state[f"{prefix}.{ours}"] = take(f"{base}/{theirs}", size)
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
    features, tags = model.classifier.in_features, model.classifier.out_features
    state["classifier.weight"] = take("dense/kernel", (features, tags)).T.contiguous()
    state["classifier.bias"] = take("dense/bias", (tags,))
    return state


def vgg_load(checkpoint: str = "MTT_vgg", *, checkpoint_prefix: str | Path | None = None) -> Vgg:
    """A published vgg tagger (``"MTT_vgg"`` or ``"MSD_vgg"`` of the ``musicnn`` package) in eval mode."""
    prefix = str(checkpoint_prefix) if checkpoint_prefix is not None else str(musicnn_checkpoint_dir(checkpoint)) + "/"
    model = Vgg()
    model.load_state_dict(vgg_state_from_checkpoint(checkpoint_read(prefix), model))
    return model.eval()
