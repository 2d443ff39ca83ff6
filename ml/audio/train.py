"""Training a music CNN on the user's own library, and loading what it produced.

Self-supervised: two segments of the same track are a positive pair, the
other tracks in the batch are negatives (NT-Xent, as in SimCLR / COLA);
optionally a genre head adds supervision from the files' genre tags. Inputs
are augmented with gain and noise (on mel power, before compression) and
time and frequency masking (after). The network is a small musicnn
(:class:`ml.audio.musicnn.Musicnn`) and the front end is musicnn's, so a
trained model analyses tracks through the same :class:`CnnEmbedder` path as
the pretrained one. Validation tracks are held out by artist; training
stops when the validation loss has not improved for ``patience`` epochs and
the best epoch's weights are kept.

A model is saved as ``<models_dir>/<version>/model.safetensors`` plus
``config.json`` (architecture, front end, training settings, genres),
``history.csv`` (train and validation loss per epoch) and ``loss.png``.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ml.audio.cnn_embedder import CnnEmbedder, TaggerHead
from ml.audio.features import FrontEndConfig, mel_compress, mel_from_power, power_spectrogram
from ml.audio.musicnn import MUSICNN_FRONT_END, Musicnn, MusicnnConfig
from ml.audio.segments import SegmentPlan, segments_load
from ml.errors import AudioDecodeError, MLError
from ml.progress import Progress

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


class TrainingError(MLError):
    """Training cannot start (too few tracks or artists) or a saved model cannot be loaded."""


@dataclass(frozen=True)
class TrainItem:
    """One training track: its audio file, its artist (the validation split unit) and an optional genre."""

    path: str
    artist: str
    genre: str = ""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run."""

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 5
    temperature: float = 0.1
    genre_weight: float = 0.5  # 0 turns genre supervision off
    validation_share: float = 0.2
    segments_per_track: int = 6
    patch_frames: int = 96  # about 1.5 s at hop 256, 16 kHz
    gain_db: float = 6.0
    noise_level: float = 1e-4
    time_masks: int = 2
    time_mask_frames: int = 12
    freq_masks: int = 2
    freq_mask_bands: int = 10
    seed: int = 0
    model: MusicnnConfig = dataclasses.field(
        default_factory=lambda: MusicnnConfig(timbral_filters=48, temporal_filters=16, midend_filters=48, backend_units=128, n_tags=1)
    )


@dataclass
class TrainResult:
    version: str
    folder: Path
    history: list[dict[str, float]]
    best_epoch: int
    stopped_early: bool
    train_tracks: int
    validation_tracks: int
    genres: list[str]


