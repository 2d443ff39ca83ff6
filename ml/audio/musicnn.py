"""The musicnn audio tagger (Pons & Serra 2019) in PyTorch, loadable from the published checkpoints.

Architecture (from the paper, with sizes read off the checkpoint's variables):

* input: a patch of ``n_frames`` x 96 log-mel bands (16 kHz, 512-point FFT,
  hop 256, ``log10(1 + 10000·mel)``), batch-normalised as one channel;
* front end, musically motivated filters:
  timbral filters spanning 7 frames and 40 % / 70 % of the bands (38 and 67
  of 96; 204 maps each, the time axis zero-padded to keep its length) and
  temporal filters spanning 128, 64 and 32 frames on one band (51 maps each,
  "same" padding); each is ReLU, batch norm, then max over frequency.
  Together 561 features per frame;
* mid end: three 1-D convolutions over time (7 frames, 64 maps, ReLU,
  batch norm), the second and third with residual connections; the
  front-end features and the three outputs are concatenated densely (753);
* back end: max and mean over time (1506, interleaved per feature), batch norm, dense 200 (ReLU, batch
  norm: the *penultimate* features), dense to the 50 tags.

The ``musicnn`` package ships this network trained on two tag sets:
``MTT_musicnn`` (MagnaTagATune: instruments, moods, vocals; :data:`MTT_TAGS`)
and ``MSD_musicnn`` (the Million Song Dataset's last.fm tags, mostly genres
and eras; :data:`MSD_TAGS`). Both load into the same :class:`Musicnn`.

TensorFlow's batch-norm epsilon (0.001) is kept. No TensorFlow is needed:
:func:`musicnn_load` reads the checkpoint with :mod:`ml.audio.checkpoint`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml.audio.checkpoint import CheckpointError, checkpoint_read
from ml.audio.features import FrontEndConfig
from ml.audio.tags import MSD_TAGS, MTT_TAGS

#: The front end musicnn was trained with.
MUSICNN_FRONT_END = FrontEndConfig(
    sample_rate=16000, n_fft=512, hop_length=256, n_mels=96, compression="log10-c10000", float16_mel=True
)
#: Frames in one 3 s input patch (librosa.time_to_frames(3 s) + 1 at hop 256).
PATCH_FRAMES = 187

__all__ = ["MSD_TAGS", "MTT_TAGS", "MUSICNN_CHECKPOINTS", "MUSICNN_FRONT_END", "PATCH_FRAMES", "Musicnn", "MusicnnConfig", "musicnn_load"]

#: The checkpoints of the ``musicnn`` package that :func:`musicnn_load` reads, with their tag names.
MUSICNN_CHECKPOINTS: dict[str, tuple[str, ...]] = {"MTT_musicnn": MTT_TAGS, "MSD_musicnn": MSD_TAGS}

_BN_EPSILON = 1e-3


@dataclass(frozen=True)
class MusicnnConfig:
    """Sizes of a musicnn network; the defaults are the published MTT/MSD musicnn models."""

    n_mels: int = 96
    timbral_filters: int = 204
    temporal_filters: int = 51
    midend_filters: int = 64
    backend_units: int = 200
    n_tags: int = 50

    @property
    def frontend_features(self) -> int:
        return 2 * self.timbral_filters + 3 * self.temporal_filters

    @property
    def midend_features(self) -> int:
        return self.frontend_features + 3 * self.midend_filters


class _FrequencyMaxConv(nn.Module):
    """Conv over (time, frequency), ReLU, batch norm, then max over frequency: (B, 1, T, F) -> (B, C, T)."""

    def __init__(self, filters: int, kernel: tuple[int, int], time_padding: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel_size=kernel)
        self.norm = nn.BatchNorm2d(filters, eps=_BN_EPSILON)
        self.time_padding = time_padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (0, 0, *self.time_padding))
        if self.training:
            return self.norm(F.relu(self.conv(padded))).amax(dim=3)
        # ReLU and an eval-mode batch norm are monotonic per channel, so the
        # extreme over frequency can be taken first (the max where the norm's
        # scale is positive, the min where it is negative) and the two cheap
        # ops applied to (B, C, T) instead of the whole (B, C, T, F) map.
        # The min of a channel is minus the max of the channel convolved with
        # negated weights: one max over the map serves every channel (exact:
        # negation loses nothing), instead of a max and a min.
        running_var = self.norm.running_var
        assert running_var is not None, "the batch norm tracks running statistics"
        sign = torch.where(self.norm.weight / torch.sqrt(running_var + self.norm.eps) >= 0, 1.0, -1.0)
        weight, bias = self.conv.weight, self.conv.bias
        assert bias is not None, "the convolution has a bias"
        maps = F.conv2d(padded, weight * sign[:, None, None, None], bias * sign)
        extreme = maps.amax(dim=3) * sign[None, :, None]
        return self.norm(F.relu(extreme).unsqueeze(3)).squeeze(3)


class _TimeConv(nn.Module):
    """1-D convolution over time with "same" length, ReLU, batch norm: (B, C_in, T) -> (B, C_out, T)."""

    def __init__(self, channels_in: int, channels_out: int, width: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels_in, channels_out, kernel_size=width, padding=width // 2)
        self.norm = nn.BatchNorm1d(channels_out, eps=_BN_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(F.relu(self.conv(x)))


def _same_padding(width: int) -> tuple[int, int]:
    # TensorFlow's "same" puts the extra element of an even kernel after.
    before = (width - 1) // 2
    return before, width - 1 - before


class Musicnn(nn.Module):
    """musicnn: log-mel patches ``(B, T, n_mels)`` -> tag logits ``(B, n_tags)``.

    :meth:`features` returns the penultimate features ``(B, backend_units)``
    as well; any ``T`` of at least one frame works (the model pools over time).
    """

    def __init__(self, config: MusicnnConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or MusicnnConfig()
        self.input_norm = nn.BatchNorm2d(1, eps=_BN_EPSILON)
        narrow, wide = int(0.4 * config.n_mels), int(0.7 * config.n_mels)
        self.timbral = nn.ModuleList(
            [_FrequencyMaxConv(config.timbral_filters, (7, width), (3, 3)) for width in (narrow, wide)]
        )
        self.temporal = nn.ModuleList(
            [_FrequencyMaxConv(config.temporal_filters, (length, 1), _same_padding(length)) for length in (128, 64, 32)]
        )
        self.midend = nn.ModuleList(
            [
                _TimeConv(config.frontend_features, config.midend_filters),
                _TimeConv(config.midend_filters, config.midend_filters),
                _TimeConv(config.midend_filters, config.midend_filters),
            ]
        )
        self.pool_norm = nn.BatchNorm1d(2 * config.midend_features, eps=_BN_EPSILON)
        self.dense = nn.Linear(2 * config.midend_features, config.backend_units)
        self.dense_norm = nn.BatchNorm1d(config.backend_units, eps=_BN_EPSILON)
        self.dropout = nn.Dropout(0.5)
        self.classifier = nn.Linear(config.backend_units, config.n_tags)

    def front_features(self, patches: torch.Tensor) -> torch.Tensor:
        """The musically motivated front end per frame: ``(B, T, n_mels)`` -> ``(B, frontend_features, T)``."""
        x = self.input_norm(patches.unsqueeze(1))
        return torch.cat([block(x) for block in (*self.timbral, *self.temporal)], dim=1)

    def frame_features(self, patches: torch.Tensor) -> torch.Tensor:
        """Dense front- and mid-end features per frame: ``(B, T, n_mels)`` -> ``(B, midend_features, T)``."""
        return self.midend_features(self.front_features(patches))

    def midend_features(self, front: torch.Tensor) -> torch.Tensor:
        """Front-end features ``(B, frontend_features, T)`` -> dense front- and mid-end features ``(B, midend_features, T)``."""
        first = self.midend[0](front)
        second = self.midend[1](first) + first
        third = self.midend[2](second) + second
        return torch.cat([front, first, second, third], dim=1)

    def features(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Penultimate features ``(B, backend_units)`` and tag logits ``(B, n_tags)``."""
        return self.features_from_front(self.front_features(patches))

    def features_from_front(self, front: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Penultimate features and tag logits from front-end features ``(B, frontend_features, T)``
        (fine-tuning keeps the front end frozen and trains from here)."""
        frames = self.midend_features(front)
        # TF flattened (features, [max, mean]): the two statistics interleave per feature.
        pooled = torch.stack([frames.amax(dim=2), frames.mean(dim=2)], dim=2).flatten(1)
        hidden = self.dense_norm(F.relu(self.dense(self.dropout(self.pool_norm(pooled)))))
        return hidden, self.classifier(self.dropout(hidden))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.features(patches)[1]


def _batch_norm_names(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]


def _convolutions(model: Musicnn) -> list[nn.Conv1d | nn.Conv2d]:
    blocks = (*model.timbral, *model.temporal, *model.midend)
    return [block.conv for block in blocks if isinstance(block, (_FrequencyMaxConv, _TimeConv))]


def musicnn_state_from_checkpoint(variables: dict[str, np.ndarray], model: Musicnn) -> dict[str, torch.Tensor]:
    """Map TensorFlow variable names of a musicnn checkpoint onto ``model``'s state dict.

    TensorFlow names layers by creation order (``conv2d``, ``conv2d_1``, ...,
    ``batch_normalization_10``); the port creates them in the same order, so
    the n-th TF layer of a kind is the n-th module of that kind here.
    Kernels are HWIO in TF and OIHW in PyTorch.
    """
    state: dict[str, torch.Tensor] = {}
    names = {module: name for name, module in model.named_modules()}

    def take(key: str) -> np.ndarray:
        if key not in variables:
            raise CheckpointError(f"the checkpoint has no variable {key!r}: not a musicnn checkpoint")
        return variables[key]

    def tf_name(kind: str, index: int) -> str:
        return kind if index == 0 else f"{kind}_{index}"

    for index, conv in enumerate(_convolutions(model)):
        kernel = take(f"{tf_name('conv2d', index)}/kernel")  # (time, freq, in, out)
        prefix = names[conv]
        weight = np.transpose(kernel, (3, 2, 0, 1))  # (out, in, time, freq)
        if isinstance(conv, nn.Conv1d):
            # The mid end convolves (time, all features) with one input channel in TF.
            weight = np.transpose(kernel[:, :, 0, :], (2, 1, 0))  # (out, features, time)
        if tuple(weight.shape) != tuple(conv.weight.shape):
            raise CheckpointError(f"{tf_name('conv2d', index)}: kernel shape {kernel.shape} does not fit {tuple(conv.weight.shape)}")
        state[f"{prefix}.weight"] = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        state[f"{prefix}.bias"] = torch.from_numpy(take(f"{tf_name('conv2d', index)}/bias").astype(np.float32))
    for index, norm in enumerate(_batch_norm_names(model)):
        prefix, base = names[norm], tf_name("batch_normalization", index)
        for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")):
            value = take(f"{base}/{theirs}").astype(np.float32)
            if value.shape != tuple(getattr(norm, ours).shape):
                raise CheckpointError(f"{base}/{theirs}: shape {value.shape} does not fit {tuple(getattr(norm, ours).shape)}")
            state[f"{prefix}.{ours}"] = torch.from_numpy(value)
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
    for layer, base in ((model.dense, "dense"), (model.classifier, "dense_1")):
        kernel = take(f"{base}/kernel")
        if kernel.shape[::-1] != tuple(layer.weight.shape):
            raise CheckpointError(f"{base}/kernel: shape {kernel.shape} does not fit {tuple(layer.weight.shape)}")
        state[f"{names[layer]}.weight"] = torch.from_numpy(np.ascontiguousarray(kernel.T, dtype=np.float32))
        state[f"{names[layer]}.bias"] = torch.from_numpy(take(f"{base}/bias").astype(np.float32))
    return state


def musicnn_checkpoint_dir(name: str = "MTT_musicnn") -> Path:
    """Folder of a checkpoint shipped by the ``musicnn`` package (found without importing its TF code)."""
    from importlib.util import find_spec

    spec = find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError("the musicnn package is not installed: pip install --no-deps musicnn==0.1.0")
    folder = Path(list(spec.submodule_search_locations)[0]) / name
    if not (folder / ".index").is_file():
        raise CheckpointError(f"{folder}: the musicnn package has no {name} checkpoint")
    return folder


def musicnn_load(checkpoint_prefix: str | Path | None = None, *, checkpoint: str = "MTT_musicnn") -> Musicnn:
    """A published musicnn model (``checkpoint``: ``"MTT_musicnn"`` or ``"MSD_musicnn"``) in eval mode.

    ``checkpoint_prefix`` defaults to that checkpoint of the installed
    ``musicnn`` package (its files are ``<folder>/.index`` and
    ``<folder>/.data-00000-of-00001``, so the prefix is ``<folder>/``).
    """
    prefix = str(checkpoint_prefix) if checkpoint_prefix is not None else str(musicnn_checkpoint_dir(checkpoint)) + "/"
    model = Musicnn()
    model.load_state_dict(musicnn_state_from_checkpoint(checkpoint_read(prefix), model))
    return model.eval()

