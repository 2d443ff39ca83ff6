"""Trains an audio CNN on the catalogue's own music.

Why: the pretrained tagger knows MagnaTagATune's idea of music; a library
with its own styles is better described by a model that has heard it. The
model learns without labels (two segments of a track should look alike),
optionally helped by the files' genre tags, validates on held-out artists,
stops early, and is saved versioned under data/models/audio/. Select it with
CROSSFADE_AUDIO_MODEL=trained, then run reindex.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ml.audio.train import TrainConfig
from ml.errors import MLError
from playlists.training.audio import audio_model_train
from playlists.training.selectors import audio_training_items


class Command(BaseCommand):
    help = "Train the library audio CNN (contrastive, optional genre supervision, artist-held-out validation, early stopping)."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = TrainConfig()
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--patience", type=int, default=defaults.patience, help="epochs without a better validation loss before stopping")
        parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
        parser.add_argument("--no-genres", action="store_true", help="self-supervised only; ignore the files' genre tags")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--dry-run", action="store_true", help="show what would be trained on, train nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        use_genres = not options["no_genres"]
        items = audio_training_items(use_genres=use_genres)
        artists = len({item.artist for item in items})
        genres = sorted({item.genre for item in items if item.genre})
        if verbosity >= 1:
            self.stdout.write(f"{len(items)} tracks by {artists} artists; genres: {', '.join(genres) or 'none (self-supervised only)'}")
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("Dry run: nothing trained."))
            return
        config = dataclasses.replace(
            TrainConfig(),
            epochs=options["epochs"],
            batch_size=options["batch_size"],
            patience=options["patience"],
            learning_rate=options["learning_rate"],
            seed=options["seed"],
            genre_weight=TrainConfig().genre_weight if use_genres else 0.0,
        )
        bar = tqdm(total=config.epochs, desc="epochs", unit="epoch", disable=verbosity < 1)

        def progress(done: int, total: int, note: str = "") -> None:
            bar.update(1)
            bar.set_postfix_str(note)

        try:
            result = audio_model_train(config=config, use_genres=use_genres, progress=progress)
        except MLError as error:
            raise CommandError(f"training failed, nothing saved: {error}") from None
        finally:
            bar.close()
        if verbosity >= 1:
            stop = "stopped early" if result.stopped_early else "ran every epoch"
            self.stdout.write(self.style.SUCCESS(
                f"Trained {result.version}: {len(result.history)} epochs ({stop}), kept epoch {result.best_epoch}; "
                f"{result.train_tracks} training / {result.validation_tracks} validation tracks. Saved to {result.folder}"
            ))
            self.stdout.write(f"Use it: CROSSFADE_AUDIO_MODEL=trained:{result.version}, then manage.py reindex.")
