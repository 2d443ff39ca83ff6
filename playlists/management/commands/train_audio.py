"""Trains an audio CNN on the catalogue's own music.

Why: the pretrained tagger knows MagnaTagATune's idea of music; a library
with its own styles is better described by a model that has heard it. The
model learns without labels (two segments of a track should look alike),
optionally helped by the files' genre tags, validates on held-out artists,
stops early, and is saved versioned under data/models/audio/. Select it with
CROSSFADE_AUDIO_MODEL=trained, then run reindex.

With --genre-head it trains the cheap route that beats the pretrained
taggers instead: the frozen taggers' vectors with a linear genre head fitted
to the files' genre tags, tested first on held-out artists (cross-validation
folds grouped by artist) and served by CROSSFADE_AUDIO_MODEL=trained only
when it beat the untrained vectors there.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ml.audio.train import TrainConfig
from ml.errors import MLError
from playlists.training.audio import audio_genre_head_train, audio_model_train
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
        parser.add_argument("--genre-head", action="store_true", help="fit a genre head on the frozen pretrained taggers (held-out artist folds decide whether it is served)")
        parser.add_argument("--base", default="musicnn-mtt+musicnn-msd", help="with --genre-head: the pretrained model under the head")
        parser.add_argument("--folds", type=int, default=4, help="with --genre-head: artist folds of the held-out test")

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
        if options["genre_head"]:
            self._genre_head(options, total=len(items))
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

    def _genre_head(self, options: dict[str, Any], *, total: int) -> None:
        verbosity = options["verbosity"]
        bar = tqdm(total=total, desc="analysing", unit="track", disable=verbosity < 1)

        def progress(done: int, total: int, note: str = "") -> None:
            bar.update(1)

        try:
            folder, description, failures = audio_genre_head_train(base=options["base"], folds=options["folds"], seed=options["seed"], progress=progress)
        except MLError as error:
            raise CommandError(f"training failed, nothing saved: {error}") from None
        finally:
            bar.close()
        if verbosity >= 1:
            for failure in failures:
                self.stdout.write(self.style.WARNING(f"skipped {failure}"))
            decision = description["decision"]
            style = self.style.SUCCESS if decision["serve"] else self.style.WARNING
            self.stdout.write(style(f"Genre head {description['version']} on {description['tracks']} tracks by {description['artists']} artists: {decision['reason']}. Saved to {folder}"))
            if decision["serve"]:
                self.stdout.write("Use it: CROSSFADE_AUDIO_MODEL=trained (or trained:" + description["version"] + "), then manage.py reindex.")