def artist_split(items: Sequence[TrainItem], *, share: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and validation items, no artist on both sides; about ``share`` of tracks validate."""
    artists = sorted({item.artist for item in items})
    if len(artists) < 2:
        raise TrainingError("training needs tracks by at least two artists (validation is split by artist)")
    rng = np.random.default_rng(seed)
    rng.shuffle(artists)
    wanted = max(2, int(round(share * len(items))))  # a validation loss over one track is noise
    held: set[str] = set()
    count = 0
    for artist in artists[:-1]:  # leave at least one artist for training
        if count >= wanted:
            break
        held.add(artist)
        count += sum(item.artist == artist for item in items)
    train = [i for i, item in enumerate(items) if item.artist not in held]
    validation = [i for i, item in enumerate(items) if item.artist in held]
    return train, validation


def _mel_segments(path: str, *, count: int, seconds: float, front_end: FrontEndConfig) -> list[np.ndarray]:
    """Mel power ``(n_mels, frames)`` of ``count`` segments spread over the track (float16 to save memory)."""
    segments = segments_load(path, sample_rate=front_end.sample_rate, plan=SegmentPlan(count=count, seconds=seconds, margin=0.02))
    return [mel_from_power(power_spectrogram(samples, front_end), front_end).astype(np.float16) for samples in segments]


class _PatchSource:
    """Random mel-power patches of the decoded tracks, ``(n_mels, frames)`` each."""

    def __init__(self, mels: list[list[np.ndarray]], frames: int) -> None:
        self.mels = mels
        self.frames = frames

    def pair(self, row: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Two views of one track, from two different segments when it has more than one."""
        segments = self.mels[row]
        if len(segments) > 1:
            first, second = rng.choice(len(segments), size=2, replace=False)
        else:
            first = second = 0
        return self._crop(segments[int(first)], rng), self._crop(segments[int(second)], rng)

    def _crop(self, mel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        start = int(rng.integers(0, max(1, mel.shape[1] - self.frames + 1)))
        piece = mel[:, start : start + self.frames].astype(np.float32)
        if piece.shape[1] < self.frames:
            piece = np.tile(piece, (1, -(-self.frames // piece.shape[1])))[:, : self.frames]
        return piece


def _augment(mel_power: np.ndarray, rng: np.random.Generator, config: TrainConfig, front_end: FrontEndConfig) -> np.ndarray:
    """Gain and noise on mel power ``(n_mels, T)``, compression, then time/frequency masks: ``(T, n_mels)``."""
    gain = 10 ** (rng.uniform(-config.gain_db, config.gain_db) / 10)
    noisy = mel_power * gain + config.noise_level * rng.exponential(1.0, size=mel_power.shape)
    compressed = mel_compress(noisy.astype(np.float32), dataclasses.replace(front_end, float16_mel=False)).T.copy()
    frames, bands = compressed.shape
    for _ in range(config.time_masks):
        width = int(rng.integers(0, config.time_mask_frames + 1))
        start = int(rng.integers(0, max(1, frames - width)))
        compressed[start : start + width] = 0.0
    for _ in range(config.freq_masks):
        width = int(rng.integers(0, config.freq_mask_bands + 1))
        start = int(rng.integers(0, max(1, bands - width)))
        compressed[:, start : start + width] = 0.0
    return compressed


def contrastive_loss(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent over a batch of pairs: rows of ``first`` and ``second`` (both ``(B, D)``) at the same index are positives."""
    views = F.normalize(torch.cat([first, second]), dim=1)
    logits = views @ views.T / temperature
    logits.fill_diagonal_(float("-inf"))
    size = first.shape[0]
    targets = torch.cat([torch.arange(size, 2 * size), torch.arange(0, size)])
    return F.cross_entropy(logits, targets)


class _Trainee(torch.nn.Module):
    """The CNN plus a projection head for the contrastive loss (dropped after training)."""

    def __init__(self, config: MusicnnConfig) -> None:
        super().__init__()
        self.cnn = Musicnn(config)
        self.projection = torch.nn.Sequential(
            torch.nn.Linear(config.backend_units, config.backend_units), torch.nn.ReLU(), torch.nn.Linear(config.backend_units, 64)
        )


def _batch_loss(
    trainee: _Trainee, source: _PatchSource, rows: np.ndarray, labels: np.ndarray, rng: np.random.Generator, config: TrainConfig, front_end: FrontEndConfig
) -> torch.Tensor:
    first, second = [], []
    for row in rows:
        patch_a, patch_b = source.pair(int(row), rng)
        first.append(_augment(patch_a, rng, config, front_end))
        second.append(_augment(patch_b, rng, config, front_end))
    inputs = torch.from_numpy(np.stack(first + second))
    hidden, logits = trainee.cnn.features(inputs)
    projected = trainee.projection(hidden)
    size = len(rows)
    loss = contrastive_loss(projected[:size], projected[size:], config.temperature)
    if config.genre_weight > 0:
        known = torch.from_numpy(np.concatenate([labels[rows], labels[rows]]))
        mask = known >= 0
        if mask.any():
            loss = loss + config.genre_weight * F.cross_entropy(logits[mask], known[mask])
    return loss


def audio_cnn_train(
    items: Sequence[TrainItem],
    out_dir: str | Path,
    *,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    version: str | None = None,
) -> TrainResult:
    """Train a CNN on ``items`` and save it under ``out_dir/<version>/``.

    Tracks that cannot be decoded are skipped (logged). ``progress(epoch,
    epochs, note)`` is called after each epoch, the note giving its losses.
    Raises :class:`TrainingError` when fewer than 4 tracks decode or the
    split leaves a side empty.
    """
    config = config or TrainConfig()
    front_end = MUSICNN_FRONT_END
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    mels: list[list[np.ndarray]] = []
    kept: list[TrainItem] = []
    segment_seconds = config.patch_frames * front_end.hop_length / front_end.sample_rate * 2
    for item in items:
        try:
            mels.append(_mel_segments(item.path, count=config.segments_per_track, seconds=segment_seconds, front_end=front_end))
            kept.append(item)
        except AudioDecodeError as error:
            logger.warning("training: %s skipped (%s)", item.path, error)
    if len(kept) < 4:
        raise TrainingError(f"training needs at least 4 decodable tracks, {len(kept)} decoded")
    genres = sorted({item.genre for item in kept if item.genre}) if config.genre_weight > 0 else []
    labels = np.array([genres.index(item.genre) if item.genre in genres else -1 for item in kept], dtype=np.int64)
    model_config = dataclasses.replace(config.model, n_tags=max(1, len(genres)), n_mels=front_end.n_mels)
    train_rows, validation_rows = artist_split(kept, share=config.validation_share, seed=config.seed)
    if len(train_rows) < 2 or len(validation_rows) < 2:
        raise TrainingError(f"the artist split left {len(train_rows)} training and {len(validation_rows)} validation tracks; add tracks by more artists")
    source = _PatchSource(mels, config.patch_frames)
    trainee = _Trainee(model_config)
    optimiser = torch.optim.Adam(trainee.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    history: list[dict[str, float]] = []
    best_loss, best_epoch = float("inf"), 0
    best_state: dict[str, torch.Tensor] | None = None
    batch = max(2, min(config.batch_size, len(train_rows)))
    for epoch in range(1, config.epochs + 1):
        trainee.train()
        order = rng.permutation(np.array(train_rows))
        losses = []
        for start in range(0, len(order) - 1, batch):
            rows = order[start : start + batch]
            if len(rows) < 2:
                continue
            loss = _batch_loss(trainee, source, rows, labels, rng, config, front_end)
            optimiser.zero_grad()
            torch.autograd.backward(loss)
            optimiser.step()
            losses.append(float(loss.detach()))
        trainee.eval()
        with torch.no_grad():
            # The same views every epoch, so validation losses are comparable.
            fixed = np.random.default_rng(config.seed + 1)
            rows = np.array(validation_rows)
            validation = [float(_batch_loss(trainee, source, rows[s : s + batch], labels, fixed, config, front_end)) for s in range(0, len(rows) - 1, batch) if len(rows[s : s + batch]) >= 2]
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)), "val_loss": float(np.mean(validation))}
        history.append(row)
        if progress:
            progress(epoch, config.epochs, f"train loss {row['train_loss']:.3f}, validation loss {row['val_loss']:.3f}")
        if row["val_loss"] < best_loss - 1e-4:
            best_loss, best_epoch = row["val_loss"], epoch
            best_state = {k: v.detach().clone() for k, v in trainee.cnn.state_dict().items()}
        elif epoch - best_epoch >= config.patience:
            break
    stopped_early = len(history) < config.epochs
    version = version or time.strftime("cnn-%Y%m%d-%H%M%S")
    folder = Path(out_dir) / version
    if best_state is None:
        raise TrainingError(f"no epoch of {len(history)} gave a finite validation loss; nothing to save")
    trainee.cnn.load_state_dict(best_state)
    trained_model_save(
        trainee.cnn,
        folder,
        meta={
            "version": version,
            "genres": genres,
            "patch_frames": config.patch_frames,
            "train": {**dataclasses.asdict(config), "model": dataclasses.asdict(config.model)},
            "best_epoch": best_epoch,
            "stopped_early": stopped_early,
            "train_tracks": len(train_rows),
            "validation_tracks": len(validation_rows),
            "validation_artists": sorted({kept[i].artist for i in validation_rows}),
        },
    )
    history_write(history, folder, best_epoch=best_epoch)
    return TrainResult(version, folder, history, best_epoch, stopped_early, len(train_rows), len(validation_rows), genres)


def trained_model_save(model: Musicnn, folder: str | Path, *, meta: dict[str, Any]) -> Path:
    """Weights as ``model.safetensors`` and everything needed to rebuild them as ``config.json``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    description = {
        "format_version": FORMAT_VERSION,
        "architecture": "musicnn",
        "model": dataclasses.asdict(model.config),
        "front_end": dataclasses.asdict(MUSICNN_FRONT_END),
        **meta,
    }
    (folder / "config.json").write_text(json.dumps(description, indent=2))
    return folder


def trained_model_load(folder: str | Path) -> tuple[Musicnn, dict[str, Any]]:
    """A saved model in eval mode and its ``config.json``; raises :class:`TrainingError` when incomplete."""
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        description = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as error:
        raise TrainingError(f"{folder}: no readable config.json ({error}); train one with manage.py train_audio") from None
    if description.get("format_version") != FORMAT_VERSION or description.get("architecture") != "musicnn":
        raise TrainingError(f"{folder}: unsupported model format {description.get('format_version')!r}/{description.get('architecture')!r}")
    if not (folder / "model.safetensors").is_file():
        raise TrainingError(f"{folder}: model.safetensors is missing")
    model = Musicnn(MusicnnConfig(**description["model"]))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), description


def trained_embedder_build(folder: str | Path, *, plan: SegmentPlan | None = None) -> CnnEmbedder:
    """The audio embedder of a model saved by :func:`audio_cnn_train`: pooled penultimate features, genre probabilities as tags."""
    model, description = trained_model_load(folder)
    return CnnEmbedder(
        [TaggerHead(model, feature_dim=model.config.backend_units)],
        name="trained-cnn",
        version=f"trained-cnn-{description['version']}",
        front_end=FrontEndConfig(**description["front_end"]),
        patch_frames=int(description["patch_frames"]),
        plan=plan,
    )


def history_write(history: list[dict[str, float]], folder: Path, *, best_epoch: int) -> None:
    """``history.csv`` (epoch, train_loss, val_loss) and ``loss.png`` with the best epoch marked."""
    with open(folder / "history.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["epoch", "train_loss", "val_loss"])
        writer.writeheader()
        writer.writerows(history)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4))
    epochs = [row["epoch"] for row in history]
    axes.plot(epochs, [row["train_loss"] for row in history], label="train")
    axes.plot(epochs, [row["val_loss"] for row in history], label="validation (held-out artists)")
    axes.axvline(best_epoch, color="grey", linestyle=":", label=f"kept: epoch {best_epoch}")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.legend()
    figure.tight_layout()
    figure.savefig(folder / "loss.png", dpi=100)
    pyplot.close(figure)
