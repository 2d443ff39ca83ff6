"""Trains learned fusion and makes it the default only when it beats the weighted baseline.

Why: a projection of the audio and lyrics vectors learned from the catalogue's
own signals (genre tags, albums, playlist seeds, likes; never Spotify fields) can
rank neighbours better than a fixed weighted sum, but only a held-out test
says whether it does on *this* catalogue. The decision and both numbers are
stored with the model version (admin: Fusion models); the next reindex serves it.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.errors import MLError
from ml.fusion.learned import FusionTrainConfig
from playlists import engine
from playlists.management.progress import ProgressBars
from playlists.training.fusion import fusion_model_train


class Command(BaseCommand):
    help = "Learn a fusion of the audio and lyrics vectors; default only when better than the weighted baseline on held-out artists."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = FusionTrainConfig()
        parser.add_argument("--dim", type=int, default=defaults.dim, help="size of the shared space")
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--held-out", type=float, default=defaults.held_out, help="share of artists kept out of training for the decision")
        parser.add_argument("--k", type=int, default=defaults.k, help="the p@k that decides")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--dry-run", action="store_true", help="train and report, store nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        config = FusionTrainConfig(
            dim=options["dim"], epochs=options["epochs"], held_out=options["held_out"], k=options["k"], seed=options["seed"],
            balance=engine.engine_config().default_balance,
        )
        bars = ProgressBars(verbosity)
        try:
            summary = fusion_model_train(config=config, dry_run=options["dry_run"], progress=bars.callback("train", unit="epoch"))
        except MLError as error:
            raise CommandError(f"fusion training failed, nothing changed: {error}") from None
        finally:
            bars.close()
        if verbosity >= 1:
            style = self.style.SUCCESS if summary.is_default else self.style.WARNING
            self.stdout.write(
                f"{summary.version}: {summary.train_tracks} training tracks, {summary.test_tracks} held-out tracks by "
                f"{summary.test_artists} artists; signals {summary.signals}."
            )
            self.stdout.write(style(f"{summary.metric}: weighted {summary.baseline}, learned {summary.learned} -> {summary.reason}"))
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing stored.")
            elif summary.is_default:
                self.stdout.write(self.style.SUCCESS(f"Stored in {summary.path}; run `manage.py reindex` to serve it."))
            else:
                self.stdout.write(f"Stored in {summary.path} (not the default).")
