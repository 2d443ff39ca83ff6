"""Learned fusion: one projection per modality into a shared space, trained on the catalogue's own signals.

The weighted baseline scores a pair with per-modality cosines of whitened
vectors. Learned fusion keeps that score (so the per-request ``balance``
keeps its exact meaning and missing modalities are handled the same way) but
first maps each modality's whitened vector through a learned linear
projection ``P_m`` (``(dim_m, d)``) into one ``d``-dimensional space:

    z_m(x) = l2(whitened_m(x) @ P_m)
    score(x, y) = sum_m w_m cos(z_m(x), z_m(y)) [both have m] / sum_m w_m [both have m]

Training signal (never Spotify or Kaggle fields): two tracks by *different*
artists are a positive pair when they share a genre tag from their files, an
album, a user's playlist (co-membership) or one user's likes (nearby in
time). The loss is a multi-positive
contrastive loss (supervised InfoNCE, Khosla et al. 2020) over the hybrid
score above at the configured balance, with temperature ``temperature``.
Same-artist pairs are left out of the loss, as they are left out of the
evaluation (the artist filter).

Selection: artists are split (seeded) into training and held-out artists;
the projection is trained on the training artists' tracks only and both the
weighted baseline and the learned fusion are scored on the held-out artists
(artist-filtered p@k, genre as the label). The learned model becomes the
default only when its p@k is strictly higher (:func:`fusion_select`).

Files: ``<folder>/model.safetensors`` (one float32 tensor ``projection.<m>``
per modality) and ``<folder>/config.json`` (version, dims, training config,
both numbers and the decision).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ml.embedder import l2_normalise
from ml.errors import MLError
from ml.metrics import neighbour_precision
from ml.progress import Progress
from ml.scoring import balance_weights, pair_scores

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_WEIGHTS_FILE = "model.safetensors"
_CONFIG_FILE = "config.json"


class FusionError(MLError):
    """Learned fusion cannot be trained, loaded or applied as asked."""


@dataclass(frozen=True)
class FusionTrainConfig:
    """How the projection is trained and judged.

    ``dim``: shared space size (capped at the smallest modality dimension);
    ``held_out``: share of artists kept out of training for the decision;
    ``k``: the p@k that decides; ``balance``: audio share of the hybrid score
    trained and evaluated (the site's default balance).
    """

    dim: int = 64
    epochs: int = 300
    learning_rate: float = 0.01
    weight_decay: float = 1e-4
    temperature: float = 0.3
    batch_size: int = 1024
    held_out: float = 0.3
    k: int = 5
    balance: float = 0.5
    seed: int = 0


@dataclass
class FusionModel:
    """Per-modality projections ``projections[m]`` float32 ``(dim_m, dim)`` and their record."""

    version: str
    projections: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(next(iter(self.projections.values())).shape[1])

    def apply(self, modality: str, whitened: np.ndarray) -> np.ndarray:
        """Project whitened unit vectors float32 ``(n, dim_m)`` -> unit vectors ``(n, dim)``."""
        if modality not in self.projections:
            raise FusionError(f"fusion model {self.version} has no {modality} projection")
        projection = self.projections[modality]
        whitened = np.asarray(whitened, dtype=np.float32)
        if whitened.ndim != 2 or whitened.shape[1] != projection.shape[0]:
            raise FusionError(
                f"fusion model {self.version} expects {modality} vectors of dimension {projection.shape[0]}, got {whitened.shape}"
            )
        return l2_normalise(whitened @ projection)

    def save(self, folder: Path) -> Path:
        """Write ``model.safetensors`` + ``config.json`` into ``folder`` (created)."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({f"projection.{m}": np.ascontiguousarray(p, dtype=np.float32) for m, p in self.projections.items()}, str(folder / _WEIGHTS_FILE))
        config = {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "dim": self.dim,
            "modalities": {m: int(p.shape[0]) for m, p in self.projections.items()},
            **self.info,
        }
        (folder / _CONFIG_FILE).write_text(json.dumps(config, indent=2))
        return folder

    @classmethod
    def load(cls, folder: Path) -> "FusionModel":
        """Read a folder written by :meth:`save`; raises :class:`FusionError` when unusable."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(folder)
        try:
            config = json.loads((folder / _CONFIG_FILE).read_text())
            tensors = load_file(str(folder / _WEIGHTS_FILE))
        except (OSError, ValueError, SafetensorError) as error:
            raise FusionError(f"{folder}: not a readable fusion model ({error})") from None
        if config.get("format_version") != FORMAT_VERSION:
            raise FusionError(f"{folder}: fusion model format {config.get('format_version')} is not {FORMAT_VERSION}; retrain it")
        projections = {name.split(".", 1)[1]: tensor.astype(np.float32) for name, tensor in tensors.items() if name.startswith("projection.")}
        expected = config.get("modalities", {})
        if set(projections) != set(expected) or any(projections[m].shape[0] != expected[m] for m in expected):
            raise FusionError(f"{folder}: weights do not match config.json ({ {m: p.shape for m, p in projections.items()} })")
        info = {k: v for k, v in config.items() if k not in ("format_version", "version", "dim", "modalities")}
        return cls(str(config["version"]), projections, info)


# -- training ------------------------------------------------------------------
@dataclass(frozen=True)
class FusionData:
    """Training material for one catalogue.

    ``vectors[m] = (whitened unit vectors float32 (n, dim_m), present bool (n,))``
    aligned with ``labels`` (primary genre, "" when untagged), ``groups``
    (artist) and ``positives``: a list of int64 ``(n,)`` arrays, one per
    signal (genre tag, album ...), where two tracks with the same
    non-negative value are a positive pair; ``pairs`` int64 ``(p, 2)`` row
    indices of further positive pairs (two seeds of one user playlist, two likes of one user).
    """

    vectors: Mapping[str, tuple[np.ndarray, np.ndarray]]
    labels: Sequence[str]
    groups: Sequence[str]
    positives: Sequence[np.ndarray]
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))

    def __post_init__(self) -> None:
        n = len(self.labels)
        if len(self.groups) != n or any(len(p) != n for p in self.positives) or any(v.shape[0] != n or m.shape[0] != n for v, m in self.vectors.values()):
            raise FusionError("fusion training data: vectors, labels, groups and signals must have one row per track")
        if not self.vectors:
            raise FusionError("fusion training data has no modality")


def codes(values: Sequence[str]) -> np.ndarray:
    """int64 ``(n,)`` code per distinct non-empty string; ``-1`` for empty."""
    mapping: dict[str, int] = {}
    return np.asarray([mapping.setdefault(v, len(mapping)) if v else -1 for v in values], dtype=np.int64)


def artist_split(groups: Sequence[str], *, held_out: float, seed: int) -> np.ndarray:
    """bool ``(n,)``: True for tracks of the held-out artists (a seeded share, at least one artist each side)."""
    artists = sorted(set(groups))
    if len(artists) < 2:
        raise FusionError(f"learned fusion needs tracks by at least 2 artists to hold some out; the catalogue has {len(artists)}")
    order = np.random.default_rng(seed).permutation(len(artists))
    count = min(len(artists) - 1, max(1, round(held_out * len(artists))))
    test = {artists[i] for i in order[:count]}
    return np.asarray([g in test for g in groups], dtype=bool)


def _positive_matrix(positives: Sequence[np.ndarray], groups: np.ndarray, rows: np.ndarray, pairs: np.ndarray | None = None) -> np.ndarray:
    """bool ``(r, r)`` positive pairs among ``rows`` (different artists, sharing a signal)."""
    result = np.zeros((rows.size, rows.size), dtype=bool)
    for signal in positives:
        values = signal[rows]
        result |= (values[:, None] == values[None, :]) & (values[:, None] >= 0)
    if pairs is not None and len(pairs):
        position = np.full(groups.size, -1, np.int64)
        position[rows] = np.arange(rows.size)
        a, b = position[pairs[:, 0]], position[pairs[:, 1]]
        keep = (a >= 0) & (b >= 0)
        result[a[keep], b[keep]] = True
        result[b[keep], a[keep]] = True
    group = groups[rows]
    result &= group[:, None] != group[None, :]
    return result


def _pca_init(vectors: Mapping[str, tuple[np.ndarray, np.ndarray]], dim: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Start each projection at the top-``dim`` principal directions (the baseline, truncated)."""
    init: dict[str, np.ndarray] = {}
    for modality, (x, present) in vectors.items():
        rows = x[present]
        if rows.shape[0] >= 2:
            _, _, vt = np.linalg.svd(rows - rows.mean(axis=0), full_matrices=False)
            basis = vt[:dim].T
        else:
            basis = np.zeros((x.shape[1], 0))
        if basis.shape[1] < dim:
            extra = np.linalg.qr(rng.standard_normal((x.shape[1], dim)))[0][:, : dim - basis.shape[1]]
            basis = np.concatenate([basis, extra], axis=1)
        init[modality] = basis.astype(np.float32)
    return init


def fusion_train(
    data: FusionData,
    train_rows: np.ndarray,
    config: FusionTrainConfig = FusionTrainConfig(),
    *,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Learn ``{m: projection float32 (dim_m, d)}`` on the tracks ``train_rows`` (int64 indices).

    Raises :class:`FusionError` when the rows hold no positive pair to learn from.
    """
    import torch

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    groups = np.asarray(data.groups, dtype=object)
    dim = min(config.dim, *(v.shape[1] for v, _ in data.vectors.values()))
    modalities = list(data.vectors)
    weights = {"audio": config.balance, "lyrics": 1.0 - config.balance}
    init = _pca_init({m: (v[train_rows], p[train_rows]) for m, (v, p) in data.vectors.items()}, dim, rng)
    parameters = {m: torch.nn.Parameter(torch.from_numpy(init[m].copy())) for m in modalities}
    optimiser = torch.optim.Adam(parameters.values(), lr=config.learning_rate, weight_decay=config.weight_decay)
    if not _positive_matrix(data.positives, groups, train_rows, data.pairs).any():
        raise FusionError("no positive pairs among the training tracks: tag genres, fill albums or build playlists across artists first")
    tensors = {m: (torch.from_numpy(np.ascontiguousarray(v)), torch.from_numpy(p)) for m, (v, p) in data.vectors.items()}
    for epoch in range(config.epochs):
        batch = train_rows if train_rows.size <= config.batch_size else np.sort(rng.choice(train_rows, config.batch_size, replace=False))
        positive = torch.from_numpy(_positive_matrix(data.positives, groups, batch, data.pairs))
        index = torch.from_numpy(batch)
        numerator = torch.zeros(batch.size, batch.size)
        denominator = torch.zeros(batch.size, batch.size)
        for m in modalities:
            if weights.get(m, 0.0) <= 0:
                continue
            x, present = tensors[m]
            z = torch.nn.functional.normalize(x[index] @ parameters[m], dim=1)
            mask = (present[index][:, None] & present[index][None, :]).float()
            numerator = numerator + weights[m] * (z @ z.T) * mask
            denominator = denominator + weights[m] * mask
        same_artist = torch.from_numpy(groups[batch][:, None] == groups[batch][None, :])
        comparable = (denominator > 0) & ~same_artist
        scores = numerator / denominator.clamp_min(1e-12) / config.temperature
        scores = scores.masked_fill(~comparable, float("-inf"))
        log_prob = scores - torch.logsumexp(scores, dim=1, keepdim=True)
        positive = positive & comparable
        anchors = positive.any(dim=1)
        if not anchors.any():
            continue
        per_anchor = -(log_prob.masked_fill(~positive, 0.0).sum(dim=1)[anchors] / positive.sum(dim=1)[anchors])
        loss = per_anchor.mean()
        optimiser.zero_grad()
        torch.autograd.backward(loss)
        optimiser.step()
        if progress is not None:
            progress(epoch + 1, config.epochs, "training fusion")
        if epoch % 50 == 0:
            logger.debug("fusion epoch %d loss %.4f", epoch, float(loss.detach()))
    return {m: p.detach().numpy().astype(np.float32) for m, p in parameters.items()}


def held_out_precision(
    vectors: Mapping[str, tuple[np.ndarray, np.ndarray]],
    labels: Sequence[str],
    groups: Sequence[str],
    rows: np.ndarray,
    *,
    balance: float,
    k: int,
) -> float | None:
    """Artist-filtered p@k among ``rows`` (labelled tracks only), hybrid score at ``balance``; None when too few."""

    labels_array = np.asarray(labels, dtype=object)
    rows = rows[labels_array[rows] != ""]
    subset = {m: (v[rows], p[rows]) for m, (v, p) in vectors.items()}
    similarity = pair_scores(subset, subset, balance_weights(balance))
    result = neighbour_precision(similarity, labels_array[rows].tolist(), np.asarray(groups, dtype=object)[rows].tolist(), ks=(k,))
    return result[f"p@{k}"]


@dataclass(frozen=True)
class FusionDecision:
    """The outcome of one training run: both held-out numbers and whether the learned model is the default."""

    model: FusionModel
    metric: str
    baseline: float | None
    learned: float | None
    is_default: bool
    reason: str
    train_tracks: int
    test_tracks: int
    test_artists: int


def fusion_select(baseline: float | None, learned: float | None) -> tuple[bool, str]:
    """The selection rule: the learned fusion is the default only when strictly better on held-out artists."""
    if baseline is None or learned is None:
        return False, "not enough held-out tracks to compare: kept off"
    if learned > baseline:
        return True, f"learned {learned:.4f} > weighted baseline {baseline:.4f}: default"
    return False, f"learned {learned:.4f} <= weighted baseline {baseline:.4f}: kept off"


def fusion_fit_and_judge(
    data: FusionData,
    config: FusionTrainConfig = FusionTrainConfig(),
    *,
    version: str | None = None,
    progress: Progress | None = None,
) -> FusionDecision:
    """Split artists, train on one side, score baseline and learned fusion on the other, decide."""
    test_mask = artist_split(data.groups, held_out=config.held_out, seed=config.seed)
    train_rows = np.flatnonzero(~test_mask)
    test_rows = np.flatnonzero(test_mask)
    started = time.perf_counter()
    projections = fusion_train(data, train_rows, config, progress=progress)
    seconds = time.perf_counter() - started
    version = version or time.strftime("fusion-%Y%m%d-%H%M%S", time.gmtime())
    provisional = FusionModel(version, projections)
    projected = {m: (provisional.apply(m, v) * p[:, None], p) for m, (v, p) in data.vectors.items()}
    baseline = held_out_precision(data.vectors, data.labels, data.groups, test_rows, balance=config.balance, k=config.k)
    learned = held_out_precision(projected, data.labels, data.groups, test_rows, balance=config.balance, k=config.k)
    is_default, reason = fusion_select(baseline, learned)
    metric = f"p@{config.k}"
    test_artists = len({data.groups[int(i)] for i in test_rows})
    info = {
        "trained": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_seconds": round(seconds, 2),
        "config": asdict(config),
        "metric": metric,
        "baseline": baseline,
        "learned": learned,
        "is_default": is_default,
        "decision": reason,
        "train_tracks": int(train_rows.size),
        "test_tracks": int(test_rows.size),
        "test_artists": test_artists,
    }
    model = FusionModel(version, projections, info)
    return FusionDecision(model, metric, baseline, learned, is_default, reason, int(train_rows.size), int(test_rows.size), test_artists)
